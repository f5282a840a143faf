"""A request's memory is that request's problem: one that needs more than --request-memory
gets 503 `request_too_costly` while the server goes on serving everyone else, with its
database left as if the request had never started. And the reads that grow with an
agreement's history — the activity log (pages and CSV), the usage report and its CSV —
answer correctly at sizes far beyond that memory: 400,000 audit events, 1,000,000 recorded
usage changes, built here by direct SQL."""
import json
import time

import pytest

from support.accounts import addr, uniq
from support.agreements import agreement, iso_to_ts, level_id, url
from support.checks import assert_problem
from support.db import db_count, db_query, db_write
from support.files import finished, read_csv, start
from support.server import Maildir, Server, start_stack, stop_stack

MIB = 1024 * 1024

# The sizes the portal was seen to fall over at. PostgreSQL builds them as fast (a recursive
# CTE inserting server-side) and streams them row by row: the same sizes on both.
AUDIT_EVENTS = 400_000
USAGE_CHANGES = 1_000_000


def insert_series(server, n, insert_head, select_tail, params=()):
    """INSERT … SELECT over i = 1..n, built by a recursive CTE inside the database."""
    return db_write(server, insert_head + " WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n"
                            " WHERE i < ?) SELECT " + select_tail + " FROM n", (n, *params))


def too_costly_count(client):
    r = client.get("/metrics")
    assert r.status == 200, r
    for line in r.body.splitlines():
        if line.startswith("openseat_requests_too_costly_total "):
            return int(line.split()[1])
    raise AssertionError("openseat_requests_too_costly_total missing from /metrics")


def add_invites(server, ag, n):
    """n pending admin invitations with long names: a list whose answer grows with them."""
    return insert_series(server, n,
                         "INSERT INTO admin_invites (agreement_id, email, name, role, language, invited_at)",
                         "?, 'invitee' || CAST(i AS TEXT) || '@many.example', 'Invited person with a rather"
                         " long name to make every entry of the list weigh ' || CAST(i AS TEXT), 'admin', 'en', 1",
                         (ag.id,))


# ---------------------------------------------------------------------------------------
# A request that outgrows its memory


@pytest.fixture(scope="module")
def small(tmp_path_factory):
    """A server giving each request 1 MiB (uploads 1 MiB more: 4 × 256 KiB), one thread, so
    the request after a refused one runs on the very connection the refused one used."""
    d = tmp_path_factory.mktemp("small")
    srv = Server(d / "data", extra_args=["--request-memory", str(MIB), "--max-upload", str(256 * 1024),
                                          "--threads", "1"])
    srv.mail = Maildir(srv.data / "maildir")
    srv.start()
    yield srv
    srv.check_stopped_cleanly()
    srv.destroy()


def restart(srv, memory):
    srv.stop()
    i = srv.extra_args.index("--request-memory")
    srv.extra_args[i + 1] = str(memory)
    srv.start()


def test_too_costly_read_is_refused_alone_and_the_server_goes_on(small):
    a = agreement(small, {"enterprise": 10})
    other = agreement(small, {"enterprise": 10})
    before = too_costly_count(a.sa)
    add_invites(small, a, 20_000)
    r = a.sa.get(url(a.lic, "/admins"))
    body = assert_problem(r, 503, "request_too_costly")
    assert "memory" in body["detail"], body
    assert body["request_id"] == r.headers.get("X-Request-Id"), body
    assert too_costly_count(a.sa) == before + 1
    # Still serving, on the same thread and database connection: reads see the present
    # (a statement left open would have kept its old snapshot), writes go through.
    assert a.sa.get("/healthz").status == 200
    sub = a.sa.post(url(a.lic, "/subscriptions"), {"name": "Grace Hopper", "sign_in_email": addr("dev"),
                                                   "level": "enterprise", "country": "FR", "language": "en",
                                                   "send_email": False})
    assert sub.status == 201, sub
    r = a.sa.get(url(a.lic, "/subscriptions"))
    assert r.status == 200 and [s["id"] for s in r.body["items"]] == [sub.body["id"]], r
    r = a.sa.get(url(a.lic, "/overview"))
    assert r.status == 200, r
    assert other.sa.get(url(other.lic, "/admins")).status == 200
    # The same request refused again, every time: nothing was left behind to make it differ.
    for _ in range(3):
        assert_problem(a.sa.get(url(a.lic, "/admins")), 503, "request_too_costly")
    assert too_costly_count(a.sa) == before + 4


def test_too_costly_write_leaves_nothing_behind(small):
    """A change that runs out of memory inside its transaction (a resend to 1,000
    subscribers: an e-mail and an audit entry each) is rolled back whole: no e-mail queued,
    no audit entry; the next change on the same connection commits as usual."""
    a = agreement(small, {"enterprise": 5000})
    # The subscribers come from a file that needs more than 1 MiB to check: added with the
    # memory as shipped, then the server is back to its small memory (sessions are rows).
    restart(small, 64 * MIB)
    rows = ["Name,Sign-in Email,Subscription Level,Country,Language"]
    rows += [f"Person {i},{uniq('p')}@bulk.example,enterprise,FR,en" for i in range(1000)]
    r = a.sa.request("POST", url(a.lic, "/subscriptions/bulk?send_email=false"), body="\n".join(rows).encode(),
                     content_type="text/csv")
    assert r.status == 201 and r.body["added"] == 1000, r
    restart(small, MIB)
    ids = [row[0] for row in db_query(small, "SELECT uuid FROM subscriptions WHERE agreement_id = ?", (a.id,))]
    assert len(ids) == 1000
    audits = db_count(small, "audit_events", "agreement_id = ?", (a.id,))
    mails = db_count(small, "outbox")
    before = too_costly_count(a.sa)
    r = a.sa.post(url(a.lic, "/subscriptions/resend"), {"ids": ids})
    assert_problem(r, 503, "request_too_costly")
    assert too_costly_count(a.sa) == before + 1
    assert db_count(small, "audit_events", "agreement_id = ?", (a.id,)) == audits
    assert db_count(small, "outbox") == mails
    # The write lock was given back and the connection is clean: the next change commits.
    r = a.sa.post(url(a.lic, "/subscriptions/resend"), {"ids": ids[:5]})
    assert r.status == 200 and r.body["count"] == 5, r
    assert db_count(small, "outbox") == mails + 5
    assert db_count(small, "audit_events", "agreement_id = ?", (a.id,)) == audits + 5


def test_request_memory_flag_is_checked(server):
    p = server.cli("serve", "--request-memory", "1000", check=False, timeout=10)
    assert p.returncode != 0 and "request-memory" in (p.stderr + p.stdout), p


# ---------------------------------------------------------------------------------------
# The activity log at 400,000 events


def test_activity_of_400000_events_pages_and_exports(tmp_path_factory):
    # A server of this test's own: its memory limit as shipped, its database not shared.
    srv = start_stack(tmp_path_factory.mktemp("activity"), with_smtp=False)
    try:
        a = agreement(srv, {"enterprise": 10})
        t0 = int(time.time()) - 10 * 86400
        insert_series(srv, AUDIT_EVENTS,
                      "INSERT INTO audit_events (at, actor_user_id, actor_email, action, target_type, target_id,"
                      " agreement_id, address, request_id, details)",
                      "? + i, NULL, 'actor' || CAST(i % 97 AS TEXT) || '@history.example', 'subscription.added',"
                      " 'subscription', 'target-' || CAST(i AS TEXT), ?, '10.0.0.' || CAST(i % 250 AS TEXT),"
                      " 'req', '{\"n\":' || CAST(i AS TEXT) || '}'", (t0, a.id))
        total = db_count(srv, "audit_events", "agreement_id = ?", (a.id,))
        assert total >= AUDIT_EVENTS
        c = a.sa
        c.timeout = 300
        # The whole log as CSV: every event once, newest first.
        r = c.get(url(a.lic, "/activity.csv"))
        rows = read_csv(r)
        assert rows[0][:3] == ["time", "actor", "action"], rows[0]
        assert len(rows) == 1 + total, (len(rows), total)
        series = [row for row in rows[1:] if row[4].startswith("target-")]
        assert len(series) == AUDIT_EVENTS
        assert series[0][4] == f"target-{AUDIT_EVENTS}" and series[-1][4] == "target-1", (series[0], series[-1])
        assert series[0][-1] == f'{{"n":{AUDIT_EVENTS}}}', series[0]
        # JSON pages: the first, and one deep in the log, each a page of the right events.
        r = c.get(url(a.lic, "/activity?limit=500"))
        assert r.status == 200 and len(r.body["events"]) == 500, r
        ids = [e["id"] for e in r.body["events"]]
        assert ids == sorted(ids, reverse=True)
        low = db_query(srv, "SELECT id FROM audit_events WHERE agreement_id = ? AND target_id = 'target-1001'",
                       (a.id,))[0][0]
        r = c.get(url(a.lic, f"/activity?limit=500&before={low}"))
        assert r.status == 200, r
        assert [e["target"] for e in r.body["events"]] == [f"target-{i}" for i in range(1000, 500, -1)], \
            r.body["events"][:2]
        # Filters over the whole log: one actor's events, counted through every page.
        r = c.get(url(a.lic, "/activity.csv?actor=actor5@history"))
        assert len(read_csv(r)) - 1 == sum(1 for i in range(1, AUDIT_EVENTS + 1) if i % 97 == 5)
        # The stream: 10,000 events an answer, read a page at a time, oldest first, and
        # the next cursor carries on where the answer stopped.
        r = c.get(url(a.lic, "/activity?format=ndjson&limit=10000"))
        assert r.status == 200, r
        events = [json.loads(line) for line in r.raw.decode().splitlines()]
        assert len(events) == 10000 and [e["id"] for e in events] == sorted(e["id"] for e in events)
        nxt = r.headers.get("X-Openseat-Next-Cursor")
        assert nxt == events[-1]["cursor"]
        r = c.get(url(a.lic, f"/activity?format=ndjson&limit=10000&after={nxt}"))
        more = [json.loads(line) for line in r.raw.decode().splitlines()]
        assert len(more) == 10000 and more[0]["id"] > events[-1]["id"]
        # Not built in memory: with a request allowed 2 MiB, the same 10,000 lines (more than
        # that) are still sent whole.
        assert len(r.raw) > 2 * 1024 * 1024, len(r.raw)
        srv.stop()
        srv.extra_args += ["--request-memory", str(2 * 1024 * 1024)]
        srv.returncode = None
        srv.start()
        r = c.get(url(a.lic, f"/activity?format=ndjson&limit=10000&after={nxt}"))
        assert r.status == 200, r
        assert [json.loads(line)["id"] for line in r.raw.decode().splitlines()] == [e["id"] for e in more]
    finally:
        stop_stack(srv)


# ---------------------------------------------------------------------------------------
# Usage at 1,000,000 recorded changes


def test_usage_of_1000000_changes(tmp_path_factory):
    srv = start_stack(tmp_path_factory.mktemp("usage"), with_smtp=False)
    try:
        a = agreement(srv, {"enterprise": 20000, "professional": 10})
        lid = level_id(srv, "enterprise")
        now = int(time.time())
        start = now - 2 * 365 * 86400          # two years of history, a change a minute
        step = 60
        # A saw-tooth of 1..1000, a change a minute; its one peak (7000) in the first year,
        # its highest count within the last twelve months (1500) once, at a known time.
        peak_i, year_i = 1000, USAGE_CHANGES - 2000
        insert_series(srv, USAGE_CHANGES,
                      "INSERT INTO usage_changes (agreement_id, level_id, at, assigned_after, purchased)",
                      "?, ?, ? + i * ?, CASE WHEN i = ? THEN 7000 WHEN i = ? THEN 1500 ELSE 1 + i % 1000 END,"
                      " 20000", (a.id, lid, start, step, peak_i, year_i))
        assert db_count(srv, "usage_changes", "agreement_id = ?", (a.id,)) == USAGE_CHANGES
        c = a.sa
        c.timeout = 300
        r = c.get(url(a.lic, "/usage"))
        assert r.status == 200 and r.content_type == "application/json", r
        lv = {x["level"]: x for x in r.body["levels"]}
        e = lv["enterprise"]
        assert e["max_life"] == 7000, {k: v for k, v in e.items() if k != "new_maxima"}
        assert iso_to_ts(e["max_life_first_at"]) == start + peak_i * step
        assert e["max_12_months"] == 1500
        assert iso_to_ts(e["max_12_months_first_at"]) == start + year_i * step
        # New maxima: 1, 2, … 1000 during the first saw-tooth, then the peak.
        assert [m["assigned"] for m in e["new_maxima"]] == list(range(2, 1001)) + [7000], e["new_maxima"][:3]
        assert lv["professional"]["max_life"] == 0 and lv["professional"]["new_maxima"] == []
        # The history: every change, in time order.
        r = c.get(url(a.lic, "/usage.csv"))
        assert r.status == 200 and r.content_type == "text/csv", r
        raw = r.raw
        assert raw.startswith(b"\xef\xbb\xbflevel,time,assigned,purchased\r\n")
        lines = raw[3:].split(b"\r\n")
        assert lines[-1] == b""
        data = lines[1:-1]
        assert len(data) == USAGE_CHANGES
        assigned = [int(x.rsplit(b",", 2)[1]) for x in data]
        assert max(assigned) == 7000 and assigned[peak_i - 1] == 7000 and assigned[year_i - 1] == 1500
        assert data[0].startswith(b"enterprise,") and data[-1].endswith(b",20000")
    finally:
        stop_stack(srv)


def test_too_costly_job_fails_alone_and_the_worker_goes_on(small):
    """A background job whose file needs more than the job's memory (--request-memory plus
    the upload allowance: here a table of 120,000 one-letter cells) ends failed with
    `request_too_costly` and nothing applied; the process, and its job worker, go on."""
    a = agreement(small, {"enterprise": 5000})
    rows = ["Name,Sign-in Email,Subscription Level,Country,Language"]
    rows += [f"Person {i},{uniq('j')}@jobs.example,enterprise,FR,en" for i in range(2)]
    cells = "\n".join([rows[0]] + ["a,b,c,d,e,f,g,h,i,j"] * 12_000).encode()
    job = start(a.sa, a.lic, cells, send_email="false")
    done = finished(a.sa, a.lic, job["id"])
    assert done["state"] == "failed" and done["status"] == 503, done
    assert done["result"]["code"] == "request_too_costly", done
    assert db_count(small, "subscriptions", "agreement_id = ?", (a.id,)) == 0
    # The same process and its worker take the next job and answer it (with 1 MiB a job,
    # any file is "too large to check at once": the answer a request gets too).
    job = start(a.sa, a.lic, "\n".join(rows[:3]).encode(), send_email="false")
    done = finished(a.sa, a.lic, job["id"])
    assert done["state"] == "done" and done["status"] == 422, done["result"]
    assert [e["code"] for e in done["result"]["report"]["errors"]] == ["too_large"], done["result"]
    assert small.proc.poll() is None
