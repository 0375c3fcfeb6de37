import json
import tempfile
import unittest
from pathlib import Path

import _path  # noqa: F401
import onnx
import torch

from emotionbatch_training.config import Config
from emotionbatch_training.export import export_bundle
from emotionbatch_training.model import EmotionModel

torch.set_num_threads(1)


class ExportTest(unittest.TestCase):
    def test_checkpoint_with_extra_emotions_loads(self):
        from emotionbatch_training.export import load_checkpoint
        cfg = Config()
        cfg.set("data.extra_classes=true")
        model = EmotionModel(cfg.model, num_classes=9)
        with tempfile.TemporaryDirectory() as tmp:
            torch.save({"config": cfg.to_dict(), "model": model.state_dict()}, Path(tmp) / "model.pt")
            loaded, loaded_cfg, _ = load_checkpoint(Path(tmp) / "model.pt")
        self.assertEqual(loaded.aux_classifier.out_features, 9)
        self.assertTrue(loaded_cfg.data.extra_classes)

    def test_bundle_follows_contract(self):
        cfg = Config()
        torch.manual_seed(0)
        model = EmotionModel(cfg.model)
        with tempfile.TemporaryDirectory() as tmp:
            out = export_bundle(model, cfg, Path(tmp), trained=False, name="emotionbatch-untrained",
                                version="0.0.1", description="test")
            manifest = json.loads((out / "manifest.json").read_text())
            self.assertEqual(manifest["labels"], ["angry", "happy", "sad", "neutral"])
            self.assertEqual(manifest["sample_rate"], 16000)
            self.assertFalse(manifest["trained"])
            self.assertEqual(manifest["text_encoder"]["builtin"], "all-MiniLM-L6-v2")
            self.assertEqual(manifest["acoustic_encoder"]["dim"], cfg.model.acoustic_dim)
            graphs = {name: onnx.load(str(out / f"{name}.onnx")) for name in ("acoustic_encoder", "fusion_head")}
            for g in graphs.values():
                onnx.checker.check_model(g)
                self.assertTrue(14 <= g.opset_import[0].version <= 17)
            io = lambda g, kind: [v.name for v in getattr(g.graph, kind)]  # noqa: E731
            self.assertEqual(io(graphs["acoustic_encoder"], "input"), ["waveform", "waveform_lengths"])
            self.assertEqual(io(graphs["acoustic_encoder"], "output"), ["acoustic_features", "acoustic_mask"])
            self.assertEqual(io(graphs["fusion_head"], "input"),
                             ["acoustic_features", "acoustic_mask", "text_features", "text_mask"])
            self.assertEqual(io(graphs["fusion_head"], "output"), ["logits", "valence", "arousal"])
            lengths = graphs["acoustic_encoder"].graph.input[1].type.tensor_type
            self.assertEqual(lengths.elem_type, onnx.TensorProto.INT64)
            wave_dims = graphs["acoustic_encoder"].graph.input[0].type.tensor_type.shape.dim
            self.assertTrue(all(d.dim_param for d in wave_dims))  # batch and length dynamic
            parity = json.loads((out / "parity.json").read_text())
            self.assertGreaterEqual(len(parity["cases"]), 2)
            self.assertTrue(any(c["text_features"] is None for c in parity["cases"]))
            # Expected values are what the PyTorch model gives on exactly these inputs.
            case = parity["cases"][0]
            with torch.no_grad():
                w = torch.tensor([case["waveform"]])
                t = torch.tensor([case["text_features"]])
                logits, v, a = model.eval()(w, torch.tensor([w.size(1)]), t, torch.ones(1, t.size(1)))
            self.assertTrue(torch.allclose(logits[0], torch.tensor(case["expected"]["logits"]), atol=1e-5))
            self.assertAlmostEqual(float(v), case["expected"]["valence"], places=5)


if __name__ == "__main__":
    unittest.main()
