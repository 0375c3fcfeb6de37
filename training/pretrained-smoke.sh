#!/usr/bin/env bash
# CI smoke run of the frozen-encoder path with stand-ins of the real encoders' interfaces, all output in a temp folder:
# a tiny random HuBERT-family acoustic graph (export_hubert.py --tiny) and a small random DeBERTa-like text encoder
# with a DeBERTaV3-style SentencePiece model (export_deberta.py --standin); their features of a few clips per speech
# corpus and of the texts cached by the worker (encode-audio, encode-text); the fusion head trained alone (2-fold CV
# and a one-epoch fit); the bundle assembled; the worker's verify-bundle on it; and the worker processing a sample
# recording with it. Needs the Release build of the worker (built here when missing) and the voice-activity model.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
PY=${PYTHON:-/usr/bin/python3}
WORKER="$ROOT/src/EmotionBatch.Worker/bin/Release/net10.0/emotionbatch.dll"
source training/smoke-temp.sh
export PYTHONPATH="$ROOT/training${PYTHONPATH:+:$PYTHONPATH}"
started=$SECONDS
step() { echo "== $1 ($((SECONDS - started)) s)"; }

if [ ! -f "$WORKER" ]; then
  step "building the worker"
  dotnet build src/EmotionBatch.Worker -c Release --no-restore -v q
fi
VAD=${EMOTIONBATCH_VAD_MODEL:-}
for candidate in "$ROOT/.models/silero-vad/silero_vad.onnx" "$ROOT/../shared/models/silero-vad/silero_vad_v6.onnx"; do
  if [ -z "$VAD" ] && [ -f "$candidate" ]; then VAD=$candidate; fi
done
if [ -z "$VAD" ]; then
  echo "pretrained-smoke: no voice-activity model; run scripts/fetch-models.sh or set EMOTIONBATCH_VAD_MODEL" >&2
  exit 1
fi

step "(a) tiny random HuBERT-family acoustic encoder, as an acoustic-only bundle"
$PY training/export_hubert.py --tiny --out "$OUT/acoustic" > /dev/null 2> "$OUT/export-hubert.log"

step "(b) random DeBERTa-like text encoder + DeBERTaV3-style SentencePiece model, as a text-only bundle"
$PY training/export_deberta.py --standin --out "$OUT/text" > /dev/null 2> "$OUT/export-deberta.log"

# Four speech corpora (a few clips each), EmoBank and MELD (a few texts each: proxy targets and text batches).
SETTINGS=(
  --config training/configs/frozen.json
  --set 'data.corpora=["emodb","ravdess","ased","nemo","emobank","meld"]'
  --set data.cache_dir="$OUT/cache"
  --set train.limit_per_corpus=4 --set train.epochs=1 --set train.folds=2 --set train.batch_text=16
  --set model.fusion_dim=64 --set model.fusion_ff=128
  --set features.acoustic_cache="$OUT/cache/acoustic" --set features.acoustic_bundle="$OUT/acoustic"
  --set features.text_cache="$OUT/cache/text" --set features.text_bundle="$OUT/text"
  --set features.worker="$WORKER"
)

step "(c) feature caches through the worker (encode-audio, encode-text)"
$PY -m emotionbatch_training.frozen cache "${SETTINGS[@]}"

step "(d) fusion head alone: 2-fold speaker-independent CV, calibration, report, one-epoch fit"
$PY -m emotionbatch_training.frozen cv "${SETTINGS[@]}" --out "$OUT/cv" > "$OUT/cv.log"
$PY -m emotionbatch_training.calibration --cv "$OUT/cv" > /dev/null
$PY -m emotionbatch_training.report --cv "$OUT/cv" > "$OUT/report.md"
$PY -m emotionbatch_training.frozen fit "${SETTINGS[@]}" --out "$OUT/fit" > "$OUT/fit.log"

step "(e) assemble the bundle"
$PY -m emotionbatch_training.assemble --acoustic-bundle "$OUT/acoustic" --text-bundle "$OUT/text" \
  --head "$OUT/fit/head.pt" --cv "$OUT/cv" --out "$OUT/bundle" --worker "$WORKER" 2> "$OUT/assemble.log"
$PY - "$OUT/bundle" "$OUT/cv" <<'PYEOF'
import json, sys
from pathlib import Path
import onnx
bundle, cv = Path(sys.argv[1]), Path(sys.argv[2])
m = json.loads((bundle / "manifest.json").read_text())
assert m["trained"] is True and m["labels"] == ["angry", "happy", "sad", "neutral"], m["trained"]
assert m["acoustic_encoder"]["name"] == "hubert-tiny-random" and m["acoustic_encoder"]["dim"] == 64
text = m["text_encoder"]
assert text["name"] == "deberta-like-standin" and text["builtin"] is None and text["dim"] == 96
assert text["tokenizer"] == {"type": "sentencepiece", "file": "spm.model", "lowercase": False, "max_length": 128}
speech = {"emodb", "ravdess", "ased", "nemo"}
assert speech | {"all"} <= set(m["metrics"]["speech_cv"]["clean_none"]), m["metrics"]["speech_cv"]
assert {row["corpus"] for row in m["training"]["data"]} == speech | {"emobank", "meld"}
assert "meld_dev_text_only" in m["metrics"] and "emobank_dev" in m["metrics"]
for name in ("acoustic_encoder.onnx", "text_encoder.onnx", "fusion_head.onnx"):
    onnx.checker.check_model(str(bundle / name))
cases = json.loads((bundle / "parity.json").read_text())["cases"]
assert any(isinstance(c.get("text"), str) for c in cases) and any("text_features" in c for c in cases)
report = (cv.parent / "report.md").read_text()
assert all(name in report for name in ("Emo-DB", "RAVDESS", "ASED", "nEMO", "MELD dev", "EmoBank dev")), report
print(f"bundle ok: {sorted(p.name for p in bundle.iterdir())}, {len(cases)} parity cases")
PYEOF

step "(f) verify-bundle: the worker reproduces the parity cases (acoustic graph, tokenizer, text graph, head)"
dotnet "$WORKER" verify-bundle --bundle "$OUT/bundle"

step "(g) the worker processes a sample recording with the assembled bundle"
mkdir -p "$OUT/recordings" "$OUT/run"
cp samples/recordings/support-call.wav "$OUT/recordings/"
(cd "$OUT/run" && EmotionBatch__Model__BundlePath="$OUT/bundle" EmotionBatch__Vad__ModelPath="$VAD" \
  dotnet "$WORKER" process "$OUT/recordings" --output "$OUT/out")
rows=$($PY training/parquet_rows.py --total "$OUT/out/utterances")
if [ "$rows" -lt 1 ]; then
  echo "pretrained-smoke: no utterance rows under $OUT/out/utterances" >&2
  exit 1
fi
step "pretrained smoke ok: $rows utterance rows (audio only: no speech-recognition model here)"
