#!/bin/sh
# lab-streams vs Node 20: 1 GiB through pipeline(source, Transform, socket) over loopback TCP,
# the far end on its own thread reading as fast as it can. Each VARIANT of
# pipeline-1gib.yaml (file64k, file16k, memory64k, memory16k: the source and the
# highWaterMark = chunk of every stage) runs on the lab and on node (pipeline.js with the same
# source and mark). Both time from the connected socket to the far end's EOF. RUNS runs of
# each, alternating lab and node so both see the same machine load; medians and their ratio.
#
#   bench/streams-node/compare.sh [LAB] [RUNS] [VARIANT...]
#     LAB defaults to build/bin/lab-streams, RUNS to 5, the variants to all four.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
lab=${1:-$here/../../build/bin/lab-streams}
runs=${2:-5}
[ $# -ge 2 ] && shift 2 || shift $#
variants=${*:-file64k file16k memory64k memory16k}
node=$(command -v node)
for v in $variants; do
  case $v in
    file64k) source=file hwm=65536 ;;
    file16k) source=file hwm=16384 ;;
    memory64k) source=memory hwm=65536 ;;
    memory16k) source=memory hwm=16384 ;;
    *) echo "compare.sh: unknown variant '$v' (file64k, file16k, memory64k, memory16k)" >&2; exit 2 ;;
  esac
  lab_mbps=""
  node_mbps=""
  i=0
  while [ "$i" -lt "$runs" ]; do
    l=$("$lab" "$here/pipeline-1gib.yaml" --variant "$v" --json-brief --no-color |
        python3 -c 'import json,sys; d=json.load(sys.stdin); assert d["expect"]["ok"], d["expect"]; print(round(d["metrics"]["flow"]["throughput_MBps"], 1))')
    n=$("$node" "$here/pipeline.js" 1073741824 "$hwm" "$source" |
        python3 -c 'import json,sys; print(json.load(sys.stdin)["MBps"])')
    echo "$v run $((i + 1)): lab $l MB/s, node $n MB/s"
    lab_mbps="$lab_mbps $l"
    node_mbps="$node_mbps $n"
    i=$((i + 1))
  done
  python3 - "$v" "$lab_mbps" "$node_mbps" <<'PY'
import statistics, sys
v = sys.argv[1]
lab = [float(x) for x in sys.argv[2].split()]
node = [float(x) for x in sys.argv[3].split()]
ml, mn = statistics.median(lab), statistics.median(node)
print(f"{v} median: lab {ml:.0f} MB/s, node {mn:.0f} MB/s, ratio {ml / mn:.2f}x")
PY
done
