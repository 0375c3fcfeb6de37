"""Decode-once caches: fixed frame features of audio items under each channel condition, and token features for texts.

Text features come from the worker's `encode-text` command (frozen all-MiniLM-L6-v2, the same encoder the worker
runs at inference), in its folder format: features.f16 (little-endian float16 [sum(L_i), 384], [CLS]..[SEP]
included), index.tsv (id, offset_tokens, length_tokens), meta.json. Without it, training can run on stand-in
features of the same format (random, deterministic per id), which is only good for exercising the pipeline.
A frozen acoustic encoder's frames come from `encode-audio` in the same format (offset_frames, length_frames);
FeatureCache reads both (and features.f32 where meta.json says float32).
"""

from __future__ import annotations

import hashlib
import json
import os
import time
import zlib
from pathlib import Path
from typing import Iterable, Optional, Sequence

import numpy as np
import torch
import torchaudio

from . import channels
from .config import ModelConfig
from .corpora import Item
from .speech_features import FrameFeatures


def load_waveform(path: str, sample_rate: int) -> torch.Tensor:
    wav, sr = torchaudio.load(path)
    wav = wav.mean(0)
    if sr != sample_rate:
        wav = torchaudio.functional.resample(wav, sr, sample_rate)
    return wav.clamp(-1.0, 1.0)


def cache_group(item: Item) -> str:
    """The cache file an audio item lives in: its corpus, with the extra-emotion items apart, so that turning
    data.extra_classes on adds files instead of invalidating the four-class ones."""
    return f"{item.corpus}-extra" if item.extra_category else item.corpus


class SpeechFeatureCache:
    """FrameFeatures of every audio item under each channel condition, float16, one file pair per (condition, corpus):
    cache_dir/speech-<front end>/<condition>/<corpus>.f16 ([sum T_i, dim]) and <corpus>.json (id -> offset, frames).
    Built once per item set: each file is written under a temporary name of its own process and renamed, the index
    last. A file lacking items (built by a run with train.limit_per_corpus) is rebuilt; a run that reads one while
    another rebuilds it fails on the row count instead of reading frames at stale offsets."""

    def __init__(self, cache_dir: Path, cfg: ModelConfig):
        key = f"{cfg.sample_rate}-{cfg.n_fft}-{cfg.hop_length}-{cfg.n_mels}-v3"
        self.dir = cache_dir / f"speech-{key}"
        self.cfg = cfg
        self.frontend = FrameFeatures(cfg.sample_rate, cfg.n_fft, cfg.hop_length, cfg.n_mels)
        self.dim = self.frontend.dim
        self._loaded: dict[tuple[str, str], tuple[np.ndarray, dict[str, list[int]]]] = {}

    def features(self, wav: np.ndarray) -> np.ndarray:
        """[T, dim] frames of one conditioned clip."""
        with torch.no_grad():
            frames, mask = self.frontend(torch.from_numpy(np.ascontiguousarray(wav, np.float32)).unsqueeze(0),
                                         torch.tensor([len(wav)]))
        return frames[0, : int(mask.sum())].numpy()

    def _paths(self, condition: str, corpus: str) -> tuple[Path, Path]:
        return self.dir / condition / f"{corpus}.f16", self.dir / condition / f"{corpus}.json"

    def has(self, condition: str, corpus: str) -> bool:
        return self._paths(condition, corpus)[1].exists()

    def covers(self, condition: str, corpus: str, group: Sequence[Item]) -> bool:
        """Whether the (condition, corpus) file holds every item of group: one built by a run with
        train.limit_per_corpus holds only a few clips, and a later full run must rebuild it, not fail on a lookup."""
        if not self.has(condition, corpus):
            return False
        index = json.loads(self._paths(condition, corpus)[1].read_text())["items"]
        return all(it.id in index for it in group)

    def build(self, items: Sequence[Item], conditions: Sequence[str], log=print, chunk: int = 400) -> None:
        by_corpus: dict[str, list[Item]] = {}
        for it in items:
            if it.audio:
                by_corpus.setdefault(cache_group(it), []).append(it)
        for corpus, group in sorted(by_corpus.items()):
            wavs = None
            for condition in conditions:
                if self.covers(condition, corpus, group):
                    continue
                if self.has(condition, corpus):
                    log(f"  rebuilding {condition} features of {corpus}: the cache lacks some of its {len(group)} clips")
                    self._loaded.pop((condition, corpus), None)
                if wavs is None:
                    wavs = [load_waveform(it.audio, self.cfg.sample_rate).numpy() for it in group]
                started = time.time()
                self._write(condition, corpus, group, wavs, chunk)
                log(f"  cached {condition} features of {corpus}: {len(group)} clips in {time.time() - started:.0f} s")

    def _write(self, condition: str, corpus: str, group: list[Item], wavs: list[np.ndarray], chunk: int) -> None:
        data_path, index_path = self._paths(condition, corpus)
        data_path.parent.mkdir(parents=True, exist_ok=True)
        tmp = data_path.with_suffix(f".{os.getpid()}.tmp")
        index: dict[str, list[int]] = {}
        offset = 0

        def babble(n: int, rng: np.random.Generator) -> np.ndarray:
            """Four other clips of the corpus, each looped to n samples and scaled to unit power, summed."""
            out = np.zeros(n, np.float32)
            for k in rng.integers(len(wavs), size=4):
                reps = np.tile(wavs[k], n // max(1, len(wavs[k])) + 1)[:n]
                out += reps / (np.sqrt(np.mean(reps ** 2)) + 1e-8)
            return out

        with open(tmp, "wb") as fh:
            for start in range(0, len(group), chunk):
                part = group[start: start + chunk]
                coded = channels.apply_many(condition, wavs[start: start + chunk], [it.id for it in part], babble)
                for it, wav in zip(part, coded):
                    frames = self.features(wav)
                    n = len(frames)
                    fh.write(frames.astype("<f2").tobytes())
                    index[it.id] = [offset, n]
                    offset += n
        tmp.replace(data_path)
        tmp_index = index_path.with_suffix(f".{os.getpid()}.tmp")
        tmp_index.write_text(json.dumps({"dim": self.dim, "items": index}))
        tmp_index.replace(index_path)

    def _load(self, condition: str, corpus: str) -> tuple[np.ndarray, dict[str, list[int]]]:
        key = (condition, corpus)
        if key not in self._loaded:
            data_path, index_path = self._paths(condition, corpus)
            meta = json.loads(index_path.read_text())
            data = np.fromfile(data_path, dtype="<f2").reshape(-1, meta["dim"])
            rows = max((offset + n for offset, n in meta["items"].values()), default=0)
            if data.shape[0] != rows:
                raise RuntimeError(f"{data_path} has {data.shape[0]} frames but its index covers {rows}: another run is "
                                   "rebuilding it; run again when that one has started training")
            self._loaded[key] = (data, meta["items"])
        return self._loaded[key]

    def get(self, item: Item, condition: str = "clean") -> np.ndarray:
        """float16 [T, dim] (a view; convert before writing to it)."""
        data, index = self._load(condition, cache_group(item))
        offset, n = index[item.id]
        return data[offset: offset + n]


def text_rows(items: Iterable[Item]) -> dict[str, str]:
    """Unique text_id -> text, whitespace-normalised so it fits one TSV line."""
    rows: dict[str, str] = {}
    for it in items:
        if it.text_id and it.text and it.text_id not in rows:
            rows[it.text_id] = " ".join(it.text.split())
    return rows


def write_text_tsv(items: Iterable[Item], path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8", newline="\n") as fh:
        for text_id, text in text_rows(items).items():
            fh.write(f"{text_id}\t{text}\n")
    return path


def write_standin_features(tsv: Path, out: Path, dim: int = 384, max_length: int = 128) -> Path:
    """Random features in the encode-text folder format; one token per word plus [CLS] and [SEP]."""
    out.mkdir(parents=True, exist_ok=True)
    offset = 0
    with open(tsv, encoding="utf-8") as fh, open(out / "features.f16", "wb") as feats, \
            open(out / "index.tsv", "w", encoding="utf-8") as index:
        for line in fh:
            text_id, _, text = line.rstrip("\n").partition("\t")
            length = min(max_length, len(text.split()) + 2)
            rng = np.random.default_rng(zlib.crc32(text_id.encode("utf-8")))
            feats.write((rng.standard_normal((length, dim)) * 0.3).astype("<f2").tobytes())
            index.write(f"{text_id}\t{offset}\t{length}\n")
            offset += length
    (out / "meta.json").write_text(json.dumps({"encoder": "stand-in (random)", "dim": dim, "dtype": "float16",
                                               "tokens": offset, "standin": True}, indent=2) + "\n")
    return out


MEMORY_MAP_BYTES = 1 << 30
FEATURE_FILES = {"float16": ("features.f16", "<f2"), "float32": ("features.f32", "<f4")}


def read_cache_index(folder: Path) -> dict[str, tuple[int, int]]:
    """index.tsv of a feature cache: id -> (offset, length) in rows; the header and blank lines are skipped."""
    index: dict[str, tuple[int, int]] = {}
    with open(folder / "index.tsv", encoding="utf-8") as fh:
        for line in fh:
            parts = line.rstrip("\n").split("\t")
            if len(parts) < 3 or not parts[1].strip().isdigit():
                continue  # header or blank line
            index[parts[0]] = (int(parts[1]), int(parts[2]))
    return index


class FeatureCache:
    """Reads a feature-cache folder as the worker's encode-text and encode-audio commands write it: features.f16
    (little-endian float16, or features.f32 when meta.json says float32) holding every item's rows, index.tsv (id,
    offset, length in rows: tokens or frames) and meta.json (dim, dtype, ...). get(id) -> float32 [length, dim]."""

    def __init__(self, folder: Path):
        self.folder = folder
        self.meta = json.loads((folder / "meta.json").read_text()) if (folder / "meta.json").exists() else {}
        self.dim = int(self.meta.get("dim", 384))
        self.dtype = self.meta.get("dtype", "float16")
        if self.dtype not in FEATURE_FILES:
            raise ValueError(f"{folder / 'meta.json'}: dtype {self.dtype!r} is not one of {sorted(FEATURE_FILES)}")
        name, dtype = FEATURE_FILES[self.dtype]
        path = folder / name
        # Large caches (a frozen large encoder's frames of a whole corpus run to gigabytes) are memory-mapped.
        size = path.stat().st_size
        data = np.memmap(path, dtype=dtype, mode="r") if size > MEMORY_MAP_BYTES else np.fromfile(path, dtype=dtype)
        self.features = data.reshape(-1, self.dim)
        self.index = read_cache_index(folder)
        self.standin = bool(self.meta.get("standin", False))

    def __contains__(self, item_id: str) -> bool:
        return item_id in self.index

    def __len__(self) -> int:
        return len(self.index)

    def length(self, item_id: str) -> int:
        return self.index[item_id][1]

    def get(self, item_id: Optional[str]) -> Optional[np.ndarray]:
        if item_id is None or item_id not in self.index:
            return None
        offset, length = self.index[item_id]
        return np.array(self.features[offset: offset + length], dtype=np.float32)

    def fingerprint(self) -> str:
        h = hashlib.sha256()
        h.update((self.folder / "index.tsv").read_bytes())
        return h.hexdigest()[:16]


class TextFeatures(FeatureCache):
    """Reads an encode-text folder; get(text_id) -> float32 [L, dim]."""


class SpeechEmbeddingCache(SpeechFeatureCache):
    """The pretrained speech_embedding frames (speech_embedding.py: 96-d per 80 ms) of every audio item under each
    channel condition, laid out as SpeechFeatureCache's files and computed from exactly the same conditioned waveforms
    (same chunks, same per-clip random draws, same babble), so a clip's embeddings and its log-mel frames describe
    the same audio: cache_dir/speech-embedding-<hash of the two model files>/<condition>/<corpus>.f16 + .json.
    With model.embedding_finetune it holds the encoder's trunk rows instead (speech_embedding.Trunk; 192-d per 40 ms
    with 3 or 5 tuned convolutions, before the convolutions that are trained): cache_dir/speech-embedding-trunk<number
    of tuned convolutions>-<hash>/..."""

    def __init__(self, cache_dir: Path, cfg: ModelConfig, model_dir: Path):
        from .speech_embedding import DIM, SpeechEmbedding, fingerprint

        super().__init__(cache_dir, cfg)
        self.encoder = SpeechEmbedding(model_dir, cfg.embedding_tuned_convs)  # refuses a folder without the model first
        self.trunk = cfg.embedding_finetune
        self.geometry = self.encoder.geometry
        # The trunk ends where the trained convolutions start: a cache of another split point is another folder.
        self.dir = cache_dir / f"speech-embedding-{f'trunk{self.geometry.convs}-' if self.trunk else ''}{fingerprint(model_dir)}"
        self.dim = self.geometry.dim if self.trunk else DIM

    def features(self, wav: np.ndarray) -> np.ndarray:
        wav = np.asarray(wav, np.float32)
        return self.encoder.trunk_activations(wav) if self.trunk else self.encoder(wav)

    def span(self, rows: np.ndarray, first: int, end: int) -> np.ndarray:
        """A clip's cached rows for its 10 ms frames [first, end): the embeddings whose window lies within them
        (speech_embedding.embedding_frames), or the trunk rows that give those."""
        from .speech_embedding import embedding_frames

        if not self.trunk:
            return rows[embedding_frames(len(rows), first, end)]
        return rows[self.geometry.rows(embedding_frames(self.geometry.embeddings(len(rows)), first, end))]
