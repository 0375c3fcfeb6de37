"""Export a trained (or untrained) model to an EmotionBatch model bundle (docs/model-bundle.md).

python -m emotionbatch_training.export --checkpoint RUN/model.pt --out models/default
python -m emotionbatch_training.export --untrained --out models/untrained
"""

from __future__ import annotations

import argparse
import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import onnx
import torch

from . import LABELS
from .config import Config, resolve
from .corpora import auxiliary_labels
from .model import EmotionModel
from .report import rated_corpora, text_corpora

OPSET = 17
FORMAT_VERSION = 1
# 3.x: frame tokens from the pretrained speech_embedding encoder (2.x: functionals tokens + a scratch conv front end,
# four speech corpora, text categories, calibration; 1.x: log-mel encoder).
DEFAULT_VERSION = "3.1.0"
MAX_AUDIO_SECONDS = 20.0
VA_DEFINITION = (
    "Bipolar -1..1 with 0 = neutral, on EmoBank's scale: learned from EmoBank's 1..5 Self-Assessment-Manikin ratings "
    "of text mapped by (x - 3) / 2, and, for audio, from PROXY targets (category centroids estimated from text, "
    "see docs/model-card.md); the speech corpora carry no valence/arousal ratings.")


# The pretrained weights inside acoustic_encoder.onnx when model.frames = speech_embedding.
SPEECH_EMBEDDING_NOTICE = {
    "component": "speech_embedding (the acoustic encoder's frame tokens, frozen weights inside acoustic_encoder.onnx)",
    "origin": "Google speech_embedding TF-Hub module, as converted to ONNX by openWakeWord (github.com/dscripka/openWakeWord)",
    "licence": "Apache-2.0",
}


def speech_embedding_notice(model_cfg, trained: bool) -> dict[str, str]:
    # An untrained wiring bundle holds the tuned convolutions at their pretrained values.
    if not (model_cfg.embedding_finetune and trained):
        return SPEECH_EMBEDDING_NOTICE
    return {**SPEECH_EMBEDDING_NOTICE, "component": "speech_embedding (the acoustic encoder's frame tokens, inside "
            f"acoustic_encoder.onnx: pretrained weights, the last {model_cfg.embedding_tuned_convs} convolutions further "
            "trained here)"}


def export_acoustic_encoder(encoder: torch.nn.Module, path: Path) -> None:
    waveform = torch.randn(2, 16000) * 0.1
    lengths = torch.tensor([16000, 12345], dtype=torch.int64)
    torch.onnx.export(
        encoder, (waveform, lengths), str(path), opset_version=OPSET, do_constant_folding=True,
        input_names=["waveform", "waveform_lengths"], output_names=["acoustic_features", "acoustic_mask"],
        dynamic_axes={"waveform": {0: "B", 1: "S"}, "waveform_lengths": {0: "B"},
                      "acoustic_features": {0: "B", 1: "T"}, "acoustic_mask": {0: "B", 1: "T"}})
    onnx.checker.check_model(onnx.load(str(path)), full_check=True)


def export_fusion_head(head: torch.nn.Module, acoustic_dim: int, text_dim: int, path: Path) -> None:
    args = (torch.randn(2, 9, acoustic_dim), torch.tensor([[1.0] * 9, [1.0] * 5 + [0.0] * 4]),
            torch.randn(2, 6, text_dim), torch.tensor([[1.0] * 6, [0.0] * 6]))
    torch.onnx.export(
        head, args, str(path), opset_version=OPSET, do_constant_folding=True,
        input_names=["acoustic_features", "acoustic_mask", "text_features", "text_mask"],
        output_names=["logits", "valence", "arousal"],
        dynamic_axes={"acoustic_features": {0: "B", 1: "T"}, "acoustic_mask": {0: "B", 1: "T"},
                      "text_features": {0: "B", 1: "L"}, "text_mask": {0: "B", 1: "L"},
                      "logits": {0: "B"}, "valence": {0: "B"}, "arousal": {0: "B"}})
    onnx.checker.check_model(onnx.load(str(path)), full_check=True)


def synthetic_waveform(seconds: float, f0: float, seed: int) -> np.ndarray:
    """A voiced-speech-like signal (harmonics with vibrato, amplitude envelope, noise); no corpus audio is copied."""
    rng = np.random.default_rng(seed)
    n = int(seconds * 16000)
    t = np.arange(n) / 16000.0
    pitch = f0 * (1.0 + 0.05 * np.sin(2 * math.pi * 3.0 * t))
    phase = 2 * math.pi * np.cumsum(pitch) / 16000.0
    voiced = sum(np.sin(h * phase) / h for h in range(1, 12))
    envelope = 0.5 * (1 - np.cos(2 * math.pi * np.minimum(t / max(seconds, 1e-3), 1.0)))
    x = 0.2 * envelope * voiced + 0.01 * rng.standard_normal(n)
    return np.round(x.clip(-1, 1), 4).astype(np.float32)


def parity_cases(model: EmotionModel, text_dim: int) -> list[dict[str, Any]]:
    rng = np.random.default_rng(7)
    specs = [(1.6, 140.0, 6), (1.0, 220.0, None), (0.53, 110.0, 3)]
    cases = []
    model.eval()
    for i, (seconds, f0, tokens) in enumerate(specs):
        wav = synthetic_waveform(seconds, f0, seed=i)
        text = None if tokens is None else np.round(rng.standard_normal((tokens, text_dim)) * 0.3, 4).astype(np.float32)
        with torch.no_grad():
            w = torch.from_numpy(wav).unsqueeze(0)
            a, am = model.acoustic(w, torch.tensor([w.size(1)], dtype=torch.int64))
            if text is None:
                t, tm = torch.zeros(1, 1, text_dim), torch.zeros(1, 1)
            else:
                t, tm = torch.from_numpy(text).unsqueeze(0), torch.ones(1, text.shape[0])
            logits, valence, arousal = model.head(a, am, t, tm)
        cases.append({
            "waveform": [float(x) for x in wav],
            "text_features": None if text is None else [[float(x) for x in row] for row in text],
            "expected": {"logits": [float(x) for x in logits[0]], "valence": float(valence[0]), "arousal": float(arousal[0])},
        })
    return cases


def build_manifest(cfg: Config, trained: bool, name: str, version: str, description: str,
                   data: list[dict[str, Any]], metrics: dict[str, Any]) -> dict[str, Any]:
    return {
        "format_version": FORMAT_VERSION,
        "name": name,
        "version": version,
        "trained": trained,
        "description": description,
        "labels": list(LABELS),
        "sample_rate": cfg.model.sample_rate,
        "max_audio_seconds": MAX_AUDIO_SECONDS,
        "valence_arousal": {"min": -1.0, "max": 1.0, "neutral": 0.0, "definition": VA_DEFINITION},
        "acoustic_encoder": {
            "file": "acoustic_encoder.onnx",
            "inputs": {"waveform": "waveform", "lengths": "waveform_lengths"},
            "outputs": {"features": "acoustic_features", "mask": "acoustic_mask"},
            "dim": cfg.model.acoustic_dim,
        },
        "text_encoder": {
            "builtin": "all-MiniLM-L6-v2",
            "file": None,
            "inputs": {"input_ids": "input_ids", "attention_mask": "attention_mask", "token_type_ids": "token_type_ids"},
            "outputs": {"features": "last_hidden_state"},
            "dim": cfg.model.text_dim,
            "tokenizer": {"type": "wordpiece", "file": None, "lowercase": True, "max_length": 128},
        },
        "fusion_head": {
            "file": "fusion_head.onnx",
            "inputs": {"acoustic_features": "acoustic_features", "acoustic_mask": "acoustic_mask",
                       "text_features": "text_features", "text_mask": "text_mask"},
            "outputs": {"logits": "logits", "valence": "valence", "arousal": "arousal"},
        },
        "training": {"data": data, "config": cfg.to_dict()},
        "metrics": metrics,
        **({"third_party": [speech_embedding_notice(cfg.model, trained)]} if cfg.model.frames == "speech_embedding" else {}),
    }


def export_bundle(model: EmotionModel, cfg: Config, out: Path, *, trained: bool, name: str, version: str,
                  description: str, data: list[dict[str, Any]] | None = None,
                  metrics: dict[str, Any] | None = None, text_bundle: Path | None = None) -> Path:
    out.mkdir(parents=True, exist_ok=True)
    model = model.eval()
    export_acoustic_encoder(model.acoustic, out / "acoustic_encoder.onnx")
    export_fusion_head(model.head, cfg.model.acoustic_dim, cfg.model.text_dim, out / "fusion_head.onnx")
    manifest = build_manifest(cfg, trained, name, version, description, data or [], metrics or {})
    if text_bundle is not None:
        manifest["text_encoder"] = copy_text_encoder(text_bundle, out, cfg.model.text_dim)
    (out / "manifest.json").write_text(json.dumps(manifest, indent=2, ensure_ascii=False) + "\n")
    (out / "parity.json").write_text(json.dumps({"cases": parity_cases(model, cfg.model.text_dim)}) + "\n")
    return out


def copy_text_encoder(text_bundle: Path, out: Path, text_dim: int) -> dict[str, Any]:
    """A frozen text encoder's graph and tokenizer file (a text-only bundle folder, e.g. export_deberta.py's) copied
    into the bundle; returns the manifest's text_encoder entry for them."""
    from .assemble import TEXT_FILE, copy_graph  # assemble.py builds on this module

    spec = dict(json.loads((text_bundle / "manifest.json").read_text())["text_encoder"])
    if spec["dim"] != text_dim:
        raise SystemExit(f"{text_bundle}: its text encoder gives {spec['dim']}-d features; the model takes {text_dim}-d")
    copy_graph(text_bundle / spec["file"], out / TEXT_FILE, {"manifest.json", "parity.json", TEXT_FILE,
                                                             "acoustic_encoder.onnx", "fusion_head.onnx"})
    tokenizer = dict(spec["tokenizer"])
    (out / Path(tokenizer["file"]).name).write_bytes((text_bundle / tokenizer["file"]).read_bytes())
    tokenizer["file"] = Path(tokenizer["file"]).name
    return {**spec, "file": TEXT_FILE, "tokenizer": tokenizer}


def manifest_metrics(state: dict[str, Any], cv_dir: Path | None, yardstick_dir: Path | None = None) -> dict[str, Any]:
    """Measured numbers only, for the corpora of the run: the dev CCC of its rated text corpora (EmoBank) and the dev
    UAR of its text corpora with categories, the CV of its configuration (per test condition, text mode and corpus,
    with the yardstick's figures in the same folds), and its calibration."""
    final = state.get("metrics", {})
    out: dict[str, Any] = {"text_features": state.get("text_features")}
    if state.get("acoustic_features"):
        out["acoustic_features"] = state["acoustic_features"]
    for corpus in rated_corpora(final):
        out[f"{corpus}_dev"] = {k: final[f"dimensional_{corpus}"][k] for k in ("ccc_valence", "ccc_arousal", "n")}
    for corpus in text_corpora(final):
        out[f"{corpus}_dev_text_only"] = {k: final[f"text_{corpus}"][k] for k in ("uar", "war", "n")}
    if state.get("proxy_centroids"):
        out["proxy_centroids_valence_arousal"] = state["proxy_centroids"]

    def pick(folds, *path):
        d = folds
        for p in path:
            d = d.get(p, {}) if isinstance(d, dict) else {}
        return {"mean": round(d["mean"], 4), "std": round(d["std"], 4)} if isinstance(d, dict) and "mean" in d else None

    def speech_table(folds, keys):
        table = {}
        for key in keys:
            if key in folds:
                table[key.replace("speech_", "")] = {
                    corpus: {m: pick(folds, key, corpus, m) for m in ("war", "uar", "macro_f1", "arousal_auc", "valence_auc")
                             if pick(folds, key, corpus, m)}
                    for corpus in folds[key]}
        return table

    if cv_dir is not None:
        cv = json.loads((cv_dir / "metrics.json").read_text())
        folds = cv["folds"]
        out["speech_cv"] = {"protocol": cv["protocol"], "folds": len(cv["per_fold"]),
                            **speech_table(folds, [k for k in folds if k.startswith("speech_")])}
        out["text_cv"] = {f"text_{c}": pick(folds, f"text_{c}", "uar") for c in text_corpora(folds)}
        for corpus in rated_corpora(folds):
            out[f"{corpus}_dev_cv"] = {m: pick(folds, f"dimensional_{corpus}", m) for m in ("ccc_valence", "ccc_arousal")}
        calibration = cv_dir / "calibration.json"
        if calibration.exists():
            cal = json.loads(calibration.read_text())
            out["calibration"] = {"temperature": round(cal["temperature"], 4), "method": cal["method"],
                                  "ece_cv": {k: {w: round(v["mean"], 4) for w, v in d.items()} for k, d in cal["ece"].items()}}
    if yardstick_dir is not None:
        ys = json.loads((yardstick_dir / "metrics.json").read_text())
        out["yardstick_cv"] = {"method": ys["method"], **speech_table(ys["folds"], [k for k in ys["folds"] if k.startswith("speech_")])}
    return out


def load_checkpoint(path: Path) -> tuple[EmotionModel, Config, dict[str, Any]]:
    state = torch.load(str(path), map_location="cpu")
    cfg = Config.from_dict(state["config"])
    model = EmotionModel(cfg.model, num_classes=len(auxiliary_labels(cfg.data.extra_classes)))
    model.load_state_dict(state["model"])
    return model.eval(), cfg, state


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", required=True)
    p.add_argument("--checkpoint", help="model.pt written by emotionbatch_training.train")
    p.add_argument("--untrained", action="store_true", help="export random weights (wiring tests only)")
    p.add_argument("--config", help="config JSON for --untrained")
    p.add_argument("--version", default=DEFAULT_VERSION)
    p.add_argument("--cv", help="a CV run folder (train.py cv) whose mean/std metrics and temperature go into the bundle")
    p.add_argument("--yardstick", help="the yardstick's run folder (yardstick.py) in the same folds, for the manifest")
    p.add_argument("--text-bundle", help="a model trained with features.text = cache: the text-only bundle folder "
                                         "of that frozen text encoder, whose graph and tokenizer the bundle gets")
    args = p.parse_args(argv)
    torch.manual_seed(0)
    if args.untrained:
        cfg = Config.load(args.config)
        model = EmotionModel(cfg.model)
        export_bundle(model, cfg, resolve(args.out), trained=False, name="emotionbatch-untrained",
                      version=args.version, description="Random weights for wiring tests; outputs carry no meaning.")
    elif args.checkpoint:
        model, cfg, state = load_checkpoint(Path(args.checkpoint))
        cv_dir = resolve(args.cv) if args.cv else None
        metrics = manifest_metrics(state, cv_dir, resolve(args.yardstick) if args.yardstick else None)
        if "calibration" in metrics:
            model.head.temperature.fill_(metrics["calibration"]["temperature"])
        acoustic = ("Acoustic encoder over fixed speech features (log-mel, MFCC, energy, spectral shape, voicing, "
                    "f0) with an utterance-functionals token, trained from scratch"
                    if cfg.model.frames == "logmel" else
                    f"Acoustic encoder over the {'fine-tuned' if cfg.model.embedding_finetune else 'frozen'} pretrained "
                    "speech_embedding encoder's frames (Google, Apache-2.0; "
                    "96-d per 80 ms) with utterance-functionals tokens (log-mel, MFCC, energy, spectral shape, voicing, "
                    "f0), trained")
        description = (acoustic + " with telephone/codec/noise "
                       "augmentation, + frozen all-MiniLM-L6-v2 token features, fused by learnable bridge tokens "
                       "(Ispas et al. 2023). Categories from Emo-DB, RAVDESS, ASED, nEMO (speech) and MELD, GoEmotions "
                       "(text); valence/arousal from EmoBank (text) and proxy targets (speech). Temperature-calibrated. "
                       "NON-COMMERCIAL / research use only (RAVDESS and nEMO are CC BY-NC-SA 4.0). See docs/model-card.md.")
        text_bundle = resolve(args.text_bundle) if args.text_bundle else None
        # A cache written without a text bundle holds the worker's built-in MiniLM features: the default bundle's.
        if cfg.features.text == "cache" and cfg.features.text_bundle and text_bundle is None:
            p.error("this model was trained on a frozen text encoder's cached features (features.text = cache): "
                    "give that encoder's folder with --text-bundle")
        if text_bundle is not None:
            text_name = json.loads((text_bundle / "manifest.json").read_text()).get("name", "text encoder")
            description = description.replace("frozen all-MiniLM-L6-v2 token features", f"frozen {text_name} token features")
        export_bundle(model, cfg, resolve(args.out), trained=True, name="emotionbatch-default",
                      version=args.version, description=description, data=state.get("data", []), metrics=metrics,
                      text_bundle=text_bundle)
    else:
        p.error("give --checkpoint or --untrained")
    print(f"bundle written to {resolve(args.out)}")


if __name__ == "__main__":
    main()
