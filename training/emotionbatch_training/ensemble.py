"""What averaging several models would give, from CV runs already made: for every fold, the mean of the runs'
test-fold probabilities (predictions.npz), scored as one model. The runs must share folds and item order (same
config except the settings under study, same data); nothing is retrained. A yardstick run folder (yardstick.py)
counts as a run too; it has no text, so only the audio-only keys are scored when one takes part.

  python -m emotionbatch_training.ensemble training/runs/cv-a training/runs/cv-b [...]
"""

from __future__ import annotations

import argparse
import itertools
import json
from pathlib import Path

import numpy as np

from .calibration import load_fold_predictions, probabilities
from .metrics import uar

KEYS = ("speech_clean_none", "speech_clean_prompt", "speech_telephone_none")


def ensemble_scores(runs: list[list[dict[str, np.ndarray]]]) -> dict[str, dict[str, list[float]]]:
    """key -> ("all" or corpus) -> UAR per fold of the runs' averaged probabilities, for the KEYS every run holds."""
    if len({len(r) for r in runs}) != 1:
        raise SystemExit("the runs have different numbers of folds")
    out: dict[str, dict[str, list[float]]] = {}
    for fold in zip(*runs):
        labels, corpus = fold[0]["labels"], fold[0]["corpus"]
        # Item ids where every run wrote them (older runs did not); labels and corpora always.
        same_ids = all("ids" in f for f in fold) and any(not np.array_equal(f["ids"], fold[0]["ids"]) for f in fold)
        if same_ids or any(not np.array_equal(f["labels"], labels) or not np.array_equal(f["corpus"], corpus) for f in fold):
            raise SystemExit("the runs' test folds differ (other folds, other data or another order): they cannot be averaged")
        for key in [k for k in KEYS if all(k in f for f in fold)]:
            p = np.mean([probabilities(f[key]) for f in fold], axis=0)
            for name in ["all", *sorted(set(corpus.tolist()))]:
                sel = np.ones(len(labels), bool) if name == "all" else corpus == name
                out.setdefault(key, {}).setdefault(name, []).append(uar(labels[sel], p[sel].argmax(1)))
    return out


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("runs", nargs="+", help="CV run folders (fold*/predictions.npz)")
    p.add_argument("--combinations", action="store_true", help="also every subset of two or more runs")
    args = p.parse_args(argv)
    folds = {r: load_fold_predictions(Path(r)) for r in args.runs}
    sizes = range(1, len(args.runs) + 1) if args.combinations else [len(args.runs)]
    for size in sizes:
        for members in itertools.combinations(args.runs, size):
            scores = ensemble_scores([folds[m] for m in members])
            row = {"runs": list(members)}
            for key, groups in scores.items():
                row[key] = {name: round(float(np.mean(v)), 3) for name, v in groups.items()}
            row["speech_clean_none_per_fold"] = [round(float(x), 3) for x in scores["speech_clean_none"]["all"]]
            print(json.dumps(row))


if __name__ == "__main__":
    main()
