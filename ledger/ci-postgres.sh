#!/usr/bin/env bash
# Makes a PostgreSQL server ready for the ledger's tests and prints, on its
# last line (the only line on standard output), the variable they read:
#
#     eval "$(bash ledger/ci-postgres.sh)"    # then: cargo test -p ledger
#
# Runs as root on Debian 12 after `apt-get update`. Idempotent and quick on a
# machine that already has it: installs Debian's `postgresql` only when no
# server is installed, makes a cluster only when there is none, starts it only
# when it is down, and makes the role and database only when missing. The
# role's password is made once, at random, and kept for root alone in
# $password_file: every run prints the same URL, so running it again never
# breaks tests already running with the variable it printed before.
set -euo pipefail

role=tessera_test
db=tessera_test
password_file=/var/lib/postgresql/.tessera_test_password

say() { echo "ci-postgres: $*" >&2; }

# Everything the tools below print (pg_ctlcluster says "Removed stale pid
# file." on standard output, apt and psql may talk too) goes to standard
# error: standard output carries the export line alone, because the caller
# evaluates it. The export line is written to the saved descriptor 3, which
# the commands that may start the server close (`3>&-`): a server holding
# the caller's pipe open would keep `$(...)` waiting for ever.
exec 3>&1 1>&2

if ! command -v pg_lsclusters >/dev/null 2>&1 || ! ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1; then
    say "installing postgresql (Debian's package)"
    # Package lists are normally fresh (the caller ran apt-get update); a
    # machine that never had them gets them here.
    apt-cache show postgresql >/dev/null 2>&1 || apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null 3>&-
fi

# The newest installed server version, and its cluster (pg_lsclusters -h:
# version cluster port status owner datadir logfile).
version=$(ls /usr/lib/postgresql | sort -V | tail -n 1)
cluster=$(pg_lsclusters -h | awk -v v="$version" '$1 == v { print $2; exit }')
if [ -z "$cluster" ]; then
    say "creating cluster $version/main"
    pg_createcluster "$version" main >/dev/null 3>&-
    cluster=main
fi
status=$(pg_lsclusters -h | awk -v v="$version" -v c="$cluster" '$1 == v && $2 == c { print $4 }')
case "$status" in
    online*) ;;
    *)
        say "starting cluster $version/$cluster ($status)"
        pg_ctlcluster "$version" "$cluster" start 3>&-
        ;;
esac
port=$(pg_lsclusters -h | awk -v v="$version" -v c="$cluster" '$1 == v && $2 == c { print $3 }')

# Ready for connections (a fresh start takes a moment).
for _ in $(seq 1 60); do
    pg_isready -q -h 127.0.0.1 -p "$port" && break
    sleep 0.5
done
pg_isready -q -h 127.0.0.1 -p "$port" || {
    say "cluster $version/$cluster does not accept connections on 127.0.0.1:$port; see /var/log/postgresql/postgresql-$version-$cluster.log"
    exit 1
}

psql_admin() { runuser -u postgres -- psql -p "$port" -X -q -At -v ON_ERROR_STOP=1 "$@"; }

# Hex only: it goes into a URL and an SQL literal unquoted.
if [ -s "$password_file" ] && grep -qx '[0-9a-f]\{32\}' "$password_file"; then
    password=$(cat "$password_file")
else
    password=$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')
    (umask 077 && printf '%s\n' "$password" > "$password_file")
    chown root:root "$password_file"
fi
if [ "$(psql_admin -c "SELECT 1 FROM pg_roles WHERE rolname = '$role'")" = 1 ]; then
    psql_admin -c "ALTER ROLE $role WITH LOGIN PASSWORD '$password'"
else
    say "creating role $role"
    psql_admin -c "CREATE ROLE $role WITH LOGIN PASSWORD '$password'"
fi
if [ "$(psql_admin -c "SELECT 1 FROM pg_database WHERE datname = '$db'")" != 1 ]; then
    say "creating database $db"
    psql_admin -c "CREATE DATABASE $db OWNER $role"
fi

say "PostgreSQL $version ($cluster) on 127.0.0.1:$port, database $db, role $role"
echo "export TESSERA_TEST_POSTGRES=postgresql://$role:$password@127.0.0.1:$port/$db" >&3
