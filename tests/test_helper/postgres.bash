# A throwaway PostgreSQL server for the tests of the PostgreSQL store: initdb
# and pg_ctl on a unix socket in a temporary directory, run as an unprivileged
# user when the tests run as root (initdb refuses root), stopped in teardown.
# Never a system service. Skips the test when the binaries are absent.
#   pg_start   (in setup_file) sets PGHOST (the socket directory), PGPORT and
#              PGUSER for psql and libpq
#   pg_stop    stops it (call it in teardown)

PG_BIN="${PG_BIN:-$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)}"

# as_pg COMMAND...: run as the server's owner.
as_pg() {
	if [ "$(id -u)" -eq 0 ]; then
		runuser -u "$PG_OWNER" -- "$@"
	else
		"$@"
	fi
}

pg_start() {
	[ -x "$PG_BIN/initdb" ] && [ -x "$PG_BIN/pg_ctl" ] || skip "no PostgreSQL server binaries (apt-get install postgresql)"
	PG_OWNER=$(id -un)
	if [ "$(id -u)" -eq 0 ]; then
		PG_OWNER=postgres
		id "$PG_OWNER" >/dev/null 2>&1 || skip "no unprivileged user postgres to run the server"
	fi
	# A short path: a unix socket name has at most 107 bytes.
	PG_DIR=$(mktemp -d /tmp/ff-pg.XXXXXX)
	chown "$PG_OWNER" "$PG_DIR"
	chmod 700 "$PG_DIR"
	as_pg "$PG_BIN/initdb" -D "$PG_DIR/data" -U ff -A trust --no-sync -E UTF8 --locale=C >/dev/null
	# 3>&-: the server must not hold bats' output open.
	as_pg "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/log" -w -s \
		-o "-k $PG_DIR -c listen_addresses='' -c fsync=off -c synchronous_commit=off -c full_page_writes=off" \
		start 3>&-
	export PGHOST=$PG_DIR PGPORT=5432 PGUSER=ff PGDATABASE=postgres PG_DIR PG_OWNER
}

# pg_newdb NAME: a new empty database; sets PGDATABASE and PG_URL, the
# --store URI of it.
pg_newdb() {
	psql -X -q -d postgres -c "CREATE DATABASE $1"
	export PGDATABASE=$1
	PG_URL="postgresql:///$1?host=$PGHOST&user=ff"
}

pg_stop() {
	[ -n "${PG_DIR:-}" ] || return 0
	as_pg "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -m immediate -w -s stop || true
	rm -rf "$PG_DIR"
	PG_DIR=
}

# pg_sql SQL: psql on the test server, unaligned, tuples only, '|' between
# columns (as sqlite3 prints them).
pg_sql() {
	psql -X -q -A -t -v ON_ERROR_STOP=1 -c "$1"
}
