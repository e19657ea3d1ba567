#!/bin/sh
# lab-streams vs Node 20: 1 GiB through pipeline(ReadStream, Transform, socket) over loopback
# TCP, highWaterMark 64 KiB, the far end on its own thread reading as fast as it can.
# Both time from the connected socket to the far end's EOF; medians of RUNS runs each,
# alternating so both see the same machine load.
#
#   bench/streams-node/compare.sh [LAB] [RUNS]     (LAB defaults to build/bin/lab-streams)
set -eu
here=$(cd "$(dirname "$0")" && pwd)
lab=${1:-$here/../../build/bin/lab-streams}
runs=${2:-5}
node=$(command -v node)
lab_mbps=""
node_mbps=""
i=0
while [ "$i" -lt "$runs" ]; do
  l=$("$lab" "$here/pipeline-1gib.yaml" --json --no-color |
      python3 -c 'import json,sys; print(round(json.load(sys.stdin)["metrics"]["flow"]["throughput_MBps"], 1))')
  n=$("$node" "$here/pipeline.js" 1073741824 65536 |
      python3 -c 'import json,sys; print(json.load(sys.stdin)["MBps"])')
  echo "run $((i + 1)): lab $l MB/s, node $n MB/s"
  lab_mbps="$lab_mbps $l"
  node_mbps="$node_mbps $n"
  i=$((i + 1))
done
python3 - "$lab_mbps" "$node_mbps" <<'PY'
import statistics, sys
lab = [float(x) for x in sys.argv[1].split()]
node = [float(x) for x in sys.argv[2].split()]
ml, mn = statistics.median(lab), statistics.median(node)
print(f"median: lab {ml:.0f} MB/s, node {mn:.0f} MB/s, ratio {ml / mn:.2f}x")
PY
