"""The paper's own setting: a fusion head trained alone on features of frozen pretrained encoders.

The features are computed by the worker itself (encode-audio: its decoder and the acoustic graph exactly as it runs
before the fusion head; encode-text: its tokenizer and text graph), cached once, and read by item id, so the head
trains on exactly what it will see in production. Only model.FusionHead trains: no acoustic encoder, no auxiliary
loss, no channel augmentation, no random crops (unless train.head_crop_frames is set).

  python -m emotionbatch_training.frozen cache --config training/configs/frozen.json
  python -m emotionbatch_training.frozen cv    --config training/configs/frozen.json --out training/runs/frozen-cv
  python -m emotionbatch_training.frozen fit   --config training/configs/frozen.json --out training/runs/frozen-fit

cache builds (or checks) the feature caches; cv runs the speaker- (or session-) independent CV with the same
metrics files as train.py (report.py, calibration.py and ablations' table read them); fit trains on every speaker
and writes RUN/head.pt, which assemble.py turns into a bundle with the operator's encoder graphs.
Random modality masking (train.head_rmm_p): an item with both modalities loses exactly one of them, never both.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Optional, Sequence

import numpy as np
import torch

from . import LABELS
from .config import Config, REPO_ROOT, TRAINING_ROOT, resolve
from .corpora import Item, load_items
from .evaluation import LABEL_INDEX, speech_report
from .features import FeatureCache, TextFeatures, read_cache_index, text_rows
from .folds import protocol as fold_protocol, split_fold
from .losses import multitask_loss
from .model import FusionHead
from .proxy_targets import category_centroids, with_proxy_targets
from .train import (TEXT_MODES, add_step, aggregate, balanced, class_weights, corpus_order, cycle, data_summary, end_epoch, padded,
                    fit_everything, limit_items, log, new_run_dir, optimizer_step, run_fold, seed_everything, speech_dimension_weight, cli_config, softmax, text_feature_folder,
                    text_metrics)

DEFAULT_WORKER = REPO_ROOT / "src" / "EmotionBatch.Worker" / "bin" / "Release" / "net10.0" / "emotionbatch.dll"
SOURCE_FILE = "source.json"  # which bundle graph wrote a cache (written next to the worker's meta.json)
CHECKPOINT = "head.pt"


# ---------------------------------------------------------------- the worker and its feature caches

def worker_command(worker: Optional[str]) -> list[str]:
    """How to start the worker: emotionbatch.dll through dotnet, or an executable (a published worker)."""
    path = resolve(worker) if worker else DEFAULT_WORKER
    if not path.exists():
        raise SystemExit(f"the worker {path} does not exist: build it (dotnet build src/EmotionBatch.Worker -c Release) "
                         "or point features.worker at emotionbatch.dll or a published emotionbatch executable")
    return ["dotnet", str(path)] if path.suffix == ".dll" else [str(path)]


def run_worker(worker: Optional[str], args: Sequence[str], log: Callable[[str], None] = log) -> str:
    """Runs one worker command; its stdout on success, SystemExit with its error output otherwise."""
    command = worker_command(worker) + [str(a) for a in args]
    started = time.time()
    result = subprocess.run(command, capture_output=True, text=True)
    if result.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed (exit code {result.returncode}):\n"
                         f"{(result.stderr or result.stdout)[-4000:]}")
    out = result.stdout.strip()
    log(f"  {out.splitlines()[-1] if out else args[0]} ({time.time() - started:.1f} s)")
    return out


def file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 22), b""):
            h.update(block)
    return h.hexdigest()


def bundle_encoder(bundle: Optional[Path], kind: str) -> dict[str, Any]:
    """What a bundle's manifest says of its acoustic or text encoder, with the sha256 of its graph (and tokenizer):
    a cache records it, and assemble.py checks that the head's features came from the graphs it packs."""
    if bundle is None:
        return {"builtin": "all-MiniLM-L6-v2", "name": "all-MiniLM-L6-v2"}
    manifest = json.loads((bundle / "manifest.json").read_text())
    key = "acoustic_encoder" if kind == "audio" else "text_encoder"
    spec = manifest.get(key)
    if not spec:
        raise SystemExit(f"{bundle / 'manifest.json'} names no {key}")
    info: dict[str, Any] = {"bundle": str(bundle), "name": manifest.get("name"), "version": manifest.get("version"),
                            "dim": spec.get("dim")}
    if spec.get("builtin"):
        info["builtin"] = spec["builtin"]
        return info
    info["graph_sha256"] = file_sha256(bundle / spec["file"])
    tokenizer = spec.get("tokenizer") or {}
    if tokenizer.get("file"):
        info["tokenizer"] = {k: tokenizer.get(k) for k in ("type", "lowercase", "max_length")}
        info["tokenizer_sha256"] = file_sha256(bundle / tokenizer["file"])
    return info


def cache_source(folder: Path) -> Optional[dict[str, Any]]:
    path = folder / SOURCE_FILE
    return json.loads(path.read_text()) if path.exists() else None


def cache_problem(folder: Path, ids: Sequence[str], encoder: Optional[dict[str, Any]],
                  values: Optional[dict[str, str]] = None) -> Optional[str]:
    """Why the cache cannot serve these ids with this encoder (None = it can). A cache written by hand with the
    worker (no source.json) is trusted to hold the configured encoder's features. With values (id -> audio path or
    text), the input list kept in the cache must give the same value for every id: ids of a CSV corpus are row
    numbers, so an edited or re-sorted CSV must not reuse another clip's features."""
    if not (folder / "meta.json").exists() or not (folder / "index.tsv").exists():
        return "no cache yet"
    index = read_cache_index(folder)
    missing = [i for i in ids if i not in index]
    if missing:
        return f"{len(missing)} of {len(ids)} ids missing (e.g. {missing[:3]})"
    if values is not None:
        stored = read_input(folder)
        if stored is not None:
            changed = [i for i in ids if stored.get(i) != values.get(i)]
            if changed:
                return f"{len(changed)} of {len(ids)} ids now name other input than the cache was built from (e.g. {changed[:3]})"
    source = cache_source(folder)
    if encoder is not None and source is not None:
        for key in ("graph_sha256", "tokenizer_sha256", "builtin"):
            if source.get("encoder", {}).get(key) != encoder.get(key):
                return f"written by another encoder ({key} differs from the configured bundle's)"
    return None


def read_input(folder: Path) -> Optional[dict[str, str]]:
    """The input list a cache was built from (clips.tsv or texts.tsv in its folder): id -> path or text; None if absent."""
    for name in ("clips.tsv", "texts.tsv"):
        path = folder / name
        if path.exists():
            with open(path, encoding="utf-8") as fh:
                lines = fh.read().split("\n")
            return dict(line.split("\t", 1) for line in lines[1:] if "\t" in line)
    return None


def write_input(rows: dict[str, str], path: Path, value_column: str) -> None:
    with open(path, "w", encoding="utf-8", newline="\n") as fh:
        fh.write(f"id\t{value_column}\n")
        for key, value in rows.items():
            if any(c in key + value for c in "\t\n\r"):
                raise SystemExit(f"{key!r}: ids and {value_column}s of a worker input list cannot hold tabs or newlines")
            fh.write(f"{key}\t{value}\n")


def encode(kind: str, rows: dict[str, str], folder: Path, bundle: Optional[Path], worker: Optional[str],
           threads: int = 1, full_precision: bool = False, extra: Sequence[str] = (),
           log: Callable[[str], None] = log) -> Path:
    """Writes the cache folder with the worker (encode-audio for kind "audio": rows id -> absolute audio path;
    encode-text for "text": rows id -> text) through a staging folder, so a cache is complete or absent."""
    if folder.exists() and any(folder.iterdir()) and not (folder / "meta.json").exists():
        raise SystemExit(f"{folder} exists and is not a feature cache (no meta.json): refusing to replace it")
    folder.parent.mkdir(parents=True, exist_ok=True)
    staging = folder.with_name(folder.name + ".partial")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir()
    tsv = staging / ("clips.tsv" if kind == "audio" else "texts.tsv")
    write_input(rows, tsv, "path" if kind == "audio" else "text")
    args: list[str] = ["encode-audio" if kind == "audio" else "encode-text", "--input", tsv, "--output", staging,
                       "--threads", threads]
    if bundle is not None:
        args += ["--bundle", bundle]
    elif kind == "audio":
        raise SystemExit("encode-audio needs a bundle holding the acoustic encoder")
    if full_precision:
        args.append("--float32")
    run_worker(worker, args + list(extra), log)
    (staging / SOURCE_FILE).write_text(json.dumps({"command": args[0], "items": len(rows),
                                                   "encoder": bundle_encoder(bundle, kind)}, indent=2) + "\n")
    if folder.exists():
        shutil.rmtree(folder)
    staging.rename(folder)
    return folder


def audio_rows(items: Sequence[Item]) -> dict[str, str]:
    """item id -> absolute audio path, for encode-audio."""
    return {it.id: str(Path(it.audio).resolve()) for it in items if it.audio}


def ensure_cache(kind: str, rows: dict[str, str], folder: Optional[str], bundle: Optional[str], cfg: Config,
                 log: Callable[[str], None] = log) -> Path:
    if not folder:
        raise SystemExit(f"features.{'acoustic' if kind == 'audio' else 'text'}_cache is not set")
    path = resolve(folder)
    bundle_path = resolve(bundle) if bundle else None
    encoder = bundle_encoder(bundle_path, kind) if (bundle_path is not None or kind == "text") else None
    problem = cache_problem(path, list(rows), encoder, rows)
    if problem is None:
        return path
    if kind == "audio" and bundle_path is None:
        raise SystemExit(f"acoustic feature cache {path}: {problem}; set features.acoustic_bundle to a bundle holding "
                         "the acoustic encoder (export_hubert.py writes one) so the worker can encode the clips")
    log(f"{'encode-audio' if kind == 'audio' else 'encode-text'}: {len(rows)} "
        f"{'clips' if kind == 'audio' else 'texts'} into {path} ({problem})")
    return encode(kind, rows, path, bundle_path, cfg.features.worker, cfg.features.threads, log=log)


def ensure_acoustic_cache(cfg: Config, items: Sequence[Item], log: Callable[[str], None] = log) -> Path:
    return ensure_cache("audio", audio_rows(items), cfg.features.acoustic_cache, cfg.features.acoustic_bundle, cfg, log)


def ensure_text_cache(cfg: Config, items: Sequence[Item], log: Callable[[str], None] = log) -> Path:
    """The encode-text cache of features.text_bundle's encoder (none = the worker's MiniLM), keyed by text id."""
    return ensure_cache("text", text_rows(items), cfg.features.text_cache, cfg.features.text_bundle, cfg, log)


# ---------------------------------------------------------------- random modality masking (the paper's scheme)

def one_modality_masks(has_audio: np.ndarray, has_text: np.ndarray, p: float,
                       rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """(keep_audio, keep_text), booleans: with probability p an item that has both modalities loses exactly one of
    them, text or audio with equal chance; an item with one modality keeps it, so no item is left with neither."""
    has_audio, has_text = np.asarray(has_audio, bool), np.asarray(has_text, bool)
    masked = has_audio & has_text & (rng.random(len(has_audio)) < p)
    drop_text = masked & (rng.random(len(has_audio)) < 0.5)
    return has_audio & ~(masked & ~drop_text), has_text & ~drop_text


# ---------------------------------------------------------------- data and batches

@dataclass
class HeadData:
    items: list[Item]
    acoustic: FeatureCache
    text: FeatureCache
    acoustic_source: str
    text_source: str
    encoders: dict[str, Any]  # where each cache came from (its source.json or meta.json)
    proxy_centroids: Optional[dict[str, tuple[float, float]]] = None


def cache_provenance(folder: Path) -> dict[str, Any]:
    meta = json.loads((folder / "meta.json").read_text()) if (folder / "meta.json").exists() else {}
    source = cache_source(folder) or {}
    return {"folder": str(folder), "dim": meta.get("dim"), "encoder": meta.get("encoder"),
            **({"source": source["encoder"]} if "encoder" in source else {})}


def prepare_head_data(cfg: Config) -> HeadData:
    if cfg.features.acoustic != "cache":
        raise SystemExit("the fusion head alone trains on a frozen acoustic encoder's cached features: set "
                         "features.acoustic = cache and features.acoustic_cache (and features.acoustic_bundle)")
    items = load_items(resolve(cfg.data.data_root), cfg.data.corpora, cfg.data.csv_corpora)
    items = limit_items(items, cfg.train.limit_per_corpus, cfg.train.seed)
    acoustic_folder = ensure_acoustic_cache(cfg, items)
    acoustic = FeatureCache(acoustic_folder)
    text_folder, text_source = text_feature_folder(cfg, items)
    if text_source.startswith("stand-in") and cfg.train.limit_per_corpus <= 0:
        # A head trained on random text features would be shipped as trained; only smoke runs (a few clips) may.
        raise SystemExit("no text features: set features.text = cache with features.text_cache (encode-text), or "
                         "write the MiniLM features (train.py texts + encode-text) before training the head")
    text = TextFeatures(text_folder)
    missing = [it.text_id for it in items if it.text_id and it.text_id not in text]
    if missing:
        raise SystemExit(f"{len(missing)} texts missing from {text_folder} (e.g. {missing[:3]})")
    # The head's input widths are the encoders' (meta.json), whatever model.acoustic_dim / text_dim say.
    cfg.model.acoustic_dim, cfg.model.text_dim = acoustic.dim, text.dim
    log(f"frozen features: acoustic {acoustic.dim}-d from {acoustic_folder} ({len(acoustic)} clips), "
        f"text {text.dim}-d from {text_folder} ({text_source})")
    centroids = None
    if cfg.train.proxy_dimensions:
        centroids = category_centroids(items, text)
        items = with_proxy_targets(items, centroids)
    encoders = {"acoustic": cache_provenance(acoustic_folder), "text": cache_provenance(text_folder)}
    return HeadData(items, acoustic, text, f"encode-audio {acoustic.meta.get('encoder', '?')}", text_source, encoders,
                    centroids)


class HeadBatcher:
    """Pads cached features into the fusion head's four inputs; text-only items get an all-zero acoustic mask."""

    def __init__(self, cfg: Config, data: HeadData):
        self.cfg = cfg
        self.data = data

    def batch(self, items: Sequence[Item], *, train: bool, rng: Optional[np.random.Generator],
              with_text: bool = True, with_audio: bool = True) -> dict[str, Any]:
        tc = self.cfg.train
        clips: list[Optional[np.ndarray]] = []
        texts: list[Optional[np.ndarray]] = []
        for it in items:
            frames = self.data.acoustic.get(it.id) if (with_audio and it.audio) else None
            if frames is not None and train and tc.head_crop_frames and len(frames) > tc.head_crop_frames:
                start = int(rng.integers(0, len(frames) - tc.head_crop_frames + 1))
                frames = frames[start: start + tc.head_crop_frames]
            clips.append(frames if frames is not None and len(frames) else None)
            use_text = with_text and not (it.audio and self.cfg.data.speech_text == "masked")
            tokens = self.data.text.get(it.text_id) if use_text else None
            texts.append(tokens if tokens is not None and len(tokens) else None)
        has_audio = np.array([c is not None for c in clips])
        has_text = np.array([t is not None for t in texts])
        keep_audio, keep_text = (one_modality_masks(has_audio, has_text, tc.head_rmm_p, rng) if train
                                 else (has_audio, has_text))
        acoustic, acoustic_mask = padded([c if k else None for c, k in zip(clips, keep_audio)], self.data.acoustic.dim)
        text, text_mask = padded([t if k else None for t, k in zip(texts, keep_text)], self.data.text.dim)
        return {"acoustic": acoustic, "acoustic_mask": acoustic_mask, "text": text, "text_mask": text_mask,
                "category": torch.tensor([LABEL_INDEX[it.category] if it.category else -1 for it in items]),
                "valence": torch.tensor([it.valence if it.valence is not None else math.nan for it in items]),
                "arousal": torch.tensor([it.arousal if it.arousal is not None else math.nan for it in items])}


def head_forward(head: FusionHead, batch: dict[str, Any]):
    return head(batch["acoustic"], batch["acoustic_mask"], batch["text"], batch["text_mask"])


# ---------------------------------------------------------------- training and evaluation

def train_head(cfg: Config, data: HeadData, train_items: Sequence[Item], run_dir: Optional[Path] = None) -> FusionHead:
    """CE + (1 - CCC_v) + (1 - CCC_a) per data source, as train.py, on the head alone."""
    tc = cfg.train
    # train.py's regularisers of the scratch encoder; refused rather than silently ignored.
    unsupported = [k for k in ("ema_decay", "label_smoothing", "mixup") if getattr(tc, k)]
    if unsupported:
        raise SystemExit(f"frozen.py trains the head without train.{', train.'.join(unsupported)}: set them to 0")
    if cfg.data.extra_classes:
        raise SystemExit("data.extra_classes trains the scratch encoder's auxiliary classifier; the frozen head has "
                         "none: set it to false")
    if cfg.data.segments:
        raise SystemExit("data.segments cuts the scratch encoder's cached frames; the frozen head's cache holds whole clips "
                         "as encode-audio encoded them: set it to null")
    if cfg.model.frames != "logmel":
        raise SystemExit("model.frames picks the scratch model's frame tokens; the frozen head reads the encoder it was "
                         "given (encode-audio): set model.frames to logmel")
    if cfg.model.speaker_warp or cfg.model.speaker_pitch or cfg.model.freq_masks:
        raise SystemExit("model.speaker_warp/speaker_pitch/freq_masks perturb the scratch encoder's frame features; the frozen "
                         "head gets the pretrained encoder's cached outputs: set them to 0")
    seed_everything(tc.seed)
    rng = np.random.default_rng(tc.seed)
    head = FusionHead(cfg.model, acoustic_dim=data.acoustic.dim)
    batcher = HeadBatcher(cfg, data)
    audio_items = [it for it in train_items if it.audio]
    text_items = [it for it in train_items if not it.audio and it.text_id]
    category_texts = [it for it in text_items if it.category] if tc.tasks != "dimensional" else []
    rated_texts = [it for it in text_items if it.valence is not None and not it.category] if tc.tasks != "categorical" else []
    if tc.tasks == "dimensional":
        audio_items = [it for it in audio_items if it.valence is not None]
    n_for_steps = len([it for it in train_items if it.audio]) or len(category_texts) or len(rated_texts)
    steps_per_epoch = max(1, math.ceil(n_for_steps / tc.batch_speech))
    total = steps_per_epoch * tc.epochs
    optimizer = torch.optim.AdamW(head.parameters(), lr=tc.lr, weight_decay=tc.weight_decay)
    warmup = min(tc.warmup_steps, max(1, total // 10))
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda s: min(1.0, (s + 1) / warmup) * 0.5 * (1 + math.cos(math.pi * min(1.0, s / total))))
    sources = []
    if audio_items:
        sources.append(("speech", balanced(audio_items, min(tc.batch_speech, len(audio_items)), rng, tc.corpus_balance,
                                             tc.speech_class_balance),
                        speech_dimension_weight(tc), None))
    if category_texts:
        sources.append(("text", cycle(category_texts, min(tc.batch_text, len(category_texts)), rng), 1.0,
                        class_weights(category_texts, tc.text_class_balance)))
    if rated_texts:
        sources.append(("rated", cycle(rated_texts, min(tc.batch_text, len(rated_texts)), rng), 1.0, None))
    history = []
    started = time.time()
    head.train()
    for epoch in range(tc.epochs):
        sums: dict[str, float] = {}
        for _ in range(steps_per_epoch):
            loss = torch.zeros(())
            parts: dict[str, float] = {}
            for name, stream, dim_weight, weights in sources:
                batch = batcher.batch(next(stream), train=True, rng=rng)
                logits, valence, arousal = head_forward(head, batch)
                term, term_parts = multitask_loss(logits, valence, arousal, batch["category"], batch["valence"],
                                                  batch["arousal"], tc.tasks, dimension_weight=dim_weight,
                                                  class_weights=weights)
                loss = loss + term
                parts.update({f"{name}_{k}": v for k, v in term_parts.items()})
            if optimizer_step(loss, optimizer, schedule, (head,), tc.grad_clip):
                add_step(sums, loss, parts)
        end_epoch(history, sums, epoch, started, steps_per_epoch)
    if run_dir is not None:
        (run_dir / "history.json").write_text(json.dumps(history, indent=1) + "\n")
    return head.eval()


@torch.no_grad()
def predict_head(head: FusionHead, cfg: Config, data: HeadData, items: Sequence[Item], with_text: bool,
                 with_audio: bool = True, batch_size: int = 32) -> dict[str, np.ndarray]:
    head.eval()
    batcher = HeadBatcher(cfg, data)
    # Length-sorted batches keep padding small; outputs are put back in item order.
    order = sorted(range(len(items)), key=lambda i: data.acoustic.length(items[i].id)
                   if items[i].audio and items[i].id in data.acoustic else 0)
    logits, valence, arousal = np.zeros((len(items), len(LABELS))), np.zeros(len(items)), np.zeros(len(items))
    for start in range(0, len(order), batch_size):
        idx = order[start: start + batch_size]
        batch = batcher.batch([items[i] for i in idx], train=False, rng=None, with_text=with_text, with_audio=with_audio)
        lg, v, a = head_forward(head, batch)
        logits[idx], valence[idx], arousal[idx] = lg.numpy(), v.numpy(), a.numpy()
    return {"logits": logits, "valence": valence, "arousal": arousal}


def evaluate_head(head: FusionHead, cfg: Config, data: HeadData, test_items: Sequence[Item]
                  ) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """train.evaluate's report for the clean copies (the cached features are of the clips as they are): speech per
    corpus and pooled with the prompt text and without, text only on the speech items, and the text corpora."""
    metrics: dict[str, Any] = {}
    raw: dict[str, np.ndarray] = {}
    audio = [it for it in test_items if it.audio and it.category]
    if audio:
        raw["labels"] = np.array([LABEL_INDEX[it.category] for it in audio])
        raw["corpus"] = np.array([it.corpus for it in audio])
        for mode, with_text in TEXT_MODES.items():
            out = predict_head(head, cfg, data, audio, with_text)
            key = f"speech_clean_{mode}"
            metrics[key] = speech_report(audio, softmax(out["logits"]), out["arousal"], out["valence"])
            raw[key] = out["logits"]
        out = predict_head(head, cfg, data, audio, with_text=True, with_audio=False)
        metrics["speech_text_only"] = speech_report(audio, softmax(out["logits"]))
    metrics.update(text_metrics(test_items, lambda group: predict_head(head, cfg, data, group, True, batch_size=256),
                                corpus_order(cfg)))
    return metrics, raw


def summary_header(cfg: Config, data: HeadData, folds: Sequence[int]) -> dict[str, Any]:
    return {"protocol": f"{fold_protocol(cfg.data.fold_by, cfg.train.folds)}, folds run: {list(folds)}; fusion head "
                        "alone on frozen cached features, clean copies only; text corpora: train split for training, "
                        "dev split for reporting",
            "text_features": data.text_source, "acoustic_features": data.acoustic_source, "encoders": data.encoders}


def run_cv(cfg: Config, out: Path, folds: Optional[Sequence[int]] = None) -> dict[str, Any]:
    torch.set_num_threads(cfg.train.threads)
    data = prepare_head_data(cfg)
    new_run_dir(out, cfg)
    folds = list(folds) if folds is not None else list(range(cfg.train.folds))
    results = [run_fold(cfg, data, k, out, train_head, evaluate_head) for k in folds]
    summary = {**summary_header(cfg, data, folds), "folds": aggregate(results), "per_fold": results}
    (out / "metrics.json").write_text(json.dumps(summary, indent=2) + "\n")
    return summary


def run_fit(cfg: Config, out: Path) -> dict[str, Any]:
    """Train on every speaker and the text corpora's train splits; report their dev splits; write head.pt."""
    torch.set_num_threads(cfg.train.threads)
    data = prepare_head_data(cfg)
    run_dir = new_run_dir(out, cfg)
    head, metrics, train_items = fit_everything(cfg, data, run_dir, train_head, evaluate_head)
    metrics["acoustic_features"] = data.acoustic_source
    (run_dir / "metrics.json").write_text(json.dumps(metrics, indent=2) + "\n")
    torch.save({"kind": "fusion_head", "config": cfg.to_dict(), "head": head.state_dict(), "metrics": metrics,
                "trained": cfg.train.epochs > 0, "data": data_summary(None, train_items),
                "text_features": data.text_source, "acoustic_features": data.acoustic_source,
                "encoders": data.encoders, "proxy_centroids": data.proxy_centroids},
               run_dir / CHECKPOINT)
    log(json.dumps({k: v for k, v in metrics.items() if k.startswith(("text_", "dimensional_", "train_"))}))
    return metrics


def load_head(path: Path) -> tuple[FusionHead, Config, dict[str, Any]]:
    state = torch.load(str(path), map_location="cpu")
    if state.get("kind") != "fusion_head":
        raise SystemExit(f"{path} is not a fusion-head checkpoint of emotionbatch_training.frozen fit")
    cfg = Config.from_dict(state["config"])
    head = FusionHead(cfg.model, acoustic_dim=cfg.model.acoustic_dim)
    head.load_state_dict(state["head"])
    return head.eval(), cfg, state


def main(argv: Optional[list[str]] = None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("command", choices=["cache", "fit", "cv"])
    p.add_argument("--config", default=str(TRAINING_ROOT / "configs" / "frozen.json"))
    p.add_argument("--out", help="run folder (fit, cv)")
    p.add_argument("--set", action="append", default=[], metavar="SECTION.KEY=VALUE")
    p.add_argument("--folds", help="comma-separated fold indices to run (default: all)")
    p.add_argument("--smoke", action="store_true", help="a few clips per corpus, one epoch, 2 folds")
    args = p.parse_args(argv)
    cfg = cli_config(args.config, args.smoke, args.set)
    torch.set_num_threads(cfg.train.threads)
    if args.command == "cache":
        prepare_head_data(cfg)  # builds what is missing and logs what it found
        return
    if not args.out:
        raise SystemExit("--out is required")
    out = resolve(args.out)
    if args.command == "fit":
        run_fit(cfg, out)
    else:
        summary = run_cv(cfg, out, [int(x) for x in args.folds.split(",")] if args.folds else None)
        log(json.dumps({k: v for k, v in summary["folds"].items() if k.startswith("speech_clean_none")}, indent=1))


if __name__ == "__main__":
    main(sys.argv[1:])
