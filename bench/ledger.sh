#!/usr/bin/env bash
# The vendor's ledger under a vendor's batches (issue 12), on SQLite and on
# PostgreSQL side by side:
#
#   (a) `tessera vendor issue --batch` of N licence specs (default 10,000), one
#       per serial, into a fresh ledger that assigns their sequences;
#   (b) `tessera vendor invoice --batch DIR` of a month's usage reports from
#       those N sites, one of them signed by a stranger's key: that one must be
#       refused and named, the other N-1 invoiced, each its own invoice, and
#       the command must exit 1 (as README says of a batch with a refusal).
#
# Targets (docs/PERFORMANCE.md section 11): (a) < 1 s, (b) < 5 s.
#
#   bench/ledger.sh                                  # SQLite; PostgreSQL too when a URL is given
#   eval "$(bash ledger/ci-postgres.sh)"; bench/ledger.sh     # PostgreSQL from TESSERA_TEST_POSTGRES
#   PG=postgresql://USER:PASSWORD@HOST:PORT/DB bench/ledger.sh
#   N=1000 RUNS=5 bench/ledger.sh
#   TESSERA=path/to/tessera GEN=path/to/ledger_reports bench/ledger.sh   # skip the builds
#   TMPDIR=/dev/shm bench/ledger.sh                  # the files (and SQLite ledgers) on tmpfs
#
# Everything is made in a temporary directory under $TMPDIR (default /tmp).
# On a shared ext4 file system where other work deletes many files (builds),
# creating 10,000 licence files costs seconds of kernel time (ext4 skips
# inodes freed in the last few minutes: docs/PERFORMANCE.md, sections 3 and
# 11); the script warns when it sees that, and TMPDIR=/dev/shm takes the file
# system out of the figures (but also SQLite's fsync: say which was used).
#
# What a round does, for each backend in turn (SQLite, then PostgreSQL; RUNS
# rounds, default 3, so that noise falls on both alike):
#   1. a fresh ledger: a new SQLite file, or a new schema in the PostgreSQL
#      database (dropped at exit);
#   2. times (a) into it, and checks N files were written and N licences recorded;
#   3. invoices the month before (untimed: set-up). That is how a real ledger
#      comes to know every site's installation key (on first sight of a
#      document signed by it) and its latest report, as it would after a
#      first month of billing;
#   4. times (b), and checks the count of invoices, the refusal, the exit code.
#
# The reports are written once, before the rounds, by the generator in bench/
# (src/bin/ledger_reports.rs): what each site's store would sign, with the
# project's own document types, signing and report chain, from the licences of
# a batch issued into a scratch ledger. Issuing is deterministic (a fixed
# issue time, ed25519), so every round's ledger holds the same licences.
#
# PostgreSQL: from PG=URL, else TESSERA_TEST_POSTGRES; psql makes and drops the
# schemas. Without either, PostgreSQL is skipped, and the script says so.
set -euo pipefail

N=${N:-10000}
RUNS=${RUNS:-3}
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
PG=${PG:-${TESSERA_TEST_POSTGRES:-}}
ISSUE_TARGET=1
INVOICE_TARGET=5
# The month invoiced in the timed run, and the one before it (set-up). The
# example licence's contract runs through 2026; its licences are issued on
# 2026-01-05, so both months have a licence in force.
SETUP_MONTH=2026-10
MONTH=2026-11

say() { printf '%s\n' "$*" >&2; }
die() { say "error: $*"; exit 1; }

if ((BASH_VERSINFO[0] < 5)); then
    die "needs bash 5"
fi
[[ $N =~ ^[1-9][0-9]*$ ]] || die "N must be a positive number (got '$N')"
[[ $RUNS =~ ^[1-9][0-9]*$ ]] || die "RUNS must be a positive number (got '$RUNS')"
((N >= 2)) || die "N must be at least 2: one site is the stranger's"
((N <= 999999)) || die "N must be at most 999,999 (serials BL-000001 …)"
# The command line's ledger only: an environment's default ledger is never touched.
unset TESSERA_LEDGER

BACKENDS=(sqlite)
if [ -n "$PG" ]; then
    command -v psql >/dev/null ||
        die "PostgreSQL needs psql, to make a fresh schema for each run (apt-get install postgresql-client)"
    psql "$PG" -X -q -At -v ON_ERROR_STOP=1 -c 'SELECT 1' >/dev/null ||
        die "cannot connect to the PostgreSQL URL given (PG or TESSERA_TEST_POSTGRES)"
    BACKENDS+=(postgres)
else
    say "PostgreSQL SKIPPED: no URL given (PG=postgresql://… or TESSERA_TEST_POSTGRES;"
    say "  eval \"\$(bash ledger/ci-postgres.sh)\" sets one up as root). Only SQLite is measured."
fi

if [ -z "${TESSERA:-}" ]; then
    say "building tessera as it ships (packaging/dist.sh)"
    TESSERA=$("$ROOT/packaging/dist.sh")
fi
[ -x "$TESSERA" ] || die "no tessera binary at $TESSERA"
if [ -z "${GEN:-}" ]; then
    say "building the report generator (bench/src/bin/ledger_reports.rs)"
    # From the root, so that .cargo/config.toml's flags apply as to the binary.
    (cd "$ROOT" && cargo build --quiet --release --manifest-path bench/Cargo.toml --bin ledger_reports)
    TD=${CARGO_TARGET_DIR:-$ROOT/bench/target}
    [[ $TD == /* ]] || TD=$ROOT/$TD
    GEN=$TD/release/ledger_reports
fi
[ -x "$GEN" ] || die "no report generator at $GEN"

TMP=$(mktemp -d)
SCHEMAS=()
cleanup() {
    local s
    for s in "${SCHEMAS[@]}"; do
        psql "$PG" -X -q -v ON_ERROR_STOP=1 -c "DROP SCHEMA IF EXISTS $s CASCADE" >/dev/null 2>&1 ||
            say "warning: could not drop the schema $s"
    done
    rm -rf "$TMP"
}
trap cleanup EXIT
cd "$TMP"
# A copy, as a package installs it (a binary the linker just wrote maps in smaller pieces).
cp "$TESSERA" tessera
T=$TMP/tessera

pressure() { awk '/^some/ { sub("avg10=", "", $2); sub("avg60=", "", $3); printf "%s %% (10 s), %s %% (60 s)", $2, $3 }' /proc/pressure/cpu 2>/dev/null || echo "unknown"; }
say "CPU pressure at the start: $(pressure); load $(cut -d' ' -f1-3 /proc/loadavg)"

# --- The specs: the example licence, issued on a fixed day, as one JSON line
# per serial, without sequence or licence id (the ledger gives them).
"$T" vendor keygen --out vendor >/dev/null
{ echo 'issued_at = "2026-01-05T10:00:00Z"'; grep -v '^issued_at' "$ROOT/examples/licence.toml"; } >spec.toml
"$T" vendor issue --key vendor.key --ledger "$TMP/template.sqlite" --out template.lic spec.toml >/dev/null
"$T" inspect --json template.lic >template.json
# Pretty JSON never breaks a line inside a string: one field a line at the top
# level, two spaces in. Drop sequence and licence id, mark the serial.
grep -q '^  "serial": ' template.json || die "no serial in inspect --json output"
LINE=$(grep -v -e '^  "sequence": ' -e '^  "licence_id": ' template.json |
    sed -e 's/^  "serial": "[^"]*"/  "serial": "@SERIAL@"/' -e 's/^ *//' | tr -d '\n')
awk -v n="$N" -v line="$LINE" 'BEGIN {
    for (i = 1; i <= n; i++) { s = line; sub("@SERIAL@", sprintf("BL-%06d", i), s); print s }
}' >specs.jsonl
say "specs.jsonl: $(wc -l <specs.jsonl) specs, $(wc -c <specs.jsonl) bytes"

# --- The reports, once: from a batch issued into a scratch ledger.
STRANGER=$(printf 'BL-%06d' $(((N + 1) / 2)))
mkdir prep-lic
"$T" vendor issue --key vendor.key --ledger "$TMP/prep.sqlite" --batch specs.jsonl --out-dir prep-lic >/dev/null
GEN_OUT=$("$GEN" --licences prep-lic --out reports --months "$SETUP_MONTH,$MONTH" --stranger "$STRANGER") ||
    die "the report generator failed"
RESULT=$(tail -n 1 <<<"$GEN_OUT")
STRANGER_FILE=${RESULT##*stranger=}
[ -f "$STRANGER_FILE" ] || die "the generator named no stranger's report ($RESULT)"
STRANGER_FILE=$TMP/$STRANGER_FILE
REPORT_FILES=$(find "reports/$MONTH" -type f | wc -l)
say "reports: ${RESULT#result: }"
say "  $MONTH: $REPORT_FILES files; $STRANGER's is signed by a stranger's key: ${STRANGER_FILE#"$TMP"/}"

# A fresh ledger for round $1 on backend $2, in LEDGER: a new SQLite file, or
# a new schema (made here, dropped at exit) in the PostgreSQL database.
fresh_ledger() {
    local r=$1 b=$2
    case "$b" in
        sqlite) LEDGER="$TMP/r$r-sqlite/ledger.sqlite" ;;
        postgres)
            local schema="tessera_bench_$$_$r"
            psql "$PG" -X -q -v ON_ERROR_STOP=1 -c "CREATE SCHEMA $schema" >/dev/null ||
                die "cannot create the schema $schema"
            SCHEMAS+=("$schema")
            local sep='?'
            [[ $PG == *\?* ]] && sep='&'
            LEDGER="$PG${sep}options=-c%20search_path%3D$schema"
            ;;
    esac
}

TIMEFORMAT='%R %U %S'
fmt() { awk '{ printf "%.3f s (user %.3f s, sys %.3f s)", $1, $2, $3 }' <<<"$1"; }

for ((r = 1; r <= RUNS; r++)); do
    for b in "${BACKENDS[@]}"; do
        dir=$TMP/r$r-$b
        mkdir -p "$dir/lic"
        fresh_ledger "$r" "$b"
        ledger=$LEDGER
        sync

        # (a) issue the batch: timed.
        { time "$T" vendor issue --key vendor.key --ledger "$ledger" --batch specs.jsonl \
            --out-dir "$dir/lic" >"$dir/issue.out" 2>"$dir/issue.err"; } 2>"$dir/issue.time" ||
            die "round $r, $b: vendor issue --batch failed: $(cat "$dir/issue.err")"
        files=$(find "$dir/lic" -name '*.lic' | wc -l)
        [ "$files" -eq "$N" ] || die "round $r, $b: $files licence files written, expected $N"
        grep -q "^issued $N licences" "$dir/issue.out" ||
            die "round $r, $b: vendor issue did not say it issued $N licences: $(cat "$dir/issue.out")"
        tail -n 1 "$dir/issue.time" >>"times.$b.issue"
        say "round $r, $b: issue --batch of $N: $(fmt "$(tail -n 1 "$dir/issue.time")")"

        # Set-up, untimed: the month before, so the ledger knows every key.
        rc=0
        "$T" vendor invoice --batch "reports/$SETUP_MONTH" --ledger "$ledger" >"$dir/setup.out" 2>"$dir/setup.err" || rc=$?
        [ "$rc" -eq 0 ] || die "round $r, $b: invoicing $SETUP_MONTH (set-up) exited $rc: $(head -c 2000 "$dir/setup.err")"
        grep -q "^$N reports invoiced" "$dir/setup.out" ||
            die "round $r, $b: invoicing $SETUP_MONTH (set-up) did not invoice $N reports: $(tail -n 1 "$dir/setup.out")"

        # (b) invoice the month: timed.
        sync
        rc=0
        { time "$T" vendor invoice --batch "reports/$MONTH" --ledger "$ledger" \
            >"$dir/invoice.out" 2>"$dir/invoice.err"; } 2>"$dir/invoice.time" || rc=$?
        # Exit 1: some report was refused and the others invoiced (README, `--batch DIR`).
        [ "$rc" -eq 1 ] || die "round $r, $b: vendor invoice --batch exited $rc, expected 1 (one refusal): $(head -c 2000 "$dir/invoice.err")"
        want=$((N - 1))
        got=$(grep -c '^invoice [0-9]*: ' "$dir/invoice.out" || true)
        [ "$got" -eq "$want" ] || die "round $r, $b: $got invoices printed, expected $want"
        grep -q "^$want reports invoiced from reports/$MONTH" "$dir/invoice.out" ||
            die "round $r, $b: the summary does not say $want reports invoiced: $(tail -n 1 "$dir/invoice.out")"
        grep -q "1 of the reports in reports/$MONTH were refused" "$dir/invoice.err" ||
            die "round $r, $b: the refusal is not reported as one of the reports: $(head -c 2000 "$dir/invoice.err")"
        grep -q "reports/$MONTH/$(basename "$STRANGER_FILE"): .*$STRANGER" "$dir/invoice.err" ||
            die "round $r, $b: the stranger's report is not named with its serial: $(cat "$dir/invoice.err")"
        # Honest reports, chained as the ledger checks: no invoice has a finding.
        ! grep -q ' findings: ' "$dir/setup.out" "$dir/invoice.out" ||
            die "round $r, $b: an invoice has findings (the generated reports are not what the ledger expects): $(grep -m 3 ' findings: ' "$dir/setup.out" "$dir/invoice.out")"
        # In the ledger: each site its own invoice of the month, none for the stranger.
        "$T" vendor ledger invoices --month "$MONTH" --csv --ledger "$ledger" >"$dir/invoices.csv"
        sites=$(tail -n +2 "$dir/invoices.csv" | cut -d, -f1 | sort -u | wc -l)
        ids=$(tail -n +2 "$dir/invoices.csv" | cut -d, -f4 | sort -u | wc -l)
        [ "$sites" -eq "$want" ] && [ "$ids" -eq "$want" ] ||
            die "round $r, $b: the ledger holds invoices of $MONTH for $sites sites ($ids invoices), expected $want"
        ! grep -q "^$STRANGER," "$dir/invoices.csv" ||
            die "round $r, $b: the stranger's report of $STRANGER was invoiced"
        tail -n 1 "$dir/invoice.time" >>"times.$b.invoice"
        say "round $r, $b: invoice --batch of $REPORT_FILES reports: $(fmt "$(tail -n 1 "$dir/invoice.time")"), $want invoiced, 1 refused and named, exit 1"
    done
done

median() { sort -n "$1" | awk '{ a[NR] = $0 } END { print a[int((NR + 1) / 2)] }'; }
each() { awk '{ printf "%s%.3f", (NR > 1 ? ", " : ""), $1 }' "$1"; }

printf '\n%s, %s cores, CPU pressure at the end %s\n' "$(date -u +%Y-%m-%dT%H:%MZ)" "$(nproc)" "$(pressure)"
printf '%s sites; medians of %s rounds, SQLite and PostgreSQL interleaved round by round\n' "$N" "$RUNS"
over=0
for b in sqlite postgres; do
    name=SQLite
    [ "$b" = postgres ] && name=PostgreSQL
    if [ ! -f "times.$b.issue" ]; then
        printf '%-10s  SKIPPED (no PostgreSQL URL given)\n' "$name"
        continue
    fi
    for what in issue invoice; do
        target=$ISSUE_TARGET
        label="vendor issue --batch ($N licences)"
        if [ "$what" = invoice ]; then
            target=$INVOICE_TARGET
            label="vendor invoice --batch ($N reports)"
        fi
        med=$(median "times.$b.$what")
        verdict="target met: < $target s"
        if ! awk -v r="${med%% *}" -v t="$target" 'BEGIN { exit !(r < t) }'; then
            verdict="OVER TARGET: $target s"
            over=1
        fi
        printf '%-10s  %-40s median %s; runs %s s; %s\n' "$name" "$label" "$(fmt "$med")" "$(each "times.$b.$what")" "$verdict"
    done
done
# ext4 will not reuse an inode freed in the last few minutes; creating files
# right after many were deleted (a previous run's clean-up) is slow in the kernel.
if awk '{ if ($3 > 3 * $2) bad = 1 } END { exit !bad }' times.*.issue; then
    say "warning: an issue run took over 3x as much system time as user time: the kernel was slow"
    say "         to create files (recently deleted inodes on ext4?); wait about 5 minutes and rerun"
fi
exit "$over"
