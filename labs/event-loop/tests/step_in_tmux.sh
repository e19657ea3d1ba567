#!/usr/bin/env bash
# --step in a real terminal: tmux runs the lab, sends keys, and reads the screen back.
#   step_in_tmux.sh LAB SCENARIO
# Exit 0 pass, 1 fail, 77 skipped (no tmux).
set -uo pipefail
lab=$1
scenario=$2
. "$(dirname "$0")/../../../tests/support/tmux.sh" step 10

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
