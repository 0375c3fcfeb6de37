import tempfile
import unittest
from pathlib import Path

import _path  # noqa: F401

from emotionbatch_training.config import REPO_ROOT
from emotionbatch_training.corpora import (EXTRA_LABELS, emobank, emodb, extra_class_items, generic_csv, ravdess,
                                           sam_to_bipolar)
from emotionbatch_training.folds import speaker_fold_map, split_fold

SHARED_DATA = (REPO_ROOT / "../shared/data").resolve()


class AdapterTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.root = Path(self.tmp.name)

    def tearDown(self):
        self.tmp.cleanup()

    def touch(self, rel):
        p = self.root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(b"")

    def test_emodb_mapping(self):
        for name in ["03a01Wa", "03a01Fa", "08b10Ta", "09a02Nc", "10a04La", "11a05Ea", "12a07Ab"]:
            self.touch(f"emodb/wav/{name}.wav")
        items = {it.id: it for it in emodb(self.root)}
        self.assertEqual({k: v.category for k, v in items.items()}, {
            "emodb/03a01Wa": "angry", "emodb/03a01Fa": "happy", "emodb/08b10Ta": "sad", "emodb/09a02Nc": "neutral"})
        self.assertEqual(items["emodb/08b10Ta"].speaker, "emodb/08")
        self.assertEqual(items["emodb/08b10Ta"].text_id, "emodb/b10")
        self.assertIsNone(items["emodb/03a01Wa"].valence)
        extra = {it.id: (it.category, it.extra_category) for it in emodb(self.root, extra=True)}
        self.assertEqual(extra, {"emodb/10a04La": (None, "boredom"), "emodb/11a05Ea": (None, "disgust"),
                                 "emodb/12a07Ab": (None, "fear")})

    def test_ravdess_mapping(self):
        for emo in ["01", "02", "03", "04", "05", "06", "07", "08"]:
            self.touch(f"ravdess/flac/03-01-{emo}-01-02-01-07.flac")
        items = ravdess(self.root)
        self.assertEqual(sorted(it.category for it in items), ["angry", "happy", "neutral", "sad"])
        self.assertTrue(all(it.speaker == "ravdess/07" and it.text == "Dogs are sitting by the door" for it in items))
        extra = ravdess(self.root, extra=True)
        self.assertEqual(sorted(it.extra_category for it in extra), ["calm", "disgust", "fear", "surprise"])
        self.assertTrue(all(it.category is None and it.speaker == "ravdess/07" for it in extra))

    def test_emobank_scale(self):
        (self.root / "emobank").mkdir()
        (self.root / "emobank" / "emobank-train-dev.csv").write_text(
            'id,split,V,A,D,text\na,train,3.0,5.0,1.0,"Hi, there"\nb,dev,1.0,2.0,3.0,x\n')
        items = emobank(self.root)
        self.assertEqual((items[0].valence, items[0].arousal, items[0].dominance), (0.0, 1.0, -1.0))
        self.assertEqual(items[0].text, "Hi, there")
        self.assertEqual((items[1].valence, items[1].split), (-1.0, "dev"))
        self.assertIsNone(items[0].speaker)
        self.assertEqual(sam_to_bipolar(4.0), 0.5)

    def test_generic_csv(self):
        csv_path = self.root / "iemocap.csv"
        csv_path.write_text("path,speaker,text,category,valence,arousal\n"
                            "a.wav,Ses01F,hello,happy,4,2\n"
                            "/abs/b.wav,Ses01M,,,,\n")
        items = generic_csv(csv_path, "iemocap", va_range=[1, 5])
        self.assertEqual(items[0].audio, str(self.root / "a.wav"))
        self.assertEqual((items[0].category, items[0].valence, items[0].arousal), ("happy", 0.5, -0.5))
        self.assertEqual(items[0].speaker, "iemocap/Ses01F")
        self.assertEqual((items[1].text, items[1].text_id, items[1].category, items[1].valence), (None, None, None, None))
        bad = self.root / "bad.csv"
        bad.write_text("path,speaker,text,category,valence,arousal\na.wav,s,,excited,,\n")
        with self.assertRaises(ValueError):
            generic_csv(bad, "bad")

    @unittest.skipUnless((SHARED_DATA / "emodb" / "wav").exists(), "shared data not present")
    def test_real_corpus_counts(self):
        self.assertEqual(len(emodb(SHARED_DATA)), 266)
        self.assertEqual(len(ravdess(SHARED_DATA)), 504)
        extra = extra_class_items(SHARED_DATA, ["emodb", "ravdess", "ased", "nemo"])
        self.assertEqual(len(extra), 142 + 576)  # Emo-DB L 58 + E 30 + A 54; RAVDESS 18 actors x 4 emotions x 8
        self.assertEqual({it.extra_category for it in extra}, set(EXTRA_LABELS))


class FoldTest(unittest.TestCase):
    def items(self):
        from emotionbatch_training.corpora import Item
        out = []
        for corpus, speakers in (("emodb", 8), ("ravdess", 18)):
            for s in range(speakers):
                for k in range(3):
                    out.append(Item(f"{corpus}/{s}/{k}", corpus, f"{corpus}/{s:02d}", "x.wav", None, None, "sad", None, None))
        out.append(Item("emobank/1", "emobank", None, None, "t", "emobank/1", None, 0.1, 0.2))
        return out

    def test_speaker_independent_and_complete(self):
        items = self.items()
        speech = [it for it in items if it.speaker]
        seen = []
        for fold in range(5):
            train, test = split_fold(items, 5, fold)
            self.assertFalse({it.speaker for it in train} & {it.speaker for it in test})
            self.assertEqual(len(train) + len(test), len(speech))
            self.assertTrue({it.corpus for it in test} == {"emodb", "ravdess"})
            seen += [it.id for it in test]
        self.assertEqual(sorted(seen), sorted(it.id for it in speech))

    def test_extra_emotions_only_of_training_speakers(self):
        from dataclasses import replace

        from emotionbatch_training.train import auxiliary_targets, extra_emotions_of
        items = [it for it in self.items() if it.speaker]
        extra = [replace(it, id=it.id + "x", category=None, extra_category="fear") for it in items]
        train, test = split_fold(items, 5, 0)
        trained = extra_emotions_of(train, extra)
        self.assertEqual({it.speaker for it in trained}, {it.speaker for it in train})
        self.assertEqual(len(trained), len(train))
        targets = auxiliary_targets([train[0], extra[0], replace(train[0], category=None)], extra_classes=True)
        self.assertEqual(targets.tolist(), [2, 7, -1])  # sad; fear after the four and boredom, calm, disgust
        self.assertEqual(auxiliary_targets([train[0], extra[0]], extra_classes=False).tolist(), [2, -1])

    def test_balanced_speaker_counts(self):
        counts = [0] * 5
        for fold in speaker_fold_map(self.items(), 5).values():
            counts[fold] += 1
        self.assertLessEqual(max(counts) - min(counts), 1)


if __name__ == "__main__":
    unittest.main()
