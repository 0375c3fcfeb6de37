"""Ablations in the CV protocol: each variant is the default configuration on a shorter schedule (SCHEDULE) with a
few settings changed; "reference" is that schedule unchanged, so every row shares one schedule.

  python -m emotionbatch_training.ablations run --folds 0,1,2,3,4 --out training/runs/ablations
  python -m emotionbatch_training.ablations table --out training/runs/ablations [--baseline training/runs/cv]
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any, Optional, Sequence

import numpy as np

from .config import Config, TRAINING_ROOT, resolve
from .report import _fmt, _get, corpus_name, rated_corpora, text_corpora
from .train import aggregate, run_cv

# 4 epochs instead of 12. The weight average needs no change: its decay ramps with the step count
# (train.WeightAverage), so it averages about the last tenth of any run.
SCHEDULE = ["train.epochs=4"]

VARIANTS: dict[str, list[str]] = {
    "reference": [],
    "categorical_only": ["train.tasks=categorical"],
    "dimensional_only": ["train.tasks=dimensional"],
    "concat_pooling": ["model.fusion=concat"],
    "mean_pooling": ["model.fusion=mean"],
    "no_self_attention": ["model.self_attention=false"],
    "no_rmm": ["train.rmm_p_text=0", "train.rmm_p_audio=0"],
    "rmm_independent": ["train.rmm_both=true"],
    "no_functionals_tokens": ["model.stats_tokens=0"],
    "no_channel_augmentation": ['data.train_conditions=["clean"]'],
}


def run(variants: list[str], folds: list[int], out: Path, config: Optional[str], common: list[str]) -> None:
    for name in variants:
        cfg = Config.load(config, SCHEDULE + common)
        for o in VARIANTS[name]:
            cfg.set(o)
        run_cv(cfg, out / name, folds)


def columns(corpora: list[str], texts: Sequence[str] = (), rated: Sequence[str] = ()
            ) -> list[tuple[str, tuple[str, ...]]]:
    """The table's columns, all from the corpora of the run: UAR per speech corpus, UAR of each text corpus in
    `texts` and CCC of each rated text corpus in `rated`."""
    return ([("UAR audio only", ("speech_clean_none", "all", "uar")),
             ("UAR prompt text", ("speech_clean_prompt", "all", "uar"))]
            + [(f"UAR {corpus_name(c)}", ("speech_clean_none", c, "uar")) for c in corpora]
            + [("UAR telephone", ("speech_telephone_none", "all", "uar")),
               ("arousal AUC", ("speech_clean_none", "all", "arousal_auc")),
               ("valence AUC", ("speech_clean_none", "all", "valence_auc"))]
            + [(f"UAR {corpus_name(c)} dev (text)", (f"text_{c}", "uar")) for c in texts]
            + [col for c in rated for col in ((f"CCC V {corpus_name(c)} dev", (f"dimensional_{c}", "ccc_valence")),
                                              (f"CCC A {corpus_name(c)} dev", (f"dimensional_{c}", "ccc_arousal")))])


def loaded_rows(rows: list[tuple[str, Any]]) -> list[tuple[str, dict[str, Any]]]:
    """rows: (name, run folder or an already loaded {"folds": aggregate, "per_fold": [...]}), each one loaded."""
    return [(name, source if isinstance(source, dict) else json.loads((source / "metrics.json").read_text()))
            for name, source in rows]


def table(rows: list[tuple[str, Any]]) -> str:
    """rows: as loaded_rows takes them."""
    loaded = loaded_rows(rows)
    first = loaded[0][1]["folds"] if loaded else {}
    corpora = [c for c in first.get("speech_clean_none", {}) if c != "all"]
    # One text-category column keeps the table one screen wide: the run's first text corpus (MELD in the default
    # run: spoken dialogue, the closest of them to speech); every rated text corpus gets its CCC columns.
    cols = columns(corpora, text_corpora(first)[:1], rated_corpora(first))
    lines = ["| variant | folds | " + " | ".join(c for c, _ in cols) + " |", "|---|---|" + "---|" * len(cols)]
    for name, m in loaded:
        cells = [_fmt(_get(m["folds"], *keys)) for _, keys in cols]
        lines.append(f"| {name} | {len(m['per_fold'])} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


# What the paired table compares, fold by fold: (column, keys into one fold's metrics).
PAIRED = [("pooled UAR, audio only", ("speech_clean_none", "all", "uar")),
          ("UAR telephone", ("speech_telephone_none", "all", "uar")),
          ("arousal AUC", ("speech_clean_none", "all", "arousal_auc")),
          ("valence AUC", ("speech_clean_none", "all", "valence_auc"))]


def paired_table(rows: list[tuple[str, dict[str, Any]]], reference: str = "reference") -> str:
    """Each row minus the reference, fold by fold: mean ± std of the differences and on how many folds it is lower.
    Most of the spread across folds is which speakers are held out, which a variant and the reference share; the
    paired differences show what the variant itself changes. Empty when there is no reference row."""
    loaded = dict(rows)
    if reference not in loaded:
        return ""

    def per_fold(m: dict[str, Any], keys: tuple[str, ...]) -> Optional[np.ndarray]:
        values = []
        for fold in m["per_fold"]:
            x: Any = fold
            for k in keys:
                x = x.get(k) if isinstance(x, dict) else None
            if not isinstance(x, (int, float)):
                return None
            values.append(float(x))
        return np.array(values)

    baseline = [per_fold(loaded[reference], keys) for _, keys in PAIRED]
    lines = [f"| variant minus {reference}, per fold | " + " | ".join(c for c, _ in PAIRED) + " |",
             "|---|" + "---|" * len(PAIRED)]
    for name, m in rows:
        if name == reference:
            continue
        cells = []
        for (_, keys), b in zip(PAIRED, baseline):
            a = per_fold(m, keys)
            if a is None or b is None or len(a) != len(b):
                cells.append("-")
                continue
            d = a - b
            cells.append(f"{d.mean():+.3f} ± {d.std():.3f} ({int((d < 0).sum())} of {len(d)} lower)")
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(argv: Optional[list[str]] = None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("command", choices=["run", "table"])
    p.add_argument("--variants", default=",".join(VARIANTS))
    p.add_argument("--folds", default="0,1,2,3,4")
    p.add_argument("--out", default=str(TRAINING_ROOT / "runs" / "ablations"))
    p.add_argument("--config", default=str(TRAINING_ROOT / "configs" / "default.json"))
    p.add_argument("--set", action="append", default=[], help="applied to every variant, before its own settings")
    p.add_argument("--baseline", help="a CV run folder to list first as 'default (all folds)'")
    args = p.parse_args(argv)
    out = resolve(args.out)
    if args.command == "run":
        run(args.variants.split(","), [int(f) for f in args.folds.split(",")], out, args.config, args.set)
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
        loaded = loaded_rows(rows)
        text = table(loaded)
        if paired := paired_table(loaded):
            text += "\n\n" + paired
        (out / "table.md").write_text(text + "\n")
        print(text)


if __name__ == "__main__":
    main()
