"""Markdown tables for the model card from run folders (numbers are copied, never typed).

  python -m emotionbatch_training.report --cv training/runs/cv --yardstick training/runs/yardstick --fit training/runs/full
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any, Optional

from .config import resolve

CORPUS_NAMES = {"all": "pooled", "emodb": "Emo-DB", "ravdess": "RAVDESS", "ased": "ASED", "nemo": "nEMO",
                "emobank": "EmoBank", "meld": "MELD", "goemotions": "GoEmotions"}


def corpus_name(corpus: str) -> str:
    """Display name; corpora without one (e.g. a CSV corpus) keep their configured name."""
    return CORPUS_NAMES.get(corpus, corpus)


def _get(d: Any, *path: str) -> Optional[dict[str, float]]:
    for p in path:
        if not isinstance(d, dict) or p not in d:
            return None
        d = d[p]
    return d if isinstance(d, dict) and "mean" in d else None


def _fmt(x: Optional[dict[str, float]]) -> str:
    return "-" if not x else f"{x['mean']:.3f} ± {x['std']:.3f}"


def _n(cv: dict[str, Any], key: str, corpus: str) -> int:
    return sum(f[key][corpus]["n"] for f in cv["per_fold"] if key in f and corpus in f[key])


def corpora_of(cv: dict[str, Any]) -> list[str]:
    return list(cv["folds"].get("speech_clean_none", {}).keys())


def text_corpora(metrics: dict[str, Any]) -> list[str]:
    """Text corpora with categories in a metrics dict (text_<corpus> keys), in the run's order."""
    return [k[len("text_"):] for k in metrics if k.startswith("text_") and k != "text_features"]


def rated_corpora(metrics: dict[str, Any]) -> list[str]:
    """Text corpora with valence/arousal ratings (dimensional_<corpus> keys), in the run's order."""
    return [k[len("dimensional_"):] for k in metrics if k.startswith("dimensional_")]


def speech_table(cv: dict[str, Any], ys: Optional[dict[str, Any]]) -> str:
    """UAR per corpus: model (audio only, and with prompt text), yardstick, telephone copies of the same folds."""
    f, y = cv["folds"], (ys or {}).get("folds", {})
    lines = ["| test set | n | yardstick UAR | model UAR, audio only | model UAR, prompt text | model WAR | model macro-F1 "
             "| yardstick UAR, telephone | model UAR, telephone | telephone drop |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    for c in corpora_of(cv):
        clean, tel = _get(f, "speech_clean_none", c, "uar"), _get(f, "speech_telephone_none", c, "uar")
        drop = f"{clean['mean'] - tel['mean']:+.3f}" if clean and tel else "-"
        lines.append(
            f"| {corpus_name(c)} | {_n(cv, 'speech_clean_none', c)} | {_fmt(_get(y, 'speech_clean', c, 'uar'))} "
            f"| {_fmt(clean)} | {_fmt(_get(f, 'speech_clean_prompt', c, 'uar'))} "
            f"| {_fmt(_get(f, 'speech_clean_none', c, 'war'))} | {_fmt(_get(f, 'speech_clean_none', c, 'macro_f1'))} "
            f"| {_fmt(_get(y, 'speech_telephone', c, 'uar'))} | {_fmt(tel)} | {drop} |")
    return "\n".join(lines)


def recall_table(cv: dict[str, Any]) -> str:
    lines = ["| test set | recall angry | recall happy | recall sad | recall neutral |", "|---|---|---|---|---|"]
    for c in corpora_of(cv):
        cells = [_fmt(_get(cv["folds"], "speech_clean_none", c, "recall", label))
                 for label in ("angry", "happy", "sad", "neutral")]
        lines.append(f"| {corpus_name(c)} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def axes_table(cv: dict[str, Any], ys: Optional[dict[str, Any]]) -> str:
    f, y = cv["folds"], (ys or {}).get("folds", {})
    lines = ["| test set | model arousal AUC | model valence AUC | model arousal AUC, telephone | model valence AUC, telephone "
             "| model arousal AUC of p(angry)+p(happy) | model valence AUC of p(happy)-p(angry)-p(sad) "
             "| yardstick arousal AUC | yardstick valence AUC |", "|---|---|---|---|---|---|---|---|---|"]
    for c in corpora_of(cv):
        lines.append(
            f"| {corpus_name(c)} | {_fmt(_get(f, 'speech_clean_none', c, 'arousal_auc'))} "
            f"| {_fmt(_get(f, 'speech_clean_none', c, 'valence_auc'))} "
            f"| {_fmt(_get(f, 'speech_telephone_none', c, 'arousal_auc'))} "
            f"| {_fmt(_get(f, 'speech_telephone_none', c, 'valence_auc'))} "
            f"| {_fmt(_get(f, 'speech_clean_none', c, 'category_arousal_auc'))} "
            f"| {_fmt(_get(f, 'speech_clean_none', c, 'category_valence_auc'))} "
            f"| {_fmt(_get(y, 'speech_clean', c, 'arousal_auc'))} | {_fmt(_get(y, 'speech_clean', c, 'valence_auc'))} |")
    return "\n".join(lines)


def text_table(cv: dict[str, Any]) -> str:
    f = cv["folds"]
    lines = ["| test set (text only, audio masked) | UAR | WAR | CCC valence | CCC arousal |", "|---|---|---|---|---|"]
    for c in text_corpora(f):
        key = f"text_{c}"
        lines.append(f"| {corpus_name(c)} dev | {_fmt(_get(f, key, 'uar'))} | {_fmt(_get(f, key, 'war'))} | - | - |")
    for c in rated_corpora(f):
        key = f"dimensional_{c}"
        lines.append(f"| {corpus_name(c)} dev | - | - | {_fmt(_get(f, key, 'ccc_valence'))} "
                     f"| {_fmt(_get(f, key, 'ccc_arousal'))} |")
    for c in corpora_of(cv):
        if _get(f, "speech_text_only", c, "uar"):
            lines.append(f"| {corpus_name(c)} prompts (speech corpus, audio masked) "
                         f"| {_fmt(_get(f, 'speech_text_only', c, 'uar'))} | - | - | - |")
    return "\n".join(lines)


def calibration_table(cal: dict[str, Any]) -> str:
    names = {"speech_clean_prompt": "clean, prompt text", "speech_clean_none": "clean, audio only",
             "speech_telephone_none": "telephone, audio only"}
    lines = [f"Temperature of the shipped model: {cal['temperature']:.3f} (per fold: "
             + ", ".join(f"{r['temperature']:.2f}" for r in cal["per_fold"]) + ")", "",
             "| test folds | ECE before | ECE after |", "|---|---|---|"]
    for key, d in cal["ece"].items():
        lines.append(f"| {names.get(key, key)} | {_fmt(d['ece_before'])} | {_fmt(d['ece_after'])} |")
    return "\n".join(lines)


def main(argv: Optional[list[str]] = None) -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--cv")
    p.add_argument("--yardstick")
    p.add_argument("--fit")
    args = p.parse_args(argv)
    if args.cv:
        cv_dir = resolve(args.cv)
        cv = json.loads((cv_dir / "metrics.json").read_text())
        ys = json.loads((resolve(args.yardstick) / "metrics.json").read_text()) if args.yardstick else None
        print(cv["protocol"], "| text features:", cv["text_features"])
        for title, body in (("speech", speech_table(cv, ys)), ("recall", recall_table(cv)),
                            ("axes", axes_table(cv, ys)), ("text", text_table(cv))):
            print(f"\n### {title}\n{body}")
        if (cv_dir / "calibration.json").exists():
            print("\n### calibration\n" + calibration_table(json.loads((cv_dir / "calibration.json").read_text())))
        print("\nfold train seconds:", [f["train_seconds"] for f in cv["per_fold"]])
    if args.fit:
        m = json.loads((resolve(args.fit) / "metrics.json").read_text())
        rated = "; ".join(f"{corpus_name(c)} dev: CCC valence {m[f'dimensional_{c}']['ccc_valence']:.3f}, "
                          f"CCC arousal {m[f'dimensional_{c}']['ccc_arousal']:.3f}" for c in rated_corpora(m))
        print(f"\nfinal model, {rated or 'no rated text corpus'}; "
              + "".join(f"text_{c} UAR {m[f'text_{c}']['uar']:.3f}; " for c in text_corpora(m))
              + f"train seconds {m['train_seconds']}")


if __name__ == "__main__":
    main()
