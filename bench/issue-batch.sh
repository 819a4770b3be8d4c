#!/usr/bin/env bash
# Time `tessera vendor issue --batch` of N licence specs (default 10,000):
# a JSON Lines file derived from `tessera inspect --json` of an issued licence,
# one line per serial. Runs RUNS times (default 3), each into a fresh directory
# and a fresh ledger (issuing records every licence in the vendor's ledger, and
# a second run into the same ledger would be refused: its sequences are taken),
# and prints each time and the median. Target (docs/PERFORMANCE.md, issue 12):
# < 1 s. bench/ledger.sh measures the same on SQLite and PostgreSQL side by side.
#
#   bench/issue-batch.sh
#   N=1000 RUNS=5 bench/issue-batch.sh
#   TESSERA=path/to/tessera bench/issue-batch.sh   # skip the build, time this binary
set -euo pipefail

N=${N:-10000}
RUNS=${RUNS:-3}
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

say() { printf '%s\n' "$*" >&2; }

if ((BASH_VERSINFO[0] < 5)); then
    say "error: needs bash 5 (for \$EPOCHREALTIME)"
    exit 1
fi

if [ -z "${TESSERA:-}" ]; then
    say "building tessera as it ships (packaging/dist.sh)"
    TESSERA=$("$ROOT/packaging/dist.sh")
fi
[ -x "$TESSERA" ] || { say "error: no tessera binary at $TESSERA"; exit 1; }
TESSERA=$(realpath "$TESSERA")

TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
cd "$TMP"
# The command line's ledger only: an environment's default ledger is never touched.
unset TESSERA_LEDGER

"$TESSERA" vendor keygen --out vendor >/dev/null
# The example spec, issued on a fixed day and checked on a fixed day, so that the
# check below holds whatever the machine's date.
{ echo 'issued_at = "2026-01-05T10:00:00Z"'; grep -v '^issued_at' "$ROOT/examples/licence.toml"; } >spec.toml
AT=2026-06-01
"$TESSERA" vendor issue --key vendor.key --ledger "$TMP/template.sqlite" --out template.lic spec.toml >/dev/null

# `inspect --json` of a licence is a valid spec. Pretty JSON never breaks a line
# inside a string, so stripping indentation and newlines makes it one JSON line.
"$TESSERA" inspect --json template.lic >template.json
SERIAL=$(sed -n 's/^  "serial": "\(.*\)",\{0,1\}$/\1/p' template.json)
[ -n "$SERIAL" ] || { say "error: no serial in inspect --json output"; exit 1; }
LINE=$(sed 's/^ *//' template.json | tr -d '\n')

# One spec per serial BT-000001 … : the serial and the licence id (SERIAL-SEQUENCE) change.
awk -v n="$N" -v line="$LINE" -v old="\"$SERIAL" 'BEGIN {
    for (i = 1; i <= n; i++) {
        new = sprintf("\"BT-%06d", i)
        s = line; out = ""
        while ((p = index(s, old)) > 0) { out = out substr(s, 1, p - 1) new; s = substr(s, p + length(old)) }
        print out s
    }
}' >specs.jsonl
say "specs.jsonl: $(wc -l <specs.jsonl) specs, $(wc -c <specs.jsonl) bytes"

# Each run writes into a new directory and a new SQLite ledger beside it, and
# all are removed only at exit.
# Mind what ran before: ext4 will not reuse an inode freed in the last few
# minutes, and find_inode_bit() -> recently_deleted() scans past every such
# inode on each create, so 10,000 creates right after 10,000 deletes (a previous
# run of this script, say) take several seconds of kernel time. The script
# warns when system time dwarfs user time; wait about 5 minutes and rerun.
TIMEFORMAT='%R %U %S'
: >times
for ((r = 1; r <= RUNS; r++)); do
    mkdir "out.$r"
    sync
    { time "$TESSERA" vendor issue --key vendor.key --ledger "$TMP/ledger.$r.sqlite" \
        --batch specs.jsonl --out-dir "out.$r" >/dev/null; } 2>>times
    files=$(find "out.$r" -name '*.lic' | wc -l)
    [ "$files" -eq "$N" ] || { say "error: $files licence files written, expected $N"; exit 1; }
    say "run $r: $(tail -1 times | awk '{printf "%.3f s (user %.3f s, sys %.3f s)", $1, $2, $3}')"
done
"$TESSERA" verify --trust vendor.pub --at "$AT" --serial BT-000001 out.1/BT-000001-*.lic >/dev/null ||
    { say "error: a batch licence does not verify"; exit 1; }

MED=$(sort -n times | awk '{a[NR]=$0} END {print a[int((NR+1)/2)]}')
read -r REAL USER SYS <<<"$MED"
printf '\n%s, %s cores: vendor issue --batch of %s licences (%s bytes each)\n' \
    "$(date -u +%Y-%m-%d)" "$(nproc)" "$N" "$(wc -c <out.1/BT-000001-*.lic | tr -d ' ')"
printf 'median of %s runs: %.3f s wall (user %.3f s, sys %.3f s), %.1f µs a licence\n' \
    "$RUNS" "$REAL" "$USER" "$SYS" "$(awk -v r="$REAL" -v n="$N" 'BEGIN {print r * 1e6 / n}')"
if awk -v u="$USER" -v s="$SYS" 'BEGIN {exit !(s > 3 * u)}'; then
    say "warning: system time is over 3x user time: the kernel was slow to create files"
    say "         (recently deleted inodes on ext4?); wait about 5 minutes and rerun"
fi
if awk -v r="$REAL" 'BEGIN {exit !(r < 1)}'; then
    echo "target met: < 1 s"
else
    echo "OVER TARGET: 1 s"
    exit 1
fi
