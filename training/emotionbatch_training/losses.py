"""Multi-task loss: CE + (1 - CCC_valence) + (1 - CCC_arousal), each term over the items that carry its label."""

from __future__ import annotations

import torch
import torch.nn.functional as F


def ccc(pred: torch.Tensor, target: torch.Tensor, eps: float = 1e-8) -> torch.Tensor:
    """Lin's concordance correlation coefficient over a batch (population variances)."""
    mp, mt = pred.mean(), target.mean()
    vp, vt = ((pred - mp) ** 2).mean(), ((target - mt) ** 2).mean()
    cov = ((pred - mp) * (target - mt)).mean()
    return 2 * cov / (vp + vt + (mp - mt) ** 2 + eps)


def labelled(category: torch.Tensor) -> torch.Tensor:
    """Items that carry a category: index >= 0, or a class-probability row that is not all zero (mixed targets)."""
    return category.sum(1) > 0 if category.dim() == 2 else category >= 0


def multitask_loss(logits: torch.Tensor, valence: torch.Tensor, arousal: torch.Tensor, category: torch.Tensor,
                   valence_target: torch.Tensor, arousal_target: torch.Tensor, tasks: str = "multi",
                   dimension_weight: float = 1.0, class_weights: torch.Tensor | None = None,
                   label_smoothing: float = 0.0) -> tuple[torch.Tensor, dict[str, float]]:
    """category: class index or -1 (no label), or class probabilities [B, C] (mixed targets; an all-zero row is
    unlabelled); valence/arousal targets: NaN where unlabelled.
    tasks: "multi" (all terms), "categorical" (CE only), "dimensional" (CCC terms only).
    dimension_weight scales both CCC terms (proxy targets weigh less than ratings); class_weights, if given, weight
    the cross-entropy per class (a weighted mean over the batch).
    CCC needs at least two labelled items in the batch; terms without enough labels are skipped."""
    total = logits.new_zeros(())
    parts: dict[str, float] = {}
    has_cat = labelled(category)
    if tasks in ("multi", "categorical") and bool(has_cat.any()):
        ce = F.cross_entropy(logits[has_cat], category[has_cat], weight=class_weights, label_smoothing=label_smoothing)
        total = total + ce
        parts["ce"] = float(ce)
    if tasks in ("multi", "dimensional") and dimension_weight > 0:
        for name, pred, target in (("valence", valence, valence_target), ("arousal", arousal, arousal_target)):
            has = ~torch.isnan(target)
            if int(has.sum()) >= 2:
                term = 1.0 - ccc(pred[has], target[has])
                total = total + dimension_weight * term
                parts[f"1-ccc_{name}"] = float(term)
    return total, parts
