# Sourced by the CI smoke scripts: $OUT is a new temp folder, removed on exit; on failure the step logs
# ($OUT/*.log) are printed first, so CI shows why.
OUT=$(mktemp -d)
finish() {
  local code=$?
  if [ $code -ne 0 ]; then
    for f in "$OUT"/*.log; do [ -f "$f" ] && { echo "--- $f"; tail -n 40 "$f"; }; done
  fi
  rm -rf "$OUT"
  exit $code
}
trap finish EXIT
