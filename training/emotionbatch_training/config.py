"""One configuration object for model, data and training; stored as JSON next to every run."""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[2]
TRAINING_ROOT = REPO_ROOT / "training"


@dataclass
class ModelConfig:
    sample_rate: int = 16000
    n_fft: int = 400  # 25 ms window
    hop_length: int = 160  # 10 ms hop
    n_mels: int = 64
    acoustic_dim: int = 128
    # Stride of the second conv layer (the first has 2): 2 gives 40 ms frames, 4 gives 80 ms.
    conv2_stride: int = 2
    acoustic_layers: int = 2
    acoustic_heads: int = 4
    acoustic_ff: int = 256
    text_dim: int = 384
    fusion_dim: int = 128
    fusion_heads: int = 4
    fusion_ff: int = 256
    bridge_tokens: int = 4
    # "bridge": learnable bridge tokens cross-attend to each modality (the paper);
    # "concat": masked mean of each modality, concatenated; "mean": average of the two masked means.
    fusion: str = "bridge"
    self_attention: bool = True
    dropout: float = 0.1
    # Dropout on the standardised utterance functionals before their token (they are many and correlated).
    stats_dropout: float = 0.2
    # The functionals enter as stats_tokens tokens through an MLP with stats_hidden units.
    stats_tokens: int = 4
    stats_hidden: int = 256
    # SpecAugment-style time masks per training clip (0 = off).
    time_masks: int = 2
    # Subtract each utterance's own mean from the frame tokens' log-mel and MFCC channels (cepstral mean
    # normalisation): removes the microphone's and the line's fixed colouring from the frame path. Level, pitch and
    # spectral-shape channels stay absolute, and the functionals tokens keep the raw statistics.
    frame_cmn: bool = False
    # Training only: with this probability an item's frame tokens are all masked, leaving the functionals tokens,
    # so the utterance statistics must carry the decision on their own too.
    frame_token_dropout: float = 0.0
    # Training only: speaker perturbation of the frame features (speech_features.perturb_speaker), a stand-in for
    # more voices: log-mel frequency axis scaled by up to +-speaker_warp, f0 moved by up to +-speaker_pitch semitones.
    speaker_warp: float = 0.0
    speaker_pitch: float = 0.0
    # Training only: SpecAugment frequency masks, spans of up to 8 log-mel bands per clip (speech_features.mask_bands).
    freq_masks: int = 0
    # The frame tokens: "logmel" = the trained conv front end over the log-mel/MFCC/prosody frames; "speech_embedding"
    # = a pretrained encoder's frames (Google's speech_embedding, 96-d per 80 ms; speech_embedding.py), frozen, through
    # a linear layer, as the paper's fusion reads frozen HuBERT frames. The functionals tokens come from the log-mel
    # frames either way. Training reads the encoder's frames from a cache (features.SpeechEmbeddingCache).
    frames: str = "logmel"
    # With frames = speech_embedding: the utterance statistics (mean, std, 10th and 90th percentile) of the encoder's
    # standardised frames join the functionals (4 x 96 more inputs to the functionals tokens' MLP). Self-attention
    # pools frames by weighting them; it has no direct view of their spread or extremes, which an SVM on the same
    # statistics used (embedding_probe).
    embedding_stats: bool = False
    # With frames = speech_embedding: the encoder's last embedding_tuned_convs convolutions (of 20) are trained from
    # their pretrained weights, at train.finetune_lr_scale x the learning rate and without weight decay (decay would
    # pull them towards zero, not towards what they were). Training reads the activations before them from a cache
    # (the "trunk": with 3 or 5, 96 channels x 2 mel columns per 40 ms, about 4.5 times the size of the frames' cache).
    embedding_finetune: bool = False
    embedding_tuned_convs: int = 3
    # Folder of melspectrogram.onnx + embedding_model.onnx (relative paths from the repository root).
    speech_embedding_dir: str = "../shared/models/speech-embedding"


@dataclass
class DataConfig:
    # Relative paths are resolved against the repository root.
    data_root: str = "../shared/data"
    corpora: list[str] = field(default_factory=lambda: ["emodb", "ravdess", "emobank"])
    # Extra corpora through the generic CSV adapter: {"name", "path", "va_range": [lo, hi] | null}.
    csv_corpora: list[dict[str, Any]] = field(default_factory=list)
    cache_dir: str = "training/cache"
    # Folder written by the worker's encode-text command (features.f16, index.tsv, meta.json); null = stand-in features.
    text_features: str | None = None
    # How the speech corpora see text: "fixed" = their (emotion-free) prompt sentence, "masked" = never any text.
    speech_text: str = "fixed"
    # Channel conditions (channels.py) a training clip is drawn from, uniformly, at every step.
    train_conditions: list[str] = field(default_factory=lambda: ["clean", "phone_a", "phone_b", "room"])
    # Cross-validation units (train.folds of them): "speaker" keeps each speaker in one test fold; "session" keeps each
    # recording session whole (IEMOCAP's five sessions: leave-one-session-out with train.folds = 5). Corpora without
    # sessions (every built-in one) are folded by speaker either way.
    fold_by: str = "speaker"
    # Also train the auxiliary acoustic classifier on the speech corpora's other emotions (corpora.EXTRA_LABELS) of
    # the training speakers, in the speech stream (train.train_model); test items and the exported graph are unchanged.
    extra_classes: bool = False
    # The worker's cut of every speech clip (`emotionbatch segment`; segments.py), or null. When set, test clips are
    # scored on that cut (the worker's protocol; it replaces train.eval_trim_ms; a clip without speech found is
    # scored whole), and training's trims (train.trim_p) cut there too, each end moved by up to +-100 ms.
    segments: str | None = None


@dataclass
class TrainConfig:
    seed: int = 13
    epochs: int = 24
    batch_speech: int = 16
    batch_text: int = 32
    lr: float = 5e-4
    weight_decay: float = 0.01
    # Learning-rate multiplier for pretrained weights that are trained (model.embedding_finetune).
    finetune_lr_scale: float = 0.1
    warmup_steps: int = 40
    max_train_seconds: float = 3.0
    # Probability that a training clip loses its leading/trailing silence (as the worker's VAD would cut it).
    trim_p: float = 0.5
    # Test clips lose their leading/trailing silence too, keeping this margin (ms; the worker's Vad:PaddingMs is
    # 100), as the worker hands the model VAD-cut utterances; 0 = test clips whole (the protocol up to 2.2.0). The deep
    # model's CV only: the yardstick and frozen.py score whole clips.
    eval_trim_ms: int = 0
    # "multi": CE + (1-CCC_v) + (1-CCC_a); "categorical": CE only (speech and text categories);
    # "dimensional": CCC terms only (EmoBank ratings and the speech items' proxy targets).
    tasks: str = "multi"
    # Weight of the auxiliary acoustic-only CE (model.EmotionModel.aux_classifier); 0 disables it.
    aux_weight: float = 1.0
    # Speaker-adversarial training (0 = off; training only, nothing exported): a small classifier learns to tell the
    # training speakers apart from the auxiliary classifier's input, through a gradient reversal scaled by this
    # weight (ramped up from 0 over training, as Ganin & Lempitsky 2015), so the acoustic encoder is pushed to drop
    # what identifies a speaker: the CV's test speakers are unseen, as an archive's are.
    speaker_adversarial: float = 0.0
    # "aux": the acoustic encoder learns only from the auxiliary utterance-level CE and the fusion head sees its
    # features detached, as the paper's fusion sees frozen pretrained features; "joint": the head's losses also
    # reach the encoder (the default: on fold 0, 12 epochs, UAR 0.55 joint vs 0.47 aux after 8).
    encoder_training: str = "joint"
    # Per-part gradient-norm clipping (0 = off). Off in the default: the acoustic encoder's gradient norms are in
    # the hundreds, and clipping them at 5 slowed its learning several-fold (its CE after 3 epochs 1.21 vs 0.97).
    grad_clip: float = 0.0
    # Random modality masking on speech items (EmoBank items never have audio).
    rmm_p_text: float = 0.5
    rmm_p_audio: float = 0.1
    # false: audio is masked only on items that keep their text (one modality per masked item, as in the paper);
    # true: audio is masked independently, so some items train with neither.
    rmm_both: bool = False
    # Speech items train valence/arousal on proxy targets (proxy_targets.py), their CCC terms weighted by proxy_weight.
    proxy_dimensions: bool = True
    proxy_weight: float = 0.5
    # Text category batches (MELD, GoEmotions) weight each class by (items / (classes * items of the class)) ** this:
    # 0 = as the corpora come (mostly neutral and happy), 1 = every class equally, which is what UAR measures.
    text_class_balance: float = 0.0
    # Speech clips are drawn with probability proportional to (clips of their corpus) ** -corpus_balance:
    # 0 = as they come (nEMO, the largest corpus, dominates), 1 = every corpus equally often.
    corpus_balance: float = 0.5
    # ... times (clips of the corpus / (its classes * its clips of that class)) ** speech_class_balance: 1 = every class
    # equally often within each corpus, so no corpus teaches its own class prior (RAVDESS has half as many neutral
    # clips): a transcript or prompt that gives the corpus away then cannot shift the category by that prior.
    speech_class_balance: float = 0.0
    folds: int = 5
    threads: int = 1  # under CPU contention one OpenMP thread is markedly faster than two
    # Limits for quick runs: items per corpus (0 = all).
    limit_per_corpus: int = 0
    # Fusion head alone on frozen features (frozen.py) only. Random modality masking as in the paper: with
    # probability head_rmm_p an item that has both modalities loses exactly one, text or audio with equal chance,
    # never both (train.py's scheme is rmm_p_text / rmm_p_audio / rmm_both above).
    head_rmm_p: float = 0.5
    # Random training crops of at most this many cached frames (0 = whole clips, as cached).
    head_crop_frames: int = 0
    # train.py only (frozen.py's head training rejects them). Exponential moving average of the weights (0 = off):
    # the averaged weights are the ones evaluated and exported; the decay ramps up with the step count
    # (train.WeightAverage), so below a few thousand steps the ramp sets it.
    ema_decay: float = 0.0
    # Label smoothing of the speech items' cross-entropy, fusion and auxiliary (0 = off).
    label_smoothing: float = 0.0
    # Mixup of speech batches (0 = off): pairs of clips mixed frame by frame (their fixed features, before the
    # encoder) with lambda = max(Beta(mixup, mixup), 0.5); categories and proxy targets mixed with the same lambda.
    mixup: float = 0.0


@dataclass
class FeaturesConfig:
    """Where each modality's features come from (docs: training/README.md, "Frozen pretrained encoders").

    acoustic: "builtin" = the log-mel encoder trained from scratch with the head (train.py); "cache" = a frozen
        encoder's frames cached by the worker's encode-audio in acoustic_cache; only the fusion head trains then
        (frozen.py). text: "builtin" = MiniLM features (data.text_features, training/cache/text-features or stand-ins);
        "cache" = the encode-text folder text_cache. A cache folder that is missing, or lacks some of the run's ids,
        is (re)built by the worker from acoustic_bundle / text_bundle (a bundle folder whose manifest names the
        encoder; for text, none = the worker's built-in MiniLM). Dimensions are read from the caches' meta.json.
    """

    acoustic: str = "builtin"
    acoustic_cache: str | None = None
    acoustic_bundle: str | None = None
    text: str = "builtin"
    text_cache: str | None = None
    text_bundle: str | None = None
    # The worker that writes the caches: emotionbatch.dll (run with dotnet) or an executable; null = the Release build.
    worker: str | None = None
    # ONNX Runtime threads of encode-audio / encode-text (0 = one per CPU).
    threads: int = 1


@dataclass
class Config:
    model: ModelConfig = field(default_factory=ModelConfig)
    data: DataConfig = field(default_factory=DataConfig)
    train: TrainConfig = field(default_factory=TrainConfig)
    features: FeaturesConfig = field(default_factory=FeaturesConfig)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @staticmethod
    def from_dict(d: dict[str, Any]) -> "Config":
        def build(cls, values):
            known = {f.name for f in dataclasses.fields(cls)}
            unknown = set(values) - known
            if unknown:
                raise ValueError(f"unknown {cls.__name__} keys: {sorted(unknown)}")
            return cls(**values)

        return Config(
            model=build(ModelConfig, d.get("model", {})),
            data=build(DataConfig, d.get("data", {})),
            train=build(TrainConfig, d.get("train", {})),
            features=build(FeaturesConfig, d.get("features", {})),
        )

    @staticmethod
    def load(path: str | Path | None, overrides: list[str] | None = None) -> "Config":
        d = json.loads(Path(path).read_text()) if path else {}
        cfg = Config.from_dict(d)
        for o in overrides or []:
            cfg.set(o)
        return cfg

    def set(self, assignment: str) -> None:
        """Apply 'section.key=value' with value parsed as JSON (plain strings allowed)."""
        key, _, raw = assignment.partition("=")
        section, _, name = key.partition(".")
        target = getattr(self, section)
        if not hasattr(target, name):
            raise ValueError(f"unknown setting {key}")
        try:
            value = json.loads(raw)
        except json.JSONDecodeError:
            value = raw
        setattr(target, name, value)

    def save(self, path: str | Path) -> None:
        Path(path).write_text(json.dumps(self.to_dict(), indent=2) + "\n")


def resolve(path: str | Path) -> Path:
    p = Path(path)
    return p if p.is_absolute() else (REPO_ROOT / p).resolve()
