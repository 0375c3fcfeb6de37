"""Temperature scaling (Guo et al. 2017) of the categorical logits, fitted on training folds only.

For CV fold k the temperature is fitted on the out-of-fold predictions of the other folds (their models never saw
those speakers, and fold k's labels are not used), then applied to fold k: the ECE before and after is what an
analyst averaging p_* columns would see on unseen speakers. The shipped model's temperature is fitted on the
out-of-fold predictions of all folds and exported inside the fusion head.

  python -m emotionbatch_training.calibration --cv training/runs/cv
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from .config import resolve
from .metrics import expected_calibration_error

FIT_KEYS = ("speech_clean_prompt", "speech_clean_none")
REPORT_KEYS = ("speech_clean_prompt", "speech_clean_none", "speech_telephone_none")
_GRID = np.exp(np.linspace(np.log(0.25), np.log(8.0), 400))


def _log_softmax(z: np.ndarray) -> np.ndarray:
    z = z - z.max(1, keepdims=True)
    return z - np.log(np.exp(z).sum(1, keepdims=True))


def fit_temperature(logits: np.ndarray, labels: np.ndarray) -> float:
    """The temperature on a log grid (0.25-8) with the lowest mean negative log-likelihood."""
    nll = [-_log_softmax(logits / t)[np.arange(len(labels)), labels].mean() for t in _GRID]
    return float(_GRID[int(np.argmin(nll))])


def probabilities(logits: np.ndarray, t: float = 1.0) -> np.ndarray:
    return np.exp(_log_softmax(logits / t))


def load_fold_predictions(cv_dir: Path) -> list[dict[str, np.ndarray]]:
    """The CV folds' test predictions (fold*/predictions.npz, written by train.run_fold), in fold order; each with
    its fold number under "fold"."""
    paths = sorted(cv_dir.glob("fold*/predictions.npz"), key=lambda p: int(p.parent.name[4:]))
    folds = [{**dict(np.load(p)), "fold": int(p.parent.name[4:])} for p in paths]
    if not folds:
        raise SystemExit(f"no fold*/predictions.npz under {cv_dir}")
    return folds


def calibrate_cv(cv_dir: Path) -> dict:
    folds = load_fold_predictions(cv_dir)

    def stack(fold_ids):
        z = np.concatenate([folds[j][k] for j in fold_ids for k in FIT_KEYS])
        y = np.concatenate([folds[j]["labels"] for j in fold_ids for _ in FIT_KEYS])
        return z, y

    # Runs on frozen cached features have no telephone copies: report the keys the predictions hold.
    report_keys = [key for key in REPORT_KEYS if all(key in f for f in folds)]
    per_fold = []
    for k in range(len(folds)):
        others = [j for j in range(len(folds)) if j != k] or [k]
        t = fit_temperature(*stack(others))
        row = {"fold": folds[k]["fold"], "temperature": t, "fitted_on_other_folds": len(folds) > 1}
        for key in report_keys:
            z, y = folds[k][key], folds[k]["labels"]
            row[key] = {"ece_before": expected_calibration_error(probabilities(z, 1.0), y),
                        "ece_after": expected_calibration_error(probabilities(z, t), y)}
        per_fold.append(row)
    summary = {
        "temperature": fit_temperature(*stack(range(len(folds)))),
        "method": "temperature scaling; fold k fitted on the other folds' out-of-fold logits (clean, prompt and no text)",
        "ece": {key: {when: {"mean": float(np.mean([r[key][when] for r in per_fold])),
                             "std": float(np.std([r[key][when] for r in per_fold]))}
                      for when in ("ece_before", "ece_after")} for key in report_keys},
        "per_fold": per_fold}
    (cv_dir / "calibration.json").write_text(json.dumps(summary, indent=2) + "\n")
    return summary


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--cv", required=True)
    args = p.parse_args(argv)
    summary = calibrate_cv(resolve(args.cv))
    print(json.dumps({k: summary[k] for k in ("temperature", "ece")}, indent=1))


if __name__ == "__main__":
    main()
