#!/usr/bin/env bash
# Benchmark: `amanat scan --json` vs ripgrep on the same synthetic 100 MB multilingual corpus.
# Usage: Benchmarks/scan/run.sh [MEGABYTES]   (run from anywhere; needs swift, python3, rg)
# AMANAT_BIN=path/to/amanat skips the build; CORPUS=path overrides /dev/shm/amanat-scan-corpus.txt.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
mb="${1:-100}"
scratch="${SCRATCH_PATH:-$root/.build-bench}"
corpus="${CORPUS:-/dev/shm/amanat-scan-corpus.txt}"
out="/dev/shm/amanat-scan-findings.json"

if [ -n "${AMANAT_BIN:-}" ]; then
    amanat="$AMANAT_BIN"  # a prebuilt binary (skips the build)
    echo "== using $amanat"
else
    echo "== building amanat (release)"
    (cd "$root" && swift build -c release --scratch-path "$scratch" --product amanat 2>&1 | tail -1)
    amanat="$scratch/release/amanat"
fi

echo "== generating the corpus ($mb MB, fixed seed) in $corpus"
python3 "$here/generate.py" "$corpus" --megabytes "$mb"
bytes=$(stat -c %s "$corpus")
cat "$corpus" > /dev/null  # warm the page cache

now() { date +%s.%N; }
mbps() { python3 -c "print('%.1f' % ($bytes / 1e6 / ($2 - $1)))"; }

best_amanat=""
best_rg=""
for run in 1 2 3; do
    t0=$(now)
    set +e
    "$amanat" scan --json "$corpus" > "$out"
    status=$?
    set -e
    t1=$(now)
    if [ "$status" -ne 1 ]; then echo "amanat scan exited $status (expected 1: findings)"; exit 1; fi
    rg_count=$(rg -c '[1-9]\d{16}[\dXx]' "$corpus")
    t2=$(now)
    a=$(python3 -c "print($t1 - $t0)")
    r=$(python3 -c "print($t2 - $t1)")
    echo "run $run: amanat $(mbps "$t0" "$t1") MB/s (${a}s), rg $(mbps "$t1" "$t2") MB/s (${r}s, $rg_count matching lines)"
    if [ -z "$best_amanat" ] || python3 -c "import sys; sys.exit(0 if $a < $best_amanat else 1)"; then best_amanat=$a; fi
    if [ -z "$best_rg" ] || python3 -c "import sys; sys.exit(0 if $r < $best_rg else 1)"; then best_rg=$r; fi
done
python3 - "$bytes" "$best_amanat" "$best_rg" <<'PY'
import sys
size, a, r = int(sys.argv[1]), float(sys.argv[2]), float(sys.argv[3])
print("best of 3: amanat scan --json %.1f MB/s, rg -c %.1f MB/s, ratio amanat/rg %.2f" % (size / 1e6 / a, size / 1e6 / r, r / a))
PY
python3 "$here/recall.py" "$out" "$corpus.truth.json"
