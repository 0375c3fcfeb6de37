"""CSV corpora must name their speakers or sessions; folds by session; table columns from the run's corpora."""

import json
import tempfile
import unittest
from pathlib import Path

import numpy as np

import _path  # noqa: F401

from emotionbatch_training.ablations import SCHEDULE, VARIANTS, paired_table, table
from emotionbatch_training.config import Config, TRAINING_ROOT
from emotionbatch_training.corpora import Item, generic_csv
from emotionbatch_training.export import manifest_metrics
from emotionbatch_training.folds import fold_unit, speaker_fold_map, split_fold
from emotionbatch_training.report import text_table

HEADER = "path,{groups}text,category,valence,arousal\n"


class CsvGroupColumnTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.root = Path(self.tmp.name)

    def tearDown(self):
        self.tmp.cleanup()

    def write(self, name, header, rows):
        path = self.root / name
        path.write_text(header + "".join(r + "\n" for r in rows))
        return path

    def test_missing_speaker_and_session_columns_fail_naming_file_and_columns(self):
        path = self.write("nogroups.csv", HEADER.format(groups=""), ["a.wav,hello,happy,,"])
        with self.assertRaises(ValueError) as caught:
            generic_csv(path, "mine")
        message = str(caught.exception)
        self.assertIn(str(path), message)
        self.assertIn("'speaker'", message)
        self.assertIn("'session'", message)

    def test_empty_speaker_value_fails_naming_the_line(self):
        path = self.write("blank.csv", HEADER.format(groups="speaker,"), ["a.wav,s1,hi,happy,,", "b.wav,,hi,sad,,"])
        with self.assertRaises(ValueError) as caught:
            generic_csv(path, "mine")
        self.assertIn(f"{path}:3", str(caught.exception))
        self.assertIn("speaker", str(caught.exception))

    def test_session_only_csv_uses_the_session_for_speaker_folds(self):
        path = self.write("sessions.csv", HEADER.format(groups="session,"), ["a.wav,Ses01,hi,happy,,", "b.wav,Ses02,,sad,,"])
        items = generic_csv(path, "iemocap")
        self.assertEqual([(it.speaker, it.session) for it in items],
                         [("iemocap/Ses01", "iemocap/Ses01"), ("iemocap/Ses02", "iemocap/Ses02")])

    def test_speaker_and_session_columns_are_both_kept(self):
        path = self.write("both.csv", HEADER.format(groups="speaker,session,"), ["a.wav,Ses01F,Ses01,hi,happy,,"])
        item = generic_csv(path, "iemocap")[0]
        self.assertEqual((item.speaker, item.session), ("iemocap/Ses01F", "iemocap/Ses01"))


def iemocap_like():
    """Five sessions of two speakers each, three items per speaker, and a corpus without sessions."""
    items = []
    for s in range(1, 6):
        for gender in "FM":
            for k in range(3):
                items.append(Item(f"iemocap/{s}{gender}{k}", "iemocap", f"iemocap/Ses0{s}{gender}", "x.wav", None, None,
                                  "sad", None, None, session=f"iemocap/Ses0{s}"))
    for spk in range(4):
        items.append(Item(f"emodb/{spk}", "emodb", f"emodb/{spk:02d}", "x.wav", None, None, "sad", None, None))
    items.append(Item("emobank/1", "emobank", None, None, "t", "emobank/1", None, 0.1, 0.2))
    return items


class SessionFoldTest(unittest.TestCase):
    def test_leave_one_session_out(self):
        items = [it for it in iemocap_like() if it.corpus == "iemocap"]
        for fold in range(5):
            train, test = split_fold(items, 5, fold, fold_by="session")
            self.assertEqual(len({it.session for it in test}), 1)
            self.assertFalse({it.session for it in train} & {it.session for it in test})
            self.assertFalse({it.speaker for it in train} & {it.speaker for it in test})
            self.assertEqual(len(train) + len(test), len(items))

    def test_ten_speaker_folds_or_five_session_folds(self):
        items = [it for it in iemocap_like() if it.corpus == "iemocap"]
        by_speaker = speaker_fold_map(items, 10)
        self.assertEqual(len(set(by_speaker.values())), 10)  # the paper's 10-fold: one speaker per fold
        by_session = speaker_fold_map(items, 5, fold_by="session")
        self.assertEqual(sorted(by_session), [f"iemocap/Ses0{s}" for s in range(1, 6)])

    def test_corpora_without_sessions_fold_by_speaker(self):
        items = iemocap_like()
        emodb = [it for it in items if it.corpus == "emodb"]
        self.assertEqual({fold_unit(it, "session") for it in emodb}, {it.speaker for it in emodb})
        seen = []
        for fold in range(3):
            train, test = split_fold(items, 3, fold, fold_by="session")
            self.assertFalse({fold_unit(it, "session") for it in train} & {fold_unit(it, "session") for it in test})
            seen += [it.id for it in test]
        self.assertEqual(sorted(seen), sorted(it.id for it in items if it.speaker))

    def test_a_speaker_in_sessions_of_two_folds_or_more_folds_than_sessions_fail(self):
        items = [it for it in iemocap_like() if it.corpus == "iemocap"]
        with self.assertRaisesRegex(ValueError, "at most 5"):
            speaker_fold_map(items, 6, fold_by="session")
        agent = [Item(f"calls/{s}", "calls", "calls/agent", "x.wav", None, None, "sad", None, None, session=f"calls/day{s}")
                 for s in range(3)]
        with self.assertRaisesRegex(ValueError, "calls/agent"):
            speaker_fold_map(items + agent, 5, fold_by="session")
        speaker_fold_map(items + agent, 5)  # by speaker the agent is one unit

    def test_unknown_fold_unit_fails(self):
        with self.assertRaises(ValueError):
            split_fold(iemocap_like(), 5, 0, fold_by="dialogue")


def metric(mean):
    return {"mean": mean, "std": 0.0, "folds": 2}


def cv_metrics(speech, texts, rated):
    per_corpus = {c: {"uar": metric(0.5), "war": metric(0.5), "macro_f1": metric(0.4),
                      "arousal_auc": metric(0.6), "valence_auc": metric(0.6)} for c in ["all", *speech]}
    folds = {"speech_clean_prompt": per_corpus, "speech_clean_none": per_corpus,
             **{f"text_{c}": {"uar": metric(0.3), "war": metric(0.4)} for c in texts},
             **{f"dimensional_{c}": {"ccc_valence": metric(0.2), "ccc_arousal": metric(0.1)} for c in rated}}
    return {"protocol": "test", "folds": folds, "per_fold": [{}, {}]}


class DataDrivenColumnsTest(unittest.TestCase):
    # The ablation table's header of the default run, as published in docs/model-card.md.
    DEFAULT_HEADER = ("| variant | folds | UAR audio only | UAR prompt text | UAR ASED | UAR Emo-DB | UAR nEMO | UAR RAVDESS "
                      "| UAR telephone | arousal AUC | valence AUC | UAR MELD dev (text) | CCC V EmoBank dev "
                      "| CCC A EmoBank dev |")

    def test_every_variant_is_the_default_on_the_short_schedule(self):
        default = Config.load(TRAINING_ROOT / "configs" / "default.json")
        for name, settings in VARIANTS.items():
            cfg = Config.load(TRAINING_ROOT / "configs" / "default.json", SCHEDULE)
            for setting in settings:
                cfg.set(setting)  # an unknown key fails here
            self.assertEqual(cfg.train.epochs, 4, name)
            for setting in ("ema_decay", "label_smoothing", "mixup"):
                self.assertEqual(getattr(cfg.train, setting), getattr(default.train, setting), name)

    def test_default_run_keeps_its_ablation_columns(self):
        run = cv_metrics(["ased", "emodb", "nemo", "ravdess"], ["meld", "goemotions"], ["emobank"])
        self.assertEqual(table([("reference", run)]).splitlines()[0], self.DEFAULT_HEADER)

    def test_paired_table_subtracts_the_reference_fold_by_fold(self):
        def run(uars, telephone=None):
            folds = [{"speech_clean_none": {"all": {"uar": u, "arousal_auc": 0.8, "valence_auc": 0.7}}} for u in uars]
            for fold, t in zip(folds, telephone or []):
                fold["speech_telephone_none"] = {"all": {"uar": t}}
            return {"folds": {}, "per_fold": folds}

        text = paired_table([("reference", run([0.5, 0.6, 0.7])), ("variant", run([0.4, 0.7, 0.6])),
                             ("other", run([0.6, 0.7, 0.8], telephone=[0.5, 0.5, 0.5]))])
        lines = text.splitlines()
        self.assertEqual(len(lines), 4)  # header, rule, one line per row that is not the reference
        variant = lines[2].split(" | ")
        self.assertEqual(variant[0], "| variant")
        self.assertEqual(variant[1], f"-0.033 ± {np.std([-0.1, 0.1, -0.1]):.3f} (2 of 3 lower)")
        self.assertEqual(variant[2], "-")  # no telephone figures in either
        self.assertEqual(variant[3], "+0.000 ± 0.000 (0 of 3 lower)")
        self.assertIn("+0.100 ± 0.000 (0 of 3 lower)", lines[3])
        self.assertEqual(paired_table([("variant", run([0.4]))]), "")

    def test_ablation_columns_follow_the_run(self):
        run = cv_metrics(["iemocap"], ["transcripts"], ["msp"])
        header = table([("reference", run)]).splitlines()[0]
        for column in ("UAR iemocap", "UAR transcripts dev (text)", "CCC V msp dev", "CCC A msp dev"):
            self.assertIn(column, header)
        for fixed in ("Emo-DB", "RAVDESS", "MELD", "EmoBank"):
            self.assertNotIn(fixed, header)

    def test_card_text_table_follows_the_run(self):
        default = text_table(cv_metrics(["emodb"], ["meld", "goemotions"], ["emobank"]))
        self.assertEqual([line.split(" | ")[0] for line in default.splitlines()[2:5]],
                         ["| MELD dev", "| GoEmotions dev", "| EmoBank dev"])
        other = text_table(cv_metrics(["iemocap"], [], ["msp"]))
        self.assertIn("| msp dev |", other)
        self.assertNotIn("MELD", other)

    def test_manifest_metrics_name_the_run_corpora(self):
        with tempfile.TemporaryDirectory() as tmp:
            cv = Path(tmp)
            (cv / "metrics.json").write_text(json.dumps(cv_metrics(["iemocap"], ["transcripts"], ["msp"])))
            state = {"metrics": {"text_transcripts": {"uar": 0.3, "war": 0.4, "n": 5},
                                 "dimensional_msp": {"ccc_valence": 0.2, "ccc_arousal": 0.1, "n": 7},
                                 "text_features": "encode-text"}, "text_features": "encode-text"}
            out = manifest_metrics(state, cv)
        self.assertEqual(out["msp_dev"]["n"], 7)
        self.assertEqual(out["transcripts_dev_text_only"]["uar"], 0.3)
        self.assertEqual(set(out["text_cv"]), {"text_transcripts"})
        self.assertIn("msp_dev_cv", out)
        self.assertEqual(set(out["speech_cv"]["clean_none"]), {"all", "iemocap"})
        self.assertNotIn("emobank_dev", out)


if __name__ == "__main__":
    unittest.main()
