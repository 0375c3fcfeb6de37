"""Export a DeBERTaV3 text encoder as a text-only bundle folder (docs/model-bundle.md) for the worker's encode-text
and for emotionbatch_training.assemble:

  input_ids [B, L] + attention_mask [B, L] (int64) -> last_hidden_state [B, L, D] (float32), B and L dynamic, opset 17;
  spm.model (its SentencePiece model) and manifest.json naming both: tokenizer "sentencepiece", lowercase false
  (DeBERTaV3 is cased), max_length 128 unless --max-length says otherwise.

  /usr/bin/python3 training/export_deberta.py --model microsoft/deberta-v3-large --out /data/deberta   # operators
  /usr/bin/python3 training/export_deberta.py --standin --out /tmp/text-standin                        # CI stand-in

--model takes a Hugging Face model name or a local folder (config.json, weights, spm.model) and needs the
`transformers` package. THIS PATH HAS NOT BEEN RUN IN THIS REPOSITORY'S ENVIRONMENT: neither `transformers` nor
DeBERTaV3 weights can be installed there. It follows transformers' documented API (AutoModel, DebertaV2Tokenizer's
vocab_file); check its output with the worker's verify-bundle after assembling, as for any operator bundle.
--standin needs only PyTorch and python3-sentencepiece: a small random DeBERTa-like encoder (token embeddings and a
few self-attention layers, no position information) with the same inputs and output, and a unigram SentencePiece
model trained on local text with DeBERTaV3's special ids (pad 0, [CLS] 1, [SEP] 2, [UNK] 3). Its features carry no
meaning; training/pretrained-smoke.sh uses it to run the whole frozen-encoder path.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
from pathlib import Path

import onnx
import torch
from torch import nn

sys.path.insert(0, str(Path(__file__).resolve().parent))
from emotionbatch_training.model import SelfAttentionLayer  # noqa: E402

OPSET = 17
REPO_ROOT = Path(__file__).resolve().parents[1]
# DeBERTaV3's spm.model lays its special pieces out like this; the worker takes [CLS]/[SEP] from the model's bos/eos.
SPECIAL_IDS = {"pad_id": 0, "bos_id": 1, "eos_id": 2, "unk_id": 3}


class LastHiddenState(nn.Module):
    """A Hugging Face encoder reduced to the bundle contract: two inputs, one output."""

    def __init__(self, model: nn.Module):
        super().__init__()
        self.model = model

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        return self.model(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state


class DebertaLikeEncoder(nn.Module):
    """Stand-in with DeBERTa's interface: token embeddings, LayerNorm, pre-norm self-attention layers (relative
    position attention left out), final LayerNorm. Random weights: for wiring and shape tests only."""

    def __init__(self, vocab_size: int, dim: int = 96, layers: int = 2, heads: int = 4, ff: int = 192):
        super().__init__()
        self.embed = nn.Embedding(vocab_size, dim)
        self.norm_in = nn.LayerNorm(dim)
        self.layers = nn.ModuleList(SelfAttentionLayer(dim, heads, ff, 0.0) for _ in range(layers))
        self.norm = nn.LayerNorm(dim)

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        mask = attention_mask.to(torch.float32)
        h = self.norm_in(self.embed(input_ids)) * mask.unsqueeze(-1)
        for layer in self.layers:
            h = layer(h, mask)
        return self.norm(h)


def export_graph(encoder: nn.Module, vocab_size: int, path: Path) -> int:
    """Exports with dynamic batch and length; returns the feature width."""
    encoder.eval()
    ids = torch.randint(4, vocab_size, (2, 7), dtype=torch.int64)
    ids[:, 0], ids[:, -1] = SPECIAL_IDS["bos_id"], SPECIAL_IDS["eos_id"]
    mask = torch.ones(2, 7, dtype=torch.int64)
    mask[1, 5:] = 0
    with torch.no_grad():
        dim = int(encoder(ids, mask).size(-1))
        torch.onnx.export(encoder, (ids, mask), str(path), opset_version=OPSET, do_constant_folding=True,
                          input_names=["input_ids", "attention_mask"], output_names=["last_hidden_state"],
                          dynamic_axes={"input_ids": {0: "B", 1: "L"}, "attention_mask": {0: "B", 1: "L"},
                                        "last_hidden_state": {0: "B", 1: "L"}})
    onnx.checker.check_model(str(path))  # path form: works for graphs near the 2 GB protobuf limit
    return dim


def train_standin_tokenizer(corpus: list[Path], out: Path, vocab_size: int) -> Path:
    """A unigram SentencePiece model laid out like DeBERTaV3's, trained on local text files."""
    import sentencepiece as spm  # python3-sentencepiece

    files = sorted(p for c in corpus for p in ([c] if c.is_file() else c.glob("*.md")))
    if not files:
        raise SystemExit(f"no text found in {corpus}")
    with tempfile.TemporaryDirectory() as tmp:
        text = Path(tmp) / "corpus.txt"
        text.write_text("\n".join(p.read_text(encoding="utf-8") for p in files), encoding="utf-8")
        spm.SentencePieceTrainer.train(
            input=str(text), model_prefix=str(Path(tmp) / "spm"), vocab_size=vocab_size, model_type="unigram",
            character_coverage=1.0, bos_piece="[CLS]", eos_piece="[SEP]", pad_piece="[PAD]", unk_piece="[UNK]",
            num_threads=1, minloglevel=2, **SPECIAL_IDS)
        shutil.copyfile(Path(tmp) / "spm.model", out)
    return out


def check_special_ids(spm_path: Path) -> int:
    """The worker wraps every text in the model's bos/eos pieces; DeBERTaV3 needs them to be [CLS]/[SEP]."""
    import sentencepiece as spm

    sp = spm.SentencePieceProcessor(model_file=str(spm_path))
    found = {"bos_id": sp.bos_id(), "eos_id": sp.eos_id(), "unk_id": sp.unk_id(), "pad_id": sp.pad_id()}
    if found["bos_id"] < 0 or found["eos_id"] < 0:
        raise SystemExit(f"{spm_path}: no bos/eos pieces ({found}); the worker needs them for [CLS] and [SEP]")
    if sp.id_to_piece(found["bos_id"]) != "[CLS]" or sp.id_to_piece(found["eos_id"]) != "[SEP]":
        print(f"warning: {spm_path}: bos/eos pieces are {sp.id_to_piece(found['bos_id'])!r}/"
              f"{sp.id_to_piece(found['eos_id'])!r}, not [CLS]/[SEP]", file=sys.stderr)
    return sp.get_piece_size()


def write_manifest(out: Path, name: str, dim: int, max_length: int, trained: bool, description: str) -> None:
    manifest = {
        "format_version": 1, "name": name, "version": "1.0.0", "trained": trained, "description": description,
        "text_encoder": {
            "builtin": None, "file": "text_encoder.onnx",
            "inputs": {"input_ids": "input_ids", "attention_mask": "attention_mask"},
            "outputs": {"features": "last_hidden_state"}, "dim": dim,
            "tokenizer": {"type": "sentencepiece", "file": "spm.model", "lowercase": False, "max_length": max_length}},
    }
    (out / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")


def export_huggingface(model_name: str, out: Path) -> tuple[int, str]:
    """DeBERTaV3 through transformers (not available here: see the module docstring)."""
    try:
        from transformers import AutoModel, AutoTokenizer
    except ImportError as e:
        raise SystemExit("--model needs the transformers package (pip install transformers sentencepiece); "
                         "--standin runs without it") from e
    tokenizer = AutoTokenizer.from_pretrained(model_name, use_fast=False)
    spm_file = getattr(tokenizer, "vocab_file", None)
    if not spm_file or not Path(spm_file).exists():
        raise SystemExit(f"{model_name}: its tokenizer has no SentencePiece file (vocab_file); is it DeBERTaV3?")
    shutil.copyfile(spm_file, out / "spm.model")
    vocab = check_special_ids(out / "spm.model")
    if (tokenizer.cls_token_id, tokenizer.sep_token_id) != (SPECIAL_IDS["bos_id"], SPECIAL_IDS["eos_id"]):
        print(f"warning: the tokenizer's [CLS]/[SEP] ids are {tokenizer.cls_token_id}/{tokenizer.sep_token_id}",
              file=sys.stderr)
    model = AutoModel.from_pretrained(model_name).eval()
    dim = export_graph(LastHiddenState(model), vocab, out / "text_encoder.onnx")
    return dim, f"{model_name} (pretrained weights)"


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", required=True, help="output folder (keep it outside the repository or git-ignored)")
    source = p.add_mutually_exclusive_group(required=True)
    source.add_argument("--model", help="Hugging Face name or local folder of a DeBERTaV3 model (needs transformers)")
    source.add_argument("--standin", action="store_true", help="small random DeBERTa-like encoder (CI, wiring tests)")
    p.add_argument("--name", help="bundle name in manifest.json")
    p.add_argument("--max-length", type=int, default=128, help="tokens per text including [CLS] and [SEP]")
    p.add_argument("--corpus", action="append", type=Path,
                   help="--standin: text files or folders of *.md to train its SentencePiece model on (default: docs/)")
    p.add_argument("--vocab-size", type=int, default=800, help="--standin: SentencePiece vocabulary size")
    p.add_argument("--dim", type=int, default=96, help="--standin: feature width")
    p.add_argument("--threads", type=int, default=1)
    args = p.parse_args(argv)
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    if args.standin:
        spm_path = train_standin_tokenizer(args.corpus or [REPO_ROOT / "docs"], out / "spm.model", args.vocab_size)
        vocab = check_special_ids(spm_path)
        dim = export_graph(DebertaLikeEncoder(vocab, dim=args.dim), vocab, out / "text_encoder.onnx")
        name, weights, trained = args.name or "deberta-like-standin", "RANDOM stand-in (wiring tests only)", False
    else:
        dim, weights = export_huggingface(args.model, out)
        name, trained = args.name or Path(args.model.rstrip("/")).name, True
    write_manifest(out, name, dim, args.max_length, trained,
                   f"Text encoder alone, for encode-text and assemble.py; weights: {weights}")
    print(json.dumps({"out": str(out), "name": name, "dim": dim, "weights": weights}, indent=2))


if __name__ == "__main__":
    main(sys.argv[1:])
