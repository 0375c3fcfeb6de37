"""Speaker-independent folds: every speaker's items land in exactly one test fold.

By default the units dealt into folds are speakers; with fold_by = "session" they are recording sessions (IEMOCAP's
Ses01..Ses05 give leave-one-session-out with 5 folds), and a corpus without sessions is dealt by speaker.
"""

from __future__ import annotations

from typing import Sequence

from .corpora import Item

FOLD_UNITS = ("speaker", "session")


def fold_unit(item: Item, fold_by: str = "speaker") -> str:
    """The unit that goes to one fold as a whole: the item's session (when folding by session and it has one), else
    its speaker."""
    if fold_by not in FOLD_UNITS:
        raise ValueError(f"data.fold_by must be one of {FOLD_UNITS}; found {fold_by!r}")
    if fold_by == "session" and item.session is not None:
        return item.session
    return item.speaker


def speaker_fold_map(items: Sequence[Item], k: int, fold_by: str = "speaker") -> dict[str, int]:
    """Units (speakers or sessions) sorted by (corpus, id) and dealt round-robin, continuing the count across corpora
    so that folds stay balanced in units and every corpus appears in as many folds as it has units (up to k)."""
    units = sorted({(it.corpus, fold_unit(it, fold_by)) for it in items if it.speaker is not None})
    if units and k > len(units):
        raise ValueError(f"{k} folds over {len(units)} {fold_by}s: some folds would test nothing; use at most {len(units)}")
    fold_of = {unit: j % k for j, (_, unit) in enumerate(units)}
    if fold_by == "session":
        # A speaker heard in sessions of two folds would be tested on a voice the model trained on.
        folds_of_speaker: dict[str, set[int]] = {}
        for it in items:
            if it.speaker is not None:
                folds_of_speaker.setdefault(it.speaker, set()).add(fold_of[fold_unit(it, fold_by)])
        leaking = sorted(speaker for speaker, folds in folds_of_speaker.items() if len(folds) > 1)
        if leaking:
            raise ValueError(f"speakers in sessions of different folds (e.g. {leaking[:3]}): folds by session would not be "
                             "speaker-independent; fold by speaker, or give each such speaker's items one session")
    return fold_of


def split_fold(items: Sequence[Item], k: int, fold: int, fold_by: str = "speaker") -> tuple[list[Item], list[Item]]:
    """(train, test) for one fold over items that have speakers; speaker-less items are not returned."""
    fold_of = speaker_fold_map(items, k, fold_by)
    train = [it for it in items if it.speaker is not None and fold_of[fold_unit(it, fold_by)] != fold]
    test = [it for it in items if it.speaker is not None and fold_of[fold_unit(it, fold_by)] == fold]
    return train, test


def protocol(fold_by: str, k: int) -> str:
    """How a run's folds were made, for metrics.json."""
    if fold_by == "session":
        return f"session-independent {k}-fold CV (corpora without sessions: by speaker)"
    return f"speaker-independent {k}-fold CV over speech speakers"
