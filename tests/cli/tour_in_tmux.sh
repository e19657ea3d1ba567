#!/usr/bin/env bash
# `nodelab tour` in a real terminal: it waits for Enter between screens, q stops it, and no
# line is wider than 120 columns (the pane is 200 wide, so nothing wraps on its own).
#   tour_in_tmux.sh NODELAB
# Exit 0 pass, 1 fail, 77 skipped (no tmux).
set -uo pipefail
nodelab=$1
. "$(dirname "$0")/../support/tmux.sh" tour 120

t new-session -d -s tour -x 200 -y 50 "'$nodelab' tour --no-color; echo EXIT=\$?; sleep 30" ||
  fail "tmux could not start"
t set-option -t tour history-limit 5000 > /dev/null
wait_for "── 1/"
wait_for "Enter: screen 2/"
sleep 1
screen | grep -qF "── 2/" && fail "screen 2 came without Enter"
t send-keys -t tour Enter
wait_for "── 2/"
wait_for "Enter: screen 3/"
t send-keys -t tour q Enter
wait_for "tour stopped after 2 of"
wait_for "EXIT=0"
# Columns, not bytes: drop UTF-8 continuation bytes before counting.
wide=$(screen | LC_ALL=C sed 's/[\x80-\xbf]//g' | LC_ALL=C awk 'length($0) > 120' | head -3)
[ -z "$wide" ] || fail "lines over 120 columns: $wide"
echo "ok: the tour waited for Enter, stopped on q, and fit 120 columns"
