"""Assemble a model bundle from an operator's frozen encoders and a fusion head trained on their features.

  python -m emotionbatch_training.assemble --acoustic-bundle /data/hubert --text-bundle /data/deberta \\
      --head training/runs/frozen-fit/head.pt [--cv training/runs/frozen-cv] --out models/frozen

--acoustic-bundle: a folder whose manifest.json names the acoustic encoder (training/export_hubert.py writes one);
--text-bundle: a folder whose manifest.json names the text encoder and its tokenizer file
(training/export_deberta.py writes one); without it the bundle uses the worker's built-in MiniLM;
--head: head.pt of `python -m emotionbatch_training.frozen fit` on features of exactly these graphs (checked by
their sha256 when the caches recorded it); --cv: that configuration's CV run (`frozen cv`), whose figures and
calibrated temperature go into the bundle.

The bundle gets copies of both graphs and the tokenizer file, fusion_head.onnx, manifest.json (the encoders' names,
dims and tokenizer as their manifests give them, the metrics of the corpora the run used, trained only if the head
was trained) and parity.json. Python cannot run ONNX graphs here, so every parity case's features come from the
worker: a few clips and their texts go through encode-audio and encode-text (full precision) on the assembled
bundle's own graphs, the head's outputs on those features are computed in PyTorch, and each case holds the clip's
samples decoded as the worker decodes them (ffmpeg, mono, 16 kHz, float32) and its raw text, so the worker's
verify-bundle runs the acoustic graph, tokenizer, text graph and head together. That proves the serving path gives
the features the head was checked on and the ONNX head matches PyTorch; it cannot prove the operator's graphs match
the models they were exported from (both sides run the same graphs): check that when exporting them.
"""

from __future__ import annotations

import argparse
import json
import math
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any, Optional, Sequence

import numpy as np
import onnx
import torch

from . import LABELS
from .config import Config, resolve
from .corpora import Item, load_items
from .export import FORMAT_VERSION, export_fusion_head, manifest_metrics
from .features import FeatureCache
from .frozen import audio_rows, file_sha256, load_head, run_worker
from .model import FusionHead

FUSION_FILE = "fusion_head.onnx"
ACOUSTIC_FILE = "acoustic_encoder.onnx"
TEXT_FILE = "text_encoder.onnx"
BUILTIN_TEXT = {"builtin": "all-MiniLM-L6-v2", "file": None, "dim": 384,
                "inputs": {"input_ids": "input_ids", "attention_mask": "attention_mask", "token_type_ids": "token_type_ids"},
                "outputs": {"features": "last_hidden_state"},
                "tokenizer": {"type": "wordpiece", "file": None, "lowercase": True, "max_length": 128}}


def read_manifest(bundle: Path) -> dict[str, Any]:
    path = bundle / "manifest.json"
    if not path.exists():
        raise SystemExit(f"{path} does not exist")
    return json.loads(path.read_text())


def graph_tensors(graph: onnx.GraphProto):
    """Every tensor a graph holds: initializers and tensor attributes, subgraphs included."""
    yield from graph.initializer
    for node in graph.node:
        for attribute in node.attribute:
            if attribute.HasField("t"):
                yield attribute.t
            yield from attribute.tensors
            if attribute.HasField("g"):
                yield from graph_tensors(attribute.g)
            for sub in attribute.graphs:
                yield from graph_tensors(sub)


def copy_graph(source: Path, target: Path, taken: set[str]) -> None:
    """Copies an ONNX graph and the external-data files it references (graphs over 2 GB keep weights beside them)."""
    shutil.copyfile(source, target)
    model = onnx.load(str(source), load_external_data=False)
    locations = {{e.key: e.value for e in t.external_data}["location"] for t in graph_tensors(model.graph)
                 if t.data_location == onnx.TensorProto.EXTERNAL}
    for location in sorted(locations):
        if location in taken:
            raise SystemExit(f"{source}: external data {location!r} clashes with another file of the bundle")
        taken.add(location)
        (target.parent / location).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source.parent / location, target.parent / location)


def check_encoder(kind: str, trained_on: dict[str, Any], bundle: Optional[Path], spec: dict[str, Any],
                  head_dim: int) -> None:
    """The head must have been trained on features of this very encoder: same width, and, when its cache recorded
    them, the same graph (and tokenizer) bytes."""
    if spec["dim"] != head_dim:
        raise SystemExit(f"the {kind} encoder gives {spec['dim']}-d features; the head was trained on {head_dim}-d")
    source = trained_on.get("source")
    if not source:
        print(f"note: the head's {kind} cache records no source graph ({trained_on.get('folder')}); only the width "
              "was checked", file=sys.stderr)
        return
    if bundle is None or spec.get("builtin"):
        if source.get("builtin") != spec.get("builtin"):
            raise SystemExit(f"the head's {kind} features came from {source.get('name')}, not the built-in "
                             f"{spec.get('builtin')}")
        return
    checks = [("graph_sha256", bundle / spec["file"])]
    if (spec.get("tokenizer") or {}).get("file"):
        checks.append(("tokenizer_sha256", bundle / spec["tokenizer"]["file"]))
    for key, path in checks:
        if source.get(key) != file_sha256(path):
            raise SystemExit(f"{path} is not the file the head's {kind} features were computed with "
                             f"({key} differs from {trained_on.get('folder')}/source.json)")


def json_safe(value: Any) -> Any:
    """NaN and infinities (a metric of a class absent from a small test fold) as null: the worker reads strict JSON."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(v) for v in value]
    return value


def va_definition(cfg: Config) -> str:
    proxy = ("; speech corpora without ratings trained on PROXY targets (category centroids estimated from text, "
             "proxy_targets.py)" if cfg.train.proxy_dimensions else "")
    return ("Bipolar -1..1 with 0 = neutral: ratings mapped linearly from each corpus's scale (EmoBank's 1..5 SAM "
            "by (x - 3) / 2; CSV corpora from their configured va_range)" + proxy + ".")


def decode_like_worker(path: str) -> np.ndarray:
    """The samples the worker's decoder gives: ffmpeg's first audio stream mixed to mono, 16 kHz, float32."""
    ffmpeg = shutil.which("ffmpeg")
    if ffmpeg is None:
        raise SystemExit("ffmpeg is needed to decode the parity clips as the worker does")
    raw = subprocess.run([ffmpeg, "-nostdin", "-v", "error", "-i", path, "-map", "0:a:0", "-ac", "1", "-ar", "16000",
                          "-f", "f32le", "pipe:1"], capture_output=True, check=True).stdout
    samples = np.frombuffer(raw, "<f4").copy()
    samples[~np.isfinite(samples)] = 0.0  # as the worker does
    return samples


def parity_items(cfg: Config, count: int) -> list[Item]:
    """The shortest clip of each speech corpus of the run (one with text where the corpus has text), round-robin
    over corpora until `count`; short clips keep parity.json small."""
    items = [it for it in load_items(resolve(cfg.data.data_root), cfg.data.corpora, cfg.data.csv_corpora) if it.audio]
    if not items:
        raise SystemExit("the run's corpora hold no audio clip for parity cases")
    per_corpus: dict[str, list[Item]] = {}
    for it in items:
        per_corpus.setdefault(it.corpus, []).append(it)
    queues = []
    for group in per_corpus.values():
        sized = sorted(group[:200], key=lambda it: Path(it.audio).stat().st_size)
        queues.append(sorted(sized, key=lambda it: it.text is None))
    chosen: list[Item] = []
    while len(chosen) < count and any(queues):
        for q in queues:
            if q and len(chosen) < count:
                chosen.append(q.pop(0))
    return chosen


def parity_cases(head: FusionHead, bundle: Path, items: Sequence[Item], worker: Optional[str]) -> list[dict[str, Any]]:
    """Cases with each clip's decoded samples and raw text; expected outputs from the worker's own features of them.
    The last case with audio has its text masked, so the no-transcript path is checked too."""
    with tempfile.TemporaryDirectory() as tmp:
        tmp_path = Path(tmp)
        clips = tmp_path / "clips.tsv"
        texts = tmp_path / "texts.tsv"
        rows = audio_rows(items)
        clips.write_text("id\tpath\n" + "".join(f"{k}\t{v}\n" for k, v in rows.items()), encoding="utf-8")
        text_of = {it.id: " ".join(it.text.split()) for it in items if it.text and it.text.strip()}
        masked = items[-1].id if len(items) > 1 else None
        text_of.pop(masked, None)
        texts.write_text("id\ttext\n" + "".join(f"{k}\t{v}\n" for k, v in text_of.items()), encoding="utf-8")
        # One clip per run, as verify-bundle runs them; full precision, so only the graphs' arithmetic can differ.
        run_worker(worker, ["encode-audio", "--input", clips, "--output", tmp_path / "audio", "--bundle", bundle,
                            "--batch-size", 1, "--threads", 1, "--float32"])
        acoustic = FeatureCache(tmp_path / "audio")
        text = None
        if text_of:
            run_worker(worker, ["encode-text", "--input", texts, "--output", tmp_path / "text", "--bundle", bundle,
                                "--threads", 1, "--float32"])
            text = FeatureCache(tmp_path / "text")
        cases = []
        head.eval()
        for it in items:
            a = torch.from_numpy(acoustic.get(it.id)).unsqueeze(0)
            t = text.get(it.id) if text is not None and it.id in text_of else None
            with torch.no_grad():
                if t is None or len(t) == 0:
                    tf, tm = torch.zeros(1, 1, head.text_in[0].normalized_shape[0]), torch.zeros(1, 1)
                else:
                    tf, tm = torch.from_numpy(t).unsqueeze(0), torch.ones(1, len(t))
                logits, valence, arousal = head(a, torch.ones(1, a.size(1)), tf, tm)
            case: dict[str, Any] = {"id": it.id, "waveform": [float(x) for x in decode_like_worker(it.audio)]}
            if it.id in text_of:
                case["text"] = text_of[it.id]
            else:
                case["text_features"] = None
            case["expected"] = {"logits": [float(x) for x in logits[0]], "valence": float(valence[0]),
                                "arousal": float(arousal[0])}
            cases.append(case)
    return cases


def assemble(acoustic_bundle: Path, text_bundle: Optional[Path], head_path: Path, out: Path, *,
             cv_dir: Optional[Path] = None, name: Optional[str] = None, version: str = "1.0.0",
             parity_count: int = 3, worker: Optional[str] = None) -> Path:
    head, cfg, state = load_head(head_path)
    acoustic_manifest = read_manifest(acoustic_bundle)
    acoustic_spec = dict(acoustic_manifest.get("acoustic_encoder") or {})
    if not acoustic_spec.get("file"):
        raise SystemExit(f"{acoustic_bundle / 'manifest.json'} names no acoustic_encoder.file")
    text_manifest = read_manifest(text_bundle) if text_bundle else {"name": BUILTIN_TEXT["builtin"]}
    text_spec = dict(text_manifest.get("text_encoder") or {}) if text_bundle else dict(BUILTIN_TEXT)
    if text_bundle and not (text_spec.get("builtin") or text_spec.get("file")):
        raise SystemExit(f"{text_bundle / 'manifest.json'} names no text_encoder.file")
    tokenizer_spec = text_spec.get("tokenizer") or {}
    if tokenizer_spec.get("type") == "sentencepiece" and tokenizer_spec.get("lowercase"):
        print("warning: the SentencePiece tokenizer lower-cases; DeBERTaV3 is cased (lowercase: false). The bundle keeps "
              "the setting its features were computed with.", file=sys.stderr)
    encoders = state.get("encoders", {})
    check_encoder("acoustic", encoders.get("acoustic", {}), acoustic_bundle, acoustic_spec, cfg.model.acoustic_dim)
    check_encoder("text", encoders.get("text", {}), text_bundle, text_spec, cfg.model.text_dim)

    out.mkdir(parents=True, exist_ok=True)
    taken = {"manifest.json", "parity.json", FUSION_FILE, ACOUSTIC_FILE, TEXT_FILE}
    copy_graph(acoustic_bundle / acoustic_spec["file"], out / ACOUSTIC_FILE, taken)
    acoustic_spec["file"] = ACOUSTIC_FILE
    if text_bundle and not text_spec.get("builtin"):
        copy_graph(text_bundle / text_spec["file"], out / TEXT_FILE, taken)
        text_spec["file"] = TEXT_FILE
        tokenizer = dict(text_spec["tokenizer"])
        if Path(tokenizer["file"]).name in taken:
            raise SystemExit(f"tokenizer file name {tokenizer['file']!r} clashes with another file of the bundle")
        shutil.copyfile(text_bundle / tokenizer["file"], out / Path(tokenizer["file"]).name)
        tokenizer["file"] = Path(tokenizer["file"]).name
        text_spec["tokenizer"] = tokenizer

    metrics = manifest_metrics(state, cv_dir)
    if "calibration" in metrics:
        head.temperature.fill_(metrics["calibration"]["temperature"])
    export_fusion_head(head.eval(), cfg.model.acoustic_dim, cfg.model.text_dim, out / FUSION_FILE)

    acoustic_name, text_name = acoustic_manifest.get("name", "acoustic"), text_manifest.get("name", "text")
    trained = bool(state.get("trained"))
    corpora = [row["corpus"] for row in state.get("data", [])]
    licences = sorted({row["licence"] for row in state.get("data", [])})
    description = (f"Fusion head (Ispas et al. 2023: self-attention refinement, {cfg.model.bridge_tokens} bridge "
                   f"tokens, categories + valence/arousal) {'trained' if trained else 'UNTRAINED'} on frozen "
                   f"features of {acoustic_name} ({acoustic_spec['dim']}-d) and {text_name} ({text_spec['dim']}-d, "
                   f"{text_spec['tokenizer']['type']} tokenizer); corpora: {', '.join(corpora) or 'none'}. "
                   f"The training corpora's licences apply: {' | '.join(licences) or 'none recorded'}.")
    manifest = {
        "format_version": FORMAT_VERSION,
        "name": name or f"emotionbatch-{acoustic_name}-{text_name}",
        "version": version,
        "trained": trained,
        "description": description,
        "labels": list(LABELS),
        "sample_rate": acoustic_manifest.get("sample_rate", 16000),
        "max_audio_seconds": acoustic_manifest["max_audio_seconds"],
        "valence_arousal": {"min": -1.0, "max": 1.0, "neutral": 0.0, "definition": va_definition(cfg)},
        "acoustic_encoder": {"name": acoustic_name, **acoustic_spec},
        "text_encoder": {"name": text_name, **text_spec},
        "fusion_head": {
            "file": FUSION_FILE,
            "inputs": {"acoustic_features": "acoustic_features", "acoustic_mask": "acoustic_mask",
                       "text_features": "text_features", "text_mask": "text_mask"},
            "outputs": {"logits": "logits", "valence": "valence", "arousal": "arousal"},
        },
        "training": {"mode": "fusion head alone on frozen encoder features (emotionbatch_training.frozen)",
                     "encoders": encoders, "data": state.get("data", []), "config": cfg.to_dict()},
        "metrics": metrics,
    }
    (out / "manifest.json").write_text(json.dumps(json_safe(manifest), indent=2, ensure_ascii=False,
                                                  allow_nan=False) + "\n")
    cases = parity_cases(head, out, parity_items(cfg, parity_count), worker or cfg.features.worker)
    (out / "parity.json").write_text(json.dumps({"cases": cases}, allow_nan=False) + "\n")
    return out


def main(argv: Optional[list[str]] = None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--acoustic-bundle", required=True, help="folder with manifest.json naming the acoustic encoder")
    p.add_argument("--text-bundle", help="folder with manifest.json naming the text encoder (default: built-in MiniLM)")
    p.add_argument("--head", required=True, help="head.pt of emotionbatch_training.frozen fit")
    p.add_argument("--cv", help="the configuration's CV run (frozen cv): metrics and calibrated temperature")
    p.add_argument("--out", required=True)
    p.add_argument("--name")
    p.add_argument("--version", default="1.0.0")
    p.add_argument("--parity-cases", type=int, default=3, help="clips in parity.json (the last one without text)")
    p.add_argument("--worker", help="emotionbatch.dll or executable (default: the head's features.worker, else the "
                                    "Release build)")
    args = p.parse_args(argv)
    torch.set_num_threads(1)
    out = assemble(resolve(args.acoustic_bundle), resolve(args.text_bundle) if args.text_bundle else None,
                   resolve(args.head), resolve(args.out), cv_dir=resolve(args.cv) if args.cv else None,
                   name=args.name, version=args.version, parity_count=args.parity_cases, worker=args.worker)
    print(f"bundle written to {out}; check it with: emotionbatch verify-bundle --bundle {out}")


if __name__ == "__main__":
    main()
