#!/usr/bin/env bash
# Create a fresh PostGIS database on the local PostgreSQL server and print its DATABASE_URL.
#   scripts/postgis-db.sh NAME
# Starts the local cluster when it is down and installs the PostGIS package that matches the
# running server when the extension is not available (apt, as root).
set -euo pipefail

name=${1:?usage: postgis-db.sh DATABASE_NAME}
host=${PGHOST:-127.0.0.1}
port=${PGPORT:-5432}
user=${PGUSER:-postgres}
export PGHOST=$host PGPORT=$port PGUSER=$user

if ! pg_isready -q -t 5; then
  echo "PostgreSQL is not answering on $host:$port; starting the local cluster." >&2
  for version in $(ls /etc/postgresql 2>/dev/null); do
    pg_ctlcluster --skip-systemctl-redirect "$version" main start >&2 || true
  done
  for _ in $(seq 30); do pg_isready -q -t 1 && break; sleep 1; done
  pg_isready -q -t 5 || { echo "PostgreSQL on $host:$port did not come up." >&2; exit 1; }
fi

available=$(psql -d postgres -Atc "SELECT count(*) FROM pg_available_extensions WHERE name = 'postgis'")
if [ "$available" = 0 ]; then
  major=$(( $(psql -d postgres -Atc 'SHOW server_version_num') / 10000 ))
  package="postgresql-$major-postgis-3"
  if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null; then
    echo "PostGIS is not installed for PostgreSQL $major; install $package." >&2
    exit 1
  fi
  echo "Installing $package for the running PostgreSQL $major." >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >&2
  apt-get install -y -qq --no-install-recommends "$package" >/dev/null
fi

dropdb --if-exists --force "$name" >&2
createdb "$name"
psql -q -d "$name" -c 'CREATE EXTENSION postgis' >&2
echo "postgis://$user@$host:$port/$name"
