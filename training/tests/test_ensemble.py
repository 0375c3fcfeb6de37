import tempfile
import unittest
from pathlib import Path

import _path  # noqa: F401
import numpy as np

from emotionbatch_training.calibration import load_fold_predictions
from emotionbatch_training.ensemble import KEYS, ensemble_scores


def write_run(folder: Path, logits: np.ndarray, labels: np.ndarray, corpus: np.ndarray, keys=KEYS) -> Path:
    (folder / "fold0").mkdir(parents=True)
    np.savez(folder / "fold0" / "predictions.npz", labels=labels, corpus=corpus, **{k: logits for k in keys})
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

    def test_a_run_without_text_keys_limits_the_scores_to_audio_only(self):
        # The yardstick has no text: with it, only the keys every run holds are scored, from both runs.
        labels, corpus = np.array([0, 1]), np.array(["a", "a"])
        model = np.array([[2.0, 1.9, 0, 0], [2.0, 1.9, 0, 0]])
        yardstick = np.log(np.array([[0.3, 0.1, 0.3, 0.3], [0.1, 0.7, 0.1, 0.1]]))
        audio_only = ("speech_clean_none", "speech_telephone_none")
        with tempfile.TemporaryDirectory() as tmp:
            a = load_fold_predictions(write_run(Path(tmp) / "a", model, labels, corpus))
            y = load_fold_predictions(write_run(Path(tmp) / "y", yardstick, labels, corpus, keys=audio_only))
            scores = ensemble_scores([a, y])
            self.assertEqual(sorted(scores), sorted(audio_only))
            self.assertEqual(scores["speech_clean_none"]["all"], [1.0])  # the model alone: 0.5
            self.assertEqual(ensemble_scores([a])["speech_clean_none"]["all"], [0.5])


if __name__ == "__main__":
    unittest.main()
