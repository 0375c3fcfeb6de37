"""Training loop, speaker-independent cross-validation and evaluation.

  python -m emotionbatch_training.train fit --config training/configs/default.json --out training/runs/full
  python -m emotionbatch_training.train cv  --config training/configs/default.json --out training/runs/cv
Options: --set section.key=value (JSON value) overrides the config; --smoke shrinks data and epochs for CI.
"""

from __future__ import annotations

import argparse
import json
import math
import random
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator, Optional, Sequence

import numpy as np
import torch

from . import LABELS
from .config import Config, TRAINING_ROOT, resolve
from .corpora import Item, load_items
from .features import LogMelCache, TextFeatures, write_standin_features, write_text_tsv
from .folds import split_fold
from .losses import multitask_loss
from .metrics import ccc, classification_report
from .model import EmotionModel

LABEL_INDEX = {name: i for i, name in enumerate(LABELS)}
EVAL_MAX_SECONDS = 20.0  # the bundle's max_audio_seconds: evaluation sees what the worker would see

LICENCES = {
    "emodb": "Emo-DB: free for research from its authors (TU Berlin); check their terms before commercial use",
    "ravdess": "RAVDESS: CC BY-NC-SA 4.0 (non-commercial; models trained on it inherit the restriction)",
    "emobank": "EmoBank: CC BY-SA 4.0",
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
    logmel: dict[str, np.ndarray]
    text: TextFeatures
    text_source: str


def text_feature_folder(cfg: Config, items: Sequence[Item]) -> tuple[Path, str]:
    """The encode-text folder to read: the configured one, else training/cache/text-features when the worker has
    written it, else stand-in features (clearly marked in every metrics file)."""
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


def limit_items(items: list[Item], per_corpus: int, seed: int) -> list[Item]:
    if per_corpus <= 0:
        return items
    rng = random.Random(seed)
    out: list[Item] = []
    for corpus in sorted({it.corpus for it in items}):
        group = [it for it in items if it.corpus == corpus]
        rng.shuffle(group)
        if corpus == "emobank":  # keep both splits
            out += [it for it in group if it.split == "train"][:per_corpus]
            out += [it for it in group if it.split == "dev"][: max(2, per_corpus // 4)]
        else:
            out += group[:per_corpus]
    return out


def prepare_data(cfg: Config) -> Data:
    items = load_items(resolve(cfg.data.data_root), cfg.data.corpora, cfg.data.csv_corpora)
    items = limit_items(items, cfg.train.limit_per_corpus, cfg.train.seed)
    cache = LogMelCache(resolve(cfg.data.cache_dir), cfg.model)
    audio_items = [it for it in items if it.audio]
    cache.build(audio_items, log=log)
    logmel = {it.id: cache.load(it) for it in audio_items}
    folder, source = text_feature_folder(cfg, items)
    text = TextFeatures(folder)
    missing = [it.text_id for it in items if it.text_id and it.text_id not in text]
    if missing:
        raise SystemExit(f"{len(missing)} texts missing from {folder} (e.g. {missing[:3]}); re-run encode-text on "
                         f"{resolve(cfg.data.cache_dir) / 'text' / 'input.tsv'}")
    return Data(items, logmel, text, source)


class Batcher:
    """Pads items into tensors. Audio items carry log-mel + (optionally) their text; text-only items carry text."""

    def __init__(self, cfg: Config, data: Data):
        self.cfg = cfg
        self.data = data

    def batch(self, items: Sequence[Item], *, train: bool, rng: Optional[np.random.Generator],
              with_text: bool = True) -> dict[str, Any]:
        tc, mc = self.cfg.train, self.cfg.model
        frames_per_second = mc.sample_rate / mc.hop_length
        has_audio = all(it.audio for it in items)
        b = len(items)
        out: dict[str, Any] = {}
        if has_audio:
            max_frames = int((tc.max_train_seconds if train else EVAL_MAX_SECONDS) * frames_per_second) + 1
            mels = []
            for it in items:
                m = self.data.logmel[it.id]
                if len(m) > max_frames:
                    start = int(rng.integers(0, len(m) - max_frames + 1)) if train else (len(m) - max_frames) // 2
                    m = m[start: start + max_frames]
                mels.append(m)
            t = max(len(m) for m in mels)
            logmel = np.zeros((b, t, mc.n_mels), np.float32)
            mask = np.zeros((b, t), np.float32)
            for i, m in enumerate(mels):
                logmel[i, : len(m)] = m
                mask[i, : len(m)] = 1.0
            keep_audio = np.ones(b, np.float32)
            if train and tc.rmm_p_audio > 0:
                keep_audio = (rng.random(b) >= tc.rmm_p_audio).astype(np.float32)
            out.update(logmel=torch.from_numpy(logmel), frame_mask=torch.from_numpy(mask),
                       keep_audio=torch.from_numpy(keep_audio))
        texts: list[Optional[np.ndarray]] = []
        for it in items:
            use = with_text and not (it.audio and self.cfg.data.speech_text == "masked")
            feats = self.data.text.get(it.text_id) if use else None
            # RMM on text only where audio remains the other modality; a text-only item keeps its text.
            if feats is not None and train and it.audio and rng.random() < tc.rmm_p_text:
                feats = None
            texts.append(feats)
        length = max([len(f) for f in texts if f is not None] + [1])
        text = np.zeros((b, length, self.data.text.dim), np.float32)
        text_mask = np.zeros((b, length), np.float32)
        for i, f in enumerate(texts):
            if f is not None:
                text[i, : len(f)] = f
                text_mask[i, : len(f)] = 1.0
        out.update(text=torch.from_numpy(text), text_mask=torch.from_numpy(text_mask))
        out["category"] = torch.tensor([LABEL_INDEX[it.category] if it.category else -1 for it in items])
        out["valence"] = torch.tensor([it.valence if it.valence is not None else math.nan for it in items])
        out["arousal"] = torch.tensor([it.arousal if it.arousal is not None else math.nan for it in items])
        return out


def forward(model: EmotionModel, batch: dict[str, Any], with_aux: bool = False, detach_acoustic: bool = False):
    aux = None
    if "logmel" in batch:
        a, am = model.acoustic.encode_logmel(batch["logmel"], batch["frame_mask"])
        if with_aux:
            aux = model.auxiliary_logits(a, am)
        if detach_acoustic:
            a = a.detach()
        am = am * batch["keep_audio"].unsqueeze(1)
    else:
        b = batch["text"].size(0)
        a, am = torch.zeros(b, 1, model.acoustic.dim), torch.zeros(b, 1)
    out = model.head(a, am, batch["text"], batch["text_mask"])
    return (out, aux) if with_aux else out


def cycle(items: Sequence[Item], batch_size: int, rng: np.random.Generator) -> Iterator[list[Item]]:
    while True:
        order = rng.permutation(len(items))
        for start in range(0, len(order) - batch_size + 1, batch_size):
            yield [items[i] for i in order[start: start + batch_size]]
        if len(order) < batch_size:
            yield [items[i] for i in order]


def train_model(cfg: Config, data: Data, train_items: Sequence[Item], run_dir: Optional[Path] = None) -> EmotionModel:
    tc = cfg.train
    seed_everything(tc.seed)
    rng = np.random.default_rng(tc.seed)
    model = EmotionModel(cfg.model)
    batcher = Batcher(cfg, data)
    audio_items = [it for it in train_items if it.audio]
    text_items = [it for it in train_items if not it.audio and it.text_id]
    use_audio = tc.tasks in ("multi", "categorical") or any(it.valence is not None for it in audio_items)
    use_text = tc.tasks in ("multi", "dimensional") and bool(text_items)
    if tc.tasks == "dimensional":
        audio_items = [it for it in audio_items if it.valence is not None or it.arousal is not None]
        use_audio = bool(audio_items)
    # Epoch = one pass over the audio items, so every task variant trains for the same number of steps.
    n_audio_for_steps = len([it for it in train_items if it.audio]) or len(text_items)
    steps_per_epoch = max(1, math.ceil(n_audio_for_steps / tc.batch_speech))
    total = steps_per_epoch * tc.epochs
    optimizer = torch.optim.AdamW(model.parameters(), lr=tc.lr, weight_decay=tc.weight_decay)
    warmup = min(tc.warmup_steps, max(1, total // 10))
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda s: min(1.0, (s + 1) / warmup) * 0.5 * (1 + math.cos(math.pi * min(1.0, s / total))))
    audio_stream = cycle(audio_items, min(tc.batch_speech, len(audio_items)), rng) if use_audio and audio_items else None
    text_stream = cycle(text_items, min(tc.batch_text, len(text_items)), rng) if use_text else None
    history = []
    started = time.time()
    model.train()
    for epoch in range(tc.epochs):
        sums: dict[str, float] = {}
        for _ in range(steps_per_epoch):
            outputs, targets, aux_loss = [], [], None
            for stream in (audio_stream, text_stream):
                if stream is None:
                    continue
                batch = batcher.batch(next(stream), train=True, rng=rng)
                out, aux = forward(model, batch, with_aux=True, detach_acoustic=tc.encoder_training == "aux")
                outputs.append(out)
                targets.append(batch)
                has = batch["category"] >= 0
                if aux is not None and tc.aux_weight > 0 and tc.tasks != "dimensional" and bool(has.any()):
                    aux_loss = torch.nn.functional.cross_entropy(aux[has], batch["category"][has])
            logits = torch.cat([o[0] for o in outputs])
            valence = torch.cat([o[1] for o in outputs])
            arousal = torch.cat([o[2] for o in outputs])
            loss, parts = multitask_loss(
                logits, valence, arousal, torch.cat([t["category"] for t in targets]),
                torch.cat([t["valence"] for t in targets]), torch.cat([t["arousal"] for t in targets]), tc.tasks)
            if aux_loss is not None:
                loss = loss + tc.aux_weight * aux_loss
                parts["aux_ce"] = float(aux_loss)
            if not torch.isfinite(loss):
                log("  non-finite loss, step skipped")
                continue
            optimizer.zero_grad()
            loss.backward()
            # Clipped per part: one global norm would let the noisy text-batch CCC gradients rescale the acoustic
            # encoder's steps at random, which in our runs stalled its learning.
            if tc.grad_clip > 0:
                for part in (model.acoustic, model.aux_classifier, model.head):
                    torch.nn.utils.clip_grad_norm_(part.parameters(), tc.grad_clip)
            optimizer.step()
            schedule.step()
            for k, v in {"loss": float(loss), **parts}.items():
                sums[k] = sums.get(k, 0.0) + v
        row = {"epoch": epoch + 1, "seconds": round(time.time() - started, 1),
               **{k: round(v / steps_per_epoch, 4) for k, v in sums.items()}}
        history.append(row)
        log("  " + json.dumps(row))
    if run_dir is not None:
        (run_dir / "history.json").write_text(json.dumps(history, indent=1) + "\n")
    return model.eval()


@torch.no_grad()
def predict(model: EmotionModel, cfg: Config, data: Data, items: Sequence[Item], with_text: bool,
            batch_size: int = 16) -> dict[str, np.ndarray]:
    model.eval()
    batcher = Batcher(cfg, data)
    # Length-sorted batches keep padding small; outputs are put back in item order.
    order = sorted(range(len(items)), key=lambda i: len(data.logmel[items[i].id]) if items[i].audio else 0)
    logits, valence, arousal = np.zeros((len(items), len(LABELS))), np.zeros(len(items)), np.zeros(len(items))
    for start in range(0, len(order), batch_size):
        idx = order[start: start + batch_size]
        lg, v, a = forward(model, batcher.batch([items[i] for i in idx], train=False, rng=None, with_text=with_text))
        logits[idx], valence[idx], arousal[idx] = lg.numpy(), v.numpy(), a.numpy()
    return {"logits": logits, "valence": valence, "arousal": arousal}


def evaluate(model: EmotionModel, cfg: Config, data: Data, test_items: Sequence[Item]) -> dict[str, Any]:
    """Categorical metrics on labelled audio items (with their text as trained, and with text masked), per corpus
    and pooled; CCC on items with real valence/arousal (EmoBank dev: text only)."""
    metrics: dict[str, Any] = {}
    audio = [it for it in test_items if it.audio and it.category]
    if audio:
        y = np.array([LABEL_INDEX[it.category] for it in audio])
        modes = {"text_as_trained": True, "text_missing": False} if cfg.data.speech_text == "fixed" else {"text_missing": False}
        for mode, with_text in modes.items():
            pred = predict(model, cfg, data, audio, with_text)["logits"].argmax(1)
            res = {"all": classification_report(y, pred)}
            for corpus in sorted({it.corpus for it in audio}):
                sel = np.array([it.corpus == corpus for it in audio])
                res[corpus] = classification_report(y[sel], pred[sel])
            metrics[f"categorical_{mode}"] = res
    dims = [it for it in test_items if it.valence is not None and it.arousal is not None]
    for corpus in sorted({it.corpus for it in dims}):
        group = [it for it in dims if it.corpus == corpus]
        out = predict(model, cfg, data, group, with_text=True, batch_size=256)
        metrics[f"dimensional_{corpus}"] = {
            "ccc_valence": ccc(out["valence"], np.array([it.valence for it in group])),
            "ccc_arousal": ccc(out["arousal"], np.array([it.arousal for it in group])),
            "n": len(group)}
    return metrics


def dev_items(data: Data) -> list[Item]:
    return [it for it in data.items if it.corpus == "emobank" and it.split == "dev"]


def text_train_items(data: Data) -> list[Item]:
    return [it for it in data.items if it.speaker is None and it.split != "dev"]


def new_run_dir(out: Path, cfg: Config) -> Path:
    out.mkdir(parents=True, exist_ok=True)
    cfg.save(out / "config.json")
    return out


def data_summary(data: Data, items: Sequence[Item]) -> list[dict[str, Any]]:
    rows = []
    for corpus in sorted({it.corpus for it in items}):
        group = [it for it in items if it.corpus == corpus]
        counts = {label: sum(it.category == label for it in group) for label in LABELS}
        rows.append({"corpus": corpus, "items": len(group),
                     "speakers": len({it.speaker for it in group if it.speaker}),
                     "categories": counts if any(counts.values()) else None,
                     "valence_arousal": sum(it.valence is not None for it in group),
                     "licence": LICENCES.get(corpus, "see the corpus licence")})
    return rows


def run_fold(cfg: Config, data: Data, fold: int, out: Path) -> dict[str, Any]:
    run_dir = new_run_dir(out / f"fold{fold}", cfg)
    train_speech, test_speech = split_fold([it for it in data.items if it.speaker], cfg.train.folds, fold)
    log(f"fold {fold}: train {len(train_speech)} audio items, test {len(test_speech)} "
        f"({len({it.speaker for it in test_speech})} held-out speakers)")
    started = time.time()
    model = train_model(cfg, data, train_speech + text_train_items(data), run_dir)
    metrics = evaluate(model, cfg, data, test_speech + dev_items(data))
    metrics["train_seconds"] = round(time.time() - started, 1)
    metrics["test_speakers"] = sorted({it.speaker for it in test_speech})
    (run_dir / "metrics.json").write_text(json.dumps(metrics, indent=2) + "\n")
    return metrics


def aggregate(folds: list[dict[str, Any]]) -> dict[str, Any]:
    """Mean and std over folds for every numeric leaf (n is summed)."""
    def walk(values: list[Any]):
        first = values[0]
        if isinstance(first, dict):
            return {k: walk([v[k] for v in values if k in v]) for k in first if k != "test_speakers"}
        if isinstance(first, (int, float)):
            arr = np.array(values, dtype=np.float64)
            return {"mean": float(arr.mean()), "std": float(arr.std()), "folds": len(arr)}
        return None
    out = walk(folds)
    return out


def run_cv(cfg: Config, out: Path, folds: Optional[Sequence[int]] = None) -> dict[str, Any]:
    torch.set_num_threads(cfg.train.threads)
    new_run_dir(out, cfg)
    data = prepare_data(cfg)
    folds = list(folds) if folds is not None else list(range(cfg.train.folds))
    results = [run_fold(cfg, data, k, out) for k in folds]
    summary = {"protocol": f"speaker-independent {cfg.train.folds}-fold CV over speech speakers, folds run: {folds}; "
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
    summary = {"protocol": f"speaker-independent {cfg.train.folds}-fold CV over speech speakers, folds run: {folds}; "
                           "EmoBank: train split for training, dev split for reporting",
               "text_features": "encode-text" if (resolve(cfg.data.cache_dir) / "text-features").exists() else "stand-in",
               "folds": aggregate(results), "per_fold": results}
    (out / "metrics.json").write_text(json.dumps(summary, indent=2) + "\n")
    log(json.dumps(summary["folds"], indent=1))
    return summary


def run_fit(cfg: Config, out: Path) -> dict[str, Any]:
    """Train on every speaker and EmoBank train; report EmoBank dev. Writes model.pt for export."""
    torch.set_num_threads(cfg.train.threads)
    run_dir = new_run_dir(out, cfg)
    data = prepare_data(cfg)
    train_items = [it for it in data.items if it.speaker] + text_train_items(data)
    started = time.time()
    model = train_model(cfg, data, train_items, run_dir)
    seconds = time.time() - started
    metrics = evaluate(model, cfg, data, dev_items(data))
    metrics["train_seconds"] = round(seconds, 1)
    metrics["text_features"] = data.text_source
    (run_dir / "metrics.json").write_text(json.dumps(metrics, indent=2) + "\n")
    torch.save({"config": cfg.to_dict(), "model": model.state_dict(), "metrics": metrics,
                "data": data_summary(data, train_items), "text_features": data.text_source},
               run_dir / "model.pt")
    log(json.dumps(metrics))
    return metrics


def smoke_overrides(cfg: Config) -> None:
    cfg.train.epochs = 1
    cfg.train.limit_per_corpus = 24
    cfg.train.folds = 2
    cfg.train.batch_text = 16


def parse_args(argv: Optional[list[str]]) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("command", choices=["fit", "cv", "texts", "merge"],
                   help="texts: only write the text list for the worker's encode-text command; merge: combine fold folders of a CV run "
                        "whose folds ran in separate processes")
    p.add_argument("--config", default=str(TRAINING_ROOT / "configs" / "default.json"))
    p.add_argument("--out", help="run folder (fit, cv)")
    p.add_argument("--set", action="append", default=[], metavar="SECTION.KEY=VALUE")
    p.add_argument("--folds", help="comma-separated fold indices to run (default: all)")
    p.add_argument("--smoke", action="store_true")
    return p.parse_args(argv)


def main(argv: Optional[list[str]] = None) -> None:
    args = parse_args(argv)
    cfg = Config.load(args.config)
    if args.smoke:
        smoke_overrides(cfg)
    for o in args.set:
        cfg.set(o)
    if args.command == "texts":
        items = load_items(resolve(cfg.data.data_root), cfg.data.corpora, cfg.data.csv_corpora)
        log(str(write_text_tsv(items, resolve(cfg.data.cache_dir) / "text" / "input.tsv")))
        return
    if not args.out:
        raise SystemExit("--out is required")
    out = resolve(args.out)
    if args.command == "merge":
        merge_cv(out, cfg)
    elif args.command == "fit":
        run_fit(cfg, out)
    else:
        folds = [int(x) for x in args.folds.split(",")] if args.folds else None
        summary = run_cv(cfg, out, folds)
        log(json.dumps(summary["folds"], indent=1))


if __name__ == "__main__":
    main(sys.argv[1:])
