#!/bin/sh
# BM_Emitter_Emit (the lab's EventEmitter, common/events/event_emitter.hpp) against Node 20's
# EventEmitter doing the same emit('data') to N no-op listeners, steady state, in one run:
# they alternate ROUNDS times so all see the same machine load. Both sides are wall-clock
# time per emit (the benchmark's real_time; node's process.hrtime). Prints each round, then
# the medians and node's time / the lab's (above 1: the lab is faster). BASELINE, another
# bench-emitter build (an older commit's), adds a column measured in the same rounds.
#
#   bench/emitter-node/run.sh [BENCH] [ROUNDS] [BASELINE]
#     BENCH defaults to build/bin/bench-emitter, ROUNDS to 3.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
bench=${1:-$here/../../build/bin/bench-emitter}
rounds=${2:-3}
baseline=${3:-}
command -v node > /dev/null || { echo "run.sh: node is not installed" >&2; exit 2; }
[ -x "$bench" ] || { echo "run.sh: $bench not built" >&2; exit 2; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# One bench-emitter run: {"listeners": N, "ns_per_emit": median wall time} per line.
lab_side() {
  "$1" --benchmark_filter='BM_Emitter_Emit/' --benchmark_repetitions=3 \
    --benchmark_report_aggregates_only=true --benchmark_format=json 2> /dev/null |
    python3 -c '
import json, sys
for b in json.load(sys.stdin)["benchmarks"]:
    if b.get("aggregate_name") == "median":
        assert b["time_unit"] == "ns"
        n = int(b["run_name"].split(":")[1])
        print(json.dumps({"listeners": n, "ns_per_emit": round(b["real_time"], 2)}))
'
}
echo "node $(node --version), $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
i=0
while [ "$i" -lt "$rounds" ]; do
  lab_side "$bench" > "$tmp/lab.$i"
  node "$here/emit.js" 3 > "$tmp/node.$i"
  if [ -n "$baseline" ]; then lab_side "$baseline" > "$tmp/baseline.$i"; fi
  i=$((i + 1))
done
python3 - "$tmp" "$rounds" "$baseline" <<'PY'
import json, statistics, sys
tmp, rounds, baseline = sys.argv[1], int(sys.argv[2]), sys.argv[3]
def load(side):
    out = {}
    for i in range(rounds):
        for line in open(f"{tmp}/{side}.{i}"):
            d = json.loads(line)
            out.setdefault(d["listeners"], []).append(d["ns_per_emit"])
    return out
sides = ["lab", "node"] + (["baseline"] if baseline else [])
got = {s: load(s) for s in sides}
for n in sorted(got["lab"]):
    print(f"listeners {n}: " + ", ".join(f"{s} {got[s][n]} ns" for s in sides))
med = lambda s, n: statistics.median(got[s][n])
head = "| listeners | lab | node | node / lab |" + (" baseline | node / baseline |" if baseline else "")
print(head)
print("|" + "---|" * (head.count("|") - 1))
for n in sorted(got["lab"]):
    row = f"| {n} | {med('lab', n):.1f} ns | {med('node', n):.1f} ns | {med('node', n) / med('lab', n):.2f}x |"
    if baseline:
        row += f" {med('baseline', n):.1f} ns | {med('node', n) / med('baseline', n):.2f}x |"
    print(row)
PY
