"""The store beneath the API: the secret key's fingerprint, `openseat copy` from SQLite to
PostgreSQL, and what several instances on one PostgreSQL database see of each other (the
progress of a job running elsewhere)."""
import shutil
import sqlite3
import subprocess

import pytest

from support import SANITIZER_MARKERS
from support.accounts import signup_and_verify, unique_email
from support.agreements import AGREEMENTS, agreement
from support.client import Client
from support.db import PG_BASE, PG_MODE, pg_connect, pg_create_database, pg_drop_database
from support.files import finished, jobs, people, start, with_defaults
from support.server import Maildir, Server, clean_env, poll, server_binary

OTHER_KEY = "ab" * 32


def run(*args, timeout=120):
    """The binary with these arguments, no OPENSEAT_* from the environment."""
    p = subprocess.run([str(server_binary()), *args], stdin=subprocess.DEVNULL, capture_output=True, text=True,
                       timeout=timeout, env=clean_env())
    for m in SANITIZER_MARKERS:
        assert m not in p.stderr, f"{args}: sanitizer report:\n{p.stderr}"
    return p


def test_an_instance_with_another_secret_key_refuses_to_start(server_factory):
    srv = server_factory()
    srv.stop()
    p = srv.cli("migrate", "--secret-key", OTHER_KEY, check=False)
    assert p.returncode == 1, p
    assert "sealed with another secret key" in p.stderr, p.stderr
    # The key it was sealed with still opens it.
    key = (srv.data / "secret.key").read_text().strip()
    assert srv.cli("migrate", "--secret-key", key).returncode == 0
    srv.start()


# ---------------------------------------------------------------------------------------
# openseat copy: SQLite → PostgreSQL

pg_only = pytest.mark.skipif(not PG_MODE, reason="needs PostgreSQL (OPENSEAT_TEST_PG; the api-pg layer)")


def pg_rows(db, sql, params=None):
    con = pg_connect(db)
    try:
        with con.cursor() as cur:
            cur.execute(sql, params)
            return cur.fetchall()
    finally:
        con.close()


def counts_sqlite(path, tables):
    con = sqlite3.connect(str(path))
    try:
        return {t: con.execute(f'SELECT COUNT(*) FROM "{t}"').fetchone()[0] for t in tables}
    finally:
        con.close()


@pg_only
def test_copy_moves_a_sqlite_deployment_to_postgresql(tmp_path):
    data = tmp_path / "data"
    fast = ["--argon2-ops", "1", "--argon2-mem-kib", "8"]
    p = run("demo", "--data", str(data), *fast)
    assert p.returncode == 0, p.stderr
    db = pg_create_database()
    url = f"{PG_BASE}/{db}"
    srv = None
    try:
        p = run("copy", "--from", f"sqlite:{data}/openseat.db", "--to", url, "--data", str(data))
        assert p.returncode == 0, p.stderr
        tables = [r[0] for r in pg_rows(db, "SELECT table_name FROM information_schema.tables"
                                            " WHERE table_schema = 'public' AND table_type = 'BASE TABLE'"
                                            " AND table_name <> 'schema_migrations'")]
        assert {"users", "agreements", "subscriptions", "outbox", "settings"} <= set(tables)
        want = counts_sqlite(data / "openseat.db", tables)
        got = {t: pg_rows(db, f'SELECT COUNT(*) FROM "{t}"')[0][0] for t in tables}
        assert got == want
        assert want["users"] > 0 and want["agreements"] > 0
        for t in tables:   # every table reported, with its count
            assert f"  {t} " in p.stdout and f" {want[t]} rows" in p.stdout, p.stdout
        # Same values, not only as many: the users and their password hashes.
        con = sqlite3.connect(str(data / "openseat.db"))
        src_users = sorted(con.execute("SELECT id, email, password_hash FROM users").fetchall())
        con.close()
        assert sorted(pg_rows(db, "SELECT id, email, password_hash FROM users")) == src_users

        # A second copy into the same database is refused, and changes nothing.
        again = run("copy", "--from", f"sqlite:{data}/openseat.db", "--to", url, "--data", str(data))
        assert again.returncode == 1 and "already holds data" in again.stderr, again
        assert {t: pg_rows(db, f'SELECT COUNT(*) FROM "{t}"')[0][0] for t in tables} == want
        # Only into PostgreSQL.
        bad = run("copy", "--from", f"sqlite:{data}/openseat.db", "--to", f"sqlite:{tmp_path}/x.db",
                  "--data", str(data))
        assert bad.returncode == 1 and "must be a PostgreSQL database" in bad.stderr, bad

        # The portal on the copy: the demo sign-in works, its agreements are there, and new
        # rows get ids past the copied ones (the sequences moved on).
        srv = Server(data, mail=Maildir(data / "maildir"), pg_db=db)
        srv.start()
        c = Client(srv)
        r = c.post("/api/v1/session", {"email": "camille@contoso.example", "password": "demo-password-1"})
        assert r.status == 200, r
        r = c.get(AGREEMENTS)
        assert r.status == 200 and r.body["agreements"], r
        new = unique_email("aftercopy")
        signup_and_verify(Client(srv), new)
        new_id = pg_rows(db, "SELECT id FROM users WHERE email = %s", (new,))[0][0]
        assert new_id > max(u[0] for u in src_users)
    finally:
        if srv is not None:
            srv.stop()
        pg_drop_database(db)


# ---------------------------------------------------------------------------------------
# Two instances, one database

@pg_only
def test_progress_of_a_job_is_seen_from_another_instance(server_factory, tmp_path):
    """A job's rows are written inside one transaction; its progress is written beside it,
    so an instance that is not running the job sees the count move while it runs."""
    a = server_factory(extra_args=["--max-upload", str(64 * 1024 * 1024)])
    ag = with_defaults(agreement(a, {"enterprise": 100000}))
    data_b = tmp_path / "b"
    data_b.mkdir()
    shutil.copy(a.data / "secret.key", data_b / "secret.key")
    b = Server(data_b, pg_db=a.pg_db)
    b.start()
    try:
        seen_b = Client(b)
        seen_b.cookies = dict(ag.sa.cookies)             # sessions live in the database
        job = start(ag.sa, ag.lic, people(ag, 100000), send_email="false")
        seen = []

        def mid_write():
            r = seen_b.get(jobs(ag.lic, "/" + job["id"]))
            assert r.status == 200, r
            seen.append((r.body["state"], r.body["phase"], r.body["rows_written"]))
            if r.body["state"] in ("done", "failed"):
                pytest.fail(f"the job ended before another instance saw it write: {seen[-20:]}")
            return r.body["phase"] == "writing" and 0 < r.body["rows_written"] < 100000
        poll(mid_write, timeout=120, interval=0.02, what="another instance to see rows being written")
        end = finished(seen_b, ag.lic, job["id"], timeout=120)
        assert end["state"] == "done" and end["rows_written"] == 100000, end
    finally:
        b.check_stopped_cleanly()


@pg_only
def test_requests_go_on_after_the_database_drops_the_connections(server_factory):
    """The database ends every session of the instance (a restart, a failover): the next
    requests are served on new connections, reads and writes alike."""
    srv = server_factory()
    c = Client(srv)
    email = unique_email("reconnect")
    signup_and_verify(c, email)
    assert c.get(AGREEMENTS).status == 200
    for _ in range(3):
        killed = pg_rows(srv.pg_db, "SELECT COUNT(pg_terminate_backend(pid)) FROM pg_stat_activity"
                                    " WHERE datname = current_database() AND pid <> pg_backend_pid()")[0][0]
        assert killed >= 1
        # Every worker thread's connection is gone: as many requests as threads and more.
        for _ in range(12):
            r = c.get(AGREEMENTS)
            assert r.status == 200, r
        r = c.patch("/api/v1/account", {"name": "Grace Hopper"})
        assert r.status == 200, r
    assert pg_rows(srv.pg_db, "SELECT name FROM users WHERE email = %s", (email,))[0][0] == "Grace Hopper"
    assert "connection re-established" in open(srv.log_path, errors="replace").read()
