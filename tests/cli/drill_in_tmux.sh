#!/usr/bin/env bash
# `nodelab drill` in a real terminal: the answer prompt edits its line (libedit): a line typed
# as "tart", then Left four times and "s", is read as "start", not as escape codes.
#   drill_in_tmux.sh NODELAB
# Exit 0 pass, 1 fail, 77 skipped (no tmux).
set -uo pipefail
nodelab=$1
. "$(dirname "$0")/../support/tmux.sh" drill 30

t new-session -d -s drill -x 120 -y 50 \
  "'$nodelab' drill --scenario event-loop/io-immediate-first --no-color; echo EXIT=\$?; sleep 30" ||
  fail "tmux could not start"
wait_for "an empty line ends your answer"
k() { t send-keys -t drill "$@"; }
lit() { t send-keys -t drill -l "$1"; }   # literal text ("end" alone is tmux's End key)
lit tart; k Left Left Left Left; lit s; k Enter
lit end; k Enter
lit immeditae; k BSpace BSpace BSpace; lit ate; k Enter        # backspace, too
k Up Up Up; k C-u; lit timeout; k Enter                         # history, then the line killed
k Enter
wait_for "EXIT=0"
screen | grep -qF "score: 1/1 exactly right" || fail "the edited answer was not read as typed"
echo "ok: arrow keys, backspace and history edit the answer line"
