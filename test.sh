#!/usr/bin/env bash
# The README's test command: every test (unit, conformance, property, end-to-end).
#
#   ./test.sh [ARGS…]    # cargo test --workspace ARGS…
#
# The end-to-end tests run programs that are not part of the Rust toolchain; this
# installs the Debian packages that provide them when one is missing (apt-get, as
# root or through `sudo -n`), or stops saying what to install. The list lives here
# only: .ci/run calls this script.
#   openssl   keys must be readable by `openssl pkey` (tests/e2e/vendor.rs)
#   faketime  tests that need another date run the binary under libfaketime (tests/e2e/util.rs)
#   tmux      the console's tests run it in a real terminal (tests/e2e/console.rs)
#   systemd   socket activation is tested with systemd-socket-activate (tests/e2e/activation.rs)
#   python3-cryptography  a lease is verified in Python too, not only in Rust
#             (licfile/tests/python/verify_lease.py, from licfile/tests/licfile/python.rs)
#   prometheus  promtool checks the metrics' output and docs/METRICS.md's alert rules
#             (tests/e2e/metrics.rs)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"

# package:command it provides (the tests find each command on PATH).
needs=(openssl:openssl faketime:faketime tmux:tmux python3-cryptography:python3
    systemd:systemd-socket-activate prometheus:promtool)
missing=()
for need in "${needs[@]}"; do
    command -v "${need#*:}" >/dev/null 2>&1 || missing+=("${need%%:*}")
done
# A python3 without the package is as good as none for the lease test.
if command -v python3 >/dev/null 2>&1 && ! python3 -c 'import cryptography' 2>/dev/null; then
    missing+=(python3-cryptography)
fi

if [ ${#missing[@]} -gt 0 ]; then
    install="apt-get update && apt-get install -y ${missing[*]}"
    if ! command -v apt-get >/dev/null 2>&1; then
        echo "test.sh: the tests need ${missing[*]}, which are missing, and there is no apt-get here:" >&2
        echo "install the packages that provide the commands ${missing[*]}, then run ./test.sh again" >&2
        exit 1
    fi
    if [ "$(id -u)" -eq 0 ]; then
        as_root=()
    elif command -v sudo >/dev/null 2>&1 && sudo -n true >/dev/null 2>&1; then
        as_root=(sudo -n)
    else
        echo "test.sh: the tests need the Debian packages ${missing[*]}, which are missing," >&2
        echo "and installing them needs root (sudo -n is not available). Install them with:" >&2
        echo "    sudo sh -c '$install'" >&2
        echo "then run ./test.sh again." >&2
        exit 1
    fi
    echo "test.sh: installing ${missing[*]} (needed by the end-to-end tests)" >&2
    "${as_root[@]}" apt-get update -qq
    "${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
    for need in "${needs[@]}"; do
        if ! command -v "${need#*:}" >/dev/null 2>&1; then
            echo "test.sh: ${need#*:} is still missing after installing ${need%%:*}" >&2
            exit 1
        fi
    done
fi

exec cargo test --workspace "$@"
