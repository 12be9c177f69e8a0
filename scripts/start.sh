#!/usr/bin/env bash
# `npm start`: set up what is missing, build, and run a node with the embedded defaults
# (SQLite store under ./data, HTTPS REST API on 9443). Flags after `npm start --` pass through.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
npx tsc -p tsconfig.build.json
exec node dist/src/main.js "$@"
