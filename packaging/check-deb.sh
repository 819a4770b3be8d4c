#!/usr/bin/env bash
# CI's packaging step: builds the .deb (packaging/dist.sh deb, release profile),
# installs it with dpkg -i, checks that every file it lists is where it says
# (the binary, the unit, the man pages, the completions), that the binary runs
# from there and is the static build, that its maintainer scripts made the user,
# and verifies the unit with systemd-analyze; then purges it, whatever
# happened, so that nothing of it is left for what runs next. Runs as root.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
start=$SECONDS
fail() {
    echo "check-deb: $*" >&2
    exit 1
}

[ "$(id -u)" -eq 0 ] || fail "installs the package: run it as root"
# Never replace or purge a tessera installed for real.
if dpkg-query -W -f='${Status}' tessera 2>/dev/null | grep -q installed; then
    fail "a package tessera is installed already; this would replace it"
fi
# The store's default place: an installed package must not make it (commands
# would then use it), and the check must not leave one behind.
[ ! -e /var/lib/tessera ] || fail "/var/lib/tessera exists already"

# The release profile unless told otherwise: the package is the same, built
# minutes sooner than with the dist profile's whole-program LTO.
deb=$(DIST_PROFILE=${DIST_PROFILE:-release} packaging/dist.sh deb | tail -n 1)
[[ $deb == *.deb && -f $deb ]] || fail "packaging/dist.sh deb printed no .deb: $deb"
echo "built $deb in $((SECONDS - start)) s"
dpkg-deb --info "$deb" | sed -n 's/^ \(Package\|Version\|Depends\|Installed-Size\):/  \1:/p'

purge() {
    dpkg --purge tessera >/dev/null
    [ ! -e /usr/bin/tessera ] || echo "check-deb: /usr/bin/tessera is left after the purge" >&2
    [ ! -e /var/lib/tessera ] || echo "check-deb: /var/lib/tessera was made" >&2
}
trap purge EXIT
# Minimal images often tell dpkg to leave out /usr/share/man and /usr/share/doc
# (path-exclude): every file is wanted here, to be checked.
dpkg --path-include='*' -i "$deb"

mapfile -t listed < <(dpkg -L tessera)
for path in "${listed[@]}"; do
    [ -e "$path" ] || fail "dpkg -L lists $path, which is not there"
done
has() {
    printf '%s\n' "${listed[@]}" | grep -qx -- "$1" || fail "the package does not install $1"
    [ -s "$1" ] || fail "$1 is empty"
}
has /usr/bin/tessera
has /lib/systemd/system/tessera.service
has /lib/systemd/system/tessera.socket
has /usr/share/doc/tessera/METRICS.md
has /usr/share/bash-completion/completions/tessera
has /usr/share/zsh/vendor-completions/_tessera
has /usr/share/fish/vendor_completions.d/tessera.fish
# Every page in packaging/man/, compressed as Debian policy asks, as generated.
pages=0
for page in packaging/man/*.1; do
    installed=/usr/share/man/man1/$(basename "$page").gz
    has "$installed"
    gzip -dc "$installed" | cmp -s - "$page" || fail "$installed is not $page"
    pages=$((pages + 1))
done
echo "man pages: $pages in /usr/share/man/man1"
cmp -s /usr/share/bash-completion/completions/tessera packaging/completions/tessera.bash ||
    fail "the bash completions are not packaging/completions/tessera.bash"

version=$(/usr/bin/tessera --version)
# The package's version without its Debian revision (0.1.0-1): the crate's.
package_version=$(dpkg-query -W -f='${Version}' tessera)
expected="tessera ${package_version%-*}"
[ "$version" = "$expected" ] || fail "/usr/bin/tessera --version says '$version', not '$expected'"
echo "/usr/bin/tessera --version: $version"
# The static build of dist.sh (RUSTFLAGS reached cargo-deb's build): nothing to load.
linked=$(ldd /usr/bin/tessera 2>&1 || true)
case $linked in
    *"statically linked"* | *"not a dynamic executable"*) echo "/usr/bin/tessera: statically linked" ;;
    *) fail "/usr/bin/tessera is linked dynamically: $linked" ;;
esac
getent passwd tessera >/dev/null || fail "postinst made no user tessera"
getent group tessera >/dev/null || fail "postinst made no group tessera"
echo "user and group tessera: made by postinst"

# systemd-analyze (the package systemd) verifies the unit, and with man(1)
# (man-db) it also finds the pages its Documentation= names. Both install in
# seconds where they are missing; this is CI's last step, so they stay.
unit=/lib/systemd/system/tessera.service
tools=()
command -v systemd-analyze >/dev/null || tools+=(systemd)
command -v man >/dev/null || tools+=(man-db)
if [ ${#tools[@]} -gt 0 ] && command -v apt-get >/dev/null; then
    echo "installing ${tools[*]} to verify the unit"
    if ! { apt-get update -qq &&
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${tools[@]}" >/dev/null; }; then
        echo "could not install ${tools[*]}"
    fi
fi
if command -v systemd-analyze >/dev/null; then
    man_check=--man=yes
    if ! command -v man >/dev/null; then
        man_check=--man=no
        echo "man is not available here: the unit's Documentation= pages were NOT looked up"
    fi
    systemd-analyze verify "$man_check" "$unit" /lib/systemd/system/tessera.socket ||
        fail "systemd-analyze verify $unit tessera.socket failed"
    echo "systemd-analyze verify $man_check $unit tessera.socket: ok"
else
    echo "systemd-analyze is not available here: the unit was NOT verified"
fi

trap - EXIT
purge
echo "purged; the packaging check took $((SECONDS - start)) s"
