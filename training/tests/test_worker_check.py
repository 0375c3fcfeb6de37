import csv
import struct
import tempfile
import unittest
import wave
from pathlib import Path

import _path  # noqa: F401
import numpy as np

from emotionbatch_training.export import synthetic_waveform
from emotionbatch_training.train import write_test_items
from emotionbatch_training.corpora import Item
from emotionbatch_training.worker_check import compare, prepare_recordings


def write_wav(path: Path, samples: np.ndarray, rate: int = 16000) -> None:
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes((samples * 32767).astype("<i2").tobytes())


def wav_format(path: Path) -> tuple[int, int]:
    """(format code, sample rate) from the fmt chunk: 1 = PCM, 7 = G.711 mu-law."""
    data = path.read_bytes()
    at = data.index(b"fmt ")
    code, _, rate = struct.unpack("<HHI", data[at + 8: at + 16])
    return code, rate


class WorkerCheckTest(unittest.TestCase):
    def test_held_out_clips_become_recordings_with_labels_under_the_ids_the_worker_gives(self):
        with tempfile.TemporaryDirectory() as tmp:
            tmp = Path(tmp)
            write_wav(tmp / "03a01Wa.wav", synthetic_waveform(1.0, 150.0, seed=1))
            write_wav(tmp / "h3-07.wav", synthetic_waveform(0.8, 220.0, seed=2))
            items = [Item(id="emodb/03a01Wa", corpus="emodb", speaker="emodb/03", audio=str(tmp / "03a01Wa.wav"),
                          text=None, text_id=None, category="angry", valence=None, arousal=None),
                     Item(id="ased/h3-07", corpus="ased", speaker="ased/07", audio=str(tmp / "h3-07.wav"),
                          text=None, text_id=None, category="happy", valence=None, arousal=None)]
            write_test_items(items, tmp / "test_items.csv")

            labels = prepare_recordings(tmp / "test_items.csv", tmp / "clean" / "recordings", telephone=False)
            rows = list(csv.DictReader(labels.open()))
            self.assertEqual([(r["recording_id"], r["label"], r["corpus"]) for r in rows],
                             [("emodb/03a01Wa.wav", "angry", "emodb"), ("ased/h3-07.wav", "happy", "ased")])
            self.assertEqual((tmp / "clean/recordings/emodb/03a01Wa.wav").read_bytes(), (tmp / "03a01Wa.wav").read_bytes())

            labels = prepare_recordings(tmp / "test_items.csv", tmp / "phone" / "recordings", telephone=True)
            self.assertEqual([r["recording_id"] for r in csv.DictReader(labels.open())], ["emodb/03a01Wa.wav", "ased/h3-07.wav"])
            self.assertEqual(wav_format(tmp / "phone/recordings/ased/h3-07.wav"), (7, 8000))

    def test_worker_scores_are_set_beside_the_folds_cv_figures(self):
        scores = {"groups": [{"group": "all", "recordings": 3, "without_speech": 1, "uar": 0.5, "arousal_auc": 0.75,
                              "valence_auc": None}]}
        metrics = {"speech_telephone_none": {"all": {"uar": 0.6, "arousal_auc": 0.8}}}
        [row] = compare(scores, metrics, "telephone")
        self.assertEqual(row, {"group": "all", "n": 3, "without_speech": 1, "worker_uar": 0.5, "cv_uar": 0.6,
                               "worker_arousal_auc": 0.75, "cv_arousal_auc": 0.8, "worker_valence_auc": None,
                               "cv_valence_auc": None})


if __name__ == "__main__":
    unittest.main()
