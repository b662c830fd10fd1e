#!/usr/bin/env bash
# Regenerates docs/img/demo-dashboard.png, the README's figure, from a fresh demo run.
set -euo pipefail
cd "$(dirname "$0")/.."
out=$(mktemp -d)
modelcollapse run demo --out "$out/demo" --seed 0 --report
cp "$out/demo/report/dashboard.png" docs/img/demo-dashboard.png
rm -rf "$out"
