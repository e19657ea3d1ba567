#!/usr/bin/env bash
# --step in a real terminal: tmux runs the lab, sends keys, and reads the screen back.
#   step_in_tmux.sh LAB SCENARIO
# Exit 0 pass, 1 fail, 77 skipped (no tmux).
set -uo pipefail
lab=$1
scenario=$2
command -v tmux > /dev/null || { echo "SKIP: tmux is not installed"; exit 77; }

sock="nodelab-step-$$"
out=$(mktemp)
t() { tmux -L "$sock" "$@"; }
cleanup() { t kill-server 2> /dev/null; rm -f "$out"; }
trap cleanup EXIT
fail() { echo "FAIL: $*"; echo "--- screen:"; t capture-pane -p -t step -S - 2> /dev/null | tail -40; exit 1; }

# Waits until the screen (with scrollback) shows the text, for up to 10 s.
wait_for() {
  for _ in $(seq 1 100); do
    t capture-pane -p -t step -S - 2> /dev/null | grep -qF -- "$1" && return 0
    sleep 0.1
  done
  fail "the screen never showed: $1"
}

t new-session -d -s step -x 140 -y 50 "'$lab' '$scenario' --step --no-color; echo EXIT=\$?; sleep 30" ||
  fail "tmux could not start"
wait_for "step 1/1"
wait_for "[main script done, queues drained]"
t send-keys -t step Enter
wait_for "step 2/2"
t send-keys -t step Enter
wait_for "step 3/3"
t send-keys -t step b                     # back through history
wait_for "step 2/3 (history)"
t send-keys -t step n                     # forward through history
wait_for "step 3/3"
t send-keys -t step q                     # quit with the metrics so far
wait_for "EXIT=0"
wait_for "quit from --step"
wait_for "metrics"
echo "ok: stepped forward, back, forward and quit in tmux"
