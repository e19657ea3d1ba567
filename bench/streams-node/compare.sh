#!/bin/sh
# lab-streams vs Node 20: 1 GiB through pipeline(source, Transform, socket) over loopback TCP.
# Each VARIANT of pipeline-1gib.yaml (file64k, file16k, memory64k, memory16k: the source and
# the highWaterMark = chunk of every stage) runs three ways, RUNS times, interleaved so all
# three see the same machine load:
#   lab        lab-streams, its far end the Asio peer on a thread of its own
#   node       pipeline.js, its far end a net server in a worker_thread (Node's own far end)
#   node+lab   pipeline.js writing to the lab's far end run as a process (streams-far-end):
#              the same reader code as the lab's, so only the pipelines differ
# All three time from the connected socket to the far end's EOF. Prints each run, then the
# medians and the lab's ratio to each.
#
#   bench/streams-node/compare.sh [LAB] [RUNS] [VARIANT...]
#     LAB defaults to build/bin/lab-streams (streams-far-end is taken from the same directory),
#     RUNS to 5, the variants to all four.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
lab=${1:-$here/../../build/bin/lab-streams}
runs=${2:-5}
[ $# -ge 2 ] && shift 2 || shift $#
variants=${*:-file64k file16k memory64k memory16k}
far_end=$(dirname "$lab")/streams-far-end
node=$(command -v node)
[ -x "$far_end" ] || { echo "compare.sh: $far_end not built (cmake --build ... --target streams-far-end)" >&2; exit 2; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mbps() { python3 -c 'import json,sys; print(json.load(sys.stdin)["MBps"])'; }
for v in $variants; do
  case $v in
    file64k) source=file hwm=65536 ;;
    file16k) source=file hwm=16384 ;;
    memory64k) source=memory hwm=65536 ;;
    memory16k) source=memory hwm=16384 ;;
    *) echo "compare.sh: unknown variant '$v' (file64k, file16k, memory64k, memory16k)" >&2; exit 2 ;;
  esac
  all_l="" all_n="" all_x=""
  i=0
  while [ "$i" -lt "$runs" ]; do
    l=$("$lab" "$here/pipeline-1gib.yaml" --variant "$v" --json-brief --no-color |
        python3 -c 'import json,sys; d=json.load(sys.stdin); assert d["expect"]["ok"], d["expect"]; print(round(d["metrics"]["flow"]["throughput_MBps"], 1))')
    n=$("$node" "$here/pipeline.js" 1073741824 "$hwm" "$source" | mbps)
    "$far_end" > "$tmp/far-end" &
    fe=$!
    while [ ! -s "$tmp/far-end" ]; do sleep 0.05; done
    x=$("$node" "$here/pipeline.js" 1073741824 "$hwm" "$source" --far-end "$(head -1 "$tmp/far-end")" | mbps)
    wait "$fe"
    [ "$(sed -n 2p "$tmp/far-end")" = 1073741824 ] || { echo "compare.sh: the far end did not receive 1 GiB" >&2; exit 1; }
    : > "$tmp/far-end"
    echo "$v run $((i + 1)): lab $l MB/s, node $n MB/s, node+lab far end $x MB/s"
    all_l="$all_l $l" all_n="$all_n $n" all_x="$all_x $x"
    i=$((i + 1))
  done
  python3 - "$v" "$all_l" "$all_n" "$all_x" <<'PY'
import statistics, sys
v = sys.argv[1]
lab, node, ext = ([float(x) for x in a.split()] for a in sys.argv[2:5])
ml, mn, mx = statistics.median(lab), statistics.median(node), statistics.median(ext)
print(f"{v} median: lab {ml:.0f} MB/s, node {mn:.0f} MB/s (ratio {ml / mn:.2f}x), "
      f"node+lab far end {mx:.0f} MB/s (ratio {ml / mx:.2f}x)")
PY
done
