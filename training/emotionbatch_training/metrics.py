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


def recalls(y_true: np.ndarray, y_pred: np.ndarray, num_classes: int = 4) -> list[float]:
    return [float(np.mean(y_pred[y_true == c] == c)) if np.any(y_true == c) else float("nan")
            for c in range(num_classes)]


def roc_auc(positive: np.ndarray, score: np.ndarray) -> float:
    """Area under the ROC curve (Mann-Whitney, ties count half); nan unless both classes are present."""
    positive = np.asarray(positive, bool)
    pos, neg = np.asarray(score)[positive], np.asarray(score)[~positive]
    if not len(pos) or not len(neg):
        return float("nan")
    order = np.argsort(np.concatenate([pos, neg]), kind="mergesort")
    ranks = np.empty(len(order))
    values = np.concatenate([pos, neg])[order]
    i = 0
    while i < len(values):  # average ranks over ties
        j = i
        while j + 1 < len(values) and values[j + 1] == values[i]:
            j += 1
        ranks[order[i: j + 1]] = 0.5 * (i + j) + 1
        i = j + 1
    return float((ranks[: len(pos)].sum() - len(pos) * (len(pos) + 1) / 2) / (len(pos) * len(neg)))


def expected_calibration_error(probabilities: np.ndarray, y_true: np.ndarray, bins: int = 15) -> float:
    """ECE of the top-class confidence in equal-width bins (Guo et al. 2017)."""
    confidence = probabilities.max(1)
    correct = probabilities.argmax(1) == y_true
    edges = np.linspace(0.0, 1.0, bins + 1)
    total = 0.0
    for lo, hi in zip(edges[:-1], edges[1:]):
        sel = (confidence > lo) & (confidence <= hi)
        if sel.any():
            total += sel.mean() * abs(confidence[sel].mean() - correct[sel].mean())
    return float(total)


def emotion_axes_auc(y_true: np.ndarray, arousal_score: np.ndarray, valence_score: np.ndarray) -> dict[str, float]:
    """Arousal AUC: angry + happy against sad + neutral; valence AUC: happy against angry + sad (neutral left out).
    Label indices follow LABELS (angry, happy, sad, neutral)."""
    emotional = y_true != 3
    return {"arousal_auc": roc_auc(np.isin(y_true, (0, 1)), arousal_score),
            "valence_auc": roc_auc(y_true[emotional] == 1, np.asarray(valence_score)[emotional])}
