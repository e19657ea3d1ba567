#!/usr/bin/env bash
# --html in a real browser: runs a lab with --html, loads the page from a file:// URL in
# headless Chromium (Debian's `chromium`, installed by scripts/setup), and checks with
# nodelab-html-shot-check that the page drew its timeline without a script error and that
# the lanes show their bars in a screenshot.
#
#   html_in_chromium.sh CHECKER LAB SCENARIO [LANE...]
#
# LANE...: lanes that must exist and show bars (e.g. poll, check, "threadpool #1").
# Exit 0 on success, 1 on failure, 77 (skipped) when chromium is not installed.
# Chromium gets a fresh profile (and HOME, TMPDIR) per run, removed after it, and 60 s per
# run (timeout kills it); a run that crashes or hangs is tried again once, as a loaded CI
# machine can starve it.
set -uo pipefail

if [ $# -lt 3 ]; then
  echo "usage: $0 CHECKER LAB SCENARIO [LANE...]" >&2
  exit 2
fi
checker=$1 lab=$2 scenario=$3
shift 3

chromium=$(command -v chromium || command -v chromium-browser || true)
if [ -z "$chromium" ]; then
  echo "chromium is not installed (scripts/setup installs it): skipped"
  exit 77
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/nodelab-html-chromium.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# The lab itself, with --html; under TSan it is several times slower than a plain build.
timeout 300 "$lab" "$scenario" --html "$tmp/page.html" --no-color >"$tmp/lab.out" 2>&1
status=$?
if [ $status -ne 0 ]; then
  echo "FAIL: $lab $scenario --html exited $status:"
  cat "$tmp/lab.out"
  exit 1
fi
if [ ! -s "$tmp/page.html" ]; then
  echo "FAIL: $lab wrote no page"
  exit 1
fi
echo "page: $(wc -c <"$tmp/page.html") bytes from $(basename "$lab") $scenario"

# Both runs use one window size (the layout depends on the width) and a device scale of 1,
# so the lane rectangles the DOM reports are the screenshot's pixels. The height leaves
# room for the header and verdict above the lanes; the checker says if a lane falls off.
size=1280,2400
url="file://$tmp/page.html"
# chromium ARGS...: one headless run in a fresh profile; its output in $tmp/out, $tmp/err.
run_chromium() {
  local attempt profile status
  for attempt in 1 2; do
    profile=$(mktemp -d "$tmp/profile.XXXXXX")
    # Its own HOME and TMPDIR too, so nothing it writes outlives the test.
    mkdir -p "$profile/home" "$profile/tmp"
    HOME="$profile/home" TMPDIR="$profile/tmp" XDG_CONFIG_HOME="$profile/home/.config" \
      XDG_CACHE_HOME="$profile/home/.cache" \
      timeout -k 5 60 "$chromium" --headless --no-sandbox --disable-gpu \
      --disable-background-networking --no-first-run --no-default-browser-check \
      --disable-extensions --disable-sync --mute-audio --hide-scrollbars \
      --force-device-scale-factor=1 --window-size="$size" --user-data-dir="$profile" \
      "$@" "$url" </dev/null >"$tmp/out" 2>"$tmp/err"
    status=$?
    rm -rf "$profile"
    if [ $status -eq 0 ]; then return 0; fi
    echo "chromium exited $status (attempt $attempt)$([ $status -eq 124 ] && echo ': timed out after 60 s')"
    tail -n 20 "$tmp/err"
  done
  return 1
}

# 1. The DOM after the page's script ran (virtual time lets animation frames run too).
if ! run_chromium --virtual-time-budget=3000 --dump-dom || ! grep -q '<body' "$tmp/out"; then
  echo "FAIL: chromium did not dump the page's DOM"
  exit 1
fi
mv "$tmp/out" "$tmp/dom.html"

# 2. A screenshot at the same size.
if ! run_chromium --virtual-time-budget=3000 --screenshot="$tmp/shot.png" || [ ! -s "$tmp/shot.png" ]; then
  echo "FAIL: chromium took no screenshot"
  exit 1
fi

"$checker" "$tmp/dom.html" "$tmp/shot.png" "$@"
status=$?
if [ $status -ne 0 ] && [ -n "${NODELAB_KEEP_SCREENSHOT:-}" ]; then
  cp "$tmp/shot.png" "$tmp/dom.html" "$NODELAB_KEEP_SCREENSHOT"/ && echo "kept in $NODELAB_KEEP_SCREENSHOT"
fi
exit $status
