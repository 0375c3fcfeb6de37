import json
import sys
import tempfile
import unittest
from pathlib import Path

import _path  # noqa: F401
import onnx
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import export_deberta  # noqa: E402

torch.set_num_threads(1)


class StandinTextEncoderTest(unittest.TestCase):
    def test_standin_bundle_follows_the_deberta_contract(self):
        import sentencepiece as spm

        with tempfile.TemporaryDirectory() as tmp:
            out = Path(tmp)
            export_deberta.main(["--standin", "--out", tmp, "--dim", "32", "--vocab-size", "400"])
            graph = onnx.load(str(out / "text_encoder.onnx"))
            self.assertEqual([i.name for i in graph.graph.input], ["input_ids", "attention_mask"])
            self.assertEqual([o.name for o in graph.graph.output], ["last_hidden_state"])
            self.assertEqual(graph.opset_import[0].version, 17)
            ids = graph.graph.input[0].type.tensor_type
            self.assertEqual(ids.elem_type, onnx.TensorProto.INT64)
            self.assertTrue(all(d.dim_param for d in ids.shape.dim))  # batch and length dynamic
            sp = spm.SentencePieceProcessor(model_file=str(out / "spm.model"))
            self.assertEqual([sp.id_to_piece(i) for i in range(4)], ["[PAD]", "[CLS]", "[SEP]", "[UNK]"])
            self.assertEqual((sp.bos_id(), sp.eos_id()), (1, 2))
            text = json.loads((out / "manifest.json").read_text())["text_encoder"]
            self.assertEqual(text["dim"], 32)
            self.assertEqual(text["tokenizer"], {"type": "sentencepiece", "file": "spm.model", "lowercase": False,
                                                 "max_length": 128})

    def test_padding_does_not_change_the_real_tokens(self):
        encoder = export_deberta.DebertaLikeEncoder(50, dim=16).eval()
        ids = torch.tensor([[1, 7, 9, 2]])
        padded = torch.tensor([[1, 7, 9, 2, 0, 0]])
        with torch.no_grad():
            alone = encoder(ids, torch.ones(1, 4, dtype=torch.int64))
            both = encoder(padded, torch.tensor([[1, 1, 1, 1, 0, 0]]))
        self.assertTrue(torch.allclose(alone[0], both[0, :4], atol=1e-5))


if __name__ == "__main__":
    unittest.main()
