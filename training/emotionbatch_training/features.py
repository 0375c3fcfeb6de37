"""Decode-once caches: log-mel arrays for audio items, and token features for texts.

Text features come from the worker's `encode-text` command (frozen all-MiniLM-L6-v2, the same encoder the worker
runs at inference), in its folder format: features.f16 (little-endian float16 [sum(L_i), 384], [CLS]..[SEP]
included), index.tsv (id, offset_tokens, length_tokens), meta.json. Without it, training can run on stand-in
features of the same format (random, deterministic per id), which is only good for exercising the pipeline.
"""

from __future__ import annotations

import hashlib
import json
import zlib
from pathlib import Path
from typing import Iterable, Optional

import numpy as np
import torch
import torchaudio

from .config import ModelConfig
from .corpora import Item
from .model import LogMelFrontEnd


def load_waveform(path: str, sample_rate: int) -> torch.Tensor:
    wav, sr = torchaudio.load(path)
    wav = wav.mean(0)
    if sr != sample_rate:
        wav = torchaudio.functional.resample(wav, sr, sample_rate)
    return wav.clamp(-1.0, 1.0)


class LogMelCache:
    """One .npy per audio item under cache_dir/logmel-<frontend hash>/, float16 [T, n_mels]."""

    def __init__(self, cache_dir: Path, cfg: ModelConfig):
        key = f"{cfg.sample_rate}-{cfg.n_fft}-{cfg.hop_length}-{cfg.n_mels}"
        self.dir = cache_dir / f"logmel-{key}"
        self.cfg = cfg
        self.frontend = LogMelFrontEnd(cfg.sample_rate, cfg.n_fft, cfg.hop_length, cfg.n_mels)

    def path(self, item: Item) -> Path:
        return self.dir / (item.id.replace("/", "__") + ".npy")

    def build(self, items: Iterable[Item], log=print) -> None:
        todo = [it for it in items if it.audio and not self.path(it).exists()]
        self.dir.mkdir(parents=True, exist_ok=True)
        for n, it in enumerate(todo):
            wav = load_waveform(it.audio, self.cfg.sample_rate)
            with torch.no_grad():
                logmel, mask = self.frontend(wav.unsqueeze(0), torch.tensor([wav.numel()]))
            frames = int(mask.sum())
            tmp = self.path(it).with_suffix(".tmp.npy")
            np.save(tmp, logmel[0, :frames].numpy().astype(np.float16))
            tmp.replace(self.path(it))
            if (n + 1) % 200 == 0:
                log(f"  cached log-mel {n + 1}/{len(todo)}")

    def load(self, item: Item) -> np.ndarray:
        return np.load(self.path(item))


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


class TextFeatures:
    """Reads an encode-text folder; get(text_id) -> float32 [L, dim]."""

    def __init__(self, folder: Path):
        self.folder = folder
        self.meta = json.loads((folder / "meta.json").read_text()) if (folder / "meta.json").exists() else {}
        self.dim = int(self.meta.get("dim", 384))
        raw = np.fromfile(folder / "features.f16", dtype="<f2")
        self.features = raw.reshape(-1, self.dim)
        self.index: dict[str, tuple[int, int]] = {}
        with open(folder / "index.tsv", encoding="utf-8") as fh:
            for line in fh:
                parts = line.rstrip("\n").split("\t")
                if len(parts) < 3 or not parts[1].strip().isdigit():
                    continue  # header or blank line
                self.index[parts[0]] = (int(parts[1]), int(parts[2]))
        self.standin = bool(self.meta.get("standin", False))

    def __contains__(self, text_id: str) -> bool:
        return text_id in self.index

    def get(self, text_id: Optional[str]) -> Optional[np.ndarray]:
        if text_id is None or text_id not in self.index:
            return None
        offset, length = self.index[text_id]
        return self.features[offset: offset + length].astype(np.float32)

    def fingerprint(self) -> str:
        h = hashlib.sha256()
        h.update((self.folder / "index.tsv").read_bytes())
        return h.hexdigest()[:16]
