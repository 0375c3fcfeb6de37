"""The frozen-encoder path: feature caches in the worker's format, and random masking of one modality per item."""

import hashlib
import json
import tempfile
import unittest
from pathlib import Path

import _path  # noqa: F401
import numpy as np
import torch

from emotionbatch_training.config import Config
from emotionbatch_training.corpora import Item
from emotionbatch_training.features import FeatureCache
from emotionbatch_training.frozen import (write_input, HeadBatcher, HeadData, SOURCE_FILE, cache_problem, ensure_cache,
                                          one_modality_masks, train_head)

torch.set_num_threads(1)


def write_cache(folder: Path, rows: dict, dim: int, unit: str, dtype: str = "float16") -> None:
    """A cache exactly as the worker's FeatureCacheWriter lays it out (header line, rows concatenated in order)."""
    folder.mkdir(parents=True, exist_ok=True)
    name, code = {"float16": ("features.f16", "<f2"), "float32": ("features.f32", "<f4")}[dtype]
    offset = 0
    with open(folder / name, "wb") as data, open(folder / "index.tsv", "w") as index:
        index.write(f"id\toffset_{unit}\tlength_{unit}\n")
        for key, values in rows.items():
            data.write(np.asarray(values, dtype=code).tobytes())
            index.write(f"{key}\t{offset}\t{len(values)}\n")
            offset += len(values)
    (folder / "meta.json").write_text(json.dumps({"format_version": 1, "dim": dim, "dtype": dtype,
                                                  "byte_order": "little", "encoder": "graph.onnx"}))


class FeatureCacheTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.root = Path(self.tmp.name)

    def tearDown(self):
        self.tmp.cleanup()

    def test_reads_audio_and_text_caches_by_id(self):
        rng = np.random.default_rng(0)
        frames = {"emodb/03a01Fa": rng.standard_normal((5, 6)), "ravdess/x": rng.standard_normal((3, 6))}
        write_cache(self.root / "audio", frames, 6, "frames")
        tokens = {"emodb/a01": rng.standard_normal((4, 3)), "blank": np.zeros((0, 3))}
        write_cache(self.root / "text", tokens, 3, "tokens", "float32")
        audio, text = FeatureCache(self.root / "audio"), FeatureCache(self.root / "text")
        self.assertEqual((audio.dim, text.dim, len(audio), len(text)), (6, 3, 2, 2))
        self.assertEqual(audio.get("ravdess/x").dtype, np.float32)
        np.testing.assert_allclose(audio.get("ravdess/x"), frames["ravdess/x"], atol=2e-3)  # float16
        np.testing.assert_array_equal(text.get("emodb/a01"), tokens["emodb/a01"].astype(np.float32))
        self.assertEqual(text.get("blank").shape, (0, 3))
        self.assertIsNone(audio.get("missing"))
        self.assertEqual(audio.length("emodb/03a01Fa"), 5)

    def test_a_covering_cache_is_used_without_the_worker(self):
        write_cache(self.root / "audio", {"a": np.zeros((2, 4)), "b": np.zeros((1, 4))}, 4, "frames")
        cfg = Config()
        cfg.features.worker = str(self.root / "no-such-worker.dll")  # would fail if it were started
        path = ensure_cache("audio", {"a": "/x/a.wav"}, str(self.root / "audio"), None, cfg, log=lambda _: None)
        self.assertEqual(path, self.root / "audio")

    def test_an_id_that_now_names_another_clip_needs_a_new_cache(self):
        folder = self.root / "audio"
        write_cache(folder, {"csv/000000": np.zeros((2, 4)), "csv/000001": np.zeros((1, 4))}, 4, "frames")
        write_input({"csv/000000": "/data/a.wav", "csv/000001": "/data/b.wav"}, folder / "clips.tsv", "path")
        same = {"csv/000000": "/data/a.wav", "csv/000001": "/data/b.wav"}
        resorted = {"csv/000000": "/data/b.wav", "csv/000001": "/data/a.wav"}
        self.assertIsNone(cache_problem(folder, list(same), None, same))
        self.assertIn("2 of 2 ids now name other input", cache_problem(folder, list(resorted), None, resorted))

    def test_missing_ids_or_another_encoder_need_a_new_cache(self):
        folder = self.root / "text"
        write_cache(folder, {"a": np.zeros((2, 4))}, 4, "tokens")
        self.assertIn("1 of 2 ids missing", cache_problem(folder, ["a", "b"], None))
        (folder / SOURCE_FILE).write_text(json.dumps({"encoder": {"graph_sha256": "old"}}))
        self.assertIsNone(cache_problem(folder, ["a"], {"graph_sha256": "old"}))
        self.assertIn("another encoder", cache_problem(folder, ["a"], {"graph_sha256": "new"}))
        self.assertEqual(cache_problem(self.root / "none", ["a"], None), "no cache yet")
        cfg = Config()
        with self.assertRaises(SystemExit):  # audio cannot be encoded without a bundle holding the encoder
            ensure_cache("audio", {"b": "/x/b.wav"}, str(folder), None, cfg, log=lambda _: None)


class OneModalityMaskingTest(unittest.TestCase):
    def test_never_both_and_about_p_masked(self):
        rng = np.random.default_rng(3)
        n, p = 40000, 0.3
        both = np.ones(n, bool)
        keep_audio, keep_text = one_modality_masks(both, both, p, rng)
        self.assertFalse(np.any(~keep_audio & ~keep_text))
        masked = ~(keep_audio & keep_text)
        self.assertAlmostEqual(masked.mean(), p, delta=0.01)
        # Text and audio are each the dropped modality of about half the masked items.
        self.assertAlmostEqual((~keep_text).sum() / masked.sum(), 0.5, delta=0.02)

    def test_an_item_with_one_modality_keeps_it(self):
        rng = np.random.default_rng(4)
        has_audio = np.array([True, False, True, False] * 1000)
        has_text = np.array([False, True, False, False] * 1000)
        keep_audio, keep_text = one_modality_masks(has_audio, has_text, 0.9, rng)
        np.testing.assert_array_equal(keep_audio, has_audio)
        np.testing.assert_array_equal(keep_text, has_text)

    def test_extremes(self):
        rng = np.random.default_rng(5)
        both = np.ones(1000, bool)
        keep_audio, keep_text = one_modality_masks(both, both, 0.0, rng)
        self.assertTrue(keep_audio.all() and keep_text.all())
        keep_audio, keep_text = one_modality_masks(both, both, 1.0, rng)
        self.assertTrue(np.all(keep_audio ^ keep_text))


class HeadOnCachedFeaturesTest(unittest.TestCase):
    """Batches and a short training run of the fusion head on caches written in the worker's format."""

    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        root = Path(self.tmp.name)
        rng = np.random.default_rng(1)
        labels = ["angry", "happy", "sad", "neutral"]
        self.items = [Item(f"c/{i}", "c", f"c/s{i % 4}", "x.wav", "words", f"c/t{i % 3}", labels[i % 4], 0.1, -0.2)
                      for i in range(24)]
        self.items += [Item(f"bank/{i}", "bank", None, None, "text", f"bank/{i}", None, 0.3, 0.4, split="train")
                       for i in range(8)]
        write_cache(root / "audio", {it.id: rng.standard_normal((3 + i % 5, 8)) for i, it in enumerate(self.items)
                                     if it.audio}, 8, "frames")
        texts = {it.text_id: rng.standard_normal((2 + i % 3, 6)) for i, it in enumerate(self.items)}
        write_cache(root / "text", texts, 6, "tokens")
        self.cfg = Config()
        self.cfg.model.acoustic_dim, self.cfg.model.text_dim = 8, 6
        self.cfg.model.fusion_dim, self.cfg.model.fusion_ff = 16, 32
        self.cfg.train.epochs, self.cfg.train.batch_speech, self.cfg.train.batch_text = 2, 8, 4
        self.cfg.train.head_rmm_p = 0.5
        self.data = HeadData(self.items, FeatureCache(root / "audio"), FeatureCache(root / "text"), "a", "t", {})

    def tearDown(self):
        self.tmp.cleanup()

    def test_training_batches_never_mask_both_modalities(self):
        batcher = HeadBatcher(self.cfg, self.data)
        rng = np.random.default_rng(0)
        speech = [it for it in self.items if it.audio]
        masked = 0
        for _ in range(200):
            batch = batcher.batch(speech, train=True, rng=rng)
            has_audio = batch["acoustic_mask"].sum(1) > 0
            has_text = batch["text_mask"].sum(1) > 0
            self.assertTrue(bool((has_audio | has_text).all()))
            masked += int((~(has_audio & has_text)).sum())
        self.assertAlmostEqual(masked / (200 * len(speech)), 0.5, delta=0.03)
        evaluation = batcher.batch(speech, train=False, rng=None)
        self.assertTrue(bool((evaluation["acoustic_mask"].sum(1) > 0).all()))
        self.assertEqual(tuple(evaluation["acoustic"].shape), (len(speech), 7, 8))

    def test_head_trains_on_cached_features(self):
        head = train_head(self.cfg, self.data, self.items)
        batch = HeadBatcher(self.cfg, self.data).batch(self.items, train=False, rng=None)
        with torch.no_grad():
            logits, valence, arousal = head(batch["acoustic"], batch["acoustic_mask"], batch["text"], batch["text_mask"])
        self.assertEqual(tuple(logits.shape), (len(self.items), 4))
        self.assertTrue(bool(torch.isfinite(logits).all() and torch.isfinite(valence).all()))

    def test_options_of_the_scratch_encoder_are_refused(self):
        for setting in ("train.mixup=0.4", "train.ema_decay=0.99", "data.extra_classes=true", "model.speaker_warp=0.1", "model.speaker_pitch=2",
                        "model.freq_masks=2", "model.frames=speech_embedding"):
            cfg = Config.from_dict(self.cfg.to_dict())
            cfg.set(setting)
            with self.assertRaises(SystemExit, msg=setting):
                train_head(cfg, self.data, self.items)


class AssembleChecksTest(unittest.TestCase):
    def test_a_head_is_assembled_only_with_the_graphs_its_features_came_from(self):
        from emotionbatch_training.assemble import check_encoder, json_safe

        with tempfile.TemporaryDirectory() as tmp:
            bundle = Path(tmp)
            (bundle / "graph.onnx").write_bytes(b"graph bytes")
            spec = {"file": "graph.onnx", "dim": 8}
            sha = hashlib.sha256(b"graph bytes").hexdigest()
            check_encoder("acoustic", {"source": {"graph_sha256": sha}}, bundle, spec, 8)
            with self.assertRaises(SystemExit):
                check_encoder("acoustic", {"source": {"graph_sha256": "other"}}, bundle, spec, 8)
            with self.assertRaises(SystemExit):
                check_encoder("acoustic", {"source": {"graph_sha256": sha}}, bundle, spec, 16)
        self.assertEqual(json_safe({"a": [float("nan"), 1.0], "b": float("inf")}), {"a": [None, 1.0], "b": None})


if __name__ == "__main__":
    unittest.main()
