"""Corpus adapters: each turns one corpus into Items with the project's four classes and -1..1 valence/arousal.

Label mappings (explicit; anything not listed is dropped from the four-class task):
  Emo-DB  (emotion letter in the file name): W anger -> angry, F happiness -> happy, T sadness -> sad,
          N neutral -> neutral; L boredom, E disgust, A fear dropped.
  RAVDESS (emotion field 3 of the file name): 05 angry -> angry, 03 happy -> happy, 04 sad -> sad,
          01 neutral -> neutral; 02 calm, 06 fearful, 07 disgust, 08 surprised dropped (calm is not folded
          into neutral: it is acted as a distinct, low-arousal emotion).
  ASED    (emotion letter, first character of the file name, case-insensitive): a -> angry, h -> happy,
          s -> sad, n -> neutral (fear is not in the shared copy); speaker = the last field (PP), not the gender field.
  nEMO    (emotion word in the file name): anger -> angry, happiness -> happy, sadness -> sad, neutral -> neutral;
          speaker = the prefix; the Polish transcript from data.tsv is the item's (emotion-free) text.
  MELD, GoEmotions (text only): the corpus's own label4 column (anger -> angry, joy -> happy, sadness -> sad,
          neutral -> neutral); rows with an empty label4 (surprise, fear, disgust, mixed labels) are dropped.
  Extra classes (data.extra_classes; Emo-DB and RAVDESS only, the other corpora here have none): Emo-DB L -> boredom,
          E -> disgust, A -> fear; RAVDESS 02 -> calm, 06 -> fear, 07 -> disgust, 08 -> surprise. They train only the
          auxiliary acoustic classifier (more voices and more contrasts for the scratch encoder); they are never in a
          test fold's four-class scores and carry no valence/arousal targets.
  EmoBank: no category; V and A on the 1..5 SAM scale mapped to -1..1 by (x - 3) / 2.
  Generic CSV (IEMOCAP, MSP-Podcast, ...): columns path, speaker and/or session, text, category, valence, arousal;
          category must be one of the four labels or empty (map e.g. IEMOCAP excited -> happy when writing the CSV);
          valence/arousal are mapped linearly from the corpus range given in the config to -1..1. A speaker or
          session column is required (speaker-independent folds need it); without a speaker column the session
          stands in for the speaker.
"""

from __future__ import annotations

import csv
import random
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Optional, Sequence

from . import LABELS

EMODB_MAP = {"W": "angry", "F": "happy", "T": "sad", "N": "neutral"}
RAVDESS_MAP = {"05": "angry", "03": "happy", "04": "sad", "01": "neutral"}
ASED_MAP = {"a": "angry", "h": "happy", "s": "sad", "n": "neutral"}
EMODB_EXTRA_MAP = {"L": "boredom", "E": "disgust", "A": "fear"}
RAVDESS_EXTRA_MAP = {"02": "calm", "06": "fear", "07": "disgust", "08": "surprise"}
EXTRA_LABELS = ("boredom", "calm", "disgust", "fear", "surprise")
NEMO_MAP = {"anger": "angry", "happiness": "happy", "sadness": "sad", "neutral": "neutral"}
# GoEmotions' train split is 34k labelled comments; a fixed seeded subset keeps text encoding and epochs short.
GOEMOTIONS_TRAIN_LIMIT = 12000

# The fixed prompts; they carry no emotion (every prompt is spoken in every emotion).
EMODB_SENTENCES = {
    "a01": "Der Lappen liegt auf dem Eisschrank.",
    "a02": "Das will sie am Mittwoch abgeben.",
    "a04": "Heute abend könnte ich es ihm sagen.",
    "a05": "Das schwarze Stück Papier befindet sich da oben neben dem Holzstück.",
    "a07": "In sieben Stunden wird es soweit sein.",
    "b01": "Was sind denn das für Tüten, die da unter dem Tisch stehen?",
    "b02": "Sie haben es gerade hochgetragen und jetzt gehen sie wieder runter.",
    "b03": "An den Wochenenden bin ich jetzt immer nach Hause gefahren und habe Agnes besucht.",
    "b09": "Ich will das eben wegbringen und dann mit Karl was trinken gehen.",
    "b10": "Die wird auf dem Platz sein, wo wir sie immer hinlegen.",
}
RAVDESS_STATEMENTS = {"01": "Kids are talking by the door", "02": "Dogs are sitting by the door"}


@dataclass(frozen=True)
class Item:
    id: str
    corpus: str
    speaker: Optional[str]  # None for text-only corpora: they never enter a speaker fold
    audio: Optional[str]
    text: Optional[str]
    text_id: Optional[str]  # key into the text-feature cache; shared by items with the same text
    category: Optional[str]
    valence: Optional[float]
    arousal: Optional[float]
    dominance: Optional[float] = None
    split: Optional[str] = None
    # RAVDESS only: "normal" or "strong" acted intensity (used to scale the proxy valence/arousal targets).
    intensity: Optional[str] = None
    # True when valence/arousal are proxy targets derived from the category (proxy_targets.py), not ratings.
    proxy_dimensions: bool = False
    # Recording session (generic CSV corpora that have one, e.g. IEMOCAP's Ses01..Ses05); folds.py can fold by it.
    session: Optional[str] = None
    # An emotion outside the four (EXTRA_LABELS; category is then None): trains the auxiliary classifier only.
    extra_category: Optional[str] = None


def sam_to_bipolar(x: float) -> float:
    """1..5 Self-Assessment-Manikin rating -> -1..1 (3 = neutral = 0)."""
    return (x - 3.0) / 2.0


def linear_to_bipolar(x: float, lo: float, hi: float) -> float:
    return 2.0 * (x - lo) / (hi - lo) - 1.0


def emodb(root: Path, extra: bool = False) -> list[Item]:
    """The four-class items; with extra, instead the items of the other emotions (EMODB_EXTRA_MAP)."""
    items = []
    for wav in sorted((root / "emodb" / "wav").glob("*.wav")):
        stem = wav.stem  # e.g. 03a01Fa: speaker, sentence, emotion letter, version
        category, other = EMODB_MAP.get(stem[5]), EMODB_EXTRA_MAP.get(stem[5])
        if (other if extra else category) is None:
            continue
        sentence = stem[2:5]
        items.append(Item(id=f"emodb/{stem}", corpus="emodb", speaker=f"emodb/{stem[:2]}", audio=str(wav),
                          text=EMODB_SENTENCES[sentence], text_id=f"emodb/{sentence}", category=category,
                          valence=None, arousal=None, extra_category=other if extra else None))
    return items


def ravdess(root: Path, extra: bool = False) -> list[Item]:
    """The four-class items; with extra, instead the items of the other emotions (RAVDESS_EXTRA_MAP)."""
    items = []
    for f in sorted((root / "ravdess" / "flac").glob("*.flac")):
        fields = f.stem.split("-")  # modality, channel, emotion, intensity, statement, repetition, actor
        category, other = RAVDESS_MAP.get(fields[2]), RAVDESS_EXTRA_MAP.get(fields[2])
        if (other if extra else category) is None:
            continue
        items.append(Item(id=f"ravdess/{f.stem}", corpus="ravdess", speaker=f"ravdess/{fields[6]}", audio=str(f),
                          text=RAVDESS_STATEMENTS[fields[4]], text_id=f"ravdess/{fields[4]}", category=category,
                          valence=None, arousal=None, intensity="strong" if fields[3] == "02" else "normal",
                          extra_category=other if extra else None))
    return items


def ased(root: Path) -> list[Item]:
    items = []
    for f in sorted((root / "ased" / "flac").glob("*.flac")):
        fields = f.stem.split("-")  # E#, sentence, repetition, gender, speaker
        category = ASED_MAP.get(fields[0][:1].lower())
        if category is None:
            continue
        items.append(Item(id=f"ased/{f.stem}", corpus="ased", speaker=f"ased/{fields[4]}", audio=str(f),
                          text=None, text_id=None, category=category, valence=None, arousal=None))
    return items


def nemo(root: Path) -> list[Item]:
    transcripts = {}
    with open(root / "nemo" / "data.tsv", newline="", encoding="utf-8") as fh:
        for row in csv.DictReader(fh, delimiter="\t"):
            transcripts[row["file_id"].strip()] = row["raw_text"].strip()
    items = []
    for f in sorted((root / "nemo" / "flac").glob("*.flac")):
        speaker, emotion, _ = f.stem.split("_")
        category = NEMO_MAP.get(emotion)
        if category is None:
            continue
        text = transcripts.get(f.name)
        items.append(Item(id=f"nemo/{f.stem}", corpus="nemo", speaker=f"nemo/{speaker}", audio=str(f),
                          text=text, text_id=f"nemo/{f.stem}" if text else None, category=category,
                          valence=None, arousal=None))
    return items


def _text_categories(path: Path, corpus: str, id_of: Callable[[dict], str], train_limit: int = 0) -> list[Item]:
    items = []
    with open(path, newline="", encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            label = (row.get("label4") or "").strip()
            text = " ".join((row.get("text") or "").split())
            if label not in LABELS or not text:
                continue
            item_id = f"{corpus}/{id_of(row)}"
            items.append(Item(id=item_id, corpus=corpus, speaker=None, audio=None, text=text, text_id=item_id,
                              category=label, valence=None, arousal=None, split=row["split"]))
    if train_limit:
        train = [it for it in items if it.split == "train"]
        keep = {it.id for it in random.Random(17).sample(train, min(train_limit, len(train)))}
        items = [it for it in items if it.split != "train" or it.id in keep]
    return items


def meld(root: Path) -> list[Item]:
    return _text_categories(root / "text-emotion" / "meld.csv", "meld",
                            lambda r: f"{r['split']}-{r['dialogue_id']}-{r['utterance_id']}")


def goemotions(root: Path) -> list[Item]:
    return _text_categories(root / "text-emotion" / "goemotions-ekman.csv", "goemotions",
                            lambda r: r["comment_id"], GOEMOTIONS_TRAIN_LIMIT)


def emobank(root: Path) -> list[Item]:
    items = []
    with open(root / "emobank" / "emobank-train-dev.csv", newline="", encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            items.append(Item(id=f"emobank/{row['id']}", corpus="emobank", speaker=None, audio=None,
                              text=row["text"], text_id=f"emobank/{row['id']}", category=None,
                              valence=sam_to_bipolar(float(row["V"])), arousal=sam_to_bipolar(float(row["A"])),
                              dominance=sam_to_bipolar(float(row["D"])), split=row["split"]))
    return items


GROUP_COLUMNS = ("speaker", "session")


def generic_csv(path: Path, name: str, va_range: Optional[Sequence[float]] = None) -> list[Item]:
    """path, speaker and/or session, text, category, valence, arousal (empty = unknown); relative audio paths are
    CSV-relative. Every row needs its speaker (or, without a speaker column, its session): without one, the folds
    could put one speaker's utterances on both sides of a split."""
    items = []
    with open(path, newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        columns = [c.strip() for c in reader.fieldnames or []]
        present = [c for c in GROUP_COLUMNS if c in columns]
        if not present:
            raise ValueError(f"{path}: corpus {name!r} needs a 'speaker' or 'session' column for speaker-independent "
                             f"folds; its columns are {columns}")
        for i, row in enumerate(reader):
            line = i + 2
            row = {(k or "").strip(): v for k, v in row.items()}
            category = (row.get("category") or "").strip().lower() or None
            if category is not None and category not in LABELS:
                raise ValueError(f"{path}:{line}: category {category!r} is not one of {LABELS}; map it in the CSV")
            groups = {c: (row.get(c) or "").strip() for c in present}
            for column, value in groups.items():
                if not value:
                    raise ValueError(f"{path}:{line}: empty '{column}' (corpus {name!r}); every row needs one")
            audio = (row.get("path") or "").strip() or None
            if audio and not Path(audio).is_absolute():
                audio = str((path.parent / audio).resolve())
            text = (row.get("text") or "").strip() or None

            def va(key: str) -> Optional[float]:
                raw = (row.get(key) or "").strip()
                if not raw:
                    return None
                x = float(raw)
                return linear_to_bipolar(x, *va_range) if va_range else x

            item_id = f"{name}/{i:06d}"
            session = f"{name}/{groups['session']}" if "session" in groups else None
            speaker = f"{name}/{groups['speaker']}" if "speaker" in groups else session
            items.append(Item(id=item_id, corpus=name, speaker=speaker, audio=audio,
                              text=text, text_id=item_id if text else None, category=category,
                              valence=va("valence"), arousal=va("arousal"), session=session))
    return items


ADAPTERS: dict[str, Callable[[Path], list[Item]]] = {
    "emodb": emodb, "ravdess": ravdess, "ased": ased, "nemo": nemo,
    "emobank": emobank, "meld": meld, "goemotions": goemotions}


EXTRA_ADAPTERS: dict[str, Callable[[Path], list[Item]]] = {
    "emodb": lambda root: emodb(root, extra=True), "ravdess": lambda root: ravdess(root, extra=True)}


def extra_class_items(data_root: Path, corpora: Sequence[str]) -> list[Item]:
    """Speech items of emotions outside the four, from the corpora that have them."""
    return [it for name in corpora if name in EXTRA_ADAPTERS for it in EXTRA_ADAPTERS[name](data_root)]


def auxiliary_labels(extra_classes: bool) -> tuple[str, ...]:
    """The auxiliary acoustic classifier's outputs: the four labels, then the extra emotions when they are trained."""
    return tuple(LABELS) + (EXTRA_LABELS if extra_classes else ())


def load_items(data_root: Path, corpora: Sequence[str], csv_corpora: Sequence[dict] = ()) -> list[Item]:
    items: list[Item] = []
    for name in corpora:
        items.extend(ADAPTERS[name](data_root))
    for spec in csv_corpora:
        items.extend(generic_csv(Path(spec["path"]), spec["name"], spec.get("va_range")))
    return items
