import math
import unittest

import _path  # noqa: F401
import numpy as np
import torch

from emotionbatch_training.losses import ccc as torch_ccc, multitask_loss
from emotionbatch_training.metrics import ccc, macro_f1, uar, war


class CccTest(unittest.TestCase):
    def test_hand_computed_example(self):
        # pred = [1, 2, 3], target = [2, 4, 6]: means 2 and 4, population variances 2/3 and 8/3, covariance 4/3;
        # CCC = 2 * 4/3 / (2/3 + 8/3 + (2 - 4)^2) = (8/3) / (22/3) = 4/11.
        self.assertAlmostEqual(ccc(np.array([1.0, 2, 3]), np.array([2.0, 4, 6])), 4 / 11, places=9)
        self.assertAlmostEqual(float(torch_ccc(torch.tensor([1.0, 2, 3]), torch.tensor([2.0, 4, 6]))), 4 / 11, places=5)

    def test_perfect_and_inverted(self):
        x = np.array([-0.5, 0.1, 0.7, 0.2])
        self.assertAlmostEqual(ccc(x, x), 1.0)
        self.assertAlmostEqual(ccc(-x + 2 * x.mean(), x), -1.0)


class MultitaskLossTest(unittest.TestCase):
    def test_known_values_and_label_masks(self):
        logits = torch.zeros(4, 4)  # uniform -> CE = log 4
        valence = torch.tensor([9.0, 9.0, 1.0, 2.0])  # first two unlabelled: must not matter
        arousal = torch.tensor([0.0, 0.0, 1.0, 3.0])
        category = torch.tensor([0, 3, -1, -1])
        v_target = torch.tensor([math.nan, math.nan, 2.0, 4.0])
        a_target = torch.tensor([math.nan, math.nan, 1.0, 3.0])
        total, parts = multitask_loss(logits, valence, arousal, category, v_target, a_target)
        self.assertAlmostEqual(parts["ce"], math.log(4), places=5)
        # valence [1, 2] vs [2, 4]: CCC = 2*0.5 / (0.25 + 1 + 2.25) = 2/7; arousal perfect -> 0.
        self.assertAlmostEqual(parts["1-ccc_valence"], 1 - 2 / 7, places=5)
        self.assertAlmostEqual(parts["1-ccc_arousal"], 0.0, places=5)
        self.assertAlmostEqual(float(total), math.log(4) + 1 - 2 / 7, places=5)

    def test_single_task_variants(self):
        args = (torch.zeros(2, 4), torch.tensor([0.0, 1.0]), torch.tensor([0.0, 1.0]), torch.tensor([1, -1]),
                torch.tensor([0.0, 1.0]), torch.tensor([1.0, 0.0]))
        _, parts = multitask_loss(*args, tasks="categorical")
        self.assertEqual(set(parts), {"ce"})
        _, parts = multitask_loss(*args, tasks="dimensional")
        self.assertEqual(set(parts), {"1-ccc_valence", "1-ccc_arousal"})

    def test_no_labels_gives_zero(self):
        total, parts = multitask_loss(torch.zeros(2, 4), torch.zeros(2), torch.zeros(2), torch.tensor([-1, -1]),
                                      torch.tensor([math.nan, math.nan]), torch.tensor([math.nan, math.nan]))
        self.assertEqual(float(total), 0.0)
        self.assertEqual(parts, {})


    def test_mixed_targets_and_label_smoothing(self):
        logits = torch.tensor([[2.0, 0.0, 0.0, 0.0], [0.0, 1.0, 0.0, 0.0], [0.0, 0.0, 0.0, 0.0]])
        mixed = torch.tensor([[0.7, 0.3, 0.0, 0.0], [0.0, 0.0, 1.0, 0.0], [0.0, 0.0, 0.0, 0.0]])  # last: unlabelled
        nan = torch.full((3,), math.nan)
        _, parts = multitask_loss(logits, torch.zeros(3), torch.zeros(3), mixed, nan, nan)
        log_p = torch.log_softmax(logits[:2], 1)
        expected = -float((mixed[:2] * log_p).sum(1).mean())
        self.assertAlmostEqual(parts["ce"], expected, places=5)
        # Smoothing 0.2 over 4 classes: target 0.85 on the label, 0.05 elsewhere.
        _, parts = multitask_loss(logits[:1], torch.zeros(1), torch.zeros(1), torch.tensor([0]), nan[:1], nan[:1],
                                  label_smoothing=0.2)
        target = torch.tensor([0.85, 0.05, 0.05, 0.05])
        self.assertAlmostEqual(parts["ce"], -float((target * log_p[0]).sum()), places=5)


class ClassificationMetricsTest(unittest.TestCase):
    def test_war_uar_f1(self):
        y = np.array([0, 0, 0, 0, 1, 1, 2, 3])
        p = np.array([0, 0, 0, 1, 1, 0, 2, 2])
        self.assertAlmostEqual(war(y, p), 5 / 8)
        self.assertAlmostEqual(uar(y, p), (3 / 4 + 1 / 2 + 1 + 0) / 4)
        f1 = [2 * 3 / (6 + 1 + 1), 2 * 1 / (2 + 1 + 1), 2 * 1 / (2 + 1 + 0), 0.0]
        self.assertAlmostEqual(macro_f1(y, p), sum(f1) / 4)


if __name__ == "__main__":
    unittest.main()
