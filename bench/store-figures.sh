#!/usr/bin/env bash
# Whole-process figures of the site commands on a big store: `demo --users
# 100000 --months 12` (a year of usage), then `status --json`, one page of
# `users list`, `check` and `audit verify`, each timed with hyperfine (median of
# RUNS runs after warm-up) and measured for peak memory with GNU time.
# Targets (docs/PERFORMANCE.md): status --json < 150 ms, users list page
# < 100 ms, memory < 150 MB.
#
#   bench/store-figures.sh                   # 100,000 users
#   USERS=20000 RUNS=20 bench/store-figures.sh
#   TESSERA=target/release/tessera STORE=/tmp/big bench/store-figures.sh  # reuse
#
# Installs hyperfine and GNU time with apt-get when missing (root).
set -euo pipefail

USERS=${USERS:-100000}
RUNS=${RUNS:-30}
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
say() { printf '%s\n' "$*" >&2; }

need=()
command -v hyperfine >/dev/null || need+=(hyperfine)
[ -x /usr/bin/time ] || need+=(time)
if [ ${#need[@]} -gt 0 ]; then
    [ "$(id -u)" = 0 ] || { say "error: install ${need[*]} (needs root)"; exit 1; }
    apt-get update -qq >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >&2
fi

if [ -z "${TESSERA:-}" ]; then
    say "building tessera as it ships (packaging/dist.sh)"
    TESSERA=$("$ROOT/packaging/dist.sh")
fi

WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
if [ -z "${STORE:-}" ]; then
    STORE="$WORK/store"
    say "making the demo store: $USERS users, 12 months of history"
    start=$EPOCHREALTIME
    /usr/bin/time -f "%M" -o "$WORK/demo.mem" "$TESSERA" --store "$STORE" demo --users "$USERS" --months 12 --no-console >/dev/null
    end=$EPOCHREALTIME
    printf 'demo --users %s --months 12: %.1f s, peak %d MB, store %s on disk\n' \
        "$USERS" "$(python3 -c "print($end - $start)")" "$(( $(cat "$WORK/demo.mem") / 1024 ))" "$(du -sh "$STORE" | cut -f1)"
fi

user=$("$TESSERA" --store "$STORE" users list --limit 1 --json | sed -n 's/.*"name": "\([^"]*\)".*/\1/p' | head -1)
commands=(
    "status --json"
    "users list"
    "users list --licence 'Jobs User' --term daily"
    "check $user"
    "audit --limit 20"
)
printf '\n%-46s %10s %10s %10s\n' "command ($USERS users)" "median ms" "min ms" "peak MB"
for c in "${commands[@]}"; do
    hyperfine --style none --warmup 3 --runs "$RUNS" --export-json "$WORK/h.json" \
        "$TESSERA --store $STORE $c" >/dev/null 2>&1
    median=$(python3 -c "import json;r=json.load(open('$WORK/h.json'))['results'][0];print(f\"{r['median']*1000:.1f} {r['min']*1000:.1f}\")")
    eval "/usr/bin/time -f %M -o $WORK/mem $TESSERA --store $STORE $c" >/dev/null
    printf '%-46s %10s %10s %10d\n' "$c" ${median} "$(( $(cat "$WORK/mem") / 1024 ))"
done
