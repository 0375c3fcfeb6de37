"""Fixed (untrained) speech features, built from exportable ops so training and the exported graph share one path.

FrameFeatures: waveform -> per-frame vector (10 ms hop, 25 ms Hann window) of
  log-mel (n_mels), MFCC (DCT-II of the log-mel), log energy, spectral centroid (kHz), spectral flatness (log),
  zero-crossing rate, voicing (peak of the normalised autocorrelation at 50-500 Hz lags) and log f0 at that peak.
  No per-utterance normalisation: loudness and its dynamics are the main arousal cues.
Functionals: per-utterance statistics of those frames (mean, std, 10th and 90th percentile of MFCC, delta-MFCC,
  log-mel, energy, centroid, flatness, ZCR; f0 statistics over voiced frames; voiced fraction; log duration), the
  classical feature set of speech emotion recognition. The model gets them as an extra acoustic token and the
  yardstick (yardstick.py) classifies them with an SVM.
Padding invariance: frames past an utterance's length are zeroed before any operation that mixes frames, so a
padded batch gives each utterance exactly what it gets alone.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

import torchaudio

N_MFCC = 20
MIN_F0, MAX_F0 = 50.0, 500.0  # the search range; see FrameFeatures for the floor a 25 ms window sets
VOICED_THRESHOLD = 0.45
_SORT_FILL = 1e4  # padded frames sort after every real value


class LogMelFrontEnd(nn.Module):
    """Log-mel spectrogram from exportable ops: conv1d with a fixed windowed DFT basis, then a fixed mel matrix.

    Matches torchaudio.transforms.MelSpectrogram(center=True, pad_mode="constant", power=2, mel_scale="htk")
    followed by log(x + 1e-6); torch.stft itself does not export to ONNX.
    """

    def __init__(self, sample_rate: int, n_fft: int, hop_length: int, n_mels: int, eps: float = 1e-6):
        super().__init__()
        self.n_fft = n_fft
        self.hop_length = hop_length
        self.eps = eps
        n_freq = n_fft // 2 + 1
        k = torch.arange(n_fft, dtype=torch.int64)
        f = torch.arange(n_freq, dtype=torch.int64)
        # (f*k) mod n_fft keeps the angle small, so float64 cos/sin are exact to float32 precision.
        angle = 2.0 * math.pi * ((f[:, None] * k[None, :]) % n_fft).double() / n_fft
        window = torch.hann_window(n_fft, periodic=True, dtype=torch.float64)
        basis = torch.cat([torch.cos(angle) * window, -torch.sin(angle) * window], dim=0)
        self.register_buffer("dft_basis", basis.float().unsqueeze(1), persistent=True)  # [2F, 1, n_fft]
        mel = torchaudio.functional.melscale_fbanks(
            n_freq, 0.0, sample_rate / 2.0, n_mels, sample_rate, norm=None, mel_scale="htk")
        self.register_buffer("mel_matrix", mel.float(), persistent=True)  # [F, n_mels]
        self.n_freq = n_freq

    def frame_lengths(self, lengths: torch.Tensor) -> torch.Tensor:
        frames = torch.div(lengths, self.hop_length, rounding_mode="floor") + 1
        return frames * (lengths > 0).to(frames.dtype)

    def forward(self, waveform: torch.Tensor, lengths: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """waveform [B, S] zero-padded, lengths [B] -> log-mel [B, T, n_mels], frame mask [B, T]."""
        x = F.pad(waveform.unsqueeze(1), (self.n_fft // 2, self.n_fft // 2))
        spec = F.conv1d(x, self.dft_basis, stride=self.hop_length)  # [B, 2F, T]
        real, imag = spec[:, : self.n_freq], spec[:, self.n_freq:]
        power = real * real + imag * imag
        mel = torch.matmul(power.transpose(1, 2), self.mel_matrix)
        logmel = torch.log(mel + self.eps)
        frames = torch.arange(logmel.size(1), device=logmel.device)
        mask = (frames.unsqueeze(0) < self.frame_lengths(lengths).unsqueeze(1)).to(logmel.dtype)
        return logmel, mask


def dct_matrix(n_in: int, n_out: int) -> torch.Tensor:
    """Orthonormal DCT-II as [n_in, n_out] (librosa/torchaudio MFCC convention)."""
    n = torch.arange(n_in, dtype=torch.float64)
    k = torch.arange(n_out, dtype=torch.float64)
    basis = torch.cos(math.pi / n_in * (n[:, None] + 0.5) * k[None, :]) * math.sqrt(2.0 / n_in)
    basis[:, 0] /= math.sqrt(2.0)
    return basis.float()


class FrameFeatures(nn.Module):
    """waveform [B, S], lengths [B] -> frames [B, T, dim], mask [B, T]."""

    def __init__(self, sample_rate: int, n_fft: int, hop_length: int, n_mels: int):
        super().__init__()
        self.logmel = LogMelFrontEnd(sample_rate, n_fft, hop_length, n_mels)
        self.n_mels = n_mels
        self.register_buffer("dct", dct_matrix(n_mels, N_MFCC), persistent=True)
        n_freq = n_fft // 2 + 1
        self.register_buffer("freqs_khz", torch.linspace(0, sample_rate / 2000.0, n_freq), persistent=True)
        # Autocorrelation from the power spectrum (Wiener-Khinchin), only at the lags of plausible f0.
        # The window's circular autocorrelation is only clean below half its length: with a 25 ms window the
        # lowest f0 measured is 80 Hz (lag 199), not MIN_F0.
        lags = torch.arange(int(sample_rate / MAX_F0), min(int(sample_rate / MIN_F0), n_fft // 2), dtype=torch.float64)
        f = torch.arange(n_freq, dtype=torch.float64)
        weight = torch.full((n_freq,), 2.0, dtype=torch.float64)
        weight[0] = 1.0
        if n_fft % 2 == 0:
            weight[-1] = 1.0
        cos = torch.cos(2 * math.pi * f[:, None] * lags[None, :] / n_fft) * weight[:, None]
        # The Hann window's own autocorrelation divides out its taper (Boersma 1993).
        window = torch.hann_window(n_fft, periodic=True, dtype=torch.float64)
        w_ac = torch.stack([(window * torch.roll(window, -int(lag))).sum() for lag in lags]) / (window * window).sum()
        self.register_buffer("acf_basis", (cos / w_ac[None, :]).float(), persistent=True)  # [F, lags]
        self.register_buffer("acf_zero", weight.float(), persistent=True)
        self.register_buffer("log_f0_of_lag", torch.log(sample_rate / lags).float(), persistent=True)
        self.register_buffer("zcr_kernel", torch.ones(1, 1, n_fft) / n_fft, persistent=True)
        self.n_fft = n_fft
        self.hop_length = hop_length
        self.dim = n_mels + N_MFCC + 6

    def forward(self, waveform: torch.Tensor, lengths: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        fe = self.logmel
        x = F.pad(waveform.unsqueeze(1), (self.n_fft // 2, self.n_fft // 2))
        spec = F.conv1d(x, fe.dft_basis, stride=self.hop_length)
        real, imag = spec[:, : fe.n_freq], spec[:, fe.n_freq:]
        power = (real * real + imag * imag).transpose(1, 2)  # [B, T, F]
        logmel = torch.log(torch.matmul(power, fe.mel_matrix) + fe.eps)
        mfcc = torch.matmul(logmel, self.dct)
        total = power.sum(-1, keepdim=True)
        log_energy = torch.log(total + 1e-6)
        centroid = torch.matmul(power, self.freqs_khz.unsqueeze(1)) / (total + 1e-6)
        flatness = torch.log(power + 1e-8).mean(-1, keepdim=True) - torch.log(power.mean(-1, keepdim=True) + 1e-8)
        acf = torch.matmul(power, self.acf_basis) / (torch.matmul(power, self.acf_zero.unsqueeze(1)) + 1e-6)
        voicing, lag = acf.max(dim=-1, keepdim=True)
        log_f0 = self.log_f0_of_lag[lag]
        sign = torch.sign(waveform)
        # A crossing counts only between two real samples, not into the batch's zero padding.
        samples = (torch.arange(waveform.size(1), device=waveform.device).unsqueeze(0) < lengths.unsqueeze(1))
        crossings = torch.abs(sign[:, 1:] - sign[:, :-1]) * 0.5 * samples[:, 1:].to(waveform.dtype)
        crossings = F.pad(crossings.unsqueeze(1), (self.n_fft // 2 + 1, self.n_fft // 2))
        zcr = F.conv1d(crossings, self.zcr_kernel, stride=self.hop_length).transpose(1, 2)[:, : power.size(1)]
        frames = torch.cat([logmel, mfcc, log_energy, centroid, flatness, zcr, voicing.clamp(0.0, 1.0), log_f0], -1)
        steps = torch.arange(frames.size(1), device=frames.device)
        mask = (steps.unsqueeze(0) < fe.frame_lengths(lengths).unsqueeze(1)).to(frames.dtype)
        return frames * mask.unsqueeze(-1), mask


def masked_stats(x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """mean, std, p10, p90 over valid frames: x [B, T, C], mask [B, T] -> [B, 4C]; no valid frame -> zeros."""
    m = mask.unsqueeze(-1)
    n = m.sum(1)
    safe_n = n.clamp(min=1.0)
    mean = (x * m).sum(1) / safe_n
    std = torch.sqrt((((x - mean.unsqueeze(1)) * m) ** 2).sum(1) / safe_n + 1e-8)
    last = (safe_n - 1.0).to(torch.int64)  # [B, 1]
    # Each percentile needs only the tenth of the frames at its end: two partial selections of k = (T - 1) // 10 + 2
    # values (TopK in the graph) instead of a full sort. Padded frames sort after every real value in both.
    frames = torch._shape_as_tensor(x)[1]
    k = torch.minimum(torch.div(frames - 1, 10, rounding_mode="floor") + 2, frames)
    lowest, _ = torch.topk(x * m + (1.0 - m) * _SORT_FILL, k, dim=1, largest=False, sorted=True)
    highest, _ = torch.topk(x * m - (1.0 - m) * _SORT_FILL, k, dim=1, largest=True, sorted=True)

    def pick(values: torch.Tensor, index: torch.Tensor) -> torch.Tensor:
        return torch.gather(values, 1, index.unsqueeze(1).expand(-1, 1, x.size(2))).squeeze(1)

    p10 = torch.floor(last.to(x.dtype) * 0.1).to(torch.int64)  # ascending rank, at most k - 2
    p90 = torch.floor(last.to(x.dtype) * 0.9).to(torch.int64)  # its rank from the top, last - p90, is at most k - 1
    present = (n > 0).to(x.dtype)
    return torch.cat([mean, std, pick(lowest, p10), pick(highest, last - p90)], -1) * present


def deltas(x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """First-order regression deltas over +-2 frames (HTK), zero past the valid frames."""
    x = x * mask.unsqueeze(-1)
    padded = F.pad(x.transpose(1, 2), (2, 2))
    d = (2 * (padded[..., 4:] - padded[..., :-4]) + (padded[..., 3:-1] - padded[..., 1:-3])) / 10.0
    return d.transpose(1, 2) * mask.unsqueeze(-1)


class Functionals(nn.Module):
    """frames [B, T, dim] + mask -> utterance statistics [B, dim_out]."""

    def __init__(self, n_mels: int, frames_per_second: float):
        super().__init__()
        self.n_mels = n_mels
        self.frames_per_second = frames_per_second
        self.dim = 4 * (N_MFCC * 2 + n_mels + 4) + 4 + 3

    def forward(self, frames: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        m = self.n_mels
        logmel, mfcc = frames[..., :m], frames[..., m: m + N_MFCC]
        scalars = frames[..., m + N_MFCC: m + N_MFCC + 4]  # energy, centroid, flatness, zcr
        voicing, log_f0 = frames[..., -2], frames[..., -1:]
        voiced = (voicing > VOICED_THRESHOLD).to(frames.dtype) * mask
        n = mask.sum(1, keepdim=True)
        voiced_fraction = voiced.sum(1, keepdim=True) / n.clamp(min=1.0)
        mean_voicing = (voicing * mask).sum(1, keepdim=True) / n.clamp(min=1.0)
        log_duration = torch.log(n / self.frames_per_second + 0.01) * (n > 0).to(frames.dtype)
        return torch.cat([
            masked_stats(mfcc, mask), masked_stats(deltas(mfcc, mask), mask), masked_stats(logmel, mask),
            masked_stats(scalars, mask), masked_stats(log_f0, voiced),
            voiced_fraction, mean_voicing, log_duration], -1)


def _hz_to_mel(hz: torch.Tensor) -> torch.Tensor:
    return 2595.0 * torch.log10(1.0 + hz / 700.0)  # HTK, as LogMelFrontEnd's filterbank


def perturb_speaker(frames: torch.Tensor, mask: torch.Tensor, dct: torch.Tensor, sample_rate: int,
                    warp: float, pitch_semitones: float) -> torch.Tensor:
    """Training only, on FrameFeatures frames [B, T, dim]: each utterance as if spoken by another voice, with a
    random alpha in [1 - warp, 1 + warp] and an independent f0 shift in [-pitch_semitones, +pitch_semitones]."""
    b = frames.size(0)
    alpha = 1.0 + (torch.rand(b) * 2.0 - 1.0) * warp
    semitones = (torch.rand(b) * 2.0 - 1.0) * pitch_semitones
    return warp_voice(frames, mask, dct, sample_rate, alpha, semitones)


def warp_voice(frames: torch.Tensor, mask: torch.Tensor, dct: torch.Tensor, sample_rate: int,
               alpha: torch.Tensor, semitones: torch.Tensor) -> torch.Tensor:
    """frames [B, T, dim] -> the same utterances with the spectral envelope's frequency axis scaled by alpha [B] and
    f0 moved by semitones [B].

    Vocal tract length perturbation (Jaitly & Hinton 2013) done on the cached log-mel by interpolating between
    bands; MFCC are recomputed from the warped log-mel, centroid and zero-crossing rate scale with alpha. Level,
    flatness, voicing and timing are unchanged, so the prosodic emotion cues stay and only the voice changes.
    Frames past each length stay zero.
    """
    t = frames.size(1)
    n_mels = dct.size(0)
    alpha = alpha.reshape(-1, 1).to(frames.dtype)
    step = _hz_to_mel(torch.tensor(sample_rate / 2.0)) / (n_mels + 1)
    centres_hz = 700.0 * (10.0 ** (step * torch.arange(1, n_mels + 1) / 2595.0) - 1.0)
    # The warped spectrum at frequency f is the original one at f / alpha: read each band from there.
    position = (_hz_to_mel(centres_hz.unsqueeze(0) / alpha) / step - 1.0).clamp(0.0, n_mels - 1.0)  # [B, M]
    low = position.floor().long().clamp(max=n_mels - 2)
    weight = (position - low).unsqueeze(1)
    low = low.unsqueeze(1).expand(-1, t, -1)
    logmel = frames[..., :n_mels]
    warped = torch.gather(logmel, 2, low) * (1.0 - weight) + torch.gather(logmel, 2, low + 1) * weight
    mfcc = torch.matmul(warped, dct)
    energy, centroid, flatness, zcr, voicing, log_f0 = frames[..., n_mels + N_MFCC:].split(1, dim=-1)
    scale = alpha.unsqueeze(1)
    centroid = (centroid * scale).clamp(max=sample_rate / 2000.0)
    zcr = (zcr * scale).clamp(max=1.0)
    shift = semitones.reshape(-1, 1, 1).to(frames.dtype) * math.log(2.0) / 12.0
    out = torch.cat([warped, mfcc, energy, centroid, flatness, zcr, voicing, log_f0 + shift], dim=-1)
    return out * mask.unsqueeze(-1)


def mask_bands(frames: torch.Tensor, mask: torch.Tensor, dct: torch.Tensor, count: int, max_width: int = 8) -> torch.Tensor:
    """Training only, SpecAugment's frequency masks on FrameFeatures frames [B, T, dim]: `count` spans of up to
    max_width log-mel bands per utterance are flattened to that band's mean over the utterance (a zero after the frame
    path's cepstral mean normalisation), and the MFCC are recomputed. The functionals then see those bands with zero
    spread, a value inference never gives."""
    b, t, _ = frames.shape
    n_mels = dct.size(0)
    bands = torch.arange(n_mels).unsqueeze(0)
    hidden = torch.zeros(b, n_mels, dtype=torch.bool)
    for _ in range(count):
        width = torch.randint(0, max_width + 1, (b, 1))
        start = (torch.rand(b, 1) * (n_mels - width + 1)).floor()
        hidden |= (bands >= start) & (bands < start + width)
    m = mask.unsqueeze(-1)
    logmel = frames[..., :n_mels]
    mean = (logmel * m).sum(1, keepdim=True) / m.sum(1, keepdim=True).clamp(min=1.0)
    logmel = torch.where(hidden.unsqueeze(1), mean.expand(-1, t, -1), logmel) * m
    return torch.cat([logmel, torch.matmul(logmel, dct), frames[..., n_mels + N_MFCC:]], dim=-1)
