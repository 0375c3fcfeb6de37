import unittest

import _path  # noqa: F401
import torch
import torchaudio

from emotionbatch_training.config import ModelConfig
from emotionbatch_training.model import AcousticEncoder, LogMelFrontEnd

torch.set_num_threads(1)


class LogMelFrontEndTest(unittest.TestCase):
    def test_matches_torchaudio_melspectrogram(self):
        torch.manual_seed(0)
        waveform = torch.randn(2, 16000) * 0.1
        ours, _ = LogMelFrontEnd(16000, 400, 160, 64)(waveform, torch.tensor([16000, 16000]))
        ref = torchaudio.transforms.MelSpectrogram(
            16000, n_fft=400, win_length=400, hop_length=160, n_mels=64, center=True, pad_mode="constant",
            power=2.0, norm=None, mel_scale="htk")(waveform)
        ref = torch.log(ref + 1e-6).transpose(1, 2)
        self.assertEqual(ours.shape, ref.shape)
        self.assertLess(float((ours - ref).abs().max()), 1e-3)
        # Linear power too, relative to its scale: the DFT basis itself is right.
        power_ours, power_ref = torch.exp(ours), torch.exp(ref)
        self.assertLess(float(((power_ours - power_ref).abs() / (power_ref + 1e-3)).max()), 1e-3)

    def test_frame_mask_counts(self):
        fe = LogMelFrontEnd(16000, 400, 160, 64)
        _, mask = fe(torch.zeros(3, 16000), torch.tensor([16000, 8000, 0]))
        self.assertEqual(mask.shape, (3, 101))
        self.assertEqual(mask.sum(1).tolist(), [101.0, 51.0, 0.0])


class AcousticEncoderTest(unittest.TestCase):
    def test_shapes_and_padding_invariance(self):
        torch.manual_seed(0)
        enc = AcousticEncoder(ModelConfig()).eval()
        short = torch.randn(1, 9000) * 0.1
        padded = torch.cat([short, torch.zeros(1, 7000)], dim=1)
        batch = torch.cat([padded, torch.randn(1, 16000) * 0.1])
        with torch.no_grad():
            alone, mask_alone = enc(short, torch.tensor([9000]))
            both, mask_both = enc(batch, torch.tensor([9000, 16000]))
        t = alone.size(1)
        # 101 frames -> 51 -> 26, plus the utterance-functionals tokens in front
        self.assertEqual(both.shape, (2, ModelConfig().stats_tokens + 26, ModelConfig().acoustic_dim))
        self.assertEqual(int(mask_both[0].sum()), t)
        self.assertTrue(torch.allclose(both[0, :t], alone[0], atol=1e-4))
        self.assertTrue(bool((both[0, t:] == 0).all()))


if __name__ == "__main__":
    unittest.main()
