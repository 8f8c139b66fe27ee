# pg.sh - start/stop a throw-away PostgreSQL server for tests (sourced).
# Debian's postgresql package; the server refuses to run as root, so it runs
# as the `postgres` user (or the current user when not root). Loopback and a
# unix socket in a temp dir, a non-default port, fsync off (tests only).
# After pg_start: PGHOST (socket dir), PGPORT, PGUSER, PGDATABASE are set,
# PG_OK=1; PG_SKIP holds the reason when it could not start.
PG_OK=0
PG_SKIP=""
pg_bindir() {
    local d
    for d in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
        [ -x "$d/initdb" ] && { echo "$d"; return 0; }
    done
    return 1
}
pg_as() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
pg_start() {
    local dir=$1 bin
    bin=$(pg_bindir) || { PG_SKIP="no PostgreSQL server binaries (Debian package postgresql)"; return 1; }
    if [ "$(id -u)" = 0 ] && ! id postgres >/dev/null 2>&1; then
        PG_SKIP="running as root and there is no 'postgres' user to run the server"; return 1
    fi
    PG_DIR=$dir/pg
    mkdir -p "$PG_DIR"
    [ "$(id -u)" = 0 ] && chown postgres "$PG_DIR"
    PG_BIN=$bin
    PGPORT=$((20000 + RANDOM % 20000))
    if ! pg_as "$bin/initdb" -N -D "$PG_DIR/data" -U postgres --auth-local=trust --auth-host=scram-sha-256 \
        >"$PG_DIR/initdb.log" 2>&1; then
        PG_SKIP="initdb failed: $(tail -n 2 "$PG_DIR/initdb.log" | tr '\n' ' ')"; return 1
    fi
    if ! pg_as "$bin/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/server.log" -w -t 30 \
        -o "-p $PGPORT -k $PG_DIR -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off" \
        start >/dev/null 2>&1; then
        PG_SKIP="the server did not start: $(tail -n 3 "$PG_DIR/server.log" 2>/dev/null | tr '\n' ' ')"; return 1
    fi
    export PGHOST=$PG_DIR PGPORT PGUSER=postgres PGDATABASE=postgres
    PG_OK=1
}
pg_restart() { pg_as "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -m fast -w -t 30 restart \
    -o "-p $PGPORT -k $PG_DIR -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off" \
    -l "$PG_DIR/server.log" >/dev/null 2>&1; }
pg_stop() { [ "$PG_OK" = 1 ] && pg_as "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -m immediate stop >/dev/null 2>&1; PG_OK=0; }
