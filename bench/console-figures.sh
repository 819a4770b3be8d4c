#!/usr/bin/env bash
# Whole-process first frame of the console on a big store: `demo --users 100000
# --months 12`, then `tessera --store STORE` in a 200x50 tmux pane, timed from
# just before the pane starts until its title line (product, serial, operator)
# is on screen; median of RUNS runs. The same measurement of a command that only
# prints such a line gives tmux's own share, reported beside it.
# Target (the console's issue): first frame under 200 ms from start.
#
#   bench/console-figures.sh                    # 100,000 users
#   USERS=20000 RUNS=15 bench/console-figures.sh
#   TESSERA=target/release/tessera STORE=/tmp/big bench/console-figures.sh  # reuse
#
# The in-process figures (a keypress redrawn, bytes written a step) are
# `cargo bench --manifest-path bench/Cargo.toml --bench console`. Needs tmux
# and python3.
set -euo pipefail

USERS=${USERS:-100000}
RUNS=${RUNS:-11}
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
say() { printf '%s\n' "$*" >&2; }

for tool in tmux python3; do
    command -v "$tool" >/dev/null || { say "error: $tool is needed (apt-get install $tool)"; exit 1; }
done

if [ -z "${TESSERA:-}" ]; then
    say "building tessera (release)"
    (cd "$ROOT" && cargo build --quiet --release -p tui)
    TESSERA="${CARGO_TARGET_DIR:-$ROOT/target}/release/tessera"
fi

WORK=$(mktemp -d)
# A tmux server per run (a server being killed still answers on its socket for a moment).
RUN=0
sock() { echo "$WORK/tmux-$RUN.sock"; }
tmux_() { tmux -S "$(sock)" -f /dev/null "$@"; }
cleanup() { tmux_ kill-server >/dev/null 2>&1 || true; rm -rf "$WORK"; }
trap cleanup EXIT

if [ -z "${STORE:-}" ]; then
    STORE="$WORK/store"
    say "making the demo store: $USERS users, 12 months of history"
    start=$EPOCHREALTIME
    "$TESSERA" --store "$STORE" demo --users "$USERS" --months 12 --no-console >/dev/null
    end=$EPOCHREALTIME
    printf 'demo --users %s --months 12: %.1f s, store %s on disk\n' \
        "$USERS" "$(python3 -c "print($end - $start)")" "$(du -sh "$STORE" | cut -f1)"
fi

# Microseconds since the epoch, without starting a process.
now_us() { local t=$EPOCHREALTIME; echo "${t/[.,]/}"; }

# Prints the milliseconds from starting COMMAND in a fresh 200x50 pane until a
# line matching PATTERN is on screen (polled every 2 ms; each poll is a tmux
# client, about 2-3 ms), then ends the pane.
first_line_ms() {
    local pattern=$1 command=$2 start end
    start=$(now_us)
    env -i PATH="$PATH" HOME="$WORK" LANG=C.UTF-8 TERM=xterm-256color \
        tmux -S "$(sock)" -f /dev/null -u new-session -d -s fig -x 200 -y 50 "$command" ||
        { say "error: tmux new-session failed"; exit 1; }
    until tmux_ capture-pane -p -t fig 2>/dev/null | grep -q -- "$pattern"; do
        sleep 0.002
        if [ $(( $(now_us) - start )) -gt 30000000 ]; then
            say "error: no line matching '$pattern' after 30 s:"
            tmux_ capture-pane -p -t fig >&2 || true
            exit 1
        fi
    done
    end=$(now_us)
    # q ends the console, which lets go of the store before the next run
    # (the session ends with it); the baseline is simply killed.
    if [ "${3:-}" = quit ]; then
        tmux_ send-keys -t fig q >/dev/null 2>&1 || true
        for _ in $(seq 250); do tmux_ has-session -t fig 2>/dev/null || break; sleep 0.02; done
    fi
    tmux_ kill-server >/dev/null 2>&1 || true
    printf '%d.%d\n' $(( (end - start) / 1000 )) $(( (end - start) % 1000 / 100 ))
}

median() { python3 -c "import statistics,sys; v=[float(x) for x in sys.argv[1:]]; print(f'{statistics.median(v):.1f} (min {min(v):.1f}, max {max(v):.1f})')" "$@"; }

# The title line: "Tessera ... serial SERIAL  operator NAME".
serial=$("$TESSERA" --store "$STORE" status --json | python3 -c "import json,sys; print(json.load(sys.stdin)['serial'])")
title="serial $serial  operator"

# One run untimed: the store's files in the page cache, as on a machine in use.
RUN=warm-up
first_line_ms "$title" "$TESSERA --store $STORE" quit >/dev/null

console=() baseline=()
for i in $(seq "$RUNS"); do
    RUN=console-$i
    console+=("$(first_line_ms "$title" "$TESSERA --store $STORE" quit)")
    RUN=baseline-$i
    baseline+=("$(first_line_ms "$title" "printf 'Tessera  %s x\n' '$title'; sleep 30")")
done
printf '\n%-52s %s\n' "console first frame at 200x50, ms ($USERS users)" "$(median "${console[@]}")"
printf '%-52s %s\n' "tmux's share (a shell printing the line), ms" "$(median "${baseline[@]}")"
printf '%-52s %s\n' "runs" "${console[*]}"
