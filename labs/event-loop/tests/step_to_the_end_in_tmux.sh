#!/usr/bin/env bash
# --step through a whole run in a real terminal, looking at each screen for 300 ms:
#   - fs.readFile's quiet iterations fold: the screen after its callback is step 3 and says
#     what it folded; each screen says what ran;
#   - the last screen's callback count is the metrics' callbacks total (no internal fs steps);
#   - the pauses are not the program's time: no blocked / CPU-bound / saturated verdict.
#   step_to_the_end_in_tmux.sh LAB      (runs socket-close-callback)
# Exit 0 pass, 1 fail, 77 skipped (no tmux).
set -uo pipefail
lab=$1
. "$(dirname "$0")/../../../tests/support/tmux.sh" step 10

t new-session -d -s step -x 120 -y 50 "'$lab' socket-close-callback --step --no-color; echo EXIT=\$?; sleep 30" ||
  fail "tmux could not start"
wait_for "step 1/1"
for _ in $(seq 1 40); do
  screen | grep -qF "EXIT=" && break
  sleep 0.3  # a person reading the screen: far past the 100 ms that reads as a blocked loop
  t send-keys -t step Enter
done
wait_for "EXIT=0"
out=$(screen)

echo "$out" | grep -qF "ran: main script" || fail "the first screen does not say the main script ran"
# The screen after the readFile callback: step 3, after a line saying what was folded.
echo "$out" | grep -B3 -F "ran: fs.readFile callback" | grep -qE "^folded [0-9]+ look-alike stops over [0-9]+ loop iterations" ||
  fail "no 'folded' line before the readFile callback's screen"
echo "$out" | grep -B4 -F "ran: fs.readFile callback" | grep -qF "step 3/3" ||
  fail "the readFile callback's screen is not step 3 (quiet stops did not fold)"
last=$(echo "$out" | grep -oE "[0-9,]+ callbacks? so far" | tail -1 | cut -d' ' -f1 | tr -d ,)
total=$(echo "$out" | grep -oE "^  callbacks +[0-9]+:" | grep -oE "[0-9]+")
[ -n "$last" ] && [ "$last" = "$total" ] ||
  fail "the last screen counted '$last' callbacks, the metrics '$total'"
echo "$out" | grep -qF "no timing verdicts: a stepped run's pauses are not the program's time" ||
  fail "no 'no timing verdicts' line"
if echo "$out" | sed -n '/^diagnosis/,/^expect/p' | grep -qiE "blocked|CPU-bound|saturated"; then
  fail "a verdict drawn from the pauses"
fi
echo "ok: stepped to the end ($total callbacks, folded quiet stops), no timing verdict"
