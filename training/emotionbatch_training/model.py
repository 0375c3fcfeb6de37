"""The multi-task, multi-modal emotion model (Ispas, Deschamps-Berger, Devillers 2023), sized for CPU training.

Paper -> code:
  1. pretrained features: acoustic frames from AcousticEncoder (here a small log-mel transformer trained from
     scratch; HuBERT-large in production, see export_hubert.py) and frozen MiniLM token features (computed outside).
  2. uni-modal refinement: one self-attention encoder layer per modality (FusionHead.refine_*).
  3. modality interaction: N learnable bridge tokens cross-attend to the acoustic frames, then to the text tokens.
  4. heads: 4-way categorical logits, valence, arousal from the pooled bridge tokens.
Masks are float (1 = valid). Every attention has at least one always-valid key (a learned null token) or is
evaluated with a finite fill value, so an all-zero modality mask still yields finite outputs.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
import torchaudio
from torch import nn

from .config import ModelConfig

_MASK_FILL = -1e9  # finite on purpose: an all-masked row then softmaxes to uniform instead of NaN


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


def masked_normalize(x: torch.Tensor, mask: torch.Tensor, eps: float = 1e-5) -> torch.Tensor:
    """Per-utterance, per-channel mean/variance normalisation over valid frames only; padding set to 0."""
    m = mask.unsqueeze(-1)
    n = m.sum(1, keepdim=True).clamp(min=1.0)
    mean = (x * m).sum(1, keepdim=True) / n
    var = (((x - mean) * m) ** 2).sum(1, keepdim=True) / n
    return (x - mean) / torch.sqrt(var + eps) * m


def masked_mean(x: torch.Tensor, mask: torch.Tensor, fallback: torch.Tensor) -> torch.Tensor:
    """Mean over valid positions; rows with no valid position get the learned fallback vector."""
    m = mask.unsqueeze(-1)
    n = m.sum(1)
    mean = (x * m).sum(1) / n.clamp(min=1.0)
    present = (n > 0).to(x.dtype)
    return present * mean + (1.0 - present) * fallback


def sinusoidal_positions(length: int | torch.Tensor, dim: int, like: torch.Tensor) -> torch.Tensor:
    # Computed in-graph from arange so exported graphs have no length limit.
    pos = torch.arange(length, device=like.device).to(like.dtype).unsqueeze(1)
    inv_freq = torch.exp(torch.arange(0, dim, 2, device=like.device).to(like.dtype) * (-math.log(10000.0) / dim))
    angles = pos * inv_freq.unsqueeze(0)
    return torch.cat([torch.sin(angles), torch.cos(angles)], dim=-1)


class MultiHeadAttention(nn.Module):
    """Scaled dot-product attention with a float key mask; written out so it exports and masks predictably."""

    def __init__(self, dim: int, heads: int, dropout: float):
        super().__init__()
        if dim % heads:
            raise ValueError("dim must be divisible by heads")
        self.heads = heads
        self.head_dim = dim // heads
        self.query = nn.Linear(dim, dim)
        self.key = nn.Linear(dim, dim)
        self.value = nn.Linear(dim, dim)
        self.out = nn.Linear(dim, dim)
        self.dropout = nn.Dropout(dropout)

    def _split(self, x: torch.Tensor) -> torch.Tensor:
        return x.reshape(x.size(0), x.size(1), self.heads, self.head_dim).transpose(1, 2)

    def forward(self, query: torch.Tensor, memory: torch.Tensor, memory_mask: torch.Tensor) -> torch.Tensor:
        q, k, v = self._split(self.query(query)), self._split(self.key(memory)), self._split(self.value(memory))
        scores = torch.matmul(q, k.transpose(-1, -2)) / math.sqrt(self.head_dim)
        scores = scores + (1.0 - memory_mask)[:, None, None, :] * _MASK_FILL
        weights = self.dropout(torch.softmax(scores, dim=-1))
        out = torch.matmul(weights, v).transpose(1, 2)
        return self.out(out.reshape(out.size(0), out.size(1), -1))


class FeedForward(nn.Sequential):
    def __init__(self, dim: int, hidden: int, dropout: float):
        super().__init__(nn.Linear(dim, hidden), nn.GELU(), nn.Dropout(dropout), nn.Linear(hidden, dim))


class SelfAttentionLayer(nn.Module):
    """Pre-norm transformer encoder layer; padded positions are zeroed on output."""

    def __init__(self, dim: int, heads: int, ff: int, dropout: float):
        super().__init__()
        self.norm1 = nn.LayerNorm(dim)
        self.attn = MultiHeadAttention(dim, heads, dropout)
        self.norm2 = nn.LayerNorm(dim)
        self.ff = FeedForward(dim, ff, dropout)
        self.dropout = nn.Dropout(dropout)

    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        h = self.norm1(x)
        x = x + self.dropout(self.attn(h, h, mask))
        x = x + self.dropout(self.ff(self.norm2(x)))
        return x * mask.unsqueeze(-1)


class CrossAttentionLayer(nn.Module):
    """Queries (bridge tokens) attend to one modality; a learned null key keeps it defined when all is masked."""

    def __init__(self, dim: int, heads: int, ff: int, dropout: float):
        super().__init__()
        self.null = nn.Parameter(torch.randn(1, 1, dim) * 0.02)
        self.norm_q = nn.LayerNorm(dim)
        self.norm_m = nn.LayerNorm(dim)
        self.attn = MultiHeadAttention(dim, heads, dropout)
        self.norm2 = nn.LayerNorm(dim)
        self.ff = FeedForward(dim, ff, dropout)
        self.dropout = nn.Dropout(dropout)

    def forward(self, queries: torch.Tensor, memory: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        memory = torch.cat([self.null.expand(memory.size(0), -1, -1), memory], dim=1)
        mask = torch.cat([torch.ones_like(mask[:, :1]), mask], dim=1)
        queries = queries + self.dropout(self.attn(self.norm_q(queries), self.norm_m(memory), mask))
        return queries + self.dropout(self.ff(self.norm2(queries)))


class AcousticEncoder(nn.Module):
    """waveform + lengths -> frame features [B, T, Da] + frame mask [B, T] (T = ceil(ceil(frames/2)/2))."""

    def __init__(self, cfg: ModelConfig):
        super().__init__()
        self.frontend = LogMelFrontEnd(cfg.sample_rate, cfg.n_fft, cfg.hop_length, cfg.n_mels)
        d = cfg.acoustic_dim
        self.conv1 = nn.Conv1d(cfg.n_mels, d, kernel_size=3, stride=2, padding=1)
        self.conv2 = nn.Conv1d(d, d, kernel_size=3, stride=2, padding=1)
        self.dropout = nn.Dropout(cfg.dropout)
        self.layers = nn.ModuleList(
            SelfAttentionLayer(d, cfg.acoustic_heads, cfg.acoustic_ff, cfg.dropout) for _ in range(cfg.acoustic_layers))
        self.norm = nn.LayerNorm(d)
        self.dim = d
        self.conv_norm = nn.LayerNorm(d)

    def encode_logmel(self, logmel: torch.Tensor, mask: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        x = masked_normalize(logmel, mask)
        # Zero padding before every conv keeps valid outputs identical to an unpadded run (padding invariance).
        h = F.gelu(self.conv1(x.transpose(1, 2)))
        mask = mask[:, ::2]
        h = F.gelu(self.conv2(h * mask.unsqueeze(1)))
        mask = mask[:, ::2]
        h = h.transpose(1, 2) * mask.unsqueeze(-1)
        # LayerNorm puts the conv output on the positions' scale; unnormalised it either drowns in them or (scaled up)
        # made training from scratch diverge.
        h = self.dropout(self.conv_norm(h) + sinusoidal_positions(h.size(1), self.dim, h)) * mask.unsqueeze(-1)
        for layer in self.layers:
            h = layer(h, mask)
        return self.norm(h) * mask.unsqueeze(-1), mask

    def forward(self, waveform: torch.Tensor, waveform_lengths: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        logmel, mask = self.frontend(waveform, waveform_lengths)
        return self.encode_logmel(logmel, mask)


class FusionHead(nn.Module):
    """Acoustic frames + text tokens -> (logits [B, 4], valence [B], arousal [B]); either mask may be all zero."""

    def __init__(self, cfg: ModelConfig, acoustic_dim: int | None = None, num_classes: int = 4):
        super().__init__()
        d = cfg.fusion_dim
        self.fusion = cfg.fusion
        self.acoustic_in = nn.Sequential(nn.LayerNorm(acoustic_dim or cfg.acoustic_dim), nn.Linear(acoustic_dim or cfg.acoustic_dim, d))
        self.text_in = nn.Sequential(nn.LayerNorm(cfg.text_dim), nn.Linear(cfg.text_dim, d))
        self.refine_acoustic = SelfAttentionLayer(d, cfg.fusion_heads, cfg.fusion_ff, cfg.dropout) if cfg.self_attention else None
        self.refine_text = SelfAttentionLayer(d, cfg.fusion_heads, cfg.fusion_ff, cfg.dropout) if cfg.self_attention else None
        if self.fusion == "bridge":
            self.bridge = nn.Parameter(torch.randn(1, cfg.bridge_tokens, d) * 0.02)
            self.cross_acoustic = CrossAttentionLayer(d, cfg.fusion_heads, cfg.fusion_ff, cfg.dropout)
            self.cross_text = CrossAttentionLayer(d, cfg.fusion_heads, cfg.fusion_ff, cfg.dropout)
        elif self.fusion in ("concat", "mean"):
            self.null_acoustic = nn.Parameter(torch.zeros(d))
            self.null_text = nn.Parameter(torch.zeros(d))
            if self.fusion == "concat":
                self.merge = nn.Linear(2 * d, d)
        else:
            raise ValueError(f"unknown fusion {cfg.fusion!r}")
        self.norm = nn.LayerNorm(d)
        self.trunk = nn.Sequential(nn.Linear(d, d), nn.GELU(), nn.Dropout(cfg.dropout))
        self.classifier = nn.Linear(d, num_classes)
        self.valence = nn.Linear(d, 1)
        self.arousal = nn.Linear(d, 1)

    def forward(self, acoustic_features: torch.Tensor, acoustic_mask: torch.Tensor,
                text_features: torch.Tensor, text_mask: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        # Masked inputs may hold anything (zeros by convention); zero them so they cannot leak through LayerNorm.
        a = self.acoustic_in(acoustic_features * acoustic_mask.unsqueeze(-1)) * acoustic_mask.unsqueeze(-1)
        t = self.text_in(text_features * text_mask.unsqueeze(-1)) * text_mask.unsqueeze(-1)
        if self.refine_acoustic is not None:
            a = self.refine_acoustic(a, acoustic_mask)
            t = self.refine_text(t, text_mask)
        if self.fusion == "bridge":
            z = self.bridge.expand(a.size(0), -1, -1)
            z = self.cross_acoustic(z, a, acoustic_mask)
            z = self.cross_text(z, t, text_mask)
            pooled = z.mean(dim=1)
        else:
            pa = masked_mean(a, acoustic_mask, self.null_acoustic)
            pt = masked_mean(t, text_mask, self.null_text)
            pooled = self.merge(torch.cat([pa, pt], dim=-1)) if self.fusion == "concat" else 0.5 * (pa + pt)
        h = self.trunk(self.norm(pooled))
        # tanh keeps valence/arousal on the bundle's -1..1 scale.
        return self.classifier(h), torch.tanh(self.valence(h)).squeeze(-1), torch.tanh(self.arousal(h)).squeeze(-1)


class EmotionModel(nn.Module):
    def __init__(self, cfg: ModelConfig, num_classes: int = 4):
        super().__init__()
        self.cfg = cfg
        self.acoustic = AcousticEncoder(cfg)
        self.head = FusionHead(cfg)
        # Training aid, not exported: an utterance-level classifier on the mean acoustic frame. The paper's acoustic
        # features are pretrained (HuBERT); ours start from scratch, and without this direct signal the categorical
        # loss barely reaches the encoder through the fusion head within our CPU budget.
        self.aux_classifier = nn.Linear(cfg.acoustic_dim, num_classes)

    def auxiliary_logits(self, acoustic_features: torch.Tensor, acoustic_mask: torch.Tensor) -> torch.Tensor:
        return self.aux_classifier(masked_mean(acoustic_features, acoustic_mask, acoustic_features.new_zeros(())))

    def forward(self, waveform, waveform_lengths, text_features, text_mask):
        a, am = self.acoustic(waveform, waveform_lengths)
        return self.head(a, am, text_features, text_mask)
