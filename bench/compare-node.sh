#!/usr/bin/env bash
# The lab against Node 20 on the same scenario: whole process, wall clock, narration off.
#   bench/compare-node.sh [SCENARIO.yaml] [RUNS]
# Installs hyperfine from Debian's packages if it is missing (a bench tool, not a build need).
set -euo pipefail
cd "$(dirname "$0")/.."
scenario=${1:-bench/scenarios/immediate-chain-1m.yaml}
runs=${2:-15}
lab=build/bin/lab-event-loop
[ -x "$lab" ] || ./scripts/setup default
if ! command -v hyperfine > /dev/null; then
  sudo=(); [ "$(id -u)" -ne 0 ] && sudo=(sudo)
  "${sudo[@]}" apt-get update && "${sudo[@]}" apt-get install -y hyperfine
fi
command -v node > /dev/null || { echo "node is not installed"; exit 1; }

twin=$(mktemp --suffix=.js)
trap 'rm -f "$twin"' EXIT
"$lab" "$scenario" --emit-node > "$twin"
# Same output first: the comparison is only fair if both do the same work.
diff <("$lab" "$scenario" --logs-only) <(node "$twin") > /dev/null ||
  { echo "the lab and node print different lines"; exit 1; }

echo "node $(node --version), libuv $(pkg-config --modversion libuv), $(nproc) cores"
hyperfine -N --warmup 3 --runs "$runs" --export-json /tmp/nodelab-compare.json \
  -n lab "$lab $scenario --logs-only" -n node "node $twin"
python3 - <<'PY'
import json
r = {x["command"]: x for x in json.load(open("/tmp/nodelab-compare.json"))["results"]}
lab, node = r["lab"], r["node"]
print(f"median: lab {lab['median']*1000:.0f} ms, node {node['median']*1000:.0f} ms -> "
      f"the lab is {node['median']/lab['median']:.2f}x faster (medians of {len(lab['times'])} runs)")
PY
