#!/usr/bin/env bash
# Installs piscina 5.3.2 from npm into bench/worker-pool-node/node_modules (once; never part of
# the build), then runs the Node round-trip comparison. Needs node 20 and npm.
set -euo pipefail
cd "$(dirname "$0")"
if [ ! -f node_modules/piscina/package.json ]; then
  npm install --no-save --no-package-lock --no-audit --no-fund piscina@5.3.2
fi
exec node roundtrip.js "$@"
