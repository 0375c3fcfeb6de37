"""How much emotion a pretrained speech encoder's frames carry, before any deep model is built on them: utterance
statistics (mean, std, 10th and 90th percentile) of speech_embedding frames (speech_embedding.py), alone and beside
the yardstick's functionals, through the yardstick's RBF SVM in the same speaker-independent folds. A probe, not a
model: it decides whether the frames are worth feeding to the fusion model in place of the log-mel encoder.

  python -m emotionbatch_training.embedding_probe --out training/runs/embedding-probe
      [--set data.segments=training/cache/segments/segments.tsv]

The encoder's frames come from the cache training uses (features.SpeechEmbeddingCache), built on first use.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
from pathlib import Path
from typing import Optional, Sequence

import numpy as np
import torch

from .config import TRAINING_ROOT, resolve
from .corpora import Item, load_items
from .evaluation import labels_of
from .features import SpeechEmbeddingCache, SpeechFeatureCache
from .folds import split_fold
from .metrics import uar
from .segments import Span, load_segments, missing_clips
from .speech_embedding import frame_span
from .train import cli_config, limit_items
from .yardstick import functionals

TRAIN_CONDITIONS = {"clean": ("clean",), "clean+phone_a": ("clean", "phone_a")}


def statistics(cache: SpeechEmbeddingCache, condition: str, items: Sequence[Item],
               segments: Optional[dict[str, Optional[Span]]]) -> np.ndarray:
    """Mean, std, 10th and 90th percentile of each clip's encoder frames (of the worker's cut, where given)."""
    out = np.zeros((len(items), 4 * cache.dim), np.float32)
    for i, it in enumerate(items):
        e = cache.get(it, condition).astype(np.float32)
        span = segments.get(it.id) if segments is not None else None
        if span is not None:
            e = e[frame_span(len(e), span.start, span.end)]
        out[i] = np.concatenate([e.mean(0), e.std(0), np.percentile(e, 10, 0), np.percentile(e, 90, 0)])
    return out


def run(cfg, out: Path, model_dir: Path, c: float = 3.0) -> dict:
    from sklearn.svm import SVC

    torch.set_num_threads(1)
    items = load_items(resolve(cfg.data.data_root), cfg.data.corpora, cfg.data.csv_corpora)
    items = [it for it in limit_items(items, cfg.train.limit_per_corpus, cfg.train.seed) if it.audio and it.category]
    segments = None
    if cfg.data.segments:
        segments = load_segments(resolve(cfg.data.segments))
        if missing_clips(segments, items):
            raise SystemExit(f"clips missing from {cfg.data.segments}")
    conditions = ("clean", "phone_a", "telephone")
    cache = SpeechFeatureCache(resolve(cfg.data.cache_dir), cfg.model)
    cache.build(items, conditions)
    fps = cfg.model.sample_rate / cfg.model.hop_length
    # The pretrained encoder's own frames, whatever model.embedding_finetune says (its trunk rows are not frames).
    embeddings = SpeechEmbeddingCache(resolve(cfg.data.cache_dir), dataclasses.replace(cfg.model, embedding_finetune=False), model_dir)
    embeddings.build(items, conditions)
    feats = {}
    for cond in conditions:
        fn = functionals(cache, items, cond, cfg.model.n_mels, fps, segments)
        em = statistics(embeddings, cond, items, segments)
        feats[cond] = {"functionals": fn, "embedding": em, "both": np.concatenate([fn, em], 1)}
    runs = [("functionals", "clean"), ("embedding", "clean"), ("both", "clean"), ("both", "clean+phone_a")]
    index = {it.id: i for i, it in enumerate(items)}
    per_fold: dict[str, list] = {f"{s} / train {t}": [] for s, t in runs}
    for fold in range(cfg.train.folds):
        train, test = split_fold(items, cfg.train.folds, fold, cfg.data.fold_by)
        tr = np.array([index[it.id] for it in train])
        te = np.array([index[it.id] for it in test])
        y_test, corpus = labels_of(test), np.array([it.corpus for it in test])
        for feature_set, train_setup in runs:
            conds = TRAIN_CONDITIONS[train_setup]
            x = np.concatenate([feats[cd][feature_set][tr] for cd in conds])
            mean, std = x.mean(0), x.std(0) + 1e-6
            svm = SVC(C=c, kernel="rbf", gamma="scale").fit((x - mean) / std, np.tile(labels_of(train), len(conds)))
            row = {}
            for test_cond in ("clean", "telephone"):
                p = svm.predict((feats[test_cond][feature_set][te] - mean) / std)
                row[test_cond] = {"all": uar(y_test, p), **{k: uar(y_test[corpus == k], p[corpus == k]) for k in sorted(set(corpus))}}
            per_fold[f"{feature_set} / train {train_setup}"].append(row)
            print(f"fold {fold} {feature_set} / train {train_setup}: clean {row['clean']['all']:.3f} "
                  f"telephone {row['telephone']['all']:.3f}", flush=True)
    summary = {"cut": "worker's (data.segments)" if segments is not None else "whole clips",
               "method": f"utterance statistics + global standardisation + RBF SVM C={c}",
               "mean": {name: {cond: {k: round(float(np.mean([r[cond][k] for r in rows])), 4) for k in rows[0][cond]}
                               for cond in ("clean", "telephone")} for name, rows in per_fold.items()},
               "per_fold": per_fold}
    out.mkdir(parents=True, exist_ok=True)
    (out / "metrics.json").write_text(json.dumps(summary, indent=2) + "\n")
    return summary


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--config", default=str(TRAINING_ROOT / "configs" / "default.json"))
    p.add_argument("--out", required=True)
    p.add_argument("--model-dir", help="speech_embedding folder (default: the config's model.speech_embedding_dir)")
    p.add_argument("--set", action="append", default=[])
    p.add_argument("--smoke", action="store_true", help="a few clips per corpus, 2 folds")
    args = p.parse_args(argv)
    cfg = cli_config(args.config, args.smoke, args.set)
    summary = run(cfg, resolve(args.out), resolve(args.model_dir or cfg.model.speech_embedding_dir))
    for name, m in summary["mean"].items():
        print(name, {cond: {k: round(v, 3) for k, v in r.items()} for cond, r in m.items()})


if __name__ == "__main__":
    main()
