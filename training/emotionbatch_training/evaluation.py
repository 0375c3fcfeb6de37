"""One report shape for every speech evaluation (deep model and yardstick), so their tables line up row by row."""

from __future__ import annotations

from typing import Any, Optional, Sequence

import numpy as np

from . import LABELS
from .corpora import Item
from .metrics import classification_report, emotion_axes_auc, expected_calibration_error, recalls

LABEL_INDEX = {name: i for i, name in enumerate(LABELS)}


def labels_of(items: Sequence[Item]) -> np.ndarray:
    return np.array([LABEL_INDEX[it.category] for it in items])


def speech_report(items: Sequence[Item], probabilities: np.ndarray, arousal: Optional[np.ndarray] = None,
                  valence: Optional[np.ndarray] = None) -> dict[str, Any]:
    """Per corpus and pooled ("all"): WAR, UAR, macro-F1, per-class recall, ECE, and the arousal/valence AUCs of the
    given scores (the model's arousal/valence outputs, or class-probability scores for a classifier without them).
    With dimensional outputs, also the AUCs of the same model's class-probability scores (category_arousal_auc,
    category_valence_auc): how far its dimensional heads lag its own classifier on the same groups. (For the
    yardstick, which passes its class-probability scores as arousal/valence, the two pairs are equal.)"""
    y = labels_of(items)
    pred = probabilities.argmax(1)
    out: dict[str, Any] = {}
    groups = {"all": np.ones(len(items), bool)}
    groups.update({c: np.array([it.corpus == c for it in items]) for c in sorted({it.corpus for it in items})})
    for name, sel in groups.items():
        row = classification_report(y[sel], pred[sel])
        row["recall"] = dict(zip(LABELS, recalls(y[sel], pred[sel])))
        row["ece"] = expected_calibration_error(probabilities[sel], y[sel])
        if arousal is not None and valence is not None:
            row.update(emotion_axes_auc(y[sel], arousal[sel], valence[sel]))
            by_category = emotion_axes_auc(y[sel], *(score[sel] for score in probability_axes(probabilities)))
            row.update({f"category_{key}": value for key, value in by_category.items()})
        out[name] = row
    return out


def probability_axes(probabilities: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Arousal and valence scores of a classifier without dimensional outputs: p(angry) + p(happy), and
    p(happy) - p(angry) - p(sad)."""
    p = probabilities
    return p[:, 0] + p[:, 1], p[:, 1] - p[:, 0] - p[:, 2]
