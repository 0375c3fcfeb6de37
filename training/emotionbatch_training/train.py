"""Training loop, speaker-independent cross-validation and evaluation.

  python -m emotionbatch_training.train fit --config training/configs/default.json --out training/runs/full
  python -m emotionbatch_training.train cv  --config training/configs/default.json --out training/runs/cv
Options: --set section.key=value (JSON value) overrides the config; --smoke shrinks data and epochs for CI.
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import random
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator, Optional, Sequence

import numpy as np
import torch

from . import LABELS, channels
from .config import Config, TRAINING_ROOT, resolve
from .corpora import Item, auxiliary_labels, extra_class_items, load_items
from .evaluation import LABEL_INDEX, speech_report
from .features import SpeechEmbeddingCache, SpeechFeatureCache, TextFeatures, write_standin_features, write_text_tsv
from .folds import protocol as fold_protocol, split_fold
from .losses import labelled, multitask_loss
from .metrics import ccc, classification_report
from .model import EmotionModel, SpeakerAdversary
from .proxy_targets import category_centroids, with_proxy_targets
from .segments import Span, cut_frames, load_segments, missing_clips, write_clip_tsv
from .speech_features import N_MFCC

SEGMENT_JITTER_SECONDS = 0.1  # training crops at the worker's cut move each end by up to this much
EVAL_MAX_SECONDS = 20.0  # the bundle's max_audio_seconds: evaluation sees what the worker would see
TEXT_MODES = {"prompt": True, "none": False}  # speech items with their (emotion-free) prompt text, or without text

LICENCES = {
    "emodb": "Emo-DB: free for research from its authors (TU Berlin); check their terms before commercial use",
    "ravdess": "RAVDESS: CC BY-NC-SA 4.0 (non-commercial; models trained on it inherit the restriction)",
    "ased": "ASED: no licence stated; the authors call it freely available and ask for citation: research use",
    "nemo": "nEMO: CC BY-NC-SA 4.0 (non-commercial)",
    "emobank": "EmoBank: CC BY-SA 4.0",
    "meld": "MELD: repository GPL-3.0; dialogue is copyrighted TV script text: research use",
    "goemotions": "GoEmotions: CC BY 4.0",
}


def log(msg: str) -> None:
    print(msg, flush=True)


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


@dataclass
class Data:
    items: list[Item]
    speech: SpeechFeatureCache
    text: TextFeatures
    text_source: str
    conditions: tuple[str, ...]  # channel conditions a training clip is drawn from
    proxy_centroids: Optional[dict[str, tuple[float, float]]] = None
    # Speech items of emotions outside the four (data.extra_classes): auxiliary-classifier training only.
    extra_items: list[Item] = field(default_factory=list)
    # The worker's cut of each speech clip (data.segments), None for a clip where it finds no speech.
    segments: Optional[dict[str, Optional[Span]]] = None
    # The pretrained encoder's frames of every clip and condition (model.frames = speech_embedding).
    embeddings: Optional[SpeechEmbeddingCache] = None


def text_feature_folder(cfg: Config, items: Sequence[Item]) -> tuple[Path, str]:
    """The encode-text folder to read: with features.text = "cache", features.text_cache (built by the worker when
    it lacks some of the run's texts); else the configured data.text_features, else training/cache/text-features
    when the worker has written it, else stand-in features (clearly marked in every metrics file)."""
    if cfg.features.text == "cache":
        from .frozen import ensure_text_cache  # frozen.py builds on this module

        folder = ensure_text_cache(cfg, items, log=log)
        return folder, f"encode-text {cache_encoder_name(folder)}"
    if cfg.features.text != "builtin":
        raise SystemExit(f"features.text must be 'builtin' or 'cache'; found {cfg.features.text!r}")
    cache = resolve(cfg.data.cache_dir)
    tsv = write_text_tsv(items, cache / "text" / "input.tsv")
    if cfg.data.text_features:
        return resolve(cfg.data.text_features), "encode-text"
    real = cache / "text-features"
    if (real / "features.f16").exists():
        return real, "encode-text"
    standin = cache / "text-standin"
    if not (standin / "features.f16").exists() or (standin / "input.tsv").read_text() != tsv.read_text():
        write_standin_features(tsv, standin)
        (standin / "input.tsv").write_text(tsv.read_text())
    return standin, "stand-in (random, not MiniLM)"


def cache_encoder_name(folder: Path) -> str:
    """The encoder a feature cache names in its meta.json, for the metrics files."""
    meta = folder / "meta.json"
    return str(json.loads(meta.read_text()).get("encoder", "?")) if meta.exists() else "?"


def limit_items(items: list[Item], per_corpus: int, seed: int) -> list[Item]:
    """At most per_corpus items of each corpus (0 = all); corpora with splits keep items of every split and, where
    they have categories, of every category, so quick runs exercise every code path."""
    if per_corpus <= 0:
        return items
    rng = random.Random(seed)
    out: list[Item] = []
    for corpus in sorted({it.corpus for it in items}):
        group = [it for it in items if it.corpus == corpus]
        rng.shuffle(group)
        strata: dict[tuple, list[Item]] = {}
        for it in group:
            strata.setdefault((it.split, it.category), []).append(it)
        share = max(2, per_corpus // len(strata))
        out += [it for members in strata.values() for it in members[:share]]
    return out


def prepare_data(cfg: Config, require_segments: bool = True) -> Data:
    if cfg.features.acoustic != "builtin":
        raise SystemExit(f"features.acoustic = {cfg.features.acoustic!r}: with a frozen acoustic encoder only the "
                         "fusion head trains; run python -m emotionbatch_training.frozen (fit, cv) instead")
    items = load_items(resolve(cfg.data.data_root), cfg.data.corpora, cfg.data.csv_corpora)
    items = limit_items(items, cfg.train.limit_per_corpus, cfg.train.seed)
    folder, source = text_feature_folder(cfg, items)
    text = TextFeatures(folder)
    missing = [it.text_id for it in items if it.text_id and it.text_id not in text]
    if missing:
        raise SystemExit(f"{len(missing)} texts missing from {folder} (e.g. {missing[:3]}); re-run encode-text on "
                         f"{resolve(cfg.data.cache_dir) / 'text' / 'input.tsv'}")
    if cfg.features.text == "cache":
        cfg.model.text_dim = text.dim  # the frozen text encoder's width, from the cache's meta.json
    centroids = None
    if cfg.train.proxy_dimensions:
        centroids = category_centroids(items, text)
        items = with_proxy_targets(items, centroids)
        log("proxy valence/arousal centroids: " + json.dumps({k: [round(x, 3) for x in v] for k, v in centroids.items()}))
    extra = []
    if cfg.data.extra_classes:
        extra = limit_items(extra_class_items(resolve(cfg.data.data_root), cfg.data.corpora),
                            cfg.train.limit_per_corpus, cfg.train.seed)
        log(f"extra-emotion items for the auxiliary classifier: {len(extra)}")
    conditions = tuple(cfg.data.train_conditions)
    speech = SpeechFeatureCache(resolve(cfg.data.cache_dir), cfg.model)
    speech.build([it for it in items + extra if it.audio], sorted(set(conditions) | set(channels.TEST_CONDITIONS)), log=log)
    segments = None
    if cfg.data.segments:
        segments = load_segments(resolve(cfg.data.segments))
        missing = missing_clips(segments, items)
        if missing and require_segments:
            raise SystemExit(f"{len(missing)} speech clips missing from {cfg.data.segments} (e.g. {missing[:3]}); re-run "
                             f"`emotionbatch segment` on the list `train clips` writes")
        log(f"the worker's cut of {len(segments)} clips from {cfg.data.segments}; "
            f"{sum(s is None for s in segments.values())} without speech (scored whole in evaluation)")
    embeddings = None
    if cfg.model.frames == "speech_embedding":
        embeddings = SpeechEmbeddingCache(resolve(cfg.data.cache_dir), cfg.model, resolve(cfg.model.speech_embedding_dir))
        embeddings.build([it for it in items + extra if it.audio], sorted(set(conditions) | set(channels.TEST_CONDITIONS)), log=log)
    return Data(items, speech, text, source, conditions, centroids, extra, segments, embeddings)


def trim_silence(frames: np.ndarray, energy_channel: int, rng: Optional[np.random.Generator],
                 margin: Optional[int] = None) -> np.ndarray:
    """Cut leading and trailing frames more than 30 dB below the clip's peak energy, keeping a margin of `margin`
    frames, or a random 0-200 ms one: the worker's voice activity detector hands the model trimmed utterances, the
    corpora ship padded clips."""
    energy = frames[:, energy_channel].astype(np.float32)
    loud = np.flatnonzero(energy > energy.max() - math.log(1000.0))
    if len(loud) == 0:
        return frames
    before = margin if margin is not None else int(rng.integers(0, 21))
    after = margin if margin is not None else int(rng.integers(0, 21))
    start = max(0, int(loud[0]) - before)
    end = min(len(frames), int(loud[-1]) + 1 + after)
    return frames[start:end]


class Batcher:
    """Pads items into tensors. Audio items carry fixed frame features (of one channel condition) and, optionally,
    their text; text-only items carry text."""

    def __init__(self, cfg: Config, data: Data):
        self.cfg = cfg
        self.data = data

    def frames(self, item: Item, *, train: bool, rng: Optional[np.random.Generator], condition: str
               ) -> tuple[np.ndarray, Optional[np.ndarray]]:
        """The clip's frames as the model sees them (condition, cut, crop), and with model.frames = speech_embedding
        the encoder's cached rows of the same stretch of audio (its frames, or with model.embedding_finetune the trunk
        rows that give them: SpeechEmbeddingCache.span)."""
        mc = self.cfg.model
        if train:
            condition = self.data.conditions[int(rng.integers(len(self.data.conditions)))]
        m = self.data.speech.get(item, condition)
        tracked = self.data.embeddings is not None
        if tracked:  # a last column of frame numbers rides through every cut and crop below (float32: exact)
            m = np.concatenate([m.astype(np.float32), np.arange(len(m), dtype=np.float32)[:, None]], axis=1)
        span = self.data.segments.get(item.id) if self.data.segments is not None else None
        frames_per_second = mc.sample_rate / mc.hop_length
        if span is not None and condition != "clean":
            # The cut was found on the clean clip; a speed-perturbed copy (room) is that much longer or shorter.
            frames_per_second *= len(m) / max(1, len(self.data.speech.get(item, "clean")))
        if train and rng.random() < self.cfg.train.trim_p:
            m = (cut_frames(m, span, frames_per_second, rng, round(SEGMENT_JITTER_SECONDS * frames_per_second)) if span
                 else trim_silence(m, mc.n_mels + N_MFCC, rng))
        elif not train and self.data.segments is not None:
            # The worker's cut; a clip it finds no speech in is scored whole (through the worker it gets no rows).
            m = cut_frames(m, span, frames_per_second) if span is not None else m
        elif not train and self.cfg.train.eval_trim_ms > 0:
            m = trim_silence(m, mc.n_mels + N_MFCC, None, round(self.cfg.train.eval_trim_ms * mc.sample_rate / 1000 / mc.hop_length))
        seconds = self.cfg.train.max_train_seconds if train else EVAL_MAX_SECONDS
        max_frames = int(seconds * mc.sample_rate / mc.hop_length) + 1
        if len(m) > max_frames:
            start = int(rng.integers(0, len(m) - max_frames + 1)) if train else (len(m) - max_frames) // 2
            m = m[start: start + max_frames]
        if not tracked:
            return m, None
        embeddings = self.data.embeddings.get(item, condition)
        first, last = int(m[0, -1]), int(m[-1, -1])
        return m[:, :-1], self.data.embeddings.span(embeddings, first, last + 1)

    def batch(self, items: Sequence[Item], *, train: bool, rng: Optional[np.random.Generator],
              with_text: bool = True, with_audio: bool = True, condition: str = "clean") -> dict[str, Any]:
        tc = self.cfg.train
        has_audio = all(it.audio for it in items)
        b = len(items)
        out: dict[str, Any] = {}
        texts: list[Optional[np.ndarray]] = []
        keep_audio = np.full(b, 1.0 if with_audio else 0.0, np.float32)
        for i, it in enumerate(items):
            use = with_text and not (it.audio and self.cfg.data.speech_text == "masked")
            feats = self.data.text.get(it.text_id) if use else None
            # Random modality masking masks one modality of a speech item, never both: its text with rmm_p_text,
            # else (text kept) its audio with rmm_p_audio. A text-only item keeps its text.
            if train and it.audio:
                if feats is not None and rng.random() < tc.rmm_p_text:
                    feats = None
                elif (feats is not None or tc.rmm_both) and rng.random() < tc.rmm_p_audio:
                    keep_audio[i] = 0.0
            texts.append(feats)
        if has_audio:
            clips = [self.frames(it, train=train, rng=rng, condition=condition) for it in items]
            frames, mask = padded([m for m, _ in clips], self.data.speech.dim)
            out.update(frames=frames, frame_mask=mask, keep_audio=torch.from_numpy(keep_audio))
            if self.data.embeddings is not None:
                embeddings, embedding_mask = padded([e for _, e in clips], self.data.embeddings.dim)
                out.update(embeddings=embeddings, embedding_mask=embedding_mask)
        text, text_mask = padded(texts, self.data.text.dim)
        out.update(text=text, text_mask=text_mask)
        out["category"] = torch.tensor([LABEL_INDEX[it.category] if it.category else -1 for it in items])
        out["aux_category"] = auxiliary_targets(items, self.cfg.data.extra_classes)
        out["valence"] = torch.tensor([it.valence if it.valence is not None else math.nan for it in items])
        out["arousal"] = torch.tensor([it.arousal if it.arousal is not None else math.nan for it in items])
        return out


def padded(sequences: Sequence[Optional[np.ndarray]], dim: int) -> tuple[torch.Tensor, torch.Tensor]:
    """[B, T, dim] zero-padded to the longest sequence (at least 1) and its [B, T] mask; None is an empty row."""
    length = max([len(x) for x in sequences if x is not None] + [1])
    values = np.zeros((len(sequences), length, dim), np.float32)
    mask = np.zeros((len(sequences), length), np.float32)
    for i, x in enumerate(sequences):
        if x is not None:
            values[i, : len(x)] = x
            mask[i, : len(x)] = 1.0
    return torch.from_numpy(values), torch.from_numpy(mask)


def auxiliary_targets(items: Sequence[Item], extra_classes: bool) -> torch.Tensor:
    """The auxiliary classifier's target per item: its index in corpora.auxiliary_labels, -1 for none."""
    index = {label: i for i, label in enumerate(auxiliary_labels(extra_classes))}
    return torch.tensor([index.get(it.category or it.extra_category or "", -1) for it in items])


def extra_emotions_of(train_items: Sequence[Item], extra_items: Sequence[Item]) -> list[Item]:
    """The other-emotion clips of the training items' speakers only: a held-out speaker stays unheard."""
    speakers = {it.speaker for it in train_items if it.audio}
    return [it for it in extra_items if it.speaker in speakers]


def mix_speech_batch(batch: dict[str, Any], alpha: float, rng: np.random.Generator,
                     aux_classes: int = len(LABELS)) -> dict[str, Any]:
    """Mixup of a speech batch: each clip's fixed frame features (and text features) mixed with another clip's by
    lambda = max(Beta(alpha, alpha), 0.5) where both have frames (the longer one's own frames beyond); categories become mixed
    probabilities, proxy targets mix linearly. Audio counts as present only where both clips keep it."""
    lam = float(max(rng.beta(alpha, alpha), 0.5))  # clamped, not folded: the first clip leads (its length and text)
    perm = torch.from_numpy(rng.permutation(batch["frames"].size(0)))
    out = dict(batch)
    for features, mask in (("frames", "frame_mask"), ("text", "text_mask")):
        first, second = batch[features], batch[features][perm]
        in_first, in_second = batch[mask].unsqueeze(-1), batch[mask][perm].unsqueeze(-1)
        out[features] = (in_first * in_second * (lam * first + (1 - lam) * second)
                         + in_first * (1 - in_second) * first + (1 - in_first) * in_second * second)
        out[mask] = torch.maximum(batch[mask], batch[mask][perm])
    out["keep_audio"] = batch["keep_audio"] * batch["keep_audio"][perm]
    for name, classes in (("category", len(LABELS)), ("aux_category", aux_classes)):
        if name in batch:
            onehot = torch.nn.functional.one_hot(batch[name].clamp(min=0), classes).float()
            onehot = onehot * (batch[name] >= 0).unsqueeze(1)
            out[name] = lam * onehot + (1 - lam) * onehot[perm]
    for name in ("valence", "arousal"):
        out[name] = lam * batch[name] + (1 - lam) * batch[name][perm]
    return out


class WeightAverage:
    """Exponential moving average of a model's floating-point weights; the average is what gets evaluated.
    The decay at step t is min(decay, (1 + t) / (10 + t)): the ramp keeps early weights from lingering, and it stays
    below 0.998 until step 4,490, so in runs of a few thousand steps the ramp alone sets the horizon (at step 1,320,
    the default fit's last, decay 0.993: about the last 150 steps)."""

    def __init__(self, model: torch.nn.Module, decay: float):
        self.decay = decay
        self.steps = 0
        self.average = {k: v.detach().clone() for k, v in model.state_dict().items() if v.dtype.is_floating_point}

    @torch.no_grad()
    def update(self, model: torch.nn.Module) -> None:
        self.steps += 1
        decay = min(self.decay, (1 + self.steps) / (10 + self.steps))
        for k, v in model.state_dict().items():
            if k in self.average:
                self.average[k].mul_(decay).add_(v.detach(), alpha=1 - decay)

    def copy_to(self, model: torch.nn.Module) -> None:
        model.load_state_dict({**model.state_dict(), **self.average})


def forward(model: EmotionModel, batch: dict[str, Any], with_aux: bool = False, detach_acoustic: bool = False):
    """The head's outputs; with_aux: (outputs, auxiliary logits, acoustic summary), the last two None without audio."""
    aux = summary = None
    if "frames" in batch:
        a, am = model.acoustic.encode_frames(batch["frames"], batch["frame_mask"], batch.get("embeddings"), batch.get("embedding_mask"))
        if with_aux:
            summary = model.acoustic_summary(a, am)
            aux = model.aux_classifier(summary)
        if detach_acoustic:
            a = a.detach()
        am = am * batch["keep_audio"].unsqueeze(1)
    else:
        b = batch["text"].size(0)
        a, am = torch.zeros(b, 1, model.acoustic.dim), torch.zeros(b, 1)
    out = model.head(a, am, batch["text"], batch["text_mask"])
    return (out, aux, summary) if with_aux else out


def cycle(items: Sequence[Item], batch_size: int, rng: np.random.Generator) -> Iterator[list[Item]]:
    while True:
        order = rng.permutation(len(items))
        for start in range(0, len(order) - batch_size + 1, batch_size):
            yield [items[i] for i in order[start: start + batch_size]]
        if len(order) < batch_size:
            yield [items[i] for i in order]


def balanced(items: Sequence[Item], batch_size: int, rng: np.random.Generator, power: float,
             class_power: float = 0.0) -> Iterator[list[Item]]:
    """Endless batches drawn with replacement, each item weighted by (items of its corpus) ** -power times
    (items of its corpus / (classes of the corpus * items of its class there)) ** class_power."""
    weights = np.array(sampling_weights(items, power, class_power))
    weights /= weights.sum()
    while True:
        yield [items[i] for i in rng.choice(len(items), size=batch_size, p=weights)]


def sampling_weights(items: Sequence[Item], power: float, class_power: float) -> list[float]:
    """balanced()'s unnormalised weights; an item outside the four classes counts under its own emotion."""
    def class_of(it: Item) -> tuple[str, str]:
        return it.corpus, it.category or it.extra_category or ""

    counts = Counter(it.corpus for it in items)
    classes = Counter(class_of(it) for it in items)
    per_corpus = Counter(corpus for corpus, _ in classes)
    return [counts[it.corpus] ** -power
            * (counts[it.corpus] / (per_corpus[it.corpus] * classes[class_of(it)])) ** class_power for it in items]


def class_weights(items: Sequence[Item], power: float) -> Optional[torch.Tensor]:
    """Per-class CE weights (items / (classes * items of the class)) ** power over labelled items; None when off."""
    if power <= 0 or not items:
        return None
    counts = np.array([sum(it.category == label for it in items) for label in LABELS], np.float64)
    weights = (counts.sum() / (len(LABELS) * np.maximum(counts, 1.0))) ** power
    return torch.tensor(weights, dtype=torch.float32)


def train_model(cfg: Config, data: Data, train_items: Sequence[Item], run_dir: Optional[Path] = None) -> EmotionModel:
    tc = cfg.train
    seed_everything(tc.seed)
    rng = np.random.default_rng(tc.seed)
    model = EmotionModel(cfg.model, num_classes=len(auxiliary_labels(cfg.data.extra_classes)))
    batcher = Batcher(cfg, data)
    audio_items = [it for it in train_items if it.audio]
    text_items = [it for it in train_items if not it.audio and it.text_id]
    # Text with categories (MELD, GoEmotions) and text with ratings (EmoBank) are separate sources with their own
    # batches, so that every EmoBank batch has enough rated items for a stable CCC.
    category_texts = [it for it in text_items if it.category] if tc.tasks != "dimensional" else []
    rated_texts = [it for it in text_items if it.valence is not None and not it.category] if tc.tasks != "categorical" else []
    if tc.tasks == "dimensional":
        audio_items = [it for it in audio_items if it.valence is not None]
    else:
        # They share the speech stream (same steps; the corpus weights count them, so with the default corpora about
        # 18 % of speech draws then carry no four-class label).
        audio_items = audio_items + extra_emotions_of(audio_items, data.extra_items)
    # The fixed features' global mean/std come from this run's training clips (clean copies), never from test folds.
    sample = [audio_items[i] for i in rng.permutation(len(audio_items))[:2000]]
    model.acoustic.fit_normalisation(
        [torch.from_numpy(data.speech.get(it).astype(np.float32)) for it in sample],
        [torch.from_numpy(data.embeddings.get(it).astype(np.float32)) for it in sample] if data.embeddings is not None else None)
    # Epoch = one pass over the audio items, so every task variant trains for the same number of steps.
    n_audio_for_steps = len([it for it in train_items if it.audio]) or len(category_texts) or len(rated_texts)
    steps_per_epoch = max(1, math.ceil(n_audio_for_steps / tc.batch_speech))
    total = steps_per_epoch * tc.epochs
    speakers = sorted({speaker_key(it) for it in audio_items}) if tc.speaker_adversarial > 0 else []
    adversary = SpeakerAdversary(2 * cfg.model.acoustic_dim, len(speakers)) if speakers else None
    groups = parameter_groups(model, tc) + ([{"params": list(adversary.parameters())}] if adversary is not None else [])
    optimizer = torch.optim.AdamW(groups, lr=tc.lr, weight_decay=tc.weight_decay)
    warmup = min(tc.warmup_steps, max(1, total // 10))
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda s: min(1.0, (s + 1) / warmup) * 0.5 * (1 + math.cos(math.pi * min(1.0, s / total))))
    audio_stream = balanced(audio_items, min(tc.batch_speech, len(audio_items)), rng, tc.corpus_balance,
                            tc.speech_class_balance) \
        if audio_items else None
    category_stream = cycle(category_texts, min(tc.batch_text, len(category_texts)), rng) if category_texts else None
    rated_stream = cycle(rated_texts, min(tc.batch_text, len(rated_texts)), rng) if rated_texts else None
    text_weights = class_weights(category_texts, tc.text_class_balance)
    if text_weights is not None:
        log("text class weights: " + json.dumps(dict(zip(LABELS, [round(float(w), 3) for w in text_weights]))))
    history = []
    started = time.time()
    average = WeightAverage(model, tc.ema_decay) if tc.ema_decay > 0 else None
    model.train()
    for epoch in range(tc.epochs):
        sums: dict[str, float] = {}
        for step in range(epoch * steps_per_epoch, (epoch + 1) * steps_per_epoch):
            loss = torch.zeros(())
            parts: dict[str, float] = {}
            # Each data source has its own loss terms: CCC is a batch statistic, and the speech corpora's proxy
            # targets and EmoBank's ratings must not be pooled into one correlation.
            sources = (("speech", audio_stream, speech_dimension_weight(tc), None), ("text", category_stream, 1.0, text_weights),
                       ("rated", rated_stream, 1.0, None))
            for name, stream, dim_weight, weights in sources:
                if stream is None:
                    continue
                batch_items = next(stream)
                batch = batcher.batch(batch_items, train=True, rng=rng)
                speech = name == "speech"
                if speech and tc.mixup > 0:
                    if "embeddings" in batch:
                        raise SystemExit("train.mixup does not mix the speech_embedding frames (model.frames); turn one off")
                    if adversary is not None:
                        raise SystemExit("train.mixup mixes two speakers per clip, which train.speaker_adversarial cannot "
                                         "name; turn one off")
                    batch = mix_speech_batch(batch, tc.mixup, rng, model.aux_classifier.out_features)
                smoothing = tc.label_smoothing if speech else 0.0
                (logits, valence, arousal), aux, summary = forward(model, batch, with_aux=True,
                                                                   detach_acoustic=tc.encoder_training == "aux")
                term, term_parts = multitask_loss(logits, valence, arousal, batch["category"], batch["valence"],
                                                  batch["arousal"], tc.tasks, dimension_weight=dim_weight,
                                                  class_weights=weights, label_smoothing=smoothing)
                loss = loss + term
                parts.update({f"{name}_{k}": v for k, v in term_parts.items()})
                has = labelled(batch["aux_category"])
                if aux is not None and tc.aux_weight > 0 and tc.tasks != "dimensional" and bool(has.any()):
                    aux_loss = torch.nn.functional.cross_entropy(aux[has], batch["aux_category"][has],
                                                                 label_smoothing=smoothing)
                    loss = loss + tc.aux_weight * aux_loss
                    parts["aux_ce"] = float(aux_loss)
                if adversary is not None and summary is not None:
                    scale = adversary_scale(step, total, tc.speaker_adversarial)
                    speaker_loss = torch.nn.functional.cross_entropy(adversary(summary, scale), speaker_targets(batch_items, speakers))
                    loss = loss + speaker_loss
                    parts["speaker_ce"] = float(speaker_loss)
            # Clipped per part: one global norm would let the noisy text-batch CCC gradients rescale the acoustic
            # encoder's steps at random, which in our runs stalled its learning.
            if optimizer_step(loss, optimizer, schedule, (model.acoustic, model.aux_classifier, model.head)
                              + ((adversary,) if adversary is not None else ()), tc.grad_clip):
                add_step(sums, loss, parts)
                if average is not None:
                    average.update(model)
        end_epoch(history, sums, epoch, started, steps_per_epoch)
    if average is not None:
        average.copy_to(model)
    if run_dir is not None:
        (run_dir / "history.json").write_text(json.dumps(history, indent=1) + "\n")
    return model.eval()


def adversary_scale(step: int, total: int, weight: float) -> float:
    """The gradient reversal's scale at a step: from 0 at the first step towards weight at the last
    (2 / (1 + exp(-10 p)) - 1 of the training progress p, Ganin & Lempitsky 2015)."""
    progress = step / max(1, total - 1)
    return weight * (2.0 / (1.0 + math.exp(-10.0 * progress)) - 1.0)


def speaker_key(item: Item) -> str:
    return f"{item.corpus}/{item.speaker}"


def speaker_targets(items: Sequence[Item], speakers: Sequence[str]) -> torch.Tensor:
    index = {s: i for i, s in enumerate(speakers)}
    return torch.tensor([index[speaker_key(it)] for it in items])


def parameter_groups(model: torch.nn.Module, tc) -> list[dict[str, Any]]:
    """The pretrained weights that are trained (model.embedding_finetune) move at finetune_lr_scale x the rate and
    without weight decay; everything else as configured. (LambdaLR scales each group's own initial rate.)"""
    pretrained = [p for n, p in model.named_parameters() if ".embedding_frontend." in f".{n}"]
    others = [p for n, p in model.named_parameters() if ".embedding_frontend." not in f".{n}"]
    groups: list[dict[str, Any]] = [{"params": others}]
    if pretrained:
        groups.append({"params": pretrained, "lr": tc.lr * tc.finetune_lr_scale, "weight_decay": 0.0})
    return groups


def speech_dimension_weight(tc) -> float:
    """Weight of the speech items' CCC terms: proxy_weight on proxy targets, 1 on real ratings (e.g. IEMOCAP's)."""
    return tc.proxy_weight if tc.proxy_dimensions else 1.0


def optimizer_step(loss: torch.Tensor, optimizer: torch.optim.Optimizer, schedule, parts: Sequence[torch.nn.Module],
                   grad_clip: float) -> bool:
    """One optimisation step, gradients clipped per part; skipped (False) when the loss or a gradient is not finite."""
    if not torch.isfinite(loss) or not loss.requires_grad:
        log("  non-finite or empty loss, step skipped")
        return False
    optimizer.zero_grad()
    loss.backward()
    # A step whose gradients overflowed would write NaN into every weight; drop it instead.
    if not all(torch.isfinite(p.grad).all() for part in parts for p in part.parameters() if p.grad is not None):
        log("  non-finite gradient, step skipped")
        return False
    if grad_clip > 0:
        for part in parts:
            torch.nn.utils.clip_grad_norm_(part.parameters(), grad_clip)
    optimizer.step()
    schedule.step()
    return True


def add_step(sums: dict[str, float], loss: torch.Tensor, parts: dict[str, float]) -> None:
    for k, v in {"loss": float(loss), **parts}.items():
        sums[k] = sums.get(k, 0.0) + v


def end_epoch(history: list[dict[str, Any]], sums: dict[str, float], epoch: int, started: float, steps: int) -> None:
    """The epoch's mean loss terms, logged and kept for history.json."""
    row = {"epoch": epoch + 1, "seconds": round(time.time() - started, 1), **{k: round(v / steps, 4) for k, v in sums.items()}}
    history.append(row)
    log("  " + json.dumps(row))


@torch.no_grad()
def predict(model: EmotionModel, cfg: Config, data: Data, items: Sequence[Item], with_text: bool,
            with_audio: bool = True, condition: str = "clean", batch_size: int = 32) -> dict[str, np.ndarray]:
    model.eval()
    batcher = Batcher(cfg, data)
    # Length-sorted batches keep padding small; outputs are put back in item order.
    order = sorted(range(len(items)), key=lambda i: len(data.speech.get(items[i])) if items[i].audio else 0)
    logits, valence, arousal = np.zeros((len(items), len(LABELS))), np.zeros(len(items)), np.zeros(len(items))
    for start in range(0, len(order), batch_size):
        idx = order[start: start + batch_size]
        batch = batcher.batch([items[i] for i in idx], train=False, rng=None, with_text=with_text,
                              with_audio=with_audio, condition=condition)
        lg, v, a = forward(model, batch)
        logits[idx], valence[idx], arousal[idx] = lg.numpy(), v.numpy(), a.numpy()
    return {"logits": logits, "valence": valence, "arousal": arousal}


def softmax(logits: np.ndarray) -> np.ndarray:
    e = np.exp(logits - logits.max(1, keepdims=True))
    return e / e.sum(1, keepdims=True)


def evaluate(model: EmotionModel, cfg: Config, data: Data, test_items: Sequence[Item]
             ) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """Speech: every test condition (clean, telephone) x text mode (prompt, none), per corpus and pooled, with the
    audio-only arousal/valence AUCs; text only (audio masked) on the speech items too. Text: category UAR on the
    dev splits of the text corpora, CCC on EmoBank dev. Returns (metrics, raw logits for calibration)."""
    metrics: dict[str, Any] = {}
    raw: dict[str, np.ndarray] = {}
    audio = [it for it in test_items if it.audio and it.category]
    if audio:
        raw["ids"] = np.array([it.id for it in audio])
        raw["labels"] = np.array([LABEL_INDEX[it.category] for it in audio])
        raw["corpus"] = np.array([it.corpus for it in audio])
        for condition in channels.TEST_CONDITIONS:
            for mode, with_text in TEXT_MODES.items():
                out = predict(model, cfg, data, audio, with_text, condition=condition)
                key = f"speech_{condition}_{mode}"
                metrics[key] = speech_report(audio, softmax(out["logits"]), out["arousal"], out["valence"])
                raw[key] = out["logits"]
        out = predict(model, cfg, data, audio, with_text=True, with_audio=False)
        metrics["speech_text_only"] = speech_report(audio, softmax(out["logits"]))
        if data.segments is not None:
            # Clips the worker finds no speech in are scored whole here; through the worker they get no rows.
            silent = Counter(it.corpus for it in audio if data.segments.get(it.id) is None)
            metrics["without_speech"] = {"all": sum(silent.values()), **{c: silent.get(c, 0) for c in sorted({it.corpus for it in audio})}}
    metrics.update(text_metrics(test_items, lambda group: predict(model, cfg, data, group, with_text=True, batch_size=256),
                                corpus_order(cfg)))
    return metrics, raw


def corpus_order(cfg: Config) -> list[str]:
    """The run's corpora as configured: built-in ones in data.corpora order, then the CSV corpora."""
    return list(cfg.data.corpora) + [spec["name"] for spec in cfg.data.csv_corpora]


def text_metrics(test_items: Sequence[Item], predict_text, order: Sequence[str] = ()) -> dict[str, Any]:
    """Text-only corpora among the test items, in the configured order: text_<corpus> (category UAR, WAR, F1) for
    those with categories, dimensional_<corpus> (CCC) for those with valence/arousal ratings. predict_text(items)
    -> {"logits", "valence", "arousal"} with the text alone."""
    metrics: dict[str, Any] = {}
    rank = {c: i for i, c in enumerate(order)}
    categorised = sorted(dict.fromkeys(it.corpus for it in test_items if not it.audio and it.category),
                         key=lambda c: rank.get(c, len(rank)))
    for corpus in categorised:
        group = [it for it in test_items if it.corpus == corpus and it.category]
        pred = predict_text(group)["logits"].argmax(1)
        metrics[f"text_{corpus}"] = classification_report(np.array([LABEL_INDEX[it.category] for it in group]), pred)
    dims = [it for it in test_items if not it.audio and it.valence is not None and it.arousal is not None]
    for corpus in sorted({it.corpus for it in dims}):
        group = [it for it in dims if it.corpus == corpus]
        out = predict_text(group)
        metrics[f"dimensional_{corpus}"] = {
            "ccc_valence": ccc(out["valence"], np.array([it.valence for it in group])),
            "ccc_arousal": ccc(out["arousal"], np.array([it.arousal for it in group])),
            "n": len(group)}
    return metrics


def dev_items(data: Data) -> list[Item]:
    """Reporting splits of the text corpora (EmoBank, MELD, GoEmotions dev); never trained on."""
    return [it for it in data.items if it.speaker is None and it.split == "dev"]


def text_train_items(data: Data) -> list[Item]:
    return [it for it in data.items if it.speaker is None and it.split != "dev"]


def new_run_dir(out: Path, cfg: Config) -> Path:
    out.mkdir(parents=True, exist_ok=True)
    cfg.save(out / "config.json")
    return out


def data_summary(data: Optional[Data], items: Sequence[Item]) -> list[dict[str, Any]]:
    """Per corpus: items, speakers, categories, rated items, licence; with data.extra_classes, the other emotions'
    clips of the training speakers (they train the encoder through the auxiliary classifier)."""
    extra = extra_emotions_of(items, data.extra_items) if data is not None else []
    rows = []
    for corpus in sorted({it.corpus for it in items}):
        group = [it for it in items if it.corpus == corpus]
        counts = {label: sum(it.category == label for it in group) for label in LABELS}
        others = [it for it in extra if it.corpus == corpus]
        rows.append({"corpus": corpus, "items": len(group),
                     **({"extra_emotion_items": len(others)} if others else {}),
                     "speakers": len({it.speaker for it in group if it.speaker}),
                     "categories": counts if any(counts.values()) else None,
                     "valence_arousal": sum(it.valence is not None for it in group),
                     "licence": LICENCES.get(corpus, "see the corpus licence")})
    return rows


def run_fold(cfg: Config, data: Data, fold: int, out: Path, train_fn: Optional[Callable[..., Any]] = None,
             evaluate_fn: Optional[Callable[..., Any]] = None, save_model: bool = False) -> dict[str, Any]:
    """One fold: train on the other folds' speakers and the text train splits, evaluate on the held-out speakers and
    the dev splits. train_fn/evaluate_fn default to the whole model's; frozen.py passes the head's. The held-out
    clips are listed in test_items.csv; save_model also writes the fold's model.pt (as fit does), so the fold model
    can be exported and measured through the worker on exactly those clips (worker_check.py)."""
    train_fn, evaluate_fn = train_fn or train_model, evaluate_fn or evaluate
    run_dir = new_run_dir(out / f"fold{fold}", cfg)
    train_speech, test_speech = split_fold([it for it in data.items if it.speaker], cfg.train.folds, fold,
                                           cfg.data.fold_by)
    log(f"fold {fold}: train {len(train_speech)} audio items, test {len(test_speech)} "
        f"({len({it.speaker for it in test_speech})} held-out speakers)")
    write_test_items(test_speech, run_dir / TEST_ITEMS)
    started = time.time()
    train_items = train_speech + text_train_items(data)
    model = train_fn(cfg, data, train_items, run_dir)
    train_seconds = round(time.time() - started, 1)
    metrics, raw = evaluate_fn(model, cfg, data, test_speech + dev_items(data))
    metrics["train_seconds"] = train_seconds
    metrics["test_speakers"] = sorted({it.speaker for it in test_speech})
    (run_dir / "metrics.json").write_text(json.dumps(metrics, indent=2) + "\n")
    np.savez(run_dir / "predictions.npz", **raw)
    if save_model:
        save_checkpoint(run_dir / "model.pt", cfg, model, metrics, data, train_items)
    return metrics


TEST_ITEMS = "test_items.csv"


def write_test_items(items: Sequence[Item], path: Path) -> None:
    """The fold's held-out speech clips: id, corpus, speaker, category, audio path."""
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(["id", "corpus", "speaker", "category", "audio"])
        for it in items:
            writer.writerow([it.id, it.corpus, it.speaker, it.category or "", it.audio or ""])


def save_checkpoint(path: Path, cfg: Config, model: EmotionModel, metrics: dict[str, Any], data: Data,
                    train_items: Sequence[Item]) -> None:
    """model.pt as export.py reads it: the weights with the configuration, metrics, data summary and proxy centroids."""
    torch.save({"config": cfg.to_dict(), "model": model.state_dict(), "metrics": metrics,
                "data": data_summary(data, train_items), "text_features": data.text_source,
                "proxy_centroids": data.proxy_centroids}, path)


def fit_everything(cfg: Config, data: Data, run_dir: Path, train_fn: Optional[Callable[..., Any]] = None,
                   evaluate_fn: Optional[Callable[..., Any]] = None) -> tuple[Any, dict[str, Any], list[Item]]:
    """Train on every speaker and the text train splits; the metrics on the dev splits, with the training time."""
    train_fn, evaluate_fn = train_fn or train_model, evaluate_fn or evaluate
    train_items = [it for it in data.items if it.speaker] + text_train_items(data)
    started = time.time()
    model = train_fn(cfg, data, train_items, run_dir)
    seconds = time.time() - started
    metrics, _ = evaluate_fn(model, cfg, data, dev_items(data))
    metrics["train_seconds"] = round(seconds, 1)
    metrics["text_features"] = data.text_source
    return model, metrics, train_items


def aggregate(folds: list[dict[str, Any]]) -> dict[str, Any]:
    """Mean and std over folds for every numeric leaf (n is summed)."""
    def walk(values: list[Any]):
        first = values[0]
        if isinstance(first, dict):
            return {k: walk([v[k] for v in values if k in v]) for k in first if k != "test_speakers"}
        if isinstance(first, float) and all(math.isnan(v) for v in values):
            return None
        if isinstance(first, (int, float)):
            arr = np.array(values, dtype=np.float64)
            return {"mean": float(arr.mean()), "std": float(arr.std()), "folds": len(arr)}
        return None
    out = walk(folds)
    return out


def run_cv(cfg: Config, out: Path, folds: Optional[Sequence[int]] = None, save_models: bool = False) -> dict[str, Any]:
    torch.set_num_threads(cfg.train.threads)
    new_run_dir(out, cfg)
    data = prepare_data(cfg)
    cfg.save(out / "config.json")  # with a frozen text encoder's width, which prepare_data reads from its cache
    folds = list(folds) if folds is not None else list(range(cfg.train.folds))
    results = [run_fold(cfg, data, k, out, save_model=save_models) for k in folds]
    summary = {"protocol": f"{fold_protocol(cfg.data.fold_by, cfg.train.folds)}, folds run: {folds}; "
                           "EmoBank: train split for training, dev split for reporting",
               "text_features": data.text_source, "folds": aggregate(results), "per_fold": results}
    (out / "metrics.json").write_text(json.dumps(summary, indent=2) + "\n")
    return summary


def merge_cv(out: Path, cfg: Config) -> dict[str, Any]:
    fold_dirs = sorted(out.glob("fold*/metrics.json"), key=lambda p: int(p.parent.name[4:]))
    if not fold_dirs:
        raise SystemExit(f"no fold*/metrics.json under {out}")
    results = [json.loads(p.read_text()) for p in fold_dirs]
    folds = [int(p.parent.name[4:]) for p in fold_dirs]
    summary = {"protocol": f"{fold_protocol(cfg.data.fold_by, cfg.train.folds)}, folds run: {folds}; "
                           "EmoBank: train split for training, dev split for reporting",
               "text_features": "encode-text" if (resolve(cfg.data.cache_dir) / "text-features").exists() else "stand-in",
               "folds": aggregate(results), "per_fold": results}
    (out / "metrics.json").write_text(json.dumps(summary, indent=2) + "\n")
    log(json.dumps(summary["folds"], indent=1))
    return summary


def rescore_cv(source: Path, out: Path, overrides: Sequence[str]) -> dict[str, Any]:
    """A CV run's saved fold models (cv --save-models) scored again on their own test clips with other evaluation
    settings, nothing retrained (e.g. --set data.segments=...: the worker's cut): each fold's metrics.json and
    predictions.npz under out, then merged. Settings that only change training have no effect here."""
    from .export import load_checkpoint  # export imports this module's neighbours; loaded when used
    fold_dirs = sorted((p.parent for p in source.glob("fold*/model.pt")), key=lambda p: int(p.name[4:]))
    if not fold_dirs:
        raise SystemExit(f"no fold*/model.pt under {source}: run `train cv --save-models` first")
    if out.resolve() == source.resolve() or source.resolve() in out.resolve().parents:
        raise SystemExit(f"--out {out} would overwrite the run it rescores ({source}): name another folder")
    stale = [p.name for p in out.glob("fold*") if p.name not in {d.name for d in fold_dirs}]
    if stale:
        raise SystemExit(f"{out} holds folds this rescore does not write ({', '.join(sorted(stale))}), which the merge "
                         "would average in: name an empty folder")
    data, cfg, first = None, None, None
    for fold_dir in fold_dirs:
        model, cfg, _ = load_checkpoint(fold_dir / "model.pt")
        for o in overrides:
            cfg.set(o)
        # One data set serves every fold, so every fold must have trained on the same configuration (bar the seed).
        settings = cfg.to_dict()
        comparable = {**settings, "train": {**settings["train"], "seed": None}}
        if first is None:
            first = comparable
        elif comparable != first:
            raise SystemExit(f"{fold_dir} was trained with another configuration than the first fold; rescore them apart")
        if data is None:
            torch.set_num_threads(cfg.train.threads)
            data = prepare_data(cfg, require_segments=False)
        by_id = {it.id: it for it in data.items}
        with (fold_dir / TEST_ITEMS).open(newline="", encoding="utf-8") as f:
            ids = [row["id"] for row in csv.DictReader(f)]
        unknown = [i for i in ids if i not in by_id]
        if unknown:
            raise SystemExit(f"{fold_dir / TEST_ITEMS} names clips this data does not hold (e.g. {unknown[:3]})")
        test = [by_id[i] for i in ids]
        missing = missing_clips(data.segments, test) if data.segments is not None else []
        if missing:
            raise SystemExit(f"{len(missing)} test clips of {fold_dir} are missing from {cfg.data.segments}")
        run_dir = new_run_dir(out / fold_dir.name, cfg)
        metrics, raw = evaluate(model, cfg, data, test + dev_items(data))
        original = json.loads((fold_dir / "metrics.json").read_text())
        metrics.update(train_seconds=original.get("train_seconds"), test_speakers=original.get("test_speakers", []),
                       rescored_from=str(fold_dir))
        (run_dir / "metrics.json").write_text(json.dumps(metrics, indent=2) + "\n")
        np.savez(run_dir / "predictions.npz", **raw)
        write_test_items(test, run_dir / TEST_ITEMS)
        log(f"{fold_dir.name}: rescored")
    cfg.save(out / "config.json")
    return merge_cv(out, cfg)


def run_fit(cfg: Config, out: Path) -> dict[str, Any]:
    """Train on every speaker and EmoBank train; report EmoBank dev. Writes model.pt for export."""
    torch.set_num_threads(cfg.train.threads)
    run_dir = new_run_dir(out, cfg)
    data = prepare_data(cfg)
    cfg.save(run_dir / "config.json")  # with a frozen text encoder's width, which prepare_data reads from its cache
    model, metrics, train_items = fit_everything(cfg, data, run_dir)
    (run_dir / "metrics.json").write_text(json.dumps(metrics, indent=2) + "\n")
    save_checkpoint(run_dir / "model.pt", cfg, model, metrics, data, train_items)
    log(json.dumps(metrics))
    return metrics


def cli_config(path: str, smoke: bool, overrides: Sequence[str]) -> Config:
    """A command's configuration: the file, then the smoke run's settings if asked, then --set overrides."""
    cfg = Config.load(path)
    if smoke:
        smoke_overrides(cfg)
    for o in overrides:
        cfg.set(o)
    return cfg


def smoke_overrides(cfg: Config) -> None:
    # The worker's cut of every clip comes from `emotionbatch segment` over the whole corpus; a smoke run scores its
    # few clips whole (worker-check-smoke.sh segments its own).
    cfg.data.segments = None
    cfg.train.epochs = 1
    cfg.train.limit_per_corpus = 24
    cfg.train.folds = 2
    cfg.train.batch_text = 16


def parse_args(argv: Optional[list[str]]) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("command", choices=["fit", "cv", "texts", "clips", "merge", "rescore"],
                   help="texts: only write the text list for the worker's encode-text command; clips: only write the speech clip "
                        "list for the worker's segment command (data.segments); merge: combine fold folders of a CV run "
                        "whose folds ran in separate processes; rescore: score the saved fold models of --from again on "
                        "their test clips with the --set evaluation settings, into --out")
    p.add_argument("--config", default=str(TRAINING_ROOT / "configs" / "default.json"))
    p.add_argument("--out", help="run folder (fit, cv)")
    p.add_argument("--set", action="append", default=[], metavar="SECTION.KEY=VALUE")
    p.add_argument("--folds", help="comma-separated fold indices to run (default: all)")
    p.add_argument("--from", dest="source", help="rescore: the CV run folder whose fold*/model.pt are scored")
    p.add_argument("--smoke", action="store_true")
    p.add_argument("--save-models", action="store_true", help="cv: also write each fold's model.pt (for worker_check.py)")
    return p.parse_args(argv)


def main(argv: Optional[list[str]] = None) -> None:
    args = parse_args(argv)
    cfg = cli_config(args.config, args.smoke, args.set)
    if args.command == "texts":
        items = load_items(resolve(cfg.data.data_root), cfg.data.corpora, cfg.data.csv_corpora)
        log(str(write_text_tsv(items, resolve(cfg.data.cache_dir) / "text" / "input.tsv")))
        return
    if args.command == "clips":
        items = load_items(resolve(cfg.data.data_root), cfg.data.corpora, cfg.data.csv_corpora)
        log(str(write_clip_tsv(items, resolve(cfg.data.cache_dir) / "segments" / "input.tsv")))
        return
    if not args.out:
        raise SystemExit("--out is required")
    out = resolve(args.out)
    if args.command == "rescore":
        if not args.source:
            raise SystemExit("rescore needs --from (a CV run folder with fold*/model.pt)")
        rescore_cv(resolve(args.source), out, args.set)
    elif args.command == "merge":
        merge_cv(out, cfg)
    elif args.command == "fit":
        run_fit(cfg, out)
    else:
        folds = [int(x) for x in args.folds.split(",")] if args.folds else None
        summary = run_cv(cfg, out, folds, args.save_models)
        log(json.dumps(summary["folds"], indent=1))


if __name__ == "__main__":
    main(sys.argv[1:])
