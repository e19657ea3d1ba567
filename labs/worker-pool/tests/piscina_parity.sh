#!/usr/bin/env bash
# The bounded pool checked against the real Piscina: the scenario's --emit-node=piscina twin
# (its pool is `new Piscina()` from the piscina package that scripts/setup installs with
# `npm ci` at the repository's root, pinned in package-lock.json) must print, on node, exactly
# the lines `--logs-only` prints, and exit as the lab does.
#
#   piscina_parity.sh LAB FILE NODE ROOT [--taskset=CPUS] [VARIANT...]
#
# VARIANT...: the variants to check (those whose strategy is bounded-pool); none: the scenario
# as written. --taskset=CPUS runs the lab and node on those CPUs only (taskset -c), so that
# availableParallelism() and Piscina's defaults derived from it are the affinity's.
# Exit 0 pass, 1 fail, 77 skipped (node, or ROOT/node_modules/piscina, missing).
set -uo pipefail

if [ $# -lt 4 ]; then
  echo "usage: $0 LAB FILE NODE ROOT [--taskset=CPUS] [VARIANT...]" >&2
  exit 2
fi
lab=$1 file=$2 node=$3 root=$4
shift 4
wrap=()
if [ $# -gt 0 ] && [ "${1#--taskset=}" != "$1" ]; then
  wrap=(taskset -c "${1#--taskset=}")
  shift
fi
variants=("$@")
[ ${#variants[@]} -eq 0 ] && variants=("")

if [ -z "$node" ] || [ ! -x "$node" ]; then
  echo "node is not installed: skipped"
  exit 77
fi
if [ ! -f "$root/node_modules/piscina/package.json" ]; then
  echo "$root/node_modules/piscina is not installed (scripts/setup runs npm ci): skipped"
  exit 77
fi
version=$("$node" -p "require('$root/node_modules/piscina/package.json').version")
want=$("$node" -p "require('$root/package-lock.json').packages['node_modules/piscina'].version")
if [ "$version" != "$want" ]; then
  echo "FAIL: node_modules has piscina $version, package-lock.json pins $want (run npm ci)"
  exit 1
fi
echo "node $("$node" --version), piscina $version${wrap:+, on CPUs ${wrap[2]}}"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/nodelab-piscina.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

status=0
for variant in "${variants[@]}"; do
  args=("$file")
  what="(as written)"
  if [ -n "$variant" ]; then
    args+=(--variant "$variant")
    what="--variant $variant"
  fi
  if ! "$lab" "${args[@]}" --emit-node=piscina >"$tmp/twin.js" 2>"$tmp/emit.err"; then
    echo "FAIL $what: --emit-node=piscina failed:"
    cat "$tmp/emit.err"
    status=1
    continue
  fi
  if ! grep -q "require('piscina')" "$tmp/twin.js"; then
    echo "FAIL $what: the twin does not use piscina (is its strategy bounded-pool?)"
    status=1
    continue
  fi
  # node finds the package through NODE_PATH: the twin runs from a temporary folder.
  NODE_PATH="$root/node_modules" timeout 180 "${wrap[@]}" "$node" "$tmp/twin.js" \
    >"$tmp/node.out" 2>"$tmp/node.err"
  node_exit=$?
  timeout 180 "${wrap[@]}" "$lab" "${args[@]}" --logs-only >"$tmp/lab.out" 2>"$tmp/lab.err"
  lab_exit=$?
  if ! diff -u --label "node + piscina" --label "lab --logs-only" "$tmp/node.out" "$tmp/lab.out" \
    >"$tmp/diff"; then
    echo "FAIL $what: stdout differs between the twin on the real piscina and the lab:"
    cat "$tmp/diff"
    echo "--- node's stderr:"
    head -20 "$tmp/node.err"
    status=1
  fi
  if [ "$node_exit" -ne "$lab_exit" ]; then
    echo "FAIL $what: exit codes differ: node $node_exit, lab $lab_exit"
    head -20 "$tmp/node.err" "$tmp/lab.err"
    status=1
  fi
  if [ $status -eq 0 ]; then
    echo "piscina $what: $(wc -l <"$tmp/lab.out") identical lines, exit $lab_exit"
  fi
done
exit $status
