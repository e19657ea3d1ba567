# Sourced by the tests that drive a program in a real terminal (tmux): a private tmux server
# per test, killed on exit, and the helpers every such test uses.
#   . tests/support/tmux.sh SESSION [WAIT_SECONDS]
#   t ...             tmux on this test's own server
#   screen            the session's screen and scrollback, lines joined where they wrapped
#   fail TEXT         prints TEXT and the screen's last 60 lines, exits 1
#   wait_for TEXT     until the screen shows TEXT (WAIT_SECONDS, default 10), else fail
# Exits 77 (skipped) when tmux is not installed.
command -v tmux > /dev/null || { echo "SKIP: tmux is not installed"; exit 77; }
tmux_session=$1
tmux_wait=${2:-10}
tmux_sock="nodelab-$tmux_session-$$"
t() { tmux -L "$tmux_sock" "$@"; }
tmux_cleanup() { t kill-server 2> /dev/null; }
trap tmux_cleanup EXIT
screen() { t capture-pane -p -J -t "$tmux_session" -S - 2> /dev/null; }
fail() { echo "FAIL: $*"; echo "--- screen:"; screen | tail -60; exit 1; }
wait_for() {
  for _ in $(seq 1 $((tmux_wait * 10))); do
    screen | grep -qF -- "$1" && return 0
    sleep 0.1
  done
  fail "the screen never showed: $1"
}
