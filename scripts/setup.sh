#!/usr/bin/env bash
# Installs what EmotionBatch needs on a Debian/Ubuntu machine, idempotently:
#   - ffmpeg (decoding), espeak-ng + sox (sample and test audio), Debian's PyTorch/ONNX and scikit-learn (training/, its tests and the yardstick);
#   - npm dev tools (Azurite, the blob emulator the tests start);
#   - the voice-activity model, verified by sha256 (scripts/fetch-models.sh);
#   - NuGet packages (dotnet restore).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"

apt_packages=(ffmpeg libopenblas0-openmp sox libsox-fmt-all espeak-ng python3-numpy python3-torch python3-torchaudio python3-onnx python3-sklearn python3-sentencepiece fonts-dejavu-core)
missing=()
for pkg in "${apt_packages[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  sudo_cmd=""
  [ "$(id -u)" -eq 0 ] || sudo_cmd="sudo"
  $sudo_cmd apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if [ ! -x node_modules/.bin/azurite-blob ]; then
  echo "setup: npm ci (Azurite)"
  npm ci --no-audit --no-fund --loglevel=error
fi

bash scripts/fetch-models.sh
dotnet restore EmotionBatch.sln --verbosity quiet
echo "setup: ready"
