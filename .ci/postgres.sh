#!/usr/bin/env bash
# A local PostgreSQL for the storage tests (tests/test_storage.py), used by `make test`.
#
# Starts a cluster of Debian's `postgresql` package if none runs (creating one if there is none), then
# (re)creates the role practice_test with a fresh random password and an empty database practice_test
# owned by it, and prints its URL on stdout:
#   postgresql+psycopg://practice_test:<password>@127.0.0.1:<port>/practice_test
# Password authentication over 127.0.0.1 works with Debian's default pg_hba.conf, which is not edited.
# Safe to run again: the database is dropped and recreated each time.
#
# Needs root, sudo without a password, or to run as the postgres user. If anything is missing it prints
# why on stderr, prints nothing on stdout and exits 1: the caller runs the tests without PostgreSQL and
# the PostgreSQL variants skip.
set -uo pipefail

ROLE=practice_test
DB=practice_test

say() { echo "postgres.sh: $*" >&2; }
give_up() {
	say "$*"
	say "the PostgreSQL storage tests will skip."
	exit 1
}

if ! command -v pg_lsclusters >/dev/null 2>&1; then
	give_up "PostgreSQL is not installed (apt-get install postgresql)."
fi

# How to run a command as root and as the postgres user.
if [ "$(id -u)" = 0 ]; then
	as_root() { "$@"; }
	if command -v runuser >/dev/null 2>&1; then
		as_postgres() { runuser -u postgres -- "$@"; }
	else
		as_postgres() { su postgres -s /bin/sh -c "$(printf '%q ' "$@")"; }
	fi
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
	as_root() { sudo -n "$@"; }
	as_postgres() { sudo -n -u postgres "$@"; }
elif [ "$(id -un)" = postgres ]; then
	as_root() { "$@"; }  # enough for pg_ctlcluster on a cluster postgres owns
	as_postgres() { "$@"; }
else
	give_up "not root, no password-less sudo and not the postgres user: cannot start PostgreSQL or create a role."
fi
cd / || exit 1  # the postgres user may not be allowed into the caller's directory

# The running cluster if there is one, else the first one; none at all: create one for the newest server.
clusters=$(pg_lsclusters --no-header 2>/dev/null)
if [ -z "$clusters" ]; then
	version=$(find /usr/lib/postgresql -mindepth 3 -maxdepth 3 -path '*/bin/initdb' 2>/dev/null |
		awk -F/ '{print $5}' | sort -n | tail -n 1)
	[ -n "$version" ] || give_up "no PostgreSQL server is installed (apt-get install postgresql)."
	say "creating PostgreSQL cluster $version/main"
	as_root pg_createcluster "$version" main >&2 || give_up "pg_createcluster $version main failed."
	clusters=$(pg_lsclusters --no-header 2>/dev/null)
fi
cluster=$(printf '%s\n' "$clusters" | awk '$4 ~ /^online/' | head -n 1)
[ -n "$cluster" ] || cluster=$(printf '%s\n' "$clusters" | head -n 1)
read -r version name port status _ <<<"$cluster"
[ -n "${port:-}" ] || give_up "could not read the clusters from pg_lsclusters."

if [[ $status != online* ]]; then
	say "starting PostgreSQL cluster $version/$name on port $port"
	as_root pg_ctlcluster "$version" "$name" start >&2 ||
		give_up "pg_ctlcluster $version $name start failed (see /var/log/postgresql/postgresql-$version-$name.log)."
fi
for _ in $(seq 30); do
	pg_isready -q -h 127.0.0.1 -p "$port" && break
	sleep 1
done
pg_isready -q -h 127.0.0.1 -p "$port" || give_up "PostgreSQL $version/$name does not accept connections on 127.0.0.1:$port."

# A fresh password each run (hex: safe in SQL and in a URL), so no known password is left on the machine.
password=$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')
psql_admin() { as_postgres psql -X -q -v ON_ERROR_STOP=1 -p "$port" "$@"; }
psql_admin -d postgres >&2 <<SQL || give_up "could not create the role $ROLE and the database $DB."
SET client_min_messages = warning;
SELECT 'CREATE ROLE $ROLE' WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '$ROLE') \gexec
ALTER ROLE $ROLE WITH LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE PASSWORD '$password';
DROP DATABASE IF EXISTS $DB WITH (FORCE);
CREATE DATABASE $DB OWNER $ROLE;
SQL
# Before PostgreSQL 15 the public schema belongs to postgres; the tests drop and recreate it.
psql_admin -d "$DB" -c "ALTER SCHEMA public OWNER TO $ROLE" >&2 ||
	give_up "could not hand the public schema of $DB to $ROLE."

PGPASSWORD=$password psql -X -q -h 127.0.0.1 -p "$port" -U "$ROLE" -d "$DB" -c 'SELECT 1' >/dev/null ||
	give_up "$ROLE cannot log in with a password over 127.0.0.1:$port (check pg_hba.conf)."

say "PostgreSQL $version/$name ready: database $DB on 127.0.0.1:$port"
echo "postgresql+psycopg://$ROLE:$password@127.0.0.1:$port/$DB"
