import functools
import tempfile
import unittest
from pathlib import Path
from types import SimpleNamespace

import _path  # noqa: F401
import numpy as np

from emotionbatch_training.config import Config
from emotionbatch_training.corpora import Item
from emotionbatch_training.features import SpeechEmbeddingCache
from emotionbatch_training.segments import Span, cut_frames, load_segments, missing_clips, write_clip_tsv
from emotionbatch_training.train import Batcher


def clip(clip_id: str) -> Item:
    return Item(id=clip_id, corpus="c", speaker="s", audio=f"{clip_id}.wav", text=None, text_id=None,
                category="sad", valence=None, arousal=None)


class SegmentsFileTest(unittest.TestCase):
    def test_a_clip_spans_its_utterances_and_one_without_speech_is_none(self):
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / "segments.tsv"
            # As `emotionbatch segment` writes it: utterances in order, a clip without speech as one row without times.
            path.write_text("id\tutterance_index\tstart_seconds\tend_seconds\tvad_threshold\n"
                            "a\t0\t0.42\t1.5\t0.5\n"
                            "quiet\t\t\t\t\n"
                            "soft\t0\t0.3\t1.1\t0.2\n"
                            "b\t0\t0.1\t0.9\t0.5\nb\t1\t1.6\t2.25\t0.5\n", encoding="utf-8")
            segments = load_segments(path)
        self.assertEqual(segments, {"a": Span(0.42, 1.5, 1), "quiet": None, "soft": Span(0.3, 1.1, 1), "b": Span(0.1, 2.25, 2)})
        self.assertEqual(missing_clips(segments, [clip("a"), clip("quiet"), clip("new")]), ["new"])

    def test_a_file_written_before_the_threshold_column_reads_the_same(self):
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / "segments.tsv"
            path.write_text("id\tutterance_index\tstart_seconds\tend_seconds\n"
                            "a\t0\t0.42\t1.5\nquiet\t\t\t\n", encoding="utf-8")
            self.assertEqual(load_segments(path), {"a": Span(0.42, 1.5, 1), "quiet": None})

    def test_a_file_of_another_shape_is_refused(self):
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / "segments.tsv"
            path.write_text("id\tpath\na\tx.wav\n", encoding="utf-8")
            with self.assertRaises(SystemExit):
                load_segments(path)

    def test_the_clip_list_names_every_audio_item_by_absolute_path(self):
        with tempfile.TemporaryDirectory() as folder:
            text_only = Item(id="t", corpus="emobank", speaker=None, audio=None, text="hi", text_id="t",
                             category=None, valence=0.1, arousal=0.2)
            lines = write_clip_tsv([clip("a"), text_only], Path(folder) / "in.tsv").read_text().splitlines()
        self.assertEqual(lines[0], "id\tpath")
        self.assertEqual(len(lines), 2)
        self.assertTrue(Path(lines[1].split("\t")[1]).is_absolute())


class CutFramesTest(unittest.TestCase):
    FRAMES = np.arange(300, dtype=np.float32).reshape(300, 1)  # 3 s at 100 frames per second

    def test_test_clips_are_cut_exactly_where_the_worker_cuts(self):
        cut = cut_frames(self.FRAMES, Span(0.425, 1.501, 1), 100.0)
        self.assertEqual((cut[0, 0], cut[-1, 0]), (42.0, 150.0))  # frames 42 to 150: floor of the start, ceil of the end (exclusive)

    def test_training_cuts_move_each_end_within_the_jitter_and_stay_inside_the_clip(self):
        rng = np.random.default_rng(0)
        cuts = [cut_frames(self.FRAMES, Span(0.05, 2.98, 1), 100.0, rng, 10) for _ in range(200)]
        starts = {int(c[0, 0]) for c in cuts}
        ends = {int(c[-1, 0]) + 1 for c in cuts}
        self.assertEqual(min(starts), 0)                       # clamped at the clip's start
        self.assertTrue(max(starts) <= 15 and max(ends) == 300 and min(ends) >= 288, (starts, ends))
        self.assertGreater(len(starts), 5)

    def test_a_cut_past_the_end_keeps_one_frame(self):
        self.assertEqual(len(cut_frames(self.FRAMES, Span(3.5, 3.6, 1), 100.0)), 1)


class BatcherCutTest(unittest.TestCase):
    def setUp(self):
        self.cfg = Config()
        self.cfg.train.eval_trim_ms = 100  # ignored for every clip once the worker's cut is known
        self.per_second = self.cfg.model.sample_rate / self.cfg.model.hop_length
        clean = np.zeros((300, 96), np.float32)
        clean[:, 64 + 20] = -20.0        # energy channel: silence...
        clean[120:180, 64 + 20] = 0.0    # ...and 0.6 s of speech, which an energy cut would keep alone
        room = np.zeros((330, 96), np.float32)  # the room copy is speed-perturbed: 10 % longer
        copies = {"clean": clean, "room": room}
        speech = SimpleNamespace(get=lambda item, condition="clean": copies[condition])
        data = SimpleNamespace(speech=speech, segments={"a": Span(1.0, 2.0, 1), "quiet": None}, conditions=("room",),
                               embeddings=None)
        self.batcher = Batcher(self.cfg, data)

    def test_evaluation_uses_the_workers_cut_and_scores_a_clip_without_speech_whole(self):
        self.assertEqual(len(self.batcher.frames(clip("a"), train=False, rng=None, condition="clean")[0]), round(self.per_second))
        self.assertEqual(len(self.batcher.frames(clip("quiet"), train=False, rng=None, condition="clean")[0]), 300)

    def test_a_speed_perturbed_copy_is_cut_at_the_same_moment_of_speech(self):
        self.cfg.train.trim_p = 1.0
        rng = np.random.default_rng(1)
        lengths = [len(self.batcher.frames(clip("a"), train=True, rng=rng, condition="clean")[0]) for _ in range(100)]
        # 1 s of speech at 110 % length: 110 frames, each end moved by up to 11 frames.
        self.assertTrue(all(88 <= n <= 132 for n in lengths), (min(lengths), max(lengths)))
        self.assertGreater(np.mean(lengths), 104)


class EmbeddingAlignmentTest(unittest.TestCase):
    """The pretrained encoder's frames (one per 80 ms, each over a 0.76 s window) follow every cut and crop of the
    log-mel frames (10 ms): those whose window lies within the stretch, as the encoder run on that stretch alone."""

    def setUp(self):
        self.cfg = Config()
        self.cfg.model.frames = "speech_embedding"
        frames = np.zeros((500, 96), np.float32)
        frames[:, 0] = np.arange(500)  # each log-mel frame knows its own number
        embeddings = np.arange(54, dtype=np.float32)[:, None].repeat(96, 1)  # (500 - 76) // 8 + 1 windows
        speech = SimpleNamespace(get=lambda item, condition="clean": frames)
        # The real cache's cut (SpeechEmbeddingCache.span) over these stand-in frames.
        cache = SimpleNamespace(get=lambda item, condition="clean": embeddings, dim=96, trunk=False)
        cache.span = functools.partial(SpeechEmbeddingCache.span, cache)
        data = SimpleNamespace(speech=speech, segments={"a": Span(1.0, 3.0, 1)}, conditions=("clean",), embeddings=cache)
        self.batcher = Batcher(self.cfg, data)

    def check(self, frames, embeddings):
        first, end = int(frames[0, 0]), int(frames[-1, 0]) + 1
        starts = embeddings[:, 0] * 8
        self.assertTrue(np.all(np.diff(embeddings[:, 0]) == 1))
        self.assertTrue(np.all((starts >= first) & (starts + 76 <= end)) or len(embeddings) == 1, (first, end, starts))
        # None left out at either end: the next window out would reach outside the stretch.
        self.assertTrue(starts[0] - 8 < first)
        self.assertTrue(embeddings[-1, 0] == 53 or starts[-1] + 8 + 76 > end)

    def test_the_workers_cut_in_evaluation(self):
        frames, embeddings = self.batcher.frames(clip("a"), train=False, rng=None, condition="clean")
        self.assertEqual((int(frames[0, 0]), int(frames[-1, 0])), (100, 299))
        self.assertEqual(frames.shape[1], 96)  # the frame-number column is gone again
        self.check(frames, embeddings)

    def test_random_cuts_and_crops_in_training(self):
        self.cfg.train.trim_p = 0.5
        self.cfg.train.max_train_seconds = 1.5
        rng = np.random.default_rng(3)
        for _ in range(50):
            self.check(*self.batcher.frames(clip("a"), train=True, rng=rng, condition="clean"))


if __name__ == "__main__":
    unittest.main()
