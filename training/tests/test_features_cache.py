import tempfile
import unittest
from pathlib import Path

import _path  # noqa: F401
import numpy as np
import torch
import torchaudio

from emotionbatch_training.config import ModelConfig
from emotionbatch_training.corpora import Item
from emotionbatch_training.features import SpeechFeatureCache

torch.set_num_threads(1)


def clip(folder: Path, name: str, f0: float) -> Item:
    t = torch.arange(8000) / 16000.0
    path = folder / f"{name}.wav"
    torchaudio.save(str(path), (0.3 * torch.sin(2 * np.pi * f0 * t)).unsqueeze(0), 16000)
    return Item(id=name, corpus="toy", speaker="s1", audio=str(path), text=None, text_id=None,
                category="neutral", valence=None, arousal=None)


class SpeechFeatureCacheTest(unittest.TestCase):
    def test_a_cache_of_a_limited_run_is_rebuilt_by_a_full_run(self):
        with tempfile.TemporaryDirectory() as tmp:
            folder = Path(tmp)
            items = [clip(folder, f"c{i}", 120.0 + 40 * i) for i in range(3)]
            logged: list[str] = []
            limited = SpeechFeatureCache(folder / "cache", ModelConfig())
            limited.build(items[:1], ["clean"], log=logged.append)
            self.assertFalse(limited.covers("clean", "toy", items))
            full = SpeechFeatureCache(folder / "cache", ModelConfig())
            full.build(items, ["clean"], log=logged.append)
            self.assertTrue(any("rebuilding clean features of toy" in line for line in logged))
            frames = [full.get(it, "clean") for it in items]
            self.assertEqual([f.shape[0] for f in frames], [51, 51, 51])  # 8000 samples / 160 hop + 1
            self.assertFalse(np.array_equal(frames[0], frames[2]))
            logged.clear()
            SpeechFeatureCache(folder / "cache", ModelConfig()).build(items, ["clean"], log=logged.append)
            self.assertEqual(logged, [])  # complete: nothing rebuilt
            self.assertEqual(sorted(p.name for p in (folder / "cache").rglob("*.tmp")), [])

    def test_a_data_file_that_does_not_match_its_index_is_refused(self):
        with tempfile.TemporaryDirectory() as tmp:
            folder = Path(tmp)
            items = [clip(folder, f"c{i}", 150.0) for i in range(2)]
            SpeechFeatureCache(folder / "cache", ModelConfig()).build(items, ["clean"], log=lambda _: None)
            data = next((folder / "cache").rglob("toy.f16"))
            data.write_bytes(data.read_bytes()[: data.stat().st_size // 2])  # as if swapped mid-rebuild
            with self.assertRaisesRegex(RuntimeError, "another run is rebuilding it"):
                SpeechFeatureCache(folder / "cache", ModelConfig()).get(items[0])


if __name__ == "__main__":
    unittest.main()
