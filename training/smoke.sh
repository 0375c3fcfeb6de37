#!/usr/bin/env bash
# CI smoke run: a few clips per corpus, one epoch, 2-fold CV, calibration, yardstick, ensemble, report, fit, export,
# unit tests;
# all output in a temp folder.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-/usr/bin/python3}
OUT=$(mktemp -d)
trap 'rm -rf "$OUT"' EXIT
export PYTHONPATH="$PWD/training${PYTHONPATH:+:$PYTHONPATH}"
$PY -m emotionbatch_training.train cv --smoke --out "$OUT/cv" --set data.cache_dir="$OUT/cache"
$PY -m emotionbatch_training.calibration --cv "$OUT/cv"
$PY -m emotionbatch_training.yardstick --smoke --out "$OUT/yardstick" --set data.cache_dir="$OUT/cache"
$PY -m emotionbatch_training.report --cv "$OUT/cv" --yardstick "$OUT/yardstick" > "$OUT/report.md"
grep -q "yardstick UAR" "$OUT/report.md"
# The yardstick's fold predictions line up with the deep model's, so the two can be averaged (audio-only keys).
$PY -m emotionbatch_training.ensemble "$OUT/cv" "$OUT/yardstick" | grep -q '"speech_telephone_none"'
$PY -m emotionbatch_training.train fit --smoke --out "$OUT/fit" --set data.cache_dir="$OUT/cache"
$PY -m emotionbatch_training.export --checkpoint "$OUT/fit/model.pt" --cv "$OUT/cv" --yardstick "$OUT/yardstick" --out "$OUT/bundle"
$PY - "$OUT/bundle" <<'PYEOF'
import json, sys
from pathlib import Path
import onnx
b = Path(sys.argv[1])
m = json.loads((b / "manifest.json").read_text())
assert m["labels"] == ["angry", "happy", "sad", "neutral"] and m["trained"] is True
assert m["metrics"]["calibration"]["temperature"] > 0 and m["metrics"]["yardstick_cv"]["clean"]
for g in ("acoustic_encoder.onnx", "fusion_head.onnx"):
    onnx.checker.check_model(onnx.load(str(b / g)))
assert json.loads((b / "parity.json").read_text())["cases"]
print("smoke bundle ok:", sorted(p.name for p in b.iterdir()))
PYEOF
$PY -m unittest discover -s training/tests
