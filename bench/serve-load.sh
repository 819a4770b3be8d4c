#!/usr/bin/env bash
# Load figures of `tessera serve`: a demo store of USERS users (default 10,000),
# the service on it, and the load client bench/src/bin/serve_load.rs: CLIENTS
# connections (default 50) issuing REQUESTS requests in all (default 200,000),
# CHECK percent `check` (default 50) and the rest `usage record` of a login on
# one of the last DAYS days. DAYS=1 (the default) is the product's everyday
# traffic: each daily-seat user's first record of the day is a new charge (a
# synced write, about 0.3% of requests), every other record a repeat (a read);
# DAYS=28 makes about 2.5% of requests synced writes. DRIVER=threads (the
# default) gives each connection a client thread; DRIVER=epoll drives them all
# from one thread (see the load client). Then SIGTERM (the service
# must exit 0 and remove its socket), `tessera audit verify` directly, and a
# restart of the service to check that every charge it acknowledged is there.
# Last, the per-process cost of one `tessera check` directly and through the
# service, for comparison.
# Targets (docs/PERFORMANCE.md): >= 20,000 operations a second, p99 < 2 ms,
# no errors, nothing lost.
#
#   bench/serve-load.sh
#   DAYS=28 bench/serve-load.sh                # many more new charges (synced writes)
#   DRIVER=epoll bench/serve-load.sh           # the load client on one thread
#   CLIENTS=8 REQUESTS=50000 USERS=2000 bench/serve-load.sh
#   TESSERA=target/release/tessera LOAD=bench/target/release/serve_load bench/serve-load.sh
#   TLS=1 bench/serve-load.sh                  # every client over mutual TLS (serve --listen)
#   RATE=20000 bench/serve-load.sh             # paced: 20,000 requests a second in all (threads
#                                              # driver), the latency at that load; without RATE the
#                                              # load is closed-loop and runs the service flat out
#
# Exits 1 if anything failed or was lost (not if a target was missed).
set -euo pipefail

USERS=${USERS:-10000}
CLIENTS=${CLIENTS:-50}
REQUESTS=${REQUESTS:-200000}
CHECK=${CHECK:-50}
DAYS=${DAYS:-1}
SEED=${SEED:-1}
DRIVER=${DRIVER:-threads}
RATE=${RATE:-}
TLS=${TLS:-0}
RUNS=${RUNS:-100}
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
say() { printf '%s\n' "$*" >&2; }

if ((BASH_VERSINFO[0] < 5)); then
    say "error: needs bash 5 (for \$EPOCHREALTIME)"
    exit 1
fi

TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target}"
if [ -z "${TESSERA:-}" ]; then
    say "building tessera (release)"
    (cd "$ROOT" && cargo build --quiet --release -p tui)
    TESSERA="$TARGET_DIR/release/tessera"
fi
if [ -z "${LOAD:-}" ]; then
    say "building the load client (release)"
    # Its own workspace (bench/Cargo.toml), built from the root for .cargo/config.toml.
    (cd "$ROOT" && cargo build --quiet --release --manifest-path bench/Cargo.toml --bin serve_load)
    LOAD="${CARGO_TARGET_DIR:-$ROOT/bench/target}/release/serve_load"
fi
[ -x "$TESSERA" ] || { say "error: no tessera binary at $TESSERA"; exit 1; }
[ -x "$LOAD" ] || { say "error: no load client at $LOAD"; exit 1; }

WORK=$(mktemp -d)
SERVE=
cleanup() {
    if [ -n "$SERVE" ] && kill -0 "$SERVE" 2>/dev/null; then
        kill -KILL "$SERVE" 2>/dev/null || true
        wait "$SERVE" 2>/dev/null || true
    fi
    rm -rf "$WORK"
}
trap cleanup EXIT
STORE="$WORK/st"
SOCK="$STORE/tessera.sock"
failed=0

# TLS=1: a CA, the service's certificate for 127.0.0.1 and a client
# certificate naming this login user (the demo store's Owner/manager), made
# with openssl; the service listens on a free loopback port beside its socket.
SERVE_TLS=()
LOAD_TLS=()
if [ "$TLS" = 1 ]; then
    command -v openssl >/dev/null || { say "error: TLS=1 needs openssl"; exit 1; }
    C="$WORK/certs"
    mkdir -p "$C"
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
        -subj "/CN=bench CA" -keyout "$C/ca.key" -out "$C/ca.pem" 2>/dev/null
    cert() { # NAME CN EXT
        openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
            -subj "/CN=$2" -keyout "$C/$1.key" -out "$C/$1.csr" 2>/dev/null
        openssl x509 -req -in "$C/$1.csr" -CA "$C/ca.pem" -CAkey "$C/ca.key" -CAcreateserial \
            -days 2 -extfile <(printf '%s\n' "$3") -out "$C/$1.pem" 2>/dev/null
    }
    cert server localhost "subjectAltName=IP:127.0.0.1
extendedKeyUsage=serverAuth"
    cert client "$(id -un)" "extendedKeyUsage=clientAuth"
    PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
    SERVE_TLS=(--listen "127.0.0.1:$PORT" --tls-cert "$C/server.pem" --tls-key "$C/server.key" --client-ca "$C/ca.pem")
    LOAD_TLS=(--tls "127.0.0.1:$PORT,$C/client.pem,$C/client.key,$C/ca.pem")
fi

start_service() {
    "$TESSERA" --store "$STORE" serve "${SERVE_TLS[@]}" >>"$WORK/serve.log" 2>&1 &
    SERVE=$!
    # The socket appears once the service holds the store and listens.
    for _ in $(seq 1 500); do
        [ -S "$SOCK" ] && return 0
        kill -0 "$SERVE" 2>/dev/null || break
        sleep 0.02
    done
    say "error: the service did not start:"
    cat "$WORK/serve.log" >&2
    exit 1
}

# Stops the service with SIGTERM; prints how long it took and fails on a non-zero exit.
stop_service() {
    local start=$EPOCHREALTIME rc=0
    kill -TERM "$SERVE"
    wait "$SERVE" || rc=$?
    SERVE=
    printf 'SIGTERM: exit %d in %.0f ms' "$rc" "$(bc <<<"($EPOCHREALTIME - $start) * 1000")"
    if [ -e "$SOCK" ]; then printf ', socket LEFT BEHIND'; failed=1; fi
    printf '\n'
    [ "$rc" = 0 ] || { failed=1; cat "$WORK/serve.log" >&2; }
}

command -v bc >/dev/null || { say "error: needs bc"; exit 1; }

say "making the demo store: $USERS users"
"$TESSERA" --store "$STORE" demo --users "$USERS" --no-console >/dev/null
say "machine: $(nproc) cores; store on $(df -P "$WORK" | awk 'NR==2 {print $1}')"

start_service
over=unix-socket
[ "$TLS" = 1 ] && over="mutual TLS on 127.0.0.1:$PORT"
LOAD_RATE=()
[ -n "$RATE" ] && LOAD_RATE=(--rate "$RATE")
echo "== load: $CLIENTS clients ($DRIVER, $over${RATE:+, paced at $RATE/s}), $REQUESTS requests ($CHECK% check, usage record over $DAYS days), $USERS users"
rc=0
"$LOAD" --socket "$SOCK" --clients "$CLIENTS" --requests "$REQUESTS" --check-percent "$CHECK" \
    --days "$DAYS" --seed "$SEED" --driver "$DRIVER" --acked "$WORK/acked.txt" "${LOAD_TLS[@]}" "${LOAD_RATE[@]}" |
    tee "$WORK/load.txt" || rc=$?
[ "$rc" = 0 ] || failed=1
stop_service

echo "== directly: tessera audit verify"
"$TESSERA" --store "$STORE" audit verify || failed=1

echo "== after a restart: every acknowledged charge is there"
start_service
"$LOAD" --socket "$SOCK" --verify "$WORK/acked.txt" || failed=1

# One process per `check`, through the service and then directly (the CLI goes
# through the service whenever it answers).
user=$("$TESSERA" --store "$STORE" users list --limit 1 --json | sed -n 's/.*"name": "\([^"]*\)".*/\1/p' | head -1)
per_process() {
    local start=$EPOCHREALTIME
    for _ in $(seq 1 "$RUNS"); do "$TESSERA" --store "$STORE" check "$user" >/dev/null; done
    bc <<<"scale=2; ($EPOCHREALTIME - $start) * 1000 / $RUNS"
}
via_service=$(per_process)
stop_service
direct=$(per_process)
echo "== one process per check ($RUNS runs, mean): through the service $via_service ms, directly $direct ms"

result=$(sed -n 's/^result: //p' "$WORK/load.txt")
echo
echo "summary: $result"
if [ -n "$result" ]; then
    eval "$(tr ' ' '\n' <<<"$result" | sed 's/^/r_/')"
    verdict() { if [ "$(bc <<<"$1")" = 1 ]; then echo "met"; else echo "MISSED"; fi; }
    echo "  throughput  $r_ops_per_s ops/s   (target >= 20000: $(verdict "$r_ops_per_s >= 20000"))"
    echo "  p99         $r_p99_ms ms   (target < 2: $(verdict "$r_p99_ms < 2"))"
    echo "  errors      $r_errors   lost $r_lost"
fi
if [ "$failed" != 0 ]; then
    say "FAILED: see above"
    exit 1
fi
