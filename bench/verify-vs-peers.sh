#!/usr/bin/env bash
# Whole-process cost of checking one signed file: `tessera verify` against
# `minisign -V` and `ssh-keygen -Y verify` on files of the same size, each
# called N times (default 300) from a bash loop, interleaved round by round so
# that background noise falls on every tool alike. Prints per-call medians and
# the ratio to minisign. Target (docs/PERFORMANCE.md): tessera <= 1.0 x minisign.
#
#   bench/verify-vs-peers.sh            # N=300
#   N=1000 bench/verify-vs-peers.sh
#   ALL=1 bench/verify-vs-peers.sh     # all four tools in one rotation (see below)
#   TESSERA=path/to/tessera bench/verify-vs-peers.sh   # skip the build, time this binary
#   EXTRA_RUSTFLAGS="-C relocation-model=static" bench/verify-vs-peers.sh   # try a build flag (see packaging/dist.sh)
#
# Installs minisign and openssh-client with apt-get when they are missing
# (needs root, as on the project's machines), and hyperfine when it can, to
# print its medians (no shell in between) as a cross-check; the verdict is the
# shell loop's. Builds tessera as it ships: the `dist` profile (fat LTO, strip,
# panic=abort) with static glibc. Keys and files are made in a temporary
# directory that is removed on exit.
set -euo pipefail

N=${N:-300}
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

say() { printf '%s\n' "$*" >&2; }

# --- tools ------------------------------------------------------------------
apt_updated=
apt_install() {
    local pkg=$1
    if [ "$(id -u)" != 0 ]; then
        say "error: $pkg is missing and this is not root: apt-get install -y $pkg"
        exit 1
    fi
    if [ -z "$apt_updated" ]; then
        say "apt-get update (once)"
        apt-get update -qq >&2
        apt_updated=1
    fi
    if ! apt-cache policy "$pkg" | grep -q 'Candidate: [0-9]'; then
        say "error: no installable $pkg package in the configured Debian sources"
        exit 1
    fi
    say "installing $pkg"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$pkg" >&2
}
command -v minisign >/dev/null || apt_install minisign
command -v ssh-keygen >/dev/null || apt_install openssh-client
# Optional: the cross-check below is skipped when it cannot be had.
command -v hyperfine >/dev/null || (apt_install hyperfine) || say "no hyperfine: skipping the cross-check"

if ((BASH_VERSINFO[0] < 5)); then
    say "error: needs bash 5 (for \$EPOCHREALTIME)"
    exit 1
fi

# --- tessera, as it ships ---------------------------------------------------
if [ -z "${TESSERA:-}" ]; then
    say "building tessera as it ships (packaging/dist.sh)"
    TESSERA=$("$ROOT/packaging/dist.sh")
fi
[ -x "$TESSERA" ] || { say "error: no tessera binary at $TESSERA"; exit 1; }
TESSERA=$(realpath "$TESSERA")

# --- keys and files -----------------------------------------------------------
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
cd "$TMP"
# Timed as installed: copied whole, as dpkg writes a package's files. A binary
# fresh from the linker sits in the page cache in small pieces (written by the
# linker here and there), which costs ~7 more page faults a call; a copied or
# installed one does not, nor does minisign, installed by apt.
cp "$TESSERA" ./tessera
TESSERA=$TMP/tessera

"$TESSERA" vendor keygen --out vendor >/dev/null
# The example spec, issued on a fixed day and judged on a fixed day, so that the
# licence (expiring 2027-01-31) is valid whatever the machine's date.
{ echo 'issued_at = "2026-01-05T10:00:00Z"'; grep -v '^issued_at' "$ROOT/examples/licence.toml"; } >spec.toml
AT=2026-06-01
"$TESSERA" vendor issue --key vendor.key --out licence.lic spec.toml >/dev/null
SIZE=$(wc -c <licence.lic)
"$TESSERA" verify --trust vendor.pub --at "$AT" licence.lic >/dev/null ||
    { say "error: tessera refuses its own licence:"; "$TESSERA" verify --trust vendor.pub --at "$AT" licence.lic; exit 1; }

# A text file of the same size for the peers.
head -c "$SIZE" /dev/urandom | base64 -w 64 | head -c "$SIZE" >data.txt

minisign -G -W -p mini.pub -s mini.key >/dev/null 2>&1
minisign -S -s mini.key -m data.txt >/dev/null 2>&1
minisign -V -q -p mini.pub -m data.txt

ssh-keygen -q -t ed25519 -N '' -C bench@tessera -f ssh_key
printf 'bench@tessera %s\n' "$(cut -d' ' -f1,2 ssh_key.pub)" >allowed_signers
ssh-keygen -q -Y sign -f ssh_key -n file data.txt 2>/dev/null
ssh-keygen -q -Y verify -f allowed_signers -I bench@tessera -n file -s data.txt.sig <data.txt >/dev/null

# --- timing -------------------------------------------------------------------
run_true()     { /bin/true; }
run_tessera()  { "$TESSERA" verify --trust vendor.pub --at "$AT" licence.lic >/dev/null; }
run_minisign() { minisign -V -q -p mini.pub -m data.txt; }
run_ssh()      { ssh-keygen -Y verify -f allowed_signers -I bench@tessera -n file -s data.txt.sig <data.txt >/dev/null 2>&1; }

# The verdict's rotation: tessera and minisign (and /bin/true, the floor),
# interleaved call by call so that background noise falls on both alike.
# ssh-keygen runs in a rotation of its own with minisign, for its ratio: put in
# the first rotation it slows tessera by ~0.2 ms a call and minisign hardly at
# all. ssh-keygen is a large dynamically linked process; after it, tessera's
# pages (static glibc included) are cold in the CPU caches while minisign's libc
# pages, which ssh-keygen has just used too, are warm (docs/PERFORMANCE.md
# section 2 has both figures). ALL=1 puts all four in one rotation.
if [ "${ALL:-0}" = 1 ]; then
    ROTATIONS=("true tessera minisign ssh")
else
    ROTATIONS=("true tessera minisign" "minisign ssh")
fi
TOOLS=(true tessera minisign ssh)
declare -A LABEL=(
    [true]="/bin/true (process start)"
    [tessera]="tessera verify"
    [minisign]="minisign -V"
    [ssh]="ssh-keygen -Y verify"
)
for t in "${TOOLS[@]}"; do : >"times.$t"; : >"times.$t.2"; done

# Warm the page cache and the dynamic loader's caches.
for _ in 1 2 3 4 5 6 7 8 9 10; do for t in "${TOOLS[@]}"; do "run_$t"; done; done

say "timing $N calls of each (file of $SIZE bytes)"
# Microseconds from $EPOCHREALTIME ("seconds.micros"), without forking date(1).
us() { local s=${1%.*} f=${1#*.}; echo $((s * 1000000 + 10#$f)); }
# A tool's times in the first rotation go to times.TOOL, in the second to times.TOOL.2.
r=0
for rotation in "${ROTATIONS[@]}"; do
    r=$((r + 1))
    suffix=$([ $r = 1 ] && echo "" || echo ".$r")
    read -r -a tools <<<"$rotation"
    for ((i = 0; i < N; i++)); do
        for t in "${tools[@]}"; do
            t0=$EPOCHREALTIME
            "run_$t"
            t1=$EPOCHREALTIME
            echo $(($(us "$t1") - $(us "$t0"))) >>"times.$t$suffix"
        done
    done
done
# ssh-keygen's figures and its own minisign baseline.
if [ -s times.ssh.2 ]; then
    mv times.ssh.2 times.ssh
    SSH_MINI=times.minisign.2
else
    SSH_MINI=times.minisign
fi

# Median, 10th and 90th percentile of a file of integers, in microseconds.
pct() { sort -n "$1" | awk -v p="$2" '{a[NR]=$1} END {i=int((NR-1)*p+0.5)+1; print a[i]}'; }
ms() { awk -v u="$1" 'BEGIN {printf "%.3f", u / 1000}'; }

MINI=$(pct times.minisign 0.5)
# Other work on the machine moves every figure: say how busy it was.
PRESSURE=$(awk '/^some/ {sub("avg60=", "", $3); print $3}' /proc/pressure/cpu 2>/dev/null || echo "?")
printf '\n%s, %s calls each, file of %s bytes, %s cores, CPU pressure (avg60) %s %%\n\n' \
    "$(date -u +%Y-%m-%d)" "$N" "$SIZE" "$(nproc)" "${PRESSURE:-?}"
if awk -v p="${PRESSURE:-0}" 'BEGIN {exit !(p + 0 > 30)}'; then
    say "warning: the CPU was busy with other work (pressure over 30 %): these figures are noisy"
fi
printf '%-28s %10s %10s %10s %12s\n' "command" "median ms" "p10 ms" "p90 ms" "/ minisign"
for t in "${TOOLS[@]}"; do
    base=$MINI
    [ "$t" = ssh ] && base=$(pct "$SSH_MINI" 0.5)
    med=$(pct "times.$t" 0.5)
    printf '%-28s %10s %10s %10s %12s\n' "${LABEL[$t]}" "$(ms "$med")" \
        "$(ms "$(pct "times.$t" 0.1)")" "$(ms "$(pct "times.$t" 0.9)")" \
        "$(awk -v a="$med" -v b="$base" 'BEGIN {printf "%.2f", a / b}')"
done
[ "$SSH_MINI" = times.minisign.2 ] &&
    printf '(ssh-keygen against minisign -V at %s ms in a rotation of their own)\n' "$(ms "$(pct "$SSH_MINI" 0.5)")"
# Cross-check without the shell: hyperfine -N spawns each command directly
# (no fork of bash), as the licensed product or a service would.
if command -v hyperfine >/dev/null; then
    hyperfine -N --style none --warmup 20 --runs "$N" --export-csv hf.csv \
        /bin/true \
        "'$TESSERA' verify --trust vendor.pub --at $AT licence.lic" \
        "minisign -V -q -p mini.pub -m data.txt" >/dev/null 2>&1 || : >hf.csv
    if [ "$(wc -l <hf.csv)" -eq 4 ]; then
        # Rows in command order after the header; column 4 is the median in seconds.
        read -r HT HTES HMINI < <(awk -F, 'NR > 1 {printf "%d ", $4 * 1e6} END {print ""}' hf.csv)
        printf '\nhyperfine -N (no shell), medians: /bin/true %s ms, tessera verify %s ms, minisign -V %s ms: ratio %s\n' \
            "$(ms "$HT")" "$(ms "$HTES")" "$(ms "$HMINI")" \
            "$(awk -v a="$HTES" -v b="$HMINI" 'BEGIN {printf "%.2f", a / b}')"
    fi
fi

TES=$(pct times.tessera 0.5)
echo
if awk -v a="$TES" -v b="$MINI" 'BEGIN {exit !(a <= b)}'; then
    echo "target met: tessera verify is no slower per call than minisign -V"
else
    echo "OVER TARGET: tessera verify is slower per call than minisign -V"
    exit 1
fi
