"""Export a HuBERT-large acoustic encoder that follows the bundle contract (docs/model-bundle.md):
waveform [B, S] + waveform_lengths [B] -> acoustic_features [B, T, 1024] + acoustic_mask [B, T].

  /usr/bin/python3 training/export_hubert.py --out /path/outside/the/repo [--checkpoint hubert_large.pt]

--checkpoint takes a torchaudio-format state dict of torchaudio.models.hubert_large() (e.g. saved from
torchaudio.pipelines.HUBERT_LARGE.get_model().state_dict() on a machine that can download it). Without it the
weights are random and hubert-export.json says so: such a graph is only good for wiring and shape tests.
The output folder is also an acoustic-only bundle (manifest.json naming the graph), which the worker's
encode-audio takes as --bundle to cache the frames a fusion head trains on (emotionbatch_training.frozen), and
which assemble.py copies the graph from. The output is large (about 1.3 GB) and is never committed (see .gitignore).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import onnx
import torch
import torchaudio
from torch import nn

OPSET = 17
MAX_AUDIO_SECONDS = 20.0  # the default bundle's: longer utterances are cut to their centre before the encoder


class HubertAcousticEncoder(nn.Module):
    """Per-utterance normalised waveform -> last transformer layer of HuBERT, with a frame mask."""

    def __init__(self, model: nn.Module):
        super().__init__()
        self.model = model

    def forward(self, waveform: torch.Tensor, waveform_lengths: torch.Tensor):
        samples = torch.arange(waveform.size(1), device=waveform.device).unsqueeze(0)
        valid = (samples < waveform_lengths.unsqueeze(1)).to(waveform.dtype)
        n = valid.sum(1, keepdim=True).clamp(min=1.0)
        mean = (waveform * valid).sum(1, keepdim=True) / n
        var = (((waveform - mean) * valid) ** 2).sum(1, keepdim=True) / n
        # HuBERT-large was pretrained on zero-mean, unit-variance utterances (fairseq normalize=True).
        x = (waveform - mean) / torch.sqrt(var + 1e-7) * valid
        # The encoder is driven here instead of through Wav2Vec2Model.forward: torchaudio's boolean-index padding
        # (x[mask] = 0) exports to a Where node that only broadcasts for the traced length.
        features, lengths = self.model.feature_extractor(x, waveform_lengths)
        encoder = self.model.encoder
        h = encoder.feature_projection(features)
        frames = torch.arange(h.size(1), device=h.device).unsqueeze(0)
        mask = (frames < lengths.unsqueeze(1)).to(h.dtype)
        h = h * mask.unsqueeze(-1)
        attention_mask = ((1.0 - mask) * -10000.0)[:, None, None, :].expand(h.size(0), 1, h.size(1), h.size(1))
        h = encoder.transformer(h, attention_mask=attention_mask)
        return h * mask.unsqueeze(-1), mask


def build(checkpoint: str | None, tiny: bool) -> tuple[nn.Module, str]:
    if tiny:  # same architecture family, toy sizes: checks the export path in seconds
        model = torchaudio.models.wav2vec2_model(
            extractor_mode="layer_norm", extractor_conv_layer_config=None, extractor_conv_bias=False,
            encoder_embed_dim=64, encoder_projection_dropout=0.0, encoder_pos_conv_kernel=16, encoder_pos_conv_groups=4,
            encoder_num_layers=2, encoder_num_heads=4, encoder_attention_dropout=0.0, encoder_ff_interm_features=128,
            encoder_ff_interm_dropout=0.0, encoder_dropout=0.0, encoder_layer_norm_first=True, encoder_layer_drop=0.0,
            aux_num_out=None)
        return model, "tiny random (export-path test only)"
    model = torchaudio.models.hubert_large()
    if checkpoint:
        state = torch.load(checkpoint, map_location="cpu")
        model.load_state_dict(state.get("model", state) if isinstance(state, dict) else state)
        return model, f"checkpoint {checkpoint}"
    return model, "RANDOM INIT (no checkpoint given): wiring tests only, features carry no meaning"


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", required=True, help="output folder (keep it outside the repository or git-ignored)")
    p.add_argument("--checkpoint")
    p.add_argument("--tiny", action="store_true", help="toy-sized model, to test the export path quickly")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--name", help="bundle name in manifest.json (default: hubert-large, or hubert-tiny-random)")
    p.add_argument("--max-audio-seconds", type=float, default=MAX_AUDIO_SECONDS,
                   help="longest input: the worker cuts longer utterances to their centre")
    args = p.parse_args(argv)
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    model, weights = build(args.checkpoint, args.tiny)
    encoder = HubertAcousticEncoder(model).eval()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    path = out / "acoustic_encoder.onnx"
    waveform = torch.randn(2, 16000) * 0.1
    lengths = torch.tensor([16000, 11000], dtype=torch.int64)
    with torch.no_grad():
        ref_features, ref_mask = encoder(waveform, lengths)
        torch.onnx.export(
            encoder, (waveform, lengths), str(path), opset_version=OPSET, do_constant_folding=True,
            input_names=["waveform", "waveform_lengths"], output_names=["acoustic_features", "acoustic_mask"],
            dynamic_axes={"waveform": {0: "B", 1: "S"}, "waveform_lengths": {0: "B"},
                          "acoustic_features": {0: "B", 1: "T"}, "acoustic_mask": {0: "B", 1: "T"}})
    onnx.checker.check_model(str(path))  # path form: works for graphs near the 2 GB protobuf limit
    dim = int(ref_features.size(-1))
    info = {"file": "acoustic_encoder.onnx", "inputs": {"waveform": "waveform", "lengths": "waveform_lengths"},
            "outputs": {"features": "acoustic_features", "mask": "acoustic_mask"}, "dim": dim,
            "weights": weights, "trained": bool(args.checkpoint) and not args.tiny,
            "check": {"input_samples": [16000, 11000], "frames": list(ref_mask.sum(1).int().tolist()),
                      "features_shape": list(ref_features.shape)}}
    (out / "hubert-export.json").write_text(json.dumps(info, indent=2) + "\n")
    name = args.name or ("hubert-tiny-random" if args.tiny else "hubert-large")
    manifest = {"format_version": 1, "name": name, "version": "1.0.0", "trained": info["trained"],
                "description": f"HuBERT acoustic encoder alone, for encode-audio and assemble.py; weights: {weights}",
                "sample_rate": 16000, "max_audio_seconds": args.max_audio_seconds,
                "acoustic_encoder": {k: info[k] for k in ("file", "inputs", "outputs", "dim")}}
    (out / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
    print(json.dumps(info, indent=2))


if __name__ == "__main__":
    main(sys.argv[1:])
