#!/usr/bin/env bash
# Bundle benchmark: amanat seal/open of 1 GiB and 4 GiB attachments against stock age -r/-d, in RAM.
# Usage: Benchmarks/bundle/run.sh [--sizes-gib 1,4]
set -euo pipefail
cd "$(dirname "$0")/../.."
command -v age >/dev/null || { echo "install age first: apt-get install age" >&2; exit 1; }
swift build -c release --product amanat >/dev/null
work=/dev/shm/amanat-bundle-bench
rm -rf "$work"
trap 'rm -rf "$work"' EXIT
python3 Benchmarks/bundle/bench.py "$(swift build -c release --show-bin-path)/amanat" "$work" "$@"
