"""Channel conditions: the telephone test condition and the augmentations that train for telephone and noisy audio.

Every condition is a deterministic function of (waveform, item id, condition name), so the feature cache can hold
each augmented copy once. Codecs run through ffmpeg, as the worker's decoder would see them; noise, reverberation,
gain and speed are applied in numpy.

  clean        the corpus file as decoded.
  telephone    the test condition: 300-3400 Hz band, 8 kHz, G.711 mu-law, back to 16 kHz (ffmpeg).
  phone_a / phone_b
               training copies: noise at 5-20 dB SNR (half of the clips), then one of G.711 mu-law, G.711 A-law,
               GSM 06.10, Opus at 8, 12 or 16 kbit/s or G.726 at 32 kbit/s, band-limited to one of four telephone
               bands at 8 kHz, back to 16 kHz. (AMR-NB: Debian's ffmpeg has no encoder for it.)
  room         full band: speed perturbation 0.9-1.1, synthetic reverberation (RT60 0.2-0.8 s), noise at
               5-20 dB SNR (white, pink, brown or babble of other clips), gain -12..+6 dB.
"""

from __future__ import annotations

import subprocess
import zlib
from typing import Callable, Optional

import numpy as np

SAMPLE_RATE = 16000
TRAIN_CONDITIONS = ("clean", "phone_a", "phone_b", "room")
TEST_CONDITIONS = ("clean", "telephone")

_CODECS = (
    ("mulaw", ["-c:a", "pcm_mulaw", "-f", "wav"]),
    ("alaw", ["-c:a", "pcm_alaw", "-f", "wav"]),
    ("gsm", ["-c:a", "libgsm", "-f", "gsm"]),
    ("opus8", ["-c:a", "libopus", "-b:a", "8k", "-f", "ogg"]),
    ("opus12", ["-c:a", "libopus", "-b:a", "12k", "-f", "ogg"]),
    ("opus16", ["-c:a", "libopus", "-b:a", "16k", "-f", "ogg"]),
    ("g726", ["-c:a", "g726", "-b:a", "32k", "-f", "wav"]),
)


_BANDS = ((200, 3400), (300, 3400), (300, 3000), (400, 3600))  # telephone pass bands of the phone_* copies, Hz


def _rng(item_id: str, condition: str) -> np.random.Generator:
    return np.random.default_rng(zlib.crc32(f"{item_id}|{condition}".encode("utf-8")))


def through_ffmpeg(wav: np.ndarray, filters: str, encode: list[str], decode_format: Optional[str] = None) -> np.ndarray:
    """16 kHz float mono -> filters -> 8 kHz codec -> decoded back to 16 kHz float (two ffmpeg processes)."""
    enc = subprocess.run(
        ["ffmpeg", "-nostdin", "-hide_banner", "-loglevel", "error", "-f", "f32le", "-ar", str(SAMPLE_RATE), "-ac", "1",
         "-i", "pipe:0", "-af", filters, "-ar", "8000", "-ac", "1", *encode, "pipe:1"],
        input=wav.astype("<f4").tobytes(), capture_output=True, check=True)
    raw = ["-f", decode_format, "-ar", "8000"] if decode_format else []  # a headerless stream needs its rate
    dec = subprocess.run(
        ["ffmpeg", "-nostdin", "-hide_banner", "-loglevel", "error", *raw, "-i", "pipe:0",
         "-ar", str(SAMPLE_RATE), "-ac", "1", "-f", "f32le", "pipe:1"],
        input=enc.stdout, capture_output=True, check=True)
    out = np.frombuffer(dec.stdout, dtype="<f4").copy()
    # Resampler delay may add or drop a few samples; keep the original length so frames align.
    if len(out) >= len(wav):
        return out[: len(wav)]
    return np.pad(out, (0, len(wav) - len(out)))


_GAP = SAMPLE_RATE // 10  # silence between clips that share one ffmpeg run; longer than any codec's memory


def through_ffmpeg_many(wavs: list[np.ndarray], filters: str, encode: list[str],
                        decode_format: Optional[str] = None) -> list[np.ndarray]:
    """One ffmpeg pair for many clips: clips joined with silent gaps, coded once, cut apart at the same offsets
    (a process per clip costs more than the coding itself)."""
    gap = np.zeros(_GAP, np.float32)
    joined = np.concatenate([part for w in wavs for part in (w.astype(np.float32), gap)])
    coded = through_ffmpeg(joined, filters, encode, decode_format)
    out, offset = [], 0
    for w in wavs:
        out.append(coded[offset: offset + len(w)].astype(np.float32))
        offset += len(w) + _GAP
    return out


# The telephone test condition's band (ffmpeg filters); worker_check.py makes its telephone recordings with it too.
TELEPHONE_FILTER = "highpass=f=300,lowpass=f=3400"


def telephone_many(wavs: list[np.ndarray]) -> list[np.ndarray]:
    return through_ffmpeg_many(wavs, TELEPHONE_FILTER, ["-c:a", "pcm_mulaw", "-f", "wav"])


def colored_noise(n: int, kind: str, rng: np.random.Generator) -> np.ndarray:
    white = rng.standard_normal(n)
    if kind == "white":
        return white
    spectrum = np.fft.rfft(white)
    f = np.maximum(np.fft.rfftfreq(n, 1.0 / SAMPLE_RATE), 20.0)
    spectrum /= np.sqrt(f) if kind == "pink" else f
    return np.fft.irfft(spectrum, n)


def add_noise(wav: np.ndarray, rng: np.random.Generator, babble: Optional[Callable[[int, np.random.Generator], np.ndarray]]) -> np.ndarray:
    snr_db = rng.uniform(5.0, 20.0)
    kinds = ["white", "pink", "brown"] + (["babble"] if babble else [])
    kind = kinds[rng.integers(len(kinds))]
    noise = babble(len(wav), rng) if kind == "babble" else colored_noise(len(wav), kind, rng)
    p_signal = float(np.mean(wav ** 2)) + 1e-10
    p_noise = float(np.mean(noise ** 2)) + 1e-10
    return wav + noise * np.sqrt(p_signal / (p_noise * 10 ** (snr_db / 10.0)))


def reverberate(wav: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    rt60 = rng.uniform(0.2, 0.8)
    n = int(rt60 * SAMPLE_RATE)
    t = np.arange(n) / SAMPLE_RATE
    rir = rng.standard_normal(n) * np.exp(-6.9 * t / rt60)  # -60 dB at rt60
    rir[0] = 1.0 / rng.uniform(0.3, 1.0)  # direct path, stronger when the speaker is close
    size = 1 << int(np.ceil(np.log2(len(wav) + n)))
    wet = np.fft.irfft(np.fft.rfft(wav, size) * np.fft.rfft(rir, size), size)[: len(wav)]
    return wet * (np.sqrt(np.mean(wav ** 2)) / (np.sqrt(np.mean(wet ** 2)) + 1e-10))


def speed(wav: np.ndarray, factor: float) -> np.ndarray:
    """Resampling speed perturbation (tempo and pitch move together, as in Kaldi's speed perturbation)."""
    n = max(1, int(round(len(wav) / factor)))
    return np.interp(np.arange(n) * factor, np.arange(len(wav)), wav)


def apply_many(condition: str, wavs: list[np.ndarray], item_ids: list[str],
               babble: Optional[Callable[[int, np.random.Generator], np.ndarray]] = None) -> list[np.ndarray]:
    """The condition applied to every clip; random choices are drawn per clip from (item id, condition)."""
    if condition == "clean":
        return list(wavs)
    if condition == "telephone":
        return telephone_many(wavs)
    if condition == "room":
        return [_room(w, _rng(i, condition), babble) for w, i in zip(wavs, item_ids)]
    if not condition.startswith("phone"):
        raise ValueError(f"unknown channel condition {condition!r}")
    # Clips that drew the same codec and band share one ffmpeg run.
    groups: dict[tuple[int, int], list[int]] = {}
    noisy = []
    for k, (w, item_id) in enumerate(zip(wavs, item_ids)):
        rng = _rng(item_id, condition)
        noisy.append(np.clip(add_noise(w, rng, babble), -1, 1) if rng.random() < 0.5 else w)
        groups.setdefault((int(rng.integers(len(_CODECS))), int(rng.integers(len(_BANDS)))), []).append(k)
    out: list[Optional[np.ndarray]] = [None] * len(wavs)
    for (codec, band), members in sorted(groups.items()):
        name, encode = _CODECS[codec]
        low, high = _BANDS[band]
        coded = through_ffmpeg_many([noisy[k] for k in members], f"highpass=f={low},lowpass=f={high}", encode,
                                    "gsm" if name == "gsm" else None)
        for k, w in zip(members, coded):
            out[k] = w
    return out  # type: ignore[return-value]



def _room(wav: np.ndarray, rng: np.random.Generator,
          babble: Optional[Callable[[int, np.random.Generator], np.ndarray]]) -> np.ndarray:
    x = speed(wav, rng.uniform(0.9, 1.1))
    if rng.random() < 0.6:
        x = reverberate(x, rng)
    if rng.random() < 0.7:
        x = add_noise(x, rng, babble)
    x = x * 10 ** (rng.uniform(-12.0, 6.0) / 20.0)
    return np.clip(x, -1, 1).astype(np.float32)
