#!/usr/bin/env bash
# Run a command with a throwaway PostgreSQL server on 127.0.0.1, exported to it as
# UNSEEN_TEST_PG_URL. Without PostgreSQL binaries the command runs without it (the
# PostgreSQL tests then skip and say so).
set -uo pipefail
PGROOT=/usr/lib/postgresql
if [[ ! -d $PGROOT ]] || ! command -v su >/dev/null; then
  echo "with-postgres: no PostgreSQL here; PostgreSQL tests will skip" >&2
  exec "$@"
fi
PGBIN=$PGROOT/$(ls $PGROOT | sort -V | tail -1)/bin
PGPORT=${PGPORT:-$((54000 + RANDOM % 1000))}
PGDATA=$(mktemp -d /tmp/unseen-pg.XXXXXX)
chmod 755 "$PGDATA"
RUNAS=()
if [[ $(id -u) -eq 0 ]]; then chown postgres:postgres "$PGDATA"; RUNAS=(su postgres -s /bin/sh -c); else RUNAS=(sh -c); fi
"${RUNAS[@]}" "$PGBIN/initdb -D $PGDATA -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 >/dev/null" &&
"${RUNAS[@]}" "$PGBIN/pg_ctl -D $PGDATA -l $PGDATA/server.log -w -o '-c listen_addresses=127.0.0.1 -p $PGPORT -k $PGDATA -c fsync=off' start >/dev/null" ||
  { echo "with-postgres: could not start PostgreSQL" >&2; cat "$PGDATA/server.log" >&2 2>/dev/null; }
export UNSEEN_TEST_PG_URL="postgresql+psycopg://postgres@127.0.0.1:$PGPORT/postgres"
"$@"
status=$?
"${RUNAS[@]}" "$PGBIN/pg_ctl -D $PGDATA -m fast -w stop >/dev/null" 2>/dev/null
rm -rf "$PGDATA"
exit $status
