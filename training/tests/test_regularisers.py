import math
import unittest

import _path  # noqa: F401
import numpy as np
import torch

from emotionbatch_training.losses import labelled
from emotionbatch_training.corpora import Item
from emotionbatch_training.model import SpeakerAdversary
from emotionbatch_training.train import (WeightAverage, adversary_scale, balanced, mix_speech_batch, sampling_weights,
                                         speaker_targets)


def speech_batch() -> dict:
    frames = torch.zeros(2, 3, 2)
    frames[0] = 1.0
    frames[1, :2] = 3.0  # second clip: 2 frames, then padding
    frame_mask = torch.tensor([[1.0, 1, 1], [1, 1, 0]])
    text = torch.zeros(2, 1, 2)
    return {"frames": frames, "frame_mask": frame_mask, "keep_audio": torch.tensor([1.0, 0.0]),
            "text": text, "text_mask": torch.zeros(2, 1), "category": torch.tensor([0, 2]),
            "valence": torch.tensor([0.2, -0.4]), "arousal": torch.tensor([0.1, 0.3])}


def clips(corpus: str, per_class: dict[str, int]) -> list[Item]:
    return [Item(id=f"{corpus}-{label}-{i}", corpus=corpus, speaker="s", audio="x.wav", text=None, text_id=None,
                 category=label, valence=None, arousal=None) for label, n in per_class.items() for i in range(n)]


class SpeechSamplingTest(unittest.TestCase):
    ITEMS = clips("big", {"angry": 300, "happy": 100, "sad": 100, "neutral": 100}) + \
        clips("small", {"angry": 40, "happy": 40, "sad": 40, "neutral": 20})

    def shares(self, weights: list[float]) -> dict[tuple[str, str], float]:
        total = sum(weights)
        out: dict[tuple[str, str], float] = {}
        for it, w in zip(self.ITEMS, weights):
            out[(it.corpus, it.category)] = out.get((it.corpus, it.category), 0.0) + w / total
        return out

    def test_class_balance_evens_the_classes_within_each_corpus_and_keeps_the_corpus_shares(self):
        plain = self.shares(sampling_weights(self.ITEMS, 0.5, 0.0))
        even = self.shares(sampling_weights(self.ITEMS, 0.5, 1.0))
        self.assertAlmostEqual(plain[("big", "angry")], 3 * plain[("big", "happy")])
        self.assertAlmostEqual(plain[("small", "angry")], 2 * plain[("small", "neutral")])
        for corpus in ("big", "small"):
            mass = [even[(corpus, label)] for label in ("angry", "happy", "sad", "neutral")]
            self.assertTrue(np.allclose(mass, mass[0]))
            self.assertAlmostEqual(sum(mass), sum(v for (c, _), v in plain.items() if c == corpus))

    def test_without_class_balance_the_weights_are_the_corpus_weights_exactly(self):
        counts = {"big": 600, "small": 140}
        self.assertEqual(sampling_weights(self.ITEMS, 0.5, 0.0), [counts[it.corpus] ** -0.5 for it in self.ITEMS])

    def test_drawn_batches_follow_the_weights(self):
        rng = np.random.default_rng(0)
        stream = balanced(self.ITEMS, 64, rng, 1.0, 1.0)
        drawn = [it for _ in range(200) for it in next(stream)]
        neutral_small = sum(it.corpus == "small" and it.category == "neutral" for it in drawn) / len(drawn)
        self.assertAlmostEqual(neutral_small, 1 / 8, delta=0.015)  # 2 corpora x 4 classes, all equal


class MixupTest(unittest.TestCase):
    def test_mixes_where_both_have_frames_and_keeps_the_longer_clips_own_frames(self):
        for seed in range(5):
            rng = np.random.default_rng(seed)
            batch = speech_batch()
            out = mix_speech_batch(batch, 0.4, rng)
            probs = out["category"]
            self.assertTrue(torch.allclose(probs.sum(1), torch.ones(2)))
            lam = float(probs.max())
            self.assertGreaterEqual(lam, 0.5)
            for i in range(2):
                other = 1 - i if probs[i, 0 if i == 1 else 2] > 0 else i
                if other == i:  # mixed with itself: unchanged
                    self.assertTrue(torch.allclose(out["frames"][i], batch["frames"][i]))
                    continue
                # Frames 0-1: both clips present, mixed; frame 2: only clip 0 has it, kept as it is.
                own, theirs = float(batch["frames"][i, 0, 0]), float(batch["frames"][other, 0, 0])
                self.assertAlmostEqual(float(out["frames"][i, 0, 0]), lam * own + (1 - lam) * theirs, places=5)
                self.assertAlmostEqual(float(out["frames"][i, 2, 0]), 1.0, places=5)
                self.assertEqual(float(out["frame_mask"][i, 2]), 1.0)
                self.assertEqual(float(out["keep_audio"][i]), 0.0)  # one of the pair has its audio masked
                self.assertAlmostEqual(float(out["valence"][i]), lam * float(batch["valence"][i])
                                       + (1 - lam) * float(batch["valence"][other]), places=5)

    def test_labelled_rows(self):
        self.assertEqual(labelled(torch.tensor([0, -1, 3])).tolist(), [True, False, True])
        self.assertEqual(labelled(torch.tensor([[0.5, 0.5], [0.0, 0.0]])).tolist(), [True, False])


class SpeakerAdversaryTest(unittest.TestCase):
    def test_the_encoder_side_gets_the_adversarys_gradient_reversed_and_scaled(self):
        torch.manual_seed(0)
        adversary = SpeakerAdversary(6, 3)
        summary = torch.randn(4, 6, requires_grad=True)
        targets = torch.tensor([0, 1, 2, 1])
        torch.nn.functional.cross_entropy(adversary(summary, 0.5), targets).backward()
        reversed_grad, adversary_grad = summary.grad.clone(), adversary.net[0].weight.grad.clone()
        summary.grad = None
        adversary.zero_grad()
        torch.nn.functional.cross_entropy(adversary.net(summary), targets).backward()
        self.assertTrue(torch.allclose(reversed_grad, -0.5 * summary.grad, atol=1e-7))
        self.assertGreater(float(summary.grad.abs().sum()), 0.0)
        # The adversary itself learns as a plain classifier would.
        self.assertTrue(torch.allclose(adversary_grad, adversary.net[0].weight.grad))

    def test_the_reversal_ramps_from_nothing_to_its_weight(self):
        self.assertEqual(adversary_scale(0, 100, 0.3), 0.0)
        self.assertAlmostEqual(adversary_scale(99, 100, 0.3), 0.3, places=3)
        ramp = [adversary_scale(s, 100, 0.3) for s in range(100)]
        self.assertEqual(ramp, sorted(ramp))
        self.assertGreater(ramp[10], 0.1)  # most of the ramp in the first third of training

    def test_speakers_are_told_apart_by_corpus_and_name(self):
        items = clips("emodb", {"angry": 1}) + clips("ased", {"sad": 1})  # both speakers are called "s"
        self.assertEqual(speaker_targets(items, ["ased/s", "emodb/s"]).tolist(), [1, 0])


class WeightAverageTest(unittest.TestCase):
    def test_average_follows_the_weights_with_the_ramped_decay(self):
        model = torch.nn.Linear(1, 1, bias=False)
        with torch.no_grad():
            model.weight.fill_(0.0)
        average = WeightAverage(model, decay=0.9)
        expected = 0.0
        for step in range(1, 30):
            with torch.no_grad():
                model.weight.fill_(float(step))
            average.update(model)
            decay = min(0.9, (1 + step) / (10 + step))
            expected = decay * expected + (1 - decay) * step
        average.copy_to(model)
        self.assertTrue(math.isclose(float(model.weight), expected, rel_tol=1e-5))
        self.assertLess(float(model.weight), 29.0)

    def test_decay_cap_and_buffers(self):
        # Decay 0.5 caps the ramp from step 9 on: the average then halves the distance to the weights each step.
        model = torch.nn.Linear(1, 1, bias=False)
        model.register_buffer("scale", torch.tensor([7.0]))
        model.register_buffer("count", torch.tensor([3]))
        average = WeightAverage(model, decay=0.5)
        with torch.no_grad():
            model.weight.fill_(0.0)
        for _ in range(9):
            average.update(model)  # the average converges on 0
        before = float(average.average["weight"])
        with torch.no_grad():
            model.weight.fill_(1.0)
        average.update(model)  # step 10: ramp 11/20 > 0.5, so the cap applies
        average.copy_to(model)
        self.assertAlmostEqual(float(model.weight), 0.5 * before + 0.5, places=6)
        self.assertEqual(float(model.scale), 7.0)
        self.assertEqual(int(model.count), 3)


class TrimSilenceTest(unittest.TestCase):
    def test_a_fixed_margin_keeps_that_many_quiet_frames_each_side_as_the_workers_vad_padding(self):
        from emotionbatch_training.train import trim_silence
        frames = np.zeros((50, 2), np.float32)
        frames[:, 1] = -20.0           # energy channel: silence
        frames[20:30, 1] = 0.0         # speech: 20 nepers (about 87 dB) above the floor
        frames[25, 1] = -5.0           # a dip inside speech stays
        np.testing.assert_array_equal(trim_silence(frames, 1, None, margin=3), frames[17:33])
        np.testing.assert_array_equal(trim_silence(frames, 1, None, margin=0), frames[20:30])
        # Random margins (training) stay within 0-20 frames each side, and vary.
        long = np.concatenate([np.full((40, 2), -20.0, np.float32), frames[20:30], np.full((40, 2), -20.0, np.float32)])
        rng = np.random.default_rng(0)
        lengths = {len(trim_silence(long, 1, rng)) for _ in range(50)}
        self.assertTrue(all(10 <= n <= 50 for n in lengths), lengths)
        self.assertGreater(len(lengths), 5)


if __name__ == "__main__":
    unittest.main()

