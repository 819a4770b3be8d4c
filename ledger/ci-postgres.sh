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
# role's password is new on every run (a test role on the loopback address;
# nothing keeps it), so the printed URL is the one that works.
set -euo pipefail

role=tessera_test
db=tessera_test

say() { echo "ci-postgres: $*" >&2; }

if ! command -v pg_lsclusters >/dev/null 2>&1 || ! ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1; then
    say "installing postgresql (Debian's package)"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
fi

# The newest installed server version, and its cluster (pg_lsclusters -h:
# version cluster port status owner datadir logfile).
version=$(ls /usr/lib/postgresql | sort -V | tail -n 1)
cluster=$(pg_lsclusters -h | awk -v v="$version" '$1 == v { print $2; exit }')
if [ -z "$cluster" ]; then
    say "creating cluster $version/main"
    pg_createcluster "$version" main >/dev/null
    cluster=main
fi
if ! pg_lsclusters -h | awk -v v="$version" -v c="$cluster" '$1 == v && $2 == c { print $4 }' | grep -q online; then
    say "starting cluster $version/$cluster"
    pg_ctlcluster "$version" "$cluster" start
fi
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
password=$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')
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
echo "export TESSERA_TEST_POSTGRES=postgresql://$role:$password@127.0.0.1:$port/$db"
