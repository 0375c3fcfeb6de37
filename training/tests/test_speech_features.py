import math
import unittest

import _path  # noqa: F401
import numpy as np
import torch

from emotionbatch_training import channels
from emotionbatch_training.speech_features import N_MFCC, VOICED_THRESHOLD, FrameFeatures, Functionals, mask_bands, perturb_speaker, warp_voice

torch.set_num_threads(1)
FE = FrameFeatures(16000, 400, 160, 64)
FN = Functionals(64, 100.0)


def tone(f0: float, seconds: float = 1.0, amplitude: float = 0.3) -> torch.Tensor:
    t = torch.arange(int(16000 * seconds)) / 16000.0
    return amplitude * sum(torch.sin(2 * math.pi * f0 * h * t) / h for h in range(1, 8))


class FrameFeaturesTest(unittest.TestCase):
    def test_pitch_of_harmonic_tones(self):
        for f0 in (90.0, 140.0, 220.0, 330.0):
            with self.subTest(f0=f0):
                frames, _ = FE(tone(f0).unsqueeze(0), torch.tensor([16000]))
                est = torch.exp(frames[0, 5:-5, -1]).median().item()
                self.assertLess(abs(est - f0) / f0, 0.04)  # lag resolution at 16 kHz
                voicing = frames[0, 5:-5, -2].median().item()
                # Low voices reach only ~0.55-0.75: few periods fit a 25 ms window. Still above the voiced threshold.
                self.assertGreater(voicing, 0.8 if f0 >= 140 else VOICED_THRESHOLD)

    def test_noise_is_unvoiced_and_has_high_zero_crossing_rate(self):
        torch.manual_seed(0)
        frames, _ = FE(torch.randn(1, 16000) * 0.1, torch.tensor([16000]))
        self.assertLess(frames[0, 5:-5, -2].median().item(), 0.45)
        self.assertGreater(frames[0, 5:-5, -3].median().item(), 0.3)
        low, _ = FE(tone(120.0).unsqueeze(0), torch.tensor([16000]))
        self.assertLess(low[0, 5:-5, -3].median().item(), 0.1)

    def test_louder_audio_has_more_energy_and_the_same_spectral_shape(self):
        quiet, _ = FE(tone(150.0, amplitude=0.05).unsqueeze(0), torch.tensor([16000]))
        loud, _ = FE(tone(150.0, amplitude=0.5).unsqueeze(0), torch.tensor([16000]))
        energy = 64 + N_MFCC
        self.assertAlmostEqual((loud[0, 10:-10, energy] - quiet[0, 10:-10, energy]).mean().item(), 2 * math.log(10), places=2)
        self.assertLess((loud[0, 10:-10, energy + 1] - quiet[0, 10:-10, energy + 1]).abs().max().item(), 1e-3)

    def test_padding_invariance_of_frames_and_functionals(self):
        torch.manual_seed(1)
        w = torch.randn(16000) * 0.1 + tone(200.0)
        alone, mask_alone = FE(w[:9000].unsqueeze(0), torch.tensor([9000]))
        batch, mask_batch = FE(torch.stack([w, torch.cat([w[:9000], torch.zeros(7000)])]), torch.tensor([16000, 9000]))
        t = alone.size(1)
        self.assertLess((batch[1, :t] - alone[0]).abs().max().item(), 1e-4)
        self.assertTrue(bool((batch[1, t:] == 0).all()))
        self.assertLess((FN(batch, mask_batch)[1] - FN(alone, mask_alone)[0]).abs().max().item(), 1e-3)


def shaped_noise(envelope, seconds: float = 2.0) -> torch.Tensor:
    """White noise (fixed seed) through a zero-phase filter with magnitude envelope(f in Hz)."""
    n = int(16000 * seconds)
    spectrum = torch.fft.rfft(torch.randn(n, generator=torch.Generator().manual_seed(3)))
    freqs = torch.fft.rfftfreq(n, 1 / 16000)
    return torch.fft.irfft(spectrum * envelope(freqs), n) * 0.05


def formants(f: torch.Tensor) -> torch.Tensor:
    return 0.05 + torch.exp(-((f - 700) / 150) ** 2) + 0.6 * torch.exp(-((f - 2200) / 300) ** 2)


class VoicePerturbationTest(unittest.TestCase):
    def test_warped_log_mel_matches_a_scaled_spectral_envelope(self):
        alpha = 1.1  # the same source through a vocal tract 10 % shorter: every formant 10 % higher
        frames, mask = FE(shaped_noise(formants).unsqueeze(0), torch.tensor([32000]))
        shorter, _ = FE(shaped_noise(lambda f: formants(f / alpha)).unsqueeze(0), torch.tensor([32000]))
        warped = warp_voice(frames, mask, FE.dct, 16000, torch.tensor([alpha]), torch.tensor([0.0]))
        mean = lambda x: x[0, 5:-5, :64].mean(0)  # noqa: E731  (time-averaged log-mel: the envelope)
        before = (mean(frames) - mean(shorter)).abs().mean().item()
        after = (mean(warped) - mean(shorter)).abs().mean().item()
        self.assertLess(after, 0.35 * before)
        self.assertEqual(mean(shorter)[:30].argmax().item(), mean(warped)[:30].argmax().item())  # the first formant's band
        self.assertLess((warped[0, :, 64:64 + N_MFCC] - warped[0, :, :64] @ FE.dct).abs().max().item(), 1e-4)

    def test_pitch_moves_by_the_semitones_and_padding_stays_zero(self):
        w = torch.cat([tone(150.0), torch.zeros(4000)])
        frames, mask = FE(torch.stack([w, w]), torch.tensor([16000, 12000]))
        warped = warp_voice(frames, mask, FE.dct, 16000, torch.tensor([1.0, 0.9]), torch.tensor([2.0, -3.0]))
        voiced = frames[0, 5:70, -2] > VOICED_THRESHOLD  # inside both lengths
        self.assertGreater(int(voiced.sum()), 50)
        shift = (warped[:, 5:70, -1] - frames[:, 5:70, -1])[:, voiced]
        self.assertTrue(torch.allclose(shift[0], torch.full_like(shift[0], 2 * math.log(2) / 12), atol=1e-5))
        self.assertTrue(torch.allclose(shift[1], torch.full_like(shift[1], -3 * math.log(2) / 12), atol=1e-5))
        self.assertTrue(bool((warped[1, mask[1] == 0] == 0).all()))
        centroid = 64 + N_MFCC + 1
        self.assertTrue(torch.allclose(warped[1, :50, centroid], frames[1, :50, centroid] * 0.9, atol=1e-5))
        self.assertTrue(torch.equal(warped[:, :, 64 + N_MFCC], frames[:, :, 64 + N_MFCC]))  # level unchanged

    def test_random_perturbation_stays_in_its_range(self):
        frames, mask = FE(tone(200.0).unsqueeze(0).expand(64, -1), torch.full((64,), 16000))
        torch.manual_seed(0)
        out = perturb_speaker(frames, mask, FE.dct, 16000, 0.1, 3.0)
        shifts = (out[:, 20, -1] - frames[:, 20, -1]) * 12 / math.log(2)
        self.assertLessEqual(shifts.abs().max().item(), 3.0 + 1e-4)
        self.assertGreater(shifts.std().item(), 1.0)  # drawn per utterance, not once per batch
        ratio = out[:, 20, 64 + N_MFCC + 1] / frames[:, 20, 64 + N_MFCC + 1]
        self.assertTrue(bool(((ratio > 0.9 - 1e-4) & (ratio < 1.1 + 1e-4)).all()))

    def test_band_masks_flatten_whole_bands_and_keep_the_rest(self):
        torch.manual_seed(2)
        w = torch.cat([torch.randn(16000) * 0.1 + tone(180.0), torch.zeros(4000)])
        frames, mask = FE(torch.stack([w, w]), torch.tensor([20000, 16000]))
        out = mask_bands(frames, mask, FE.dct, count=2)
        logmel, original = out[..., :64], frames[..., :64]
        valid = mask[1] == 1
        changed = (logmel[1, valid] != original[1, valid]).any(0)  # per band
        self.assertGreater(int(changed.sum()), 0)
        self.assertLessEqual(int(changed.sum()), 16)
        self.assertLess(logmel[1, valid][:, changed].std(0).max().item(), 1e-5)  # flat over time
        self.assertTrue(torch.allclose(logmel[1, valid][:, changed].mean(0), original[1, valid][:, changed].mean(0), atol=1e-4))
        self.assertTrue(bool((out[1, ~valid] == 0).all()))
        self.assertTrue(torch.allclose(out[..., 64:64 + N_MFCC], logmel @ FE.dct, atol=1e-4))
        self.assertTrue(torch.equal(out[..., 64 + N_MFCC:], frames[..., 64 + N_MFCC:]))


class FunctionalsTest(unittest.TestCase):
    def test_statistics_match_numpy(self):
        torch.manual_seed(2)
        frames, mask = FE((torch.randn(1, 12000) * 0.05 + tone(180.0, 0.75)), torch.tensor([12000]))
        stats = FN(frames, mask)[0].numpy()
        mfcc = frames[0, :, 64: 64 + N_MFCC].numpy().astype(np.float64)
        n = len(mfcc)
        np.testing.assert_allclose(stats[:N_MFCC], mfcc.mean(0), atol=1e-4)
        np.testing.assert_allclose(stats[N_MFCC: 2 * N_MFCC], mfcc.std(0), atol=1e-3)
        ordered = np.sort(mfcc, 0)
        np.testing.assert_allclose(stats[2 * N_MFCC: 3 * N_MFCC], ordered[int(math.floor((n - 1) * 0.1))], atol=1e-4)
        np.testing.assert_allclose(stats[3 * N_MFCC: 4 * N_MFCC], ordered[int(math.floor((n - 1) * 0.9))], atol=1e-4)
        self.assertEqual(stats.shape, (FN.dim,))

    def test_percentiles_equal_a_full_sort_for_every_length_in_a_padded_batch(self):
        from emotionbatch_training.speech_features import masked_stats

        torch.manual_seed(3)
        for frames in list(range(1, 42)) + [99, 100, 101]:
            lengths = torch.arange(frames + 1)  # every length the batch can hold, 0 included
            x = torch.randn(len(lengths), frames, 3)
            x[::2] = x[::2].round()  # ties
            mask = (torch.arange(frames)[None] < lengths[:, None]).float()
            stats = masked_stats(x, mask)
            for b, n in enumerate(lengths.tolist()):
                if n == 0:
                    self.assertTrue(bool((stats[b] == 0).all()))
                    continue
                ordered = np.sort(x[b, :n].numpy(), 0)
                np.testing.assert_array_equal(stats[b, 6:9].numpy(), ordered[int(math.floor((n - 1) * 0.1))])
                np.testing.assert_array_equal(stats[b, 9:12].numpy(), ordered[int(math.floor((n - 1) * 0.9))])

    def test_empty_utterance_gives_zeros(self):
        frames, mask = FE(torch.zeros(2, 8000), torch.tensor([8000, 0]))
        out = FN(frames, mask)
        self.assertTrue(bool(torch.isfinite(out).all()))
        self.assertTrue(bool((out[1] == 0).all()))


class ChannelsTest(unittest.TestCase):
    def test_telephone_is_band_limited_and_keeps_length(self):
        rng = np.random.default_rng(0)
        clips = [rng.standard_normal(n).astype(np.float32) * 0.1 for n in (16000, 7001)]
        out = channels.apply_many("telephone", clips, ["a", "b"])
        self.assertEqual([len(o) for o in out], [16000, 7001])
        spectrum = np.abs(np.fft.rfft(out[0])) ** 2
        freqs = np.fft.rfftfreq(16000, 1 / 16000)
        self.assertLess(spectrum[freqs > 4500].sum() / spectrum.sum(), 0.01)
        self.assertLess(spectrum[freqs < 150].sum() / spectrum.sum(), 0.01)

    def test_training_conditions_are_deterministic_per_item(self):
        clip = tone(160.0).numpy()
        for condition in ("phone_a", "room"):
            with self.subTest(condition):
                first = channels.apply_many(condition, [clip], ["corpus/item"])[0]
                again = channels.apply_many(condition, [clip], ["corpus/item"])[0]
                other = channels.apply_many(condition, [clip], ["corpus/other"])[0]
                np.testing.assert_array_equal(first, again)
                self.assertFalse(np.array_equal(first, other))
                self.assertTrue(np.isfinite(first).all() and np.abs(first).max() <= 1.0)

    def test_noise_is_added_at_the_drawn_snr(self):
        rng = np.random.default_rng(3)
        clip = tone(150.0).numpy().astype(np.float64)
        noisy = channels.add_noise(clip, rng, None)
        snr = 10 * np.log10(np.mean(clip ** 2) / np.mean((noisy - clip) ** 2))
        self.assertGreaterEqual(snr, 4.99)
        self.assertLessEqual(snr, 20.01)


if __name__ == "__main__":
    unittest.main()
