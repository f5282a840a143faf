"""The database of the server under test, read and written from the tests.

SQLite by default (the server's DATA/openseat.db); PostgreSQL when OPENSEAT_TEST_PG holds a
cluster's base URL without database name (e.g. postgres://postgres@127.0.0.1:5432, see
tests/pg/cluster.sh): every server then gets a database of its own there, created before it
starts and dropped at fixture teardown (at session end at the latest).

db_query / db_write / db_count take SQL in SQLite style (? placeholders) that PostgreSQL
accepts too, and give back what Python's sqlite3 would, whichever database is underneath."""
import decimal
import os
import threading


PG_BASE = os.environ.get("OPENSEAT_TEST_PG", "").strip().rstrip("/") or None
PG_MODE = PG_BASE is not None
BACKEND = "postgresql" if PG_MODE else "sqlite"

_pg_seq = [0]
_pg_lock = threading.Lock()
pg_databases = set()          # created and not dropped yet (dropped at session end at the latest)


def pg_connect(dbname):
    import psycopg2
    con = psycopg2.connect(f"{PG_BASE}/{dbname}", connect_timeout=10)
    con.autocommit = True
    return con


def _pg_admin(sql):
    """One statement on the cluster's `postgres` database (creating, dropping databases)."""
    con = pg_connect("postgres")
    try:
        with con.cursor() as cur:
            cur.execute(sql)
    finally:
        con.close()


def pg_create_database(prefix="t"):
    """A new, empty database of a unique name on the test cluster; returns its name."""
    with _pg_lock:
        _pg_seq[0] += 1
        name = f"{prefix}_{os.getpid()}_{_pg_seq[0]}"
    _pg_admin(f'CREATE DATABASE "{name}"')
    pg_databases.add(name)
    return name


def pg_drop_database(name):
    _pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    pg_databases.discard(name)


def pg_sql(sql, params):
    """SQLite-style SQL (? placeholders) for psycopg2 (%s placeholders, % doubled when there
    are parameters). Numbered placeholders (?1) are SQLite-only: write plain ? instead."""
    out, quote, i = [], None, 0
    while i < len(sql):
        ch = sql[i]
        if quote:
            if ch == quote:
                quote = None
        elif ch in ("'", '"'):
            quote = ch
        elif ch == "?":
            if i + 1 < len(sql) and sql[i + 1].isdigit():
                raise ValueError(f"numbered placeholder in {sql!r}: not portable, use ?")
            out.append("%s")
            i += 1
            continue
        out.append("%%" if ch == "%" and params else ch)
        i += 1
    return "".join(out)


def pg_value(v):
    """The value as Python's sqlite3 would give it for the same column."""
    if isinstance(v, memoryview):
        return v.tobytes()
    if isinstance(v, bool):
        return int(v)
    if isinstance(v, decimal.Decimal):
        return int(v) if v == v.to_integral_value() else float(v)
    return v


def db_query(server, sql, params=()):
    """Rows (a list of tuples) of a read-only query on the server's database (works while it
    runs). SQL in SQLite style (? placeholders) that PostgreSQL accepts too."""
    if PG_MODE:
        return server.pg_execute(sql, params)
    import sqlite3
    con = sqlite3.connect(f"file:{server.db_path}?mode=ro", uri=True, timeout=10)
    try:
        con.execute("PRAGMA busy_timeout = 10000")
        return con.execute(sql, params).fetchall()
    finally:
        con.close()


def db_count(server, table, where="1=1", params=()):
    return db_query(server, f"SELECT COUNT(*) FROM {table} WHERE {where}", params)[0][0]


def db_write(server, sql, params=()):
    """One write on the server's database (while it runs). Returns the changed row count."""
    if PG_MODE:
        return server.pg_execute(sql, params, fetch=False)
    import sqlite3
    con = sqlite3.connect(str(server.db_path), timeout=10)
    try:
        con.execute("PRAGMA busy_timeout = 10000")
        cur = con.execute(sql, params)
        con.commit()
        return cur.rowcount
    finally:
        con.close()
