#!/usr/bin/env bash
# Regenerates the man pages (packaging/man/: tessera.1 and one page per
# subcommand, tessera-SUB.1, tessera-SUB-SUBSUB.1) and the shell completions
# from the command line (a test fails when the packaged copies fall behind it).
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
cargo build --quiet -p tui
TD=${CARGO_TARGET_DIR:-$ROOT/target}
[[ $TD == /* ]] || TD=$ROOT/$TD
t=$TD/debug/tessera
# Every page is written afresh, so that the page of a subcommand that went away goes too.
rm -f packaging/man/*.1
"$t" generate man --dir packaging/man >/dev/null
"$t" generate completions bash > packaging/completions/tessera.bash
"$t" generate completions zsh > packaging/completions/_tessera
"$t" generate completions fish > packaging/completions/tessera.fish
echo "regenerated packaging/man/*.1 ($(ls packaging/man | wc -l) pages) and packaging/completions/*"
