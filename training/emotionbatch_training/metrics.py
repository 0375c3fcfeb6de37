"""WAR, UAR, macro-F1 and CCC, computed in numpy from predictions."""

from __future__ import annotations

import numpy as np


def war(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    """Weighted average recall = accuracy."""
    return float(np.mean(y_true == y_pred)) if len(y_true) else float("nan")


def uar(y_true: np.ndarray, y_pred: np.ndarray, num_classes: int = 4) -> float:
    """Unweighted average recall over the classes present in y_true."""
    recalls = [np.mean(y_pred[y_true == c] == c) for c in range(num_classes) if np.any(y_true == c)]
    return float(np.mean(recalls)) if recalls else float("nan")


def macro_f1(y_true: np.ndarray, y_pred: np.ndarray, num_classes: int = 4) -> float:
    """Mean F1 over the classes present in y_true (F1 = 0 when a present class is never predicted right)."""
    scores = []
    for c in range(num_classes):
        if not np.any(y_true == c):
            continue
        tp = np.sum((y_pred == c) & (y_true == c))
        fp = np.sum((y_pred == c) & (y_true != c))
        fn = np.sum((y_pred != c) & (y_true == c))
        scores.append(0.0 if tp == 0 else 2 * tp / (2 * tp + fp + fn))
    return float(np.mean(scores)) if scores else float("nan")


def ccc(pred: np.ndarray, target: np.ndarray) -> float:
    """Lin's concordance correlation coefficient (population variances)."""
    pred, target = np.asarray(pred, dtype=np.float64), np.asarray(target, dtype=np.float64)
    mp, mt = pred.mean(), target.mean()
    cov = np.mean((pred - mp) * (target - mt))
    return float(2 * cov / (pred.var() + target.var() + (mp - mt) ** 2))


def classification_report(y_true: np.ndarray, y_pred: np.ndarray) -> dict[str, float]:
    return {"war": war(y_true, y_pred), "uar": uar(y_true, y_pred), "macro_f1": macro_f1(y_true, y_pred),
            "n": int(len(y_true))}
