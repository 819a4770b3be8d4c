#!/usr/bin/env bash
# Regenerates the man page and shell completions from the command line
# (a test fails when the packaged copies fall behind it).
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --quiet -p tui
t=target/debug/tessera
"$t" generate man > packaging/tessera.1
"$t" generate completions bash > packaging/completions/tessera.bash
"$t" generate completions zsh > packaging/completions/_tessera
"$t" generate completions fish > packaging/completions/tessera.fish
echo "regenerated packaging/tessera.1 and packaging/completions/*"
