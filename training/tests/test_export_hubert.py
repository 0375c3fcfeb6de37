import json
import sys
import tempfile
import unittest
from pathlib import Path

import _path  # noqa: F401
import onnx
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import export_hubert  # noqa: E402

torch.set_num_threads(1)


class HubertExportTest(unittest.TestCase):
    def test_wrapper_matches_padding_free_run(self):
        model, _ = export_hubert.build(None, tiny=True)
        enc = export_hubert.HubertAcousticEncoder(model).eval()
        torch.manual_seed(0)
        short = torch.randn(1, 11000) * 0.1
        batch = torch.cat([torch.cat([short, torch.zeros(1, 5000)], 1), torch.randn(1, 16000) * 0.1])
        with torch.no_grad():
            alone, mask_alone = enc(short, torch.tensor([11000]))
            both, mask_both = enc(batch, torch.tensor([11000, 16000]))
        t = alone.size(1)
        self.assertEqual(int(mask_both[0].sum()), t)
        self.assertTrue(torch.allclose(both[0, :t], alone[0], atol=1e-4))

    def test_tiny_export_follows_contract(self):
        with tempfile.TemporaryDirectory() as tmp:
            export_hubert.main(["--tiny", "--out", tmp])
            g = onnx.load(str(Path(tmp) / "acoustic_encoder.onnx"))
            self.assertEqual([i.name for i in g.graph.input], ["waveform", "waveform_lengths"])
            self.assertEqual([o.name for o in g.graph.output], ["acoustic_features", "acoustic_mask"])
            info = json.loads((Path(tmp) / "hubert-export.json").read_text())
            self.assertFalse(info["trained"])
            self.assertEqual(info["check"]["frames"], [49, 34])
            # The folder is an acoustic-only bundle for encode-audio and assemble.py.
            manifest = json.loads((Path(tmp) / "manifest.json").read_text())
            self.assertEqual((manifest["format_version"], manifest["sample_rate"]), (1, 16000))
            self.assertEqual(manifest["acoustic_encoder"]["file"], "acoustic_encoder.onnx")
            self.assertEqual(manifest["acoustic_encoder"]["dim"], 64)
            self.assertGreater(manifest["max_audio_seconds"], 0)


if __name__ == "__main__":
    unittest.main()
