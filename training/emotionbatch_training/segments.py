"""The worker's own cut of each speech clip: the utterances `emotionbatch segment` lists (the decoder, Silero VAD and
settings `process` uses), so that the CV can test on what the worker hands the model, not on whole corpus clips with
their silence, and training can crop where the worker cuts.

  python -m emotionbatch_training.train clips                      # writes training/cache/segments/input.tsv
  dotnet run -c Release --project src/EmotionBatch.Worker -- segment --input training/cache/segments/input.tsv \
      --output training/cache/segments/segments.tsv

The file belongs to the VAD settings it was cut with (EmotionBatch:Vad): rebuild it when they change.
"""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Optional, Sequence

import numpy as np

from .corpora import Item

HEADER = ["id", "utterance_index", "start_seconds", "end_seconds", "vad_threshold"]
# Files written before the worker's VAD had a fallback pass lack the threshold column; their times read the same.
HEADER_WITHOUT_THRESHOLD = HEADER[:4]


@dataclass(frozen=True)
class Span:
    """One clip's speech as the worker cuts it: from its first utterance's start to its last one's end, in seconds.
    A clip of several utterances (28 of the 4,367 shared clips with speech) keeps the pauses between them, where the
    worker scores each utterance and weights them by duration."""
    start: float
    end: float
    utterances: int


def write_clip_tsv(items: Iterable[Item], path: Path) -> Path:
    """id -> audio path of every speech item, the input of `emotionbatch segment`."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8", newline="\n") as fh:
        fh.write("id\tpath\n")
        for it in items:
            if it.audio:
                if any(c in it.id + it.audio for c in "\t\r\n"):
                    raise SystemExit(f"clip {it.id!r} ({it.audio!r}): a tab or line break cannot go into the clip list")
                fh.write(f"{it.id}\t{Path(it.audio).resolve()}\n")
    return path


def load_segments(path: Path) -> dict[str, Optional[Span]]:
    """id -> its Span, or None where the worker finds no speech in the clip."""
    with open(path, newline="", encoding="utf-8") as fh:
        reader = csv.reader(fh, delimiter="\t", quoting=csv.QUOTE_NONE)
        if next(reader, None) not in (HEADER, HEADER_WITHOUT_THRESHOLD):
            raise SystemExit(f"{path} is not a `emotionbatch segment` file (header {HEADER})")
        spans: dict[str, list[tuple[float, float]]] = {}
        for row in reader:
            if not row:
                continue
            times = spans.setdefault(row[0], [])
            if row[2]:
                times.append((float(row[2]), float(row[3])))
    return {clip: Span(min(s for s, _ in t), max(e for _, e in t), len(t)) if t else None for clip, t in spans.items()}


def missing_clips(segments: dict[str, Optional[Span]], items: Sequence[Item]) -> list[str]:
    return [it.id for it in items if it.audio and it.id not in segments]


def cut_frames(frames: np.ndarray, span: Span, frames_per_second: float,
               rng: Optional[np.random.Generator] = None, jitter_frames: int = 0) -> np.ndarray:
    """The frames of the worker's cut (at least one); in training each end moves by up to +-jitter_frames, so the
    model does not learn one VAD's exact edges."""
    # The small slack keeps float error (e.g. 2.0 x 110.00000000000001) from adding a frame at either end.
    start = int(math.floor(span.start * frames_per_second + 1e-6))
    end = int(math.ceil(span.end * frames_per_second - 1e-6))
    if rng is not None and jitter_frames > 0:
        start += int(rng.integers(-jitter_frames, jitter_frames + 1))
        end += int(rng.integers(-jitter_frames, jitter_frames + 1))
    start = min(max(0, start), len(frames) - 1)
    end = max(start + 1, min(len(frames), end))
    return frames[start:end]
