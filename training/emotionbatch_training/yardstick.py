"""The classical yardstick: utterance functionals (speech_features.Functionals: mean, std, 10th and 90th percentile
of MFCC, delta-MFCC, log-mel, energy, centroid, flatness and ZCR, f0 statistics, voiced fraction, duration),
standardised with the training fold's mean and std (global only: the worker knows no speaker), RBF SVM with C = 3.
Same speaker-independent folds, same test conditions and the same report as the deep model. Each fold's test
probabilities go to fold<k>/predictions.npz (log-probabilities under the deep model's audio-only keys), so
ensemble.py can weigh the yardstick beside the deep model's CV runs.

  python -m emotionbatch_training.yardstick --out training/runs/yardstick [--train-conditions clean,phone_a,room]
      [--set data.segments=training/cache/segments/segments.tsv]   # clips cut where the worker cuts
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Optional, Sequence

import numpy as np
import torch

from . import channels
from .config import Config, TRAINING_ROOT, resolve
from .corpora import Item, load_items
from .evaluation import labels_of, probability_axes, speech_report
from .features import SpeechFeatureCache
from .folds import split_fold
from .segments import Span, cut_frames, load_segments, missing_clips
from .speech_features import Functionals
from .train import aggregate, cli_config, limit_items


def functionals(cache: SpeechFeatureCache, items: Sequence[Item], condition: str, n_mels: int,
                frames_per_second: float, segments: Optional[dict[str, Optional[Span]]] = None) -> np.ndarray:
    """Each clip's functionals: of the whole clip, or with segments of the worker's cut (where it finds speech)."""
    fn = Functionals(n_mels, frames_per_second)
    out = np.zeros((len(items), fn.dim), np.float32)
    with torch.no_grad():
        for i, it in enumerate(items):
            clip = cache.get(it, condition)
            span = segments.get(it.id) if segments is not None else None
            if span is not None:
                clip = cut_frames(clip, span, frames_per_second)
            frames = torch.from_numpy(clip.astype(np.float32)).unsqueeze(0)
            out[i] = fn(frames, torch.ones(1, frames.size(1)))[0].numpy()
    return out


def run(cfg: Config, out: Path, train_conditions: Sequence[str], c: float = 3.0) -> dict:
    from sklearn.svm import SVC  # Debian's python3-sklearn; only the yardstick needs it

    items = load_items(resolve(cfg.data.data_root), cfg.data.corpora, cfg.data.csv_corpora)
    items = [it for it in limit_items(items, cfg.train.limit_per_corpus, cfg.train.seed) if it.audio and it.category]
    cache = SpeechFeatureCache(resolve(cfg.data.cache_dir), cfg.model)
    conditions = sorted(set(train_conditions) | set(channels.TEST_CONDITIONS))
    cache.build(items, conditions)
    fps = cfg.model.sample_rate / cfg.model.hop_length
    segments = None
    if cfg.data.segments:  # the worker's cut, for training and test clips alike, as the deep model's CV does
        segments = load_segments(resolve(cfg.data.segments))
        missing = missing_clips(segments, items)
        if missing:
            raise SystemExit(f"{len(missing)} clips missing from {cfg.data.segments}")
    feats = {cond: functionals(cache, items, cond, cfg.model.n_mels, fps, segments) for cond in conditions}
    index = {it.id: i for i, it in enumerate(items)}
    results = []
    out.mkdir(parents=True, exist_ok=True)
    for fold in range(cfg.train.folds):
        started = time.time()
        train, test = split_fold(items, cfg.train.folds, fold, cfg.data.fold_by)
        tr = np.array([index[it.id] for it in train])
        te = np.array([index[it.id] for it in test])
        x = np.concatenate([feats[cond][tr] for cond in train_conditions])
        y = np.tile(labels_of(train), len(train_conditions))
        mean, std = x.mean(0), x.std(0) + 1e-6
        svm = SVC(C=c, kernel="rbf", gamma="scale", probability=True, random_state=0).fit((x - mean) / std, y)
        metrics = {}
        predictions = {"ids": np.array([it.id for it in test]), "labels": labels_of(test),
                       "corpus": np.array([it.corpus for it in test])}
        for cond in channels.TEST_CONDITIONS:
            p = svm.predict_proba((feats[cond][te] - mean) / std)
            metrics[f"speech_{cond}"] = speech_report(test, p, *probability_axes(p))
            predictions[f"speech_{cond}_none"] = np.log(np.clip(p, 1e-12, 1.0))
        (out / f"fold{fold}").mkdir(exist_ok=True)
        np.savez(out / f"fold{fold}" / "predictions.npz", **predictions)
        metrics["train_seconds"] = round(time.time() - started, 1)
        results.append(metrics)
        print(f"fold {fold}: UAR clean {metrics['speech_clean']['all']['uar']:.3f} "
              f"telephone {metrics['speech_telephone']['all']['uar']:.3f}", flush=True)
    summary = {"method": f"functionals ({feats['clean'].shape[1]}) + global standardisation + RBF SVM C={c}",
               "train_conditions": list(train_conditions), "folds": aggregate(results), "per_fold": results}
    (out / "metrics.json").write_text(json.dumps(summary, indent=2) + "\n")
    return summary


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--config", default=str(TRAINING_ROOT / "configs" / "default.json"))
    p.add_argument("--out", required=True)
    p.add_argument("--train-conditions", default="clean")
    p.add_argument("--set", action="append", default=[])
    p.add_argument("--smoke", action="store_true", help="a few clips per corpus, 2 folds (CI)")
    args = p.parse_args(argv)
    cfg = cli_config(args.config, args.smoke, args.set)
    summary = run(cfg, resolve(args.out), args.train_conditions.split(","))
    for cond in channels.TEST_CONDITIONS:
        f = summary["folds"][f"speech_{cond}"]
        print(cond, {k: round(v["uar"]["mean"], 3) for k, v in f.items()})


if __name__ == "__main__":
    main()
