#!/usr/bin/env bash
# Runs every test: the training code's unit tests and a smoke training run (Python), the frozen-encoder smoke run
# and a CV fold measured through the worker, then the .NET test suite (real FFmpeg, ONNX Runtime, Azurite and
# DuckDB). Installs prerequisites first (idempotent).
#
#   --fast   only the .NET tests marked [Trait("Category", "Fast")]: unit tests and orchestration tests with fakes,
#            no processes, no Azurite, no models (about half a minute after an incremental build). Skips the setup
#            and the Python tests, so run the full suite once on a fresh machine first.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"

filter=()
if [ "${1:-}" = "--fast" ]; then
  filter=(--filter "Category=Fast")
else
  bash scripts/setup.sh
  if [ -f training/smoke.sh ]; then
    bash training/smoke.sh
  fi
fi

results="$root/TestResults"
rm -rf "$results"
dotnet build EmotionBatch.sln -c Release --no-restore --verbosity quiet
status=0
if [ ${#filter[@]} -eq 0 ] && [ -f training/pretrained-smoke.sh ]; then
  # The frozen-encoder path end to end through the worker just built (stand-in encoders, about a minute); a failure
  # fails the run but does not skip the .NET suite.
  bash training/pretrained-smoke.sh || { status=$?; echo "FAILED training/pretrained-smoke.sh (exit $status)"; }
fi
if [ ${#filter[@]} -eq 0 ] && [ -f training/worker-check-smoke.sh ]; then
  # A CV fold's model measured through the worker on its held-out clips (worker_check.py; about two minutes).
  bash training/worker-check-smoke.sh || { status=$?; echo "FAILED training/worker-check-smoke.sh (exit $status)"; }
fi
dotnet test EmotionBatch.sln -c Release --no-build --verbosity quiet "${filter[@]}" \
  --logger "console;verbosity=normal" --logger "trx" --results-directory "$results" || status=$((status == 0 ? $? : status))

# One closing line over all test assemblies.
python3 - "$results" <<'PY'
import glob, sys, xml.etree.ElementTree as ET
ns = {"t": "http://microsoft.com/schemas/VisualStudio/TeamTest/2010"}
passed = failed = skipped = 0
failures = []
for path in glob.glob(sys.argv[1] + "/*.trx"):
    root = ET.parse(path).getroot()
    counters = root.find("t:ResultSummary/t:Counters", ns)
    passed += int(counters.get("passed", 0))
    failed += int(counters.get("failed", 0)) + int(counters.get("error", 0)) + int(counters.get("timeout", 0))
    skipped += int(counters.get("notExecuted", 0))
    for result in root.iterfind("t:Results/t:UnitTestResult", ns):
        if result.get("outcome") not in ("Passed", "NotExecuted"):
            message = result.findtext("t:Output/t:ErrorInfo/t:Message", default="", namespaces=ns)
            failures.append((result.get("testName"), message.strip()))
# Failures are repeated here, last, so that a log's tail always names them.
for name, message in failures:
    lines = message.splitlines()
    print(f"FAILED {name}")
    for line in lines[:12]:
        print(f"    {line[:300]}")
    if len(lines) > 12:
        print(f"    ... {len(lines) - 12} more lines in the .trx")
print(f"{passed} passed, {failed} failed, {skipped} skipped")
PY
exit $status
