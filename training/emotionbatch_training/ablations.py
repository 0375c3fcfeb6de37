"""Ablations in the CV protocol: each variant is the default config with a few settings changed.

  python -m emotionbatch_training.ablations run --variants categorical_only,no_rmm --folds 0,1 --out training/runs/ablations
  python -m emotionbatch_training.ablations table --out training/runs/ablations [--baseline training/runs/cv]
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any, Optional

from .config import Config, TRAINING_ROOT, resolve
from .train import aggregate, run_cv

VARIANTS: dict[str, list[str]] = {
    "default": [],
    "no_aux": ["train.aux_weight=0", "train.encoder_training=joint"],
    "joint_encoder": ["train.encoder_training=joint"],
    "categorical_only": ["train.tasks=categorical"],
    "dimensional_only": ["train.tasks=dimensional"],
    "concat_pooling": ["model.fusion=concat"],
    "mean_pooling": ["model.fusion=mean"],
    "no_self_attention": ["model.self_attention=false"],
    "no_rmm": ["train.rmm_p_text=0", "train.rmm_p_audio=0"],
    "speech_text_masked": ["data.speech_text=masked"],
}


def run(variants: list[str], folds: list[int], out: Path, config: Optional[str]) -> None:
    for name in variants:
        cfg = Config.load(config)
        for o in VARIANTS[name]:
            cfg.set(o)
        run_cv(cfg, out / name, folds)


def _get(d: dict[str, Any], *path: str) -> Optional[dict[str, float]]:
    for p in path:
        if not isinstance(d, dict) or p not in d:
            return None
        d = d[p]
    return d


def _fmt(x: Optional[dict[str, float]]) -> str:
    return "-" if not x else f"{x['mean']:.3f} ± {x['std']:.3f}"


COLUMNS = [
    ("WAR", ("categorical_text_as_trained", "all", "war")),
    ("UAR", ("categorical_text_as_trained", "all", "uar")),
    ("macro-F1", ("categorical_text_as_trained", "all", "macro_f1")),
    ("UAR Emo-DB", ("categorical_text_as_trained", "emodb", "uar")),
    ("UAR RAVDESS", ("categorical_text_as_trained", "ravdess", "uar")),
    ("UAR text missing", ("categorical_text_missing", "all", "uar")),
    ("CCC V (EmoBank dev)", ("dimensional_emobank", "ccc_valence")),
    ("CCC A (EmoBank dev)", ("dimensional_emobank", "ccc_arousal")),
]


def table(rows: list[tuple[str, Any]]) -> str:
    """rows: (name, run folder or an already loaded {"folds": aggregate, "per_fold": [...]})."""
    lines = ["| variant | folds | " + " | ".join(c for c, _ in COLUMNS) + " |",
             "|---|---|" + "---|" * len(COLUMNS)]
    for name, source in rows:
        m = source if isinstance(source, dict) else json.loads((source / "metrics.json").read_text())
        folds = m["folds"]
        n = len(m["per_fold"])
        cells = []
        for _, keys in COLUMNS:
            x = _get(folds, *keys)
            if x is None and keys[0] == "categorical_text_as_trained":
                x = _get(folds, "categorical_text_missing", *keys[1:])  # speech_text=masked has one mode only
            cells.append(_fmt(x))
        lines.append(f"| {name} | {n} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(argv: Optional[list[str]] = None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("command", choices=["run", "table"])
    p.add_argument("--variants", default=",".join(VARIANTS))
    p.add_argument("--folds", default="0,1")
    p.add_argument("--out", default=str(TRAINING_ROOT / "runs" / "ablations"))
    p.add_argument("--config", default=str(TRAINING_ROOT / "configs" / "default.json"))
    p.add_argument("--baseline", help="a CV run folder to list first as 'default (all folds)'")
    args = p.parse_args(argv)
    out = resolve(args.out)
    if args.command == "run":
        run(args.variants.split(","), [int(f) for f in args.folds.split(",")], out, args.config)
    else:
        rows: list[tuple[str, Any]] = []
        if args.baseline:
            base = json.loads((resolve(args.baseline) / "metrics.json").read_text())
            rows.append((f"default ({len(base['per_fold'])} folds)", base))
            wanted = [int(f) for f in args.folds.split(",")]
            subset = [base["per_fold"][i] for i in wanted if i < len(base["per_fold"])]
            if subset and len(subset) < len(base["per_fold"]):
                rows.append((f"default (folds {args.folds})", {"folds": aggregate(subset), "per_fold": subset}))
        rows += [(name, out / name) for name in VARIANTS if (out / name / "metrics.json").exists()]
        text = table(rows)
        (out / "table.md").write_text(text + "\n")
        print(text)


if __name__ == "__main__":
    main()
