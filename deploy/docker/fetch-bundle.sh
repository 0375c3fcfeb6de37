#!/usr/bin/env bash
# Fills /models/bundle (or $EMOTIONBATCH_BUNDLE_DIR) with a model bundle published as one .tar.gz, before the worker
# starts: run as a Kubernetes init container, or `docker run --entrypoint emotionbatch-fetch-bundle`.
#   EMOTIONBATCH_BUNDLE_URL     https URL of the archive (e.g. a blob with a read-only SAS; keep it in a Secret).
#   EMOTIONBATCH_BUNDLE_SHA256  expected sha256 of the archive: required, so a swapped or truncated file never loads.
# Idempotent: does nothing when the bundle there came from an archive with the same hash.
set -euo pipefail
dest="${EMOTIONBATCH_BUNDLE_DIR:-/models/bundle}"
url="${EMOTIONBATCH_BUNDLE_URL:?set EMOTIONBATCH_BUNDLE_URL to the bundle archive}"
want="${EMOTIONBATCH_BUNDLE_SHA256:?set EMOTIONBATCH_BUNDLE_SHA256 to the archive sha256}"

if [ -f "$dest/manifest.json" ] && [ "$(cat "$dest/.bundle-sha256" 2>/dev/null)" = "$want" ]; then
  echo "bundle: $dest is current ($want)"
  exit 0
fi

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
# The URL may carry a SAS token: never echo it.
curl -fsSL --retry 5 --retry-delay 3 -o "$tmp/bundle.tar.gz" "$url"
got="$(sha256sum "$tmp/bundle.tar.gz" | cut -d' ' -f1)"
if [ "$got" != "$want" ]; then
  echo "bundle: sha256 mismatch (got $got, want $want); refusing to install it" >&2
  exit 1
fi
mkdir -p "$tmp/unpacked"
tar -xzf "$tmp/bundle.tar.gz" -C "$tmp/unpacked" --no-same-owner
# Archives made as `tar -czf b.tar.gz -C models default` hold one folder: use it as the bundle root.
root="$tmp/unpacked"
if [ ! -f "$root/manifest.json" ] && [ "$(find "$root" -mindepth 1 -maxdepth 1 | wc -l)" -eq 1 ]; then
  root="$(find "$root" -mindepth 1 -maxdepth 1)"
fi
[ -f "$root/manifest.json" ] || { echo "bundle: the archive has no manifest.json" >&2; exit 1; }
mkdir -p "$dest"
find "$dest" -mindepth 1 -delete
cp -R "$root"/. "$dest"/
echo "$want" > "$dest/.bundle-sha256"
echo "bundle: installed $(grep -o '"name"[^,]*' "$dest/manifest.json" | head -1) into $dest"
