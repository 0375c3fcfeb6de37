import tempfile
import unittest
from pathlib import Path

import _path  # noqa: F401
import numpy as np

from emotionbatch_training.calibration import load_fold_predictions
from emotionbatch_training.ensemble import KEYS, ensemble_scores


def write_run(folder: Path, logits: np.ndarray, labels: np.ndarray, corpus: np.ndarray) -> Path:
    (folder / "fold0").mkdir(parents=True)
    np.savez(folder / "fold0" / "predictions.npz", labels=labels, corpus=corpus, **{k: logits for k in KEYS})
    return folder


class EnsembleTest(unittest.TestCase):
    def test_averaged_probabilities_are_scored_per_corpus(self):
        labels = np.array([0, 1, 2, 3])
        corpus = np.array(["a", "a", "b", "b"])
        # Each run gets one item wrong in a different way; their average gets every item right.
        first = np.eye(4) * 3.0
        first[1] = [2.0, 1.5, 0, 0]
        second = np.eye(4) * 3.0
        second[2] = [0, 0, 1.0, 2.0]
        with tempfile.TemporaryDirectory() as tmp:
            a = load_fold_predictions(write_run(Path(tmp) / "a", first, labels, corpus))
            b = load_fold_predictions(write_run(Path(tmp) / "b", second, labels, corpus))
            self.assertEqual(ensemble_scores([a])["speech_clean_none"]["all"], [0.75])
            both = ensemble_scores([a, b])["speech_clean_none"]
            self.assertEqual(both["all"], [1.0])
            self.assertEqual(both["a"], [1.0])
            c = load_fold_predictions(write_run(Path(tmp) / "c", first, np.array([0, 1, 3, 2]), corpus))
            with self.assertRaises(SystemExit):
                ensemble_scores([a, c])


if __name__ == "__main__":
    unittest.main()
