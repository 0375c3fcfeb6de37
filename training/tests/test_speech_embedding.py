import unittest
from pathlib import Path

import _path  # noqa: F401
import numpy as np
import torchaudio

from emotionbatch_training.config import resolve
from emotionbatch_training.speech_embedding import DIM, EmbeddingFrontEnd, SpeechEmbedding, Trunk, embedding_frames, frame_span

MODEL_DIR = resolve("../shared/models/speech-embedding")
JFK = resolve("../shared/audio/jfk.wav")


@unittest.skipUnless((MODEL_DIR / "embedding_model.onnx").exists() and JFK.exists(), "shared speech_embedding model not present")
class SpeechEmbeddingTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.encoder = SpeechEmbedding(MODEL_DIR)
        wav, rate = torchaudio.load(str(JFK))
        assert rate == 16000
        cls.wav = wav.mean(0).numpy()

    def test_one_pass_over_the_clip_equals_openwakewords_windows(self):
        whole, windows = self.encoder(self.wav), self.encoder.windows(self.wav)
        # 11 s: 1,097 mel frames, (1097 - 76) // 8 + 1 windows of 96 values.
        self.assertEqual(whole.shape, (128, DIM))
        self.assertEqual(windows.shape, whole.shape)
        self.assertLess(np.abs(whole - windows).max(), 1e-3 * np.abs(windows).max())
        # Speech and the pause before it do not embed alike (a graph run wrong gives constant or NaN output).
        self.assertTrue(np.isfinite(whole).all())
        self.assertGreater(float(whole.std(0).mean()), 1.0)

    def test_a_clip_shorter_than_one_window_gets_one_embedding(self):
        self.assertEqual(self.encoder(self.wav[:4000]).shape, (1, DIM))

    def test_the_batched_front_end_gives_each_clip_what_it_gets_alone(self):
        import torch

        front_end = EmbeddingFrontEnd(MODEL_DIR)
        clips = [self.wav, self.wav[16000:56000] * 0.1, self.wav[50000:59000], self.wav[:3000]]
        batch = np.zeros((len(clips), len(self.wav)), np.float32)
        for i, c in enumerate(clips):
            batch[i, : len(c)] = c
        with torch.no_grad():
            embeddings, mask = front_end(torch.from_numpy(batch), torch.tensor([len(c) for c in clips]))
        for i, c in enumerate(clips):
            alone = self.encoder(c)
            n = int(mask[i].sum())
            self.assertEqual(n, len(alone))
            self.assertLess(float(np.abs(embeddings[i, :n].numpy() - alone).max()), 1e-3 * np.abs(alone).max())
            self.assertEqual(float(embeddings[i, n:].abs().sum()), 0.0)

    def test_the_trunk_rows_through_the_tuned_convolutions_give_the_embeddings(self):
        import torch

        # The split points differ in context only: the convolutions after the second-to-last pooling share one shape.
        for convs, context in ((3, 6), (5, 8)):
            encoder = SpeechEmbedding(MODEL_DIR, convs)
            front_end = EmbeddingFrontEnd(MODEL_DIR, tuned_top=True, tuned_convs=convs)
            self.assertEqual(encoder.geometry, Trunk(convs, 96, 2, 2, context))
            self.assertEqual(front_end.geometry, encoder.geometry)
            geometry = encoder.geometry
            for clip in (self.wav, self.wav[:4000], self.wav[16000:56000]):
                rows, alone = encoder.trunk_activations(clip), self.encoder(clip)
                self.assertEqual(rows.shape[1], geometry.dim)
                self.assertEqual(geometry.embeddings(len(rows)), len(alone))
                with torch.no_grad():
                    got, mask = front_end.from_trunk(torch.from_numpy(rows)[None], torch.ones(1, len(rows)))
                self.assertEqual(int(mask.sum()), len(alone))
                self.assertLess(float(np.abs(got[0].numpy() - alone).max()), 1e-3 * np.abs(alone).max())
            # A stretch of a clip's rows (as the training cache is cut) gives that stretch of its embeddings.
            rows, alone = encoder.trunk_activations(self.wav), self.encoder(self.wav)
            part = embedding_frames(len(alone), 300, 700)
            stretch = torch.from_numpy(rows[geometry.rows(part)])[None]
            with torch.no_grad():
                got, mask = front_end.from_trunk(stretch, torch.ones(1, stretch.size(1)))
            self.assertEqual(int(mask.sum()), part.stop - part.start)
            self.assertLess(float(np.abs(got[0].numpy() - alone[part]).max()), 1e-3 * np.abs(alone).max())

    def test_a_split_point_outside_the_encoder_is_refused(self):
        for convs in (0, 20):
            with self.assertRaises(ValueError):
                SpeechEmbedding(MODEL_DIR, convs)

    def test_the_cache_cuts_trunk_rows_where_it_cuts_frames(self):
        import tempfile

        import torch
        from emotionbatch_training.config import ModelConfig
        from emotionbatch_training.features import SpeechEmbeddingCache

        with tempfile.TemporaryDirectory() as tmp:
            frames = SpeechEmbeddingCache(Path(tmp), ModelConfig(frames="speech_embedding"), MODEL_DIR)
            trunk = SpeechEmbeddingCache(Path(tmp), ModelConfig(frames="speech_embedding", embedding_finetune=True), MODEL_DIR)
            deeper = SpeechEmbeddingCache(Path(tmp), ModelConfig(frames="speech_embedding", embedding_finetune=True,
                                                                 embedding_tuned_convs=5), MODEL_DIR)
        self.assertEqual(len({frames.dir, trunk.dir, deeper.dir}), 3)
        self.assertEqual((frames.dim, trunk.dim, deeper.dim), (96, 192, 192))
        embeddings = frames.features(self.wav)
        for cache in (trunk, deeper):
            front_end = EmbeddingFrontEnd(MODEL_DIR, tuned_top=True, tuned_convs=cache.geometry.convs)
            rows = cache.features(self.wav)
            for first, end in ((0, 1097), (300, 700), (305, 390), (1000, 1097)):
                want = frames.span(embeddings, first, end)
                got_rows = torch.from_numpy(cache.span(rows, first, end))[None]
                with torch.no_grad():
                    got, mask = front_end.from_trunk(got_rows, torch.ones(1, got_rows.size(1)))
                self.assertEqual(int(mask.sum()), len(want))
                self.assertLess(float(np.abs(got[0].numpy() - want).max()), 1e-3 * np.abs(embeddings).max())

    def test_the_tuned_front_end_pads_and_trains_only_its_last_convolutions(self):
        import torch

        clips = [self.wav[:40000], self.wav[50000:59000], self.wav[:3000]]
        batch = np.zeros((len(clips), 40000), np.float32)
        for i, c in enumerate(clips):
            batch[i, : len(c)] = c
        # Every tuned convolution has a weight and all but the last a bias.
        for convs, tensors in ((3, 5), (5, 9)):
            front_end = EmbeddingFrontEnd(MODEL_DIR, tuned_top=True, tuned_convs=convs)
            with torch.no_grad():
                rows, row_mask = front_end(torch.from_numpy(batch), torch.tensor([len(c) for c in clips]))
            embeddings, mask = front_end.from_trunk(rows, row_mask)
            for i, c in enumerate(clips):
                alone = self.encoder(c)
                n = int(mask[i].sum())
                self.assertEqual(n, len(alone))
                self.assertLess(float(np.abs(embeddings[i, :n].detach().numpy() - alone).max()), 1e-3 * np.abs(alone).max())
            embeddings.sum().backward()
            trained = [n for n, p in front_end.named_parameters() if p.grad is not None and float(p.grad.abs().sum()) > 0]
            self.assertEqual(len(trained), tensors)
            self.assertEqual(sorted(front_end.state_dict()), sorted(n for n, _ in front_end.named_parameters()))

    def test_a_folder_without_the_model_is_refused(self):
        with self.assertRaises(SystemExit):
            SpeechEmbedding(MODEL_DIR / "missing")


class FrameMappingTest(unittest.TestCase):
    def test_embeddings_whose_window_lies_within_the_frames(self):
        self.assertEqual(embedding_frames(100, 0, 300), slice(0, 29))  # windows [8k, 8k + 76) within [0, 300)
        self.assertEqual(embedding_frames(100, 40, 200), slice(5, 16))  # 40 <= 8k and 8k + 76 <= 200
        self.assertEqual(embedding_frames(100, 790, 5000), slice(99, 100))

    def test_a_stretch_shorter_than_a_window_gets_the_one_centred_nearest_its_middle(self):
        self.assertEqual(embedding_frames(100, 100, 140), slice(10, 11))  # middle 120: window 10 is centred at 118
        self.assertEqual(embedding_frames(100, 0, 10), slice(0, 1))
        self.assertEqual(embedding_frames(5, 900, 1000), slice(4, 5))

    def test_seconds_round_outwards_to_frames(self):
        self.assertEqual(frame_span(100, 0.4, 2.0), embedding_frames(100, 40, 200))
        self.assertEqual(frame_span(100, 0.405, 1.995), embedding_frames(100, 40, 200))


if __name__ == "__main__":
    unittest.main()
