"""Speaker-independent folds: every speaker's items land in exactly one test fold."""

from __future__ import annotations

from typing import Sequence

from .corpora import Item


def speaker_fold_map(items: Sequence[Item], k: int) -> dict[str, int]:
    """Speakers sorted by (corpus, id) and dealt round-robin, continuing the count across corpora so that folds
    stay balanced in speakers and every corpus appears in as many folds as it has speakers (up to k)."""
    speakers = sorted({(it.corpus, it.speaker) for it in items if it.speaker is not None})
    return {speaker: j % k for j, (_, speaker) in enumerate(speakers)}


def split_fold(items: Sequence[Item], k: int, fold: int) -> tuple[list[Item], list[Item]]:
    """(train, test) for one fold over items that have speakers; speaker-less items are not returned."""
    fold_of = speaker_fold_map(items, k)
    train = [it for it in items if it.speaker is not None and fold_of[it.speaker] != fold]
    test = [it for it in items if it.speaker is not None and fold_of[it.speaker] == fold]
    return train, test
