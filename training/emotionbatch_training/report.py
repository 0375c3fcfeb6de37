"""Markdown tables for the model card from run folders (numbers are copied, never typed).

  python -m emotionbatch_training.report --cv training/runs/cv --fit training/runs/full
"""

from __future__ import annotations

import argparse
import json
from typing import Any, Optional

from .config import resolve


def _fmt(d: Optional[dict[str, Any]]) -> str:
    return "-" if not d or "mean" not in d else f"{d['mean']:.3f} ± {d['std']:.3f}"


def cv_table(cv: dict[str, Any]) -> str:
    folds = cv["folds"]
    lines = ["| test set | text at test time | WAR | UAR | macro-F1 | n (all folds) |", "|---|---|---|---|---|---|"]
    for mode, label in (("categorical_text_as_trained", "prompt text (as trained)"),
                        ("categorical_text_missing", "none (audio only)")):
        for corpus, res in folds.get(mode, {}).items():
            n = sum(f[mode][corpus]["n"] for f in cv["per_fold"])
            lines.append(f"| {corpus} | {label} | {_fmt(res['war'])} | {_fmt(res['uar'])} | {_fmt(res['macro_f1'])} | {n} |")
    dims = folds.get("dimensional_emobank")
    if dims:
        lines.append("")
        lines.append("| EmoBank dev (text only, audio masked) | CCC valence | CCC arousal | n |")
        lines.append("|---|---|---|---|")
        lines.append(f"| models of the CV folds | {_fmt(dims['ccc_valence'])} | {_fmt(dims['ccc_arousal'])} | 1000 |")
    return "\n".join(lines)


def main(argv: Optional[list[str]] = None) -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--cv")
    p.add_argument("--fit")
    args = p.parse_args(argv)
    if args.cv:
        cv = json.loads((resolve(args.cv) / "metrics.json").read_text())
        print(cv["protocol"], "| text features:", cv["text_features"])
        print(cv_table(cv))
        print("fold train seconds:", [f["train_seconds"] for f in cv["per_fold"]])
    if args.fit:
        m = json.loads((resolve(args.fit) / "metrics.json").read_text())
        d = m.get("dimensional_emobank", {})
        print(f"\nfinal model, EmoBank dev: CCC valence {d.get('ccc_valence', float('nan')):.3f}, "
              f"CCC arousal {d.get('ccc_arousal', float('nan')):.3f}; train seconds {m['train_seconds']}")


if __name__ == "__main__":
    main()
