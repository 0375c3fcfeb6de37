"""Measure one CV fold's model through the worker, as the archive's users will meet it: export the fold's model.pt
(train.py cv --save-models) as a bundle, let `emotionbatch process` decode, VAD-cut and score the fold's held-out
clips (test_items.csv), score whole recordings with `emotionbatch evaluate` (duration-weighted mean of the utterance
probabilities), and set the result beside the fold's CV figures (as the fold's run scored its clips: whole, or on
the worker's cut with data.segments).

  python -m emotionbatch_training.worker_check --fold training/runs/cv/fold0 --out training/runs/worker-check [--telephone]

--telephone hands the worker telephone copies instead (300-3400 Hz, 8 kHz, G.711 mu-law WAV files, as archived
calls are) and compares with the CV's telephone condition. Without a transcription model the worker scores audio
only, which is the CV's "none" text mode.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import shutil
import subprocess
from pathlib import Path

from .channels import TELEPHONE_FILTER
from .config import REPO_ROOT, resolve
from .export import DEFAULT_VERSION, export_bundle, load_checkpoint
from .train import TEST_ITEMS

WORKER = REPO_ROOT / "src" / "EmotionBatch.Worker" / "bin" / "Release" / "net10.0" / "emotionbatch.dll"


def prepare_recordings(test_items: Path, folder: Path, telephone: bool) -> Path:
    """The held-out clips under folder/<item id>, and labels.csv with the recording ids the worker will give them."""
    folder.mkdir(parents=True, exist_ok=True)
    labels = folder.parent / "labels.csv"
    with test_items.open(newline="", encoding="utf-8") as f, labels.open("w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(["recording_id", "label", "corpus", "speaker"])
        for row in csv.DictReader(f):
            if not row["category"] or not row["audio"]:
                continue
            # Named after the item id, unique by construction; telephone copies are G.711 WAV files, as call
            # recorders write them.
            name = row["id"] + (".wav" if telephone else Path(row["audio"]).suffix)
            target = folder / name
            target.parent.mkdir(parents=True, exist_ok=True)
            if telephone:
                subprocess.run(["ffmpeg", "-nostdin", "-hide_banner", "-loglevel", "error", "-y", "-i", row["audio"],
                                "-af", TELEPHONE_FILTER, "-ar", "8000", "-ac", "1", "-c:a", "pcm_mulaw", str(target)],
                               check=True)
            else:
                shutil.copyfile(row["audio"], target)  # copies: the worker does not follow symbolic links
            writer.writerow([name, row["category"], row["corpus"], row["speaker"]])
    return labels


def export_fold(fold: Path, bundle: Path) -> None:
    """The fold's model as a bundle, with the temperature calibration.py fitted for this fold on the other folds
    (none, i.e. 1, when the CV ran one fold only)."""
    model, cfg, state = load_checkpoint(fold / "model.pt")
    calibration = fold.parent / "calibration.json"
    if calibration.exists():
        index = int(fold.name.removeprefix("fold"))
        rows = {row["fold"]: row for row in json.loads(calibration.read_text())["per_fold"]}
        # With one fold calibration.py fits the fold on itself; such a temperature would be tuned on the test clips.
        if index in rows and rows[index].get("fitted_on_other_folds"):
            model.head.temperature.fill_(rows[index]["temperature"])
    export_bundle(model, cfg, bundle, trained=True, name="emotionbatch-cv-fold", version=f"{DEFAULT_VERSION}+{fold.name}",
                  description=f"CV {fold.name} model of {fold.parent} (held-out speakers in {TEST_ITEMS}); for worker_check only.",
                  data=state.get("data", []))


def run_worker(worker: list[str], bundle: Path, recordings: Path, output: Path, work: Path) -> None:
    env = {**os.environ, "EmotionBatch__Model__BundlePath": str(bundle), "EmotionBatch__Worker__WorkFolder": str(work),
           "EmotionBatch__Transcription__ModelPath": ""}
    subprocess.run([*worker, "process", str(recordings), "--output", str(output)], check=True, env=env, cwd=REPO_ROOT)


def evaluate(worker: list[str], output: Path, labels: Path) -> dict:
    done = subprocess.run([*worker, "evaluate", "--input", str(output), "--labels", str(labels), "--group-by", "corpus",
                           "--json"], check=True, capture_output=True, text=True, cwd=REPO_ROOT)
    return json.loads(done.stdout)


def compare(scores: dict, fold_metrics: dict, condition: str) -> list[dict]:
    cv = fold_metrics[f"speech_{condition}_none"]
    rows = []
    for group in scores["groups"]:
        name = group["group"]
        ref = cv.get(name, {})
        rows.append({"group": name, "n": group["recordings"], "without_speech": group["without_speech"],
                     "worker_uar": round(group["uar"], 3), "cv_uar": round(ref.get("uar", float("nan")), 3),
                     "worker_arousal_auc": group["arousal_auc"] and round(group["arousal_auc"], 3),
                     "cv_arousal_auc": ref.get("arousal_auc") and round(ref["arousal_auc"], 3),
                     "worker_valence_auc": group["valence_auc"] and round(group["valence_auc"], 3),
                     "cv_valence_auc": ref.get("valence_auc") and round(ref["valence_auc"], 3)})
    return rows


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--fold", required=True, help="a CV fold folder holding model.pt, metrics.json and test_items.csv")
    p.add_argument("--out", required=True, help="work folder (recordings, bundle, Parquet output, result)")
    p.add_argument("--telephone", action="store_true", help="telephone copies and the CV's telephone condition")
    p.add_argument("--worker", default=f"dotnet {WORKER}", help="the worker command line (built Release by default)")
    args = p.parse_args(argv)
    fold, out = resolve(args.fold), resolve(args.out)
    for needed in ("model.pt", "metrics.json", TEST_ITEMS):
        if not (fold / needed).exists():
            raise SystemExit(f"{fold / needed} is missing: run `train cv --save-models` for this fold")
    worker = args.worker.split()
    condition = "telephone" if args.telephone else "clean"
    shutil.rmtree(out / condition, ignore_errors=True)
    work = out / condition
    bundle = out / "bundle"
    shutil.rmtree(bundle, ignore_errors=True)  # always this fold's model, never a bundle left by another run
    export_fold(fold, bundle)
    labels = prepare_recordings(fold / TEST_ITEMS, work / "recordings", args.telephone)
    run_worker(worker, bundle, work / "recordings", work / "output", work / "work")
    rows = compare(evaluate(worker, work / "output", labels), json.loads((fold / "metrics.json").read_text()), condition)
    (work / "worker_check.json").write_text(json.dumps({"fold": str(fold), "condition": condition, "rows": rows}, indent=2) + "\n")
    print(f"{'group':8} {'n':>5} {'no speech':>9} {'worker UAR':>10} {'CV UAR':>7} {'worker aro AUC':>14} {'CV aro AUC':>10}")
    for r in rows:
        print(f"{r['group']:8} {r['n']:5} {r['without_speech']:9} {r['worker_uar']:10.3f} {r['cv_uar']:7.3f} "
              f"{r['worker_arousal_auc'] or float('nan'):14.3f} {r['cv_arousal_auc'] or float('nan'):10.3f}")


if __name__ == "__main__":
    main()
