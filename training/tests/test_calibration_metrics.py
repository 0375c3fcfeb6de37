import unittest

import _path  # noqa: F401
import numpy as np

from emotionbatch_training.calibration import fit_temperature
from emotionbatch_training.metrics import emotion_axes_auc, expected_calibration_error, roc_auc


class AucTest(unittest.TestCase):
    def test_known_values(self):
        self.assertEqual(roc_auc(np.array([1, 1, 0, 0]), np.array([0.9, 0.8, 0.1, 0.2])), 1.0)
        self.assertEqual(roc_auc(np.array([1, 1, 0, 0]), np.array([0.1, 0.2, 0.9, 0.8])), 0.0)
        self.assertEqual(roc_auc(np.array([1, 0]), np.array([0.5, 0.5])), 0.5)  # a tie counts half
        self.assertAlmostEqual(roc_auc(np.array([1, 0, 1, 0]), np.array([0.6, 0.4, 0.3, 0.5])), 0.5)
        self.assertTrue(np.isnan(roc_auc(np.array([1, 1]), np.array([0.1, 0.2]))))

    def test_axes_use_the_circumplex_groups(self):
        y = np.array([0, 1, 2, 3])  # angry, happy, sad, neutral
        out = emotion_axes_auc(y, arousal_score=np.array([0.9, 0.8, 0.1, 0.2]), valence_score=np.array([0.0, 1.0, 0.1, 9.0]))
        self.assertEqual(out["arousal_auc"], 1.0)
        self.assertEqual(out["valence_auc"], 1.0)  # neutral's valence is not scored

    def test_the_report_scores_the_dimensional_heads_beside_the_models_own_categories(self):
        from emotionbatch_training.corpora import Item
        from emotionbatch_training.evaluation import speech_report

        labels = ["angry", "happy", "sad", "neutral"]
        items = [Item(f"x{i}", "emodb", "s1", "a.wav", None, None, c, None, None) for i, c in enumerate(labels)]
        confident = np.eye(4) * 0.9 + 0.025  # every clip classified right
        # Heads that rank sad above happy on arousal, and angry above happy on valence.
        out = speech_report(items, confident, arousal=np.array([0.9, 0.1, 0.5, 0.0]), valence=np.array([0.9, 0.5, 0.0, 0.0]))
        for group in ("all", "emodb"):
            self.assertEqual(out[group]["arousal_auc"], 0.75)
            self.assertEqual(out[group]["valence_auc"], 0.5)
            self.assertEqual(out[group]["category_arousal_auc"], 1.0)
            self.assertEqual(out[group]["category_valence_auc"], 1.0)
        self.assertNotIn("category_arousal_auc", speech_report(items, confident)["all"])


class CalibrationTest(unittest.TestCase):
    def test_temperature_recovers_the_sharpening_of_calibrated_logits(self):
        rng = np.random.default_rng(0)
        n = 20000
        true_logits = rng.normal(size=(n, 4)) * 1.5
        p = np.exp(true_logits) / np.exp(true_logits).sum(1, keepdims=True)
        labels = np.array([rng.choice(4, p=row) for row in p])
        t = fit_temperature(true_logits * 2.5, labels)  # an overconfident model: logits 2.5x too large
        self.assertAlmostEqual(t, 2.5, delta=0.15)
        over = np.exp(true_logits * 2.5) / np.exp(true_logits * 2.5).sum(1, keepdims=True)
        fixed = np.exp(true_logits * 2.5 / t) / np.exp(true_logits * 2.5 / t).sum(1, keepdims=True)
        self.assertLess(expected_calibration_error(fixed, labels), expected_calibration_error(over, labels) / 3)


if __name__ == "__main__":
    unittest.main()
