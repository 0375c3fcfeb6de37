"""Proxy valence/arousal for the speech corpora, which have categories only.

The targets are category centroids on EmoBank's scale, estimated from text: a ridge regression from mean-pooled
text features to EmoBank's valence and arousal (train split only) is applied to MELD's labelled training
utterances (spoken dialogue, the closest text here to speech), and each category's centroid is the mean prediction
over its utterances. RAVDESS's acted intensity moves an item away from neutral: "strong" scales the offset from
the neutral centroid by STRONG_SCALE, "normal" by NORMAL_SCALE. Every figure computed on these targets is a proxy,
not a measurement of perceived valence or arousal.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

from . import LABELS
from .corpora import Item
from .features import TextFeatures

RIDGE = 10.0
STRONG_SCALE, NORMAL_SCALE = 1.25, 0.85


def pooled(text: TextFeatures, items: Sequence[Item]) -> np.ndarray:
    return np.stack([text.get(it.text_id).mean(0) for it in items])


def category_centroids(items: Sequence[Item], text: TextFeatures) -> dict[str, tuple[float, float]]:
    """{category: (valence, arousal)} on the -1..1 bundle scale."""
    emobank = [it for it in items if it.corpus == "emobank" and it.split == "train"]
    meld = [it for it in items if it.corpus == "meld" and it.split == "train" and it.category]
    if not emobank or not meld:
        raise SystemExit("proxy targets need EmoBank train and MELD train in data.corpora")
    x = pooled(text, emobank)
    mean = x.mean(0)
    x = np.concatenate([x - mean, np.ones((len(x), 1))], 1)
    y = np.array([[it.valence, it.arousal] for it in emobank])
    w = np.linalg.solve(x.T @ x + RIDGE * np.eye(x.shape[1]), x.T @ y)
    xm = np.concatenate([pooled(text, meld) - mean, np.ones((len(meld), 1))], 1)
    pred = xm @ w
    return {c: tuple(float(v) for v in pred[[it.category == c for it in meld]].mean(0)) for c in LABELS}


def with_proxy_targets(items: Sequence[Item], centroids: dict[str, tuple[float, float]]) -> list[Item]:
    """Speech items with a category get that category's centroid (scaled by RAVDESS intensity) as valence/arousal."""
    from dataclasses import replace

    neutral = np.array(centroids["neutral"])
    out = []
    for it in items:
        if it.audio and it.category and it.valence is None:
            target = np.array(centroids[it.category])
            if it.intensity:
                target = neutral + (target - neutral) * (STRONG_SCALE if it.intensity == "strong" else NORMAL_SCALE)
            it = replace(it, valence=float(target[0]), arousal=float(target[1]), proxy_dimensions=True)
        out.append(it)
    return out
