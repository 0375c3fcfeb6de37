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
from typing import Optional

import torch
import torch.nn.functional as F
from torch import nn

from .config import ModelConfig, resolve
from .speech_embedding import DIM as EMBEDDING_DIM, EmbeddingFrontEnd
from .speech_features import (N_MFCC, VOICED_THRESHOLD, FrameFeatures, Functionals, LogMelFrontEnd,  # noqa: F401  (LogMelFrontEnd: re-exported)
                              mask_bands, masked_stats, perturb_speaker)

INPUT_CLAMP = 6.0  # standardised fixed features are limited to +-6 standard deviations
_MASK_FILL = -1e9  # finite on purpose: an all-masked row then softmaxes to uniform instead of NaN


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

    def _split(self, x: torch.Tensor) -> torch.Tensor:
        return x.reshape(x.size(0), x.size(1), self.heads, self.head_dim).transpose(1, 2)

    def forward(self, query: torch.Tensor, memory: torch.Tensor, memory_mask: torch.Tensor) -> torch.Tensor:
        q, k, v = self._split(self.query(query)), self._split(self.key(memory)), self._split(self.value(memory))
        scores = torch.matmul(q, k.transpose(-1, -2)) / math.sqrt(self.head_dim)
        scores = scores + (1.0 - memory_mask)[:, None, None, :] * _MASK_FILL
        # No dropout on the attention weights: on CPU it cost a quarter of a training step for no gain we could measure.
        weights = torch.softmax(scores, dim=-1)
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
    """waveform + lengths -> features [B, K + T, Da] + mask [B, K + T]: K = stats_tokens utterance-functionals
    tokens, then T frame tokens: with model.frames = logmel, ceil(ceil(frames / 2) / conv2_stride) of a trained conv
    front end; with speech_embedding, one per 80 ms window of the pretrained encoder (speech_embedding.py; frozen, or
    its last model.embedding_tuned_convs convolutions trained with model.embedding_finetune).

    Fixed part (speech_features): per-frame log-mel, MFCC, energy, spectral shape, ZCR, voicing and f0, and their
    utterance functionals. Both are standardised with the training data's global mean and std (buffers set by
    fit_normalisation, exported in the graph), as are the encoder's frames. Trained part: the frame tokens' front end
    (a two-layer strided conv over the fixed frames, 20 ms x conv2_stride per output frame, or one linear layer over
    the encoder's frames) and a small transformer; the functionals enter through an MLP as K extra
    tokens in front of the frames, so the fusion head's self-attention and bridge tokens see frames and utterance
    statistics (K > 1 gives the statistics a visible share of the attention among dozens of frames from the start).
    """

    def __init__(self, cfg: ModelConfig):
        super().__init__()
        self.frontend = FrameFeatures(cfg.sample_rate, cfg.n_fft, cfg.hop_length, cfg.n_mels)
        self.functionals = Functionals(cfg.n_mels, cfg.sample_rate / cfg.hop_length)
        f, k, d = self.frontend.dim, self.functionals.dim, cfg.acoustic_dim
        self.register_buffer("frame_mean", torch.zeros(f), persistent=True)
        self.register_buffer("frame_std", torch.ones(f), persistent=True)
        self.register_buffer("stats_mean", torch.zeros(k), persistent=True)
        self.register_buffer("stats_std", torch.ones(k), persistent=True)
        if cfg.frames not in ("logmel", "speech_embedding"):
            raise ValueError(f"unknown model.frames {cfg.frames!r}")
        self.frames = cfg.frames
        if cfg.frames == "logmel":
            self.conv1 = nn.Conv1d(f, d, kernel_size=5, stride=2, padding=2)
            self.stride2 = cfg.conv2_stride
            self.conv2 = nn.Conv1d(d, d, kernel_size=2 * self.stride2 + 1, stride=self.stride2, padding=self.stride2)
        else:
            if cfg.sample_rate != 16000 or cfg.hop_length != 160:
                # Frames are matched to the encoder's by their 10 ms number (speech_embedding.embedding_frames).
                raise ValueError("model.frames = speech_embedding needs sample_rate 16000 and hop_length 160")
            # Frozen: its weights come from the operator's files (model.speech_embedding_dir), not the checkpoint;
            # with model.embedding_finetune its last embedding_tuned_convs convolutions are trained, and those are in
            # the checkpoint.
            self.embedding_frontend = EmbeddingFrontEnd(resolve(cfg.speech_embedding_dir), tuned_top=cfg.embedding_finetune,
                                                        tuned_convs=cfg.embedding_tuned_convs)
            self.register_buffer("embedding_mean", torch.zeros(EMBEDDING_DIM), persistent=True)
            self.register_buffer("embedding_std", torch.ones(EMBEDDING_DIM), persistent=True)
            self.embedding_in = nn.Linear(EMBEDDING_DIM, d)
        self.embedding_finetune = cfg.embedding_finetune
        if cfg.embedding_finetune and cfg.frames != "speech_embedding":
            raise ValueError("model.embedding_finetune needs model.frames = speech_embedding")
        self.embedding_stats = cfg.embedding_stats
        if cfg.embedding_stats:
            if cfg.frames != "speech_embedding":
                raise ValueError("model.embedding_stats needs model.frames = speech_embedding")
            self.register_buffer("embedding_stats_mean", torch.zeros(4 * EMBEDDING_DIM), persistent=True)
            self.register_buffer("embedding_stats_std", torch.ones(4 * EMBEDDING_DIM), persistent=True)
            k += 4 * EMBEDDING_DIM
        self.conv_norm = nn.LayerNorm(d)
        self.stats_tokens = cfg.stats_tokens
        self.stats_in = nn.Sequential(nn.Dropout(cfg.stats_dropout), nn.Linear(k, cfg.stats_hidden), nn.GELU(),
                                      nn.Dropout(cfg.dropout), nn.Linear(cfg.stats_hidden, cfg.stats_tokens * d))
        self.stats_type = nn.Parameter(torch.randn(cfg.stats_tokens, d) * 0.02)
        self.dropout = nn.Dropout(cfg.dropout)
        self.layers = nn.ModuleList(
            SelfAttentionLayer(d, cfg.acoustic_heads, cfg.acoustic_ff, cfg.dropout) for _ in range(cfg.acoustic_layers))
        self.norm = nn.LayerNorm(d)
        self.dim = d
        self.time_masks = cfg.time_masks
        # Log-mel and MFCC channels, the ones that carry the channel's colouring (frame_cmn).
        self.cmn_channels = cfg.n_mels + N_MFCC if cfg.frame_cmn else 0
        self.frame_token_dropout = cfg.frame_token_dropout
        self.speaker_warp, self.speaker_pitch = cfg.speaker_warp, cfg.speaker_pitch
        self.sample_rate = cfg.sample_rate
        self.freq_masks = cfg.freq_masks

    @torch.no_grad()
    def fit_normalisation(self, frames: list[torch.Tensor], embeddings: Optional[list[torch.Tensor]] = None) -> None:
        """Global mean/std of the fixed features over training clips (each [T, F]), per channel; with
        frames = speech_embedding also of the encoder's frames (each [E, 96]; with embedding_finetune its trunk rows,
        each [R, trunk dim], whose frames are taken through the convolutions as they are now)."""
        if self.frames == "speech_embedding":
            if not embeddings:
                raise ValueError("model.frames = speech_embedding needs the training clips' embeddings")
            if self.embedding_finetune:
                embeddings = [self.embedding_frontend.from_trunk(r.unsqueeze(0), torch.ones(1, r.size(0)))[0][0]
                              for r in embeddings]
            stacked = torch.cat(embeddings)
            self.embedding_mean.copy_(stacked.mean(0))
            self.embedding_std.copy_(stacked.std(0).clamp(min=1e-2))
            if self.embedding_stats:
                stats = torch.stack([self._embedding_statistics(e.unsqueeze(0), torch.ones(1, e.size(0)))[0]
                                     for e in embeddings])
                self.embedding_stats_mean.copy_(stats.mean(0))
                self.embedding_stats_std.copy_(stats.std(0).clamp(min=1e-2))
        frames = [gate_unvoiced_f0(f) for f in frames]
        stacked = torch.cat([utterance_cmn(f.unsqueeze(0), torch.ones(1, f.size(0)), self.cmn_channels)[0] for f in frames])
        self.frame_mean.copy_(stacked.mean(0))
        self.frame_std.copy_(stacked.std(0).clamp(min=1e-2))
        stats = torch.stack([self.functionals(f.unsqueeze(0), torch.ones(1, f.size(0)))[0] for f in frames])
        self.stats_mean.copy_(stats.mean(0))
        self.stats_std.copy_(stats.std(0).clamp(min=1e-2))

    def _standardised_embeddings(self, embeddings: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        return ((embeddings - self.embedding_mean) / self.embedding_std).clamp(-INPUT_CLAMP, INPUT_CLAMP) * mask.unsqueeze(-1)

    def _embedding_statistics(self, embeddings: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """mean, std, p10, p90 of the standardised encoder frames [B, E, 96] -> [B, 384] (before their own standardisation)."""
        return masked_stats(self._standardised_embeddings(embeddings, mask), mask)

    def encode_frames(self, frames: torch.Tensor, mask: torch.Tensor, embeddings: Optional[torch.Tensor] = None,
                      embedding_mask: Optional[torch.Tensor] = None) -> tuple[torch.Tensor, torch.Tensor]:
        """frames [B, T, F] of FrameFeatures (zero past each length), mask [B, T]; with frames = speech_embedding
        also the encoder's frames of the same audio, embeddings [B, E, 96] and embedding_mask [B, E] (with
        embedding_finetune its trunk rows [B, R, trunk dim] and their mask [B, R])."""
        if self.training and (self.speaker_warp or self.speaker_pitch):
            frames = perturb_speaker(frames, mask, self.frontend.dct, self.sample_rate, self.speaker_warp, self.speaker_pitch)
        if self.training and self.freq_masks:
            frames = mask_bands(frames, mask, self.frontend.dct, self.freq_masks)
        frames = gate_unvoiced_f0(frames)
        # Clamped: a degraded channel (a telephone band leaves the top mel bands near log(eps)) lies tens of
        # standard deviations from the training mean, and unclamped such inputs made gradients 1,000x too large.
        stats = ((self.functionals(frames, mask) - self.stats_mean) / self.stats_std).clamp(-INPUT_CLAMP, INPUT_CLAMP)
        if self.frames == "speech_embedding":
            if embeddings is None or embedding_mask is None:
                raise ValueError("model.frames = speech_embedding: encode_frames needs the encoder's frames")
            if self.embedding_finetune:
                embeddings, embedding_mask = self.embedding_frontend.from_trunk(embeddings, embedding_mask)
            mask = embedding_mask
            x = self._standardised_embeddings(embeddings, mask)
            if self.embedding_stats:
                extra = ((masked_stats(x, mask) - self.embedding_stats_mean) / self.embedding_stats_std)
                stats = torch.cat([stats, extra.clamp(-INPUT_CLAMP, INPUT_CLAMP)], -1)
            if self.training and self.time_masks:
                x = x * _time_mask(mask, self.time_masks, max_width=2).unsqueeze(-1)  # 80 ms frames: up to 160 ms
            h = self.embedding_in(x)
        else:
            x = utterance_cmn(frames, mask, self.cmn_channels)
            x = ((x - self.frame_mean) / self.frame_std).clamp(-INPUT_CLAMP, INPUT_CLAMP) * mask.unsqueeze(-1)
            if self.training and self.time_masks:
                x = x * _time_mask(mask, self.time_masks).unsqueeze(-1)
            # Zero padding before every conv keeps valid outputs identical to an unpadded run (padding invariance).
            h = F.gelu(self.conv1(x.transpose(1, 2)))
            mask = mask[:, ::2]
            h = F.gelu(self.conv2(h * mask.unsqueeze(1)))
            mask = mask[:, :: self.stride2]
            h = h.transpose(1, 2)
        h = self.conv_norm(h) + sinusoidal_positions(h.size(1), self.dim, h)
        present = mask[:, :1]  # an utterance with frames has its functionals tokens
        if self.training and self.frame_token_dropout > 0 and self.stats_tokens:
            mask = mask * (torch.rand(mask.size(0), 1) >= self.frame_token_dropout).to(mask.dtype)
        if self.stats_tokens:  # 0 = frames only (an ablation)
            present = present.expand(-1, self.stats_tokens)
            tokens = self.stats_in(stats).reshape(stats.size(0), self.stats_tokens, self.dim) + self.stats_type
            h = torch.cat([tokens, h], dim=1)
            mask = torch.cat([present, mask], dim=1)
        h = self.dropout(h)
        h = h * mask.unsqueeze(-1)
        for layer in self.layers:
            h = layer(h, mask)
        return self.norm(h) * mask.unsqueeze(-1), mask

    def forward(self, waveform: torch.Tensor, waveform_lengths: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        frames, mask = self.frontend(waveform, waveform_lengths)
        if self.frames == "speech_embedding":
            embeddings, embedding_mask = self.embedding_frontend(waveform, waveform_lengths)
            return self.encode_frames(frames, mask, embeddings, embedding_mask)
        return self.encode_frames(frames, mask)


def utterance_cmn(frames: torch.Tensor, mask: torch.Tensor, channels: int) -> torch.Tensor:
    """Subtract each utterance's mean over its valid frames from the first `channels` features (0 = unchanged)."""
    if not channels:
        return frames
    m = mask.unsqueeze(-1)
    mean = (frames[..., :channels] * m).sum(1, keepdim=True) / m.sum(1, keepdim=True).clamp(min=1.0)
    return torch.cat([(frames[..., :channels] - mean) * m, frames[..., channels:]], dim=-1)


def gate_unvoiced_f0(frames: torch.Tensor) -> torch.Tensor:
    """Zero the f0 channel where a frame is unvoiced: there the autocorrelation peak is noise, and its position
    would flip between equal-looking lags under the last bit of float rounding (PyTorch against ONNX Runtime)."""
    voiced = (frames[..., -2:-1] > VOICED_THRESHOLD).to(frames.dtype)
    return torch.cat([frames[..., :-1], frames[..., -1:] * voiced], dim=-1)


def _time_mask(mask: torch.Tensor, count: int, max_width: int = 12) -> torch.Tensor:
    """SpecAugment-style time masking (training only): `count` spans of up to max_width frames set to zero."""
    b, t = mask.shape
    keep = torch.ones(b, t)
    steps = torch.arange(t).unsqueeze(0)
    lengths = mask.sum(1, keepdim=True)
    for _ in range(count):
        width = torch.randint(0, max_width + 1, (b, 1))
        start = (torch.rand(b, 1) * (lengths - width).clamp(min=1)).floor()
        keep = keep * ~((steps >= start) & (steps < start + width))
    return keep


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
        # Fitted after training on held-out predictions (calibration.py); 1 while training.
        self.register_buffer("temperature", torch.ones(()), persistent=True)
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
        return (self.classifier(h) / self.temperature, torch.tanh(self.valence(h)).squeeze(-1),
                torch.tanh(self.arousal(h)).squeeze(-1))


class EmotionModel(nn.Module):
    def __init__(self, cfg: ModelConfig, num_classes: int = 4):
        super().__init__()
        self.cfg = cfg
        self.acoustic = AcousticEncoder(cfg)
        self.head = FusionHead(cfg)
        # Training aid, not exported: an utterance-level classifier on the mean acoustic frame. The paper's acoustic
        # features are pretrained (HuBERT); ours start from scratch, and without this direct signal the categorical
        # loss barely reaches the encoder through the fusion head within our CPU budget.
        # It reads the functionals tokens and the mean of the frame tokens side by side, so both acoustic paths get
        # a direct signal from the first step on.
        self.aux_classifier = nn.Linear(2 * cfg.acoustic_dim, num_classes)

    def acoustic_summary(self, acoustic_features: torch.Tensor, acoustic_mask: torch.Tensor) -> torch.Tensor:
        """[B, 2 x acoustic_dim]: the mean functionals token beside the mean frame token (the training aids' input)."""
        k = self.acoustic.stats_tokens
        stats = acoustic_features[:, :k].mean(1) if k else acoustic_features.new_zeros(acoustic_features.size(0), self.acoustic.dim)
        frames = masked_mean(acoustic_features[:, k:], acoustic_mask[:, k:], acoustic_features.new_zeros(()))
        return torch.cat([stats, frames], dim=-1)

    def forward(self, waveform, waveform_lengths, text_features, text_mask):
        a, am = self.acoustic(waveform, waveform_lengths)
        return self.head(a, am, text_features, text_mask)


class GradientReversal(torch.autograd.Function):
    """Identity forward; the gradient flows back multiplied by -scale."""

    @staticmethod
    def forward(ctx, x: torch.Tensor, scale: float) -> torch.Tensor:
        ctx.scale = scale
        return x.view_as(x)

    @staticmethod
    def backward(ctx, grad: torch.Tensor):
        return -ctx.scale * grad, None


class SpeakerAdversary(nn.Module):
    """Training aid, not exported (train.speaker_adversarial): tells the training speakers apart from the acoustic
    summary through a gradient reversal, so minimising its loss trains it while pushing the encoder the other way."""

    def __init__(self, dim: int, speakers: int, hidden: int = 128):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(dim, hidden), nn.ReLU(), nn.Linear(hidden, speakers))

    def forward(self, summary: torch.Tensor, scale: float) -> torch.Tensor:
        return self.net(GradientReversal.apply(summary, scale))
