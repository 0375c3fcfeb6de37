#!/usr/bin/env bash
# Runs every test: the training code's unit tests and a smoke training run (Python), then the .NET test suite
# (real FFmpeg, ONNX Runtime, Azurite and DuckDB). Installs prerequisites first (idempotent).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
bash scripts/setup.sh

if [ -f training/smoke.sh ]; then
  bash training/smoke.sh
fi

dotnet build EmotionBatch.sln -c Release --no-restore --verbosity quiet
dotnet test EmotionBatch.sln -c Release --no-build --verbosity quiet --logger "console;verbosity=normal"
