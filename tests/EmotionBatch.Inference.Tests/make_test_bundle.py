#!/usr/bin/python3
"""Exports tiny UNTRAINED model bundles (docs/model-bundle.md) for the C# inference tests.

Usage: /usr/bin/python3 make_test_bundle.py OUT_ROOT
Writes OUT_ROOT/builtin-text (text encoder: built-in all-MiniLM-L6-v2) and OUT_ROOT/file-text
(a tiny text encoder ONNX + WordPiece vocab.txt in the bundle). Each has parity.json with PyTorch outputs.
Weights are random (trained=false): the outputs test wiring, padding and masking, not emotions.
"""
import json
import os
import sys

import torch
from torch import nn

SAMPLE_RATE = 16000
WINDOW, HOP = 400, 320  # 25 ms frames every 20 ms, as HuBERT's frame rate
OPSET = 14


class AcousticEncoder(nn.Module):
    """Framing conv1d + linear. A frame is valid when it lies wholly inside the row's valid samples,
    so zero padding never changes a valid frame and padded frames are masked."""

    def __init__(self, dim, channels=16):
        super().__init__()
        self.frames = nn.Conv1d(1, channels, WINDOW, stride=HOP)
        self.proj = nn.Linear(channels, dim)

    def forward(self, waveform, waveform_lengths):
        x = torch.tanh(self.frames(waveform.unsqueeze(1))).transpose(1, 2)  # [B, T, C]
        features = self.proj(x)
        positions = torch.cumsum(torch.ones_like(features[:, :, 0]), dim=1) - 1.0  # [B, T]
        frame_end = positions * HOP + WINDOW
        mask = (frame_end <= waveform_lengths.unsqueeze(1).to(features.dtype)).to(features.dtype)
        return features * mask.unsqueeze(-1), mask


class TinyTextEncoder(nn.Module):
    """Embeddings plus a masked context mean, so wrong padding or masking changes the outputs."""

    def __init__(self, vocab_size, dim):
        super().__init__()
        self.tokens = nn.Embedding(vocab_size, dim)
        self.types = nn.Embedding(2, dim)
        self.proj = nn.Linear(dim, dim)

    def forward(self, input_ids, attention_mask, token_type_ids):
        x = self.tokens(input_ids) + self.types(token_type_ids)
        m = attention_mask.unsqueeze(-1).to(x.dtype)
        context = (x * m).sum(1, keepdim=True) / m.sum(1, keepdim=True).clamp(min=1.0)
        return torch.tanh(self.proj(x + context))


def masked_mean(features, mask):
    m = mask.unsqueeze(-1)
    return (features * m).sum(1) / m.sum(1).clamp(min=1.0)


class FusionHead(nn.Module):
    """Masked mean pooling per modality + linear heads; an all-zero mask pools to zeros (finite outputs)."""

    def __init__(self, acoustic_dim, text_dim, hidden=16):
        super().__init__()
        self.acoustic = nn.Linear(acoustic_dim, hidden)
        self.text = nn.Linear(text_dim, hidden)
        self.classes = nn.Linear(2 * hidden, 4)
        self.dimensions = nn.Linear(2 * hidden, 2)

    def forward(self, acoustic_features, acoustic_mask, text_features, text_mask):
        z = torch.cat([
            torch.tanh(self.acoustic(masked_mean(acoustic_features, acoustic_mask))),
            torch.tanh(self.text(masked_mean(text_features, text_mask))),
        ], dim=-1)
        va = torch.tanh(self.dimensions(z))
        return self.classes(z), va[:, 0], va[:, 1]


VOCAB = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", ".", ",", "!", "?", "i", "am", "so", "happy", "sad", "angry",
         "hello", "world", "today", "very", "not", "the", "a", "##s", "##ly", "we", "you", "it", "is", "was"]


def export(module, args, path, input_names, output_names, dynamic_axes):
    torch.onnx.export(module, args, path, input_names=input_names, output_names=output_names,
                      dynamic_axes=dynamic_axes, opset_version=OPSET, do_constant_folding=True)


def make_bundle(out, text_kind, seed):
    torch.manual_seed(seed)
    os.makedirs(out, exist_ok=True)
    acoustic_dim = 24
    text_dim = 384 if text_kind == "builtin" else 32
    acoustic = AcousticEncoder(acoustic_dim).eval()
    fusion = FusionHead(acoustic_dim, text_dim).eval()

    export(acoustic, (torch.randn(2, 8000), torch.tensor([8000, 6000])), os.path.join(out, "acoustic_encoder.onnx"),
           ["waveform", "waveform_lengths"], ["acoustic_features", "acoustic_mask"],
           {"waveform": {0: "B", 1: "S"}, "waveform_lengths": {0: "B"},
            "acoustic_features": {0: "B", 1: "T"}, "acoustic_mask": {0: "B", 1: "T"}})
    export(fusion, (torch.randn(2, 5, acoustic_dim), torch.ones(2, 5), torch.randn(2, 3, text_dim), torch.ones(2, 3)),
           os.path.join(out, "fusion_head.onnx"),
           ["acoustic_features", "acoustic_mask", "text_features", "text_mask"], ["logits", "valence", "arousal"],
           {"acoustic_features": {0: "B", 1: "T"}, "acoustic_mask": {0: "B", 1: "T"},
            "text_features": {0: "B", 1: "L"}, "text_mask": {0: "B", 1: "L"},
            "logits": {0: "B"}, "valence": {0: "B"}, "arousal": {0: "B"}})

    if text_kind == "builtin":
        text_encoder = {"builtin": "all-MiniLM-L6-v2", "file": None, "dim": 384,
                        "tokenizer": {"type": "wordpiece", "file": None, "lowercase": True, "max_length": 128}}
    else:
        text = TinyTextEncoder(len(VOCAB), text_dim).eval()
        ids = torch.tensor([[2, 15, 16, 3], [2, 9, 3, 0]])
        export(text, (ids, (ids > 0).long(), torch.zeros_like(ids)), os.path.join(out, "text_encoder.onnx"),
               ["input_ids", "attention_mask", "token_type_ids"], ["last_hidden_state"],
               {"input_ids": {0: "B", 1: "L"}, "attention_mask": {0: "B", 1: "L"}, "token_type_ids": {0: "B", 1: "L"},
                "last_hidden_state": {0: "B", 1: "L"}})
        with open(os.path.join(out, "vocab.txt"), "w", encoding="utf-8") as f:
            f.write("\n".join(VOCAB) + "\n")
        text_encoder = {"builtin": None, "file": "text_encoder.onnx", "dim": text_dim,
                        "tokenizer": {"type": "wordpiece", "file": "vocab.txt", "lowercase": True, "max_length": 16}}
    text_encoder["inputs"] = {"input_ids": "input_ids", "attention_mask": "attention_mask", "token_type_ids": "token_type_ids"}
    text_encoder["outputs"] = {"features": "last_hidden_state"}

    manifest = {
        "format_version": 1,
        "name": f"test-untrained-{text_kind}-text",
        "version": "0.0.1",
        "trained": False,
        "description": "Random weights for wiring tests (tests/EmotionBatch.Inference.Tests/make_test_bundle.py).",
        "labels": ["angry", "happy", "sad", "neutral"],
        "sample_rate": SAMPLE_RATE,
        "max_audio_seconds": 4.0,
        "valence_arousal": {"min": -1.0, "max": 1.0, "neutral": 0.0, "definition": "tanh of random weights"},
        "acoustic_encoder": {"file": "acoustic_encoder.onnx",
                             "inputs": {"waveform": "waveform", "lengths": "waveform_lengths"},
                             "outputs": {"features": "acoustic_features", "mask": "acoustic_mask"},
                             "dim": acoustic_dim},
        "text_encoder": text_encoder,
        "fusion_head": {"file": "fusion_head.onnx",
                        "inputs": {"acoustic_features": "acoustic_features", "acoustic_mask": "acoustic_mask",
                                   "text_features": "text_features", "text_mask": "text_mask"},
                        "outputs": {"logits": "logits", "valence": "valence", "arousal": "arousal"}},
        "training": {"data": [], "config": {"seed": seed}},
        "metrics": {},
    }
    with open(os.path.join(out, "manifest.json"), "w", encoding="utf-8") as f:
        json.dump(manifest, f, indent=2)

    cases = []
    with torch.no_grad():
        for samples, tokens in [(16000, 5), (8123, None), (300, 3), (40000, 1), (0, None)]:
            waveform = (0.3 * torch.randn(1, max(samples, 1)))[:, :samples] if samples else torch.zeros(1, 0)
            padded = torch.nn.functional.pad(waveform, (0, max(WINDOW - samples, 0)))  # as the worker pads
            features, mask = acoustic(padded, torch.tensor([samples]))
            if tokens is None:
                text_features, text_mask = torch.zeros(1, 1, text_dim), torch.zeros(1, 1)
            else:
                text_features, text_mask = torch.randn(1, tokens, text_dim), torch.ones(1, tokens)
            logits, valence, arousal = fusion(features, mask, text_features, text_mask)
            cases.append({
                "waveform": waveform[0].tolist(),
                "text_features": None if tokens is None else text_features[0].tolist(),
                "expected": {"logits": logits[0].tolist(), "valence": valence.item(), "arousal": arousal.item()},
            })
    with open(os.path.join(out, "parity.json"), "w", encoding="utf-8") as f:
        json.dump({"cases": cases}, f)


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    root = sys.argv[1]
    make_bundle(os.path.join(root, "builtin-text"), "builtin", seed=7)
    make_bundle(os.path.join(root, "file-text"), "file", seed=11)


if __name__ == "__main__":
    main()
