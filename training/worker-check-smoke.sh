#!/usr/bin/env bash
# CI smoke run of worker_check.py, all output in a temp folder: a one-epoch smoke CV fold saved with --save-models,
# exported as a bundle, its held-out clips processed by the worker (`emotionbatch process`) and scored per recording
# (`emotionbatch evaluate`) beside the fold's CV figures, clean and as telephone copies. Needs the Release build of
# the worker and the voice-activity model.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-/usr/bin/python3}
source training/smoke-temp.sh
export PYTHONPATH="$PWD/training${PYTHONPATH:+:$PYTHONPATH}"
$PY -m emotionbatch_training.train cv --smoke --save-models --folds 0 --out "$OUT/cv" --set data.cache_dir="$OUT/cache" > "$OUT/cv.log" 2>&1
$PY -m emotionbatch_training.worker_check --fold "$OUT/cv/fold0" --out "$OUT/check" > "$OUT/check.log" 2>&1
# The worker's cut of the held-out clips (`emotionbatch segment`), and the fold model rescored on it.
$PY - "$OUT/cv/fold0/test_items.csv" > "$OUT/clips.tsv" <<'PYEOF'
import csv, sys
print("id\tpath")
for row in csv.DictReader(open(sys.argv[1], newline="", encoding="utf-8")):
    print(f"{row['id']}\t{row['audio']}")
PYEOF
dotnet src/EmotionBatch.Worker/bin/Release/net10.0/emotionbatch.dll segment --input "$OUT/clips.tsv" --output "$OUT/segments.tsv" > "$OUT/segment.log" 2>&1
$PY -m emotionbatch_training.train rescore --from "$OUT/cv" --out "$OUT/rescored" --set data.segments="$OUT/segments.tsv" > "$OUT/rescore.log" 2>&1
$PY -m emotionbatch_training.worker_check --fold "$OUT/cv/fold0" --out "$OUT/check" --telephone > "$OUT/telephone.log" 2>&1
$PY - "$OUT" <<'PYEOF'
import csv, json, sys
from pathlib import Path
out = Path(sys.argv[1])
clips = sum(1 for row in csv.DictReader((out / "cv/fold0/test_items.csv").open()) if row["category"])
for condition in ("clean", "telephone"):
    rows = {r["group"]: r for r in json.loads((out / "check" / condition / "worker_check.json").read_text())["rows"]}
    assert rows["all"]["n"] == clips, (condition, rows["all"]["n"], clips)
    assert 0.0 <= rows["all"]["worker_uar"] <= 1.0 and 0.0 <= rows["all"]["cv_uar"] <= 1.0
    assert {"ased", "emodb", "nemo", "ravdess"} <= set(rows), sorted(rows)
    print(f"worker check ({condition}): {clips} clips, worker UAR {rows['all']['worker_uar']}, CV UAR {rows['all']['cv_uar']}")
# Rescored on the worker's cut: every held-out clip scored again, on the cut (clips the worker finds no speech in
# whole, and counted), so its outputs differ from the CV's, which scored the clips whole.
import numpy as np
metrics = json.loads((out / "rescored/fold0/metrics.json").read_text())
rescored = metrics["speech_clean_none"]["all"]
assert rescored["n"] == clips and 0.0 <= rescored["uar"] <= 1.0, rescored
assert metrics["without_speech"]["all"] >= 0, metrics.get("without_speech")
assert json.loads((out / "rescored/fold0/config.json").read_text())["data"]["segments"].endswith("segments.tsv")
whole, cut = np.load(out / "cv/fold0/predictions.npz"), np.load(out / "rescored/fold0/predictions.npz")
assert list(whole["ids"]) == list(cut["ids"]) and not np.allclose(whole["speech_clean_none"], cut["speech_clean_none"])
print(f"rescored on the worker's cut: {rescored['n']} clips, UAR {rescored['uar']:.3f}")
manifest = json.loads((out / "check/bundle/manifest.json").read_text())
assert manifest["version"].endswith("+fold0") and manifest["trained"] is True
PYEOF
