#!/usr/bin/env bash
# Builds tessera as it ships, in one place, for the .deb and for bench/:
#
#   packaging/dist.sh          # the binary; prints its path
#   packaging/dist.sh deb      # the .deb (cargo-deb), from the same build
#
# - the `dist` profile: whole-program LTO, one codegen unit, stripped, panic=abort;
# - glibc linked statically (+crt-static): no dynamic loader at start, and the
#   binary runs on any x86_64 Linux with a 3.2 kernel or later;
# - position-independent (static-pie), so the executable's code is placed at
#   a random address like everything else. A non-PIE build was measured too:
#   once `verify` stopped touching clap it bought nothing (docs/PERFORMANCE.md
#   section 2). EXTRA_RUSTFLAGS is added last, for trying such flags;
# - curve25519-dalek's AVX-512 IFMA backend where the CPU has it (detected at
#   run time), as .cargo/config.toml sets for every other build: RUSTFLAGS
#   replaces that file's flags, so it is repeated here.
# An explicit --target keeps RUSTFLAGS away from build scripts and proc-macros
# (which cannot be linked statically). The flags are given to tessera's build
# only, never exported: `cargo install cargo-deb` builds for the host without
# --target, so they would reach its proc-macros and fail it.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
TARGET=x86_64-unknown-linux-gnu
FLAGS="-C target-feature=+crt-static --cfg curve25519_dalek_backend=\"avx512\" ${EXTRA_RUSTFLAGS:-}"
# cargo-deb, when it is not installed: this version is the one CI builds the .deb with.
CARGO_DEB_VERSION=3.8.0
# What ships is the `dist` profile; DIST_PROFILE=release builds the same package
# from the release profile (thin LTO), minutes sooner: CI's packaging check
# uses it, since what it checks is the package, not the optimiser.
PROFILE=${DIST_PROFILE:-dist}
cd "$ROOT"
case "${1:-bin}" in
    bin)
        RUSTFLAGS=$FLAGS cargo build --quiet --profile "$PROFILE" --target "$TARGET" -p tui
        TD=${CARGO_TARGET_DIR:-$ROOT/target}
        [[ $TD == /* ]] || TD=$ROOT/$TD
        echo "$TD/$TARGET/$PROFILE/tessera"
        ;;
    deb)
        if ! command -v cargo-deb >/dev/null; then
            env -u RUSTFLAGS cargo install --locked --version "$CARGO_DEB_VERSION" cargo-deb
        fi
        # cargo-deb runs the build, which takes the flags from the environment.
        RUSTFLAGS=$FLAGS cargo deb -p tui --profile "$PROFILE" --target "$TARGET"
        ;;
    *)
        echo "usage: packaging/dist.sh [bin|deb]" >&2
        exit 2
        ;;
esac
