"""The audit trail as a stream: an agreement's activity as NDJSON for pollers
(`?format=ndjson` or `Accept: application/x-ndjson`, `after` a cursor, the next one in
X-Openseat-Next-Cursor), and the operator's audit log (`--audit-log FILE|syslog`), written by a
background thread that follows the same cursor through the whole trail.

The cursor must never skip or repeat an event while writes continue. On PostgreSQL two
transactions commit out of id order, so a poller asking for "ids above the last one seen"
skips the rows of a transaction that committed after a later id was read: the concurrency
tests below follow the stream while writers race on several agreements through two instances
(on SQLite, one writer at a time, the module's one server plays both parts), and require that
every audit id was seen exactly once.
"""
import json
import os
import signal
import threading
import time
import urllib.parse

import pytest

from support.accounts import addr, partner_user, verified_user
from support.agreements import agreement, url
from support.checks import assert_problem, field_errors
from support.client import on_server as on
from support.db import PG_MODE, db_query, db_write, pg_connect
from support.files import finished, people, start, with_defaults
from support.server import Maildir, Server, live_servers, poll, retire, retire_all, twin_of, twin_server
from support.subscriptions import add, sub_body, subs

pytestmark = pytest.mark.usefixtures("server_alive")

NDJSON = "application/x-ndjson"
NEXT = "X-Openseat-Next-Cursor"
EVENT_KEYS = {"id", "at", "actor", "actor_name", "action", "target_type", "target", "target_label", "details",
              "relationship", "token", "cursor"}


def stream(client, lic, accept=None, **params):
    """GET the activity as NDJSON: (response, events, next cursor)."""
    if accept is None:
        params.setdefault("format", "ndjson")
    q = urllib.parse.urlencode(params)
    r = client.get(url(lic, "/activity") + ("?" + q if q else ""), headers={"Accept": accept} if accept else None)
    if r.status != 200:
        return r, None, None
    assert r.content_type == NDJSON, r.headers
    text = r.raw.decode()
    assert text == "" or text.endswith("\n"), text[-200:]
    events = [json.loads(line) for line in text.splitlines()]
    return r, events, r.headers.get(NEXT)


def follow(client, lic, after=None, limit=None, **params):
    """Every event from `after` to the stream's current end, page by page: (events, cursor)."""
    seen = []
    cursor = after
    while True:
        p = dict(params)
        if cursor is not None:
            p["after"] = cursor
        if limit is not None:
            p["limit"] = limit
        r, events, nxt = stream(client, lic, **p)
        assert r.status == 200, r
        seen += events
        assert nxt, r.headers
        if events:
            assert nxt == events[-1]["cursor"]
        else:
            assert cursor is None or nxt == cursor, "an empty page keeps the place"
        cursor = nxt
        if not events or (limit is not None and len(events) < limit):
            return seen, cursor


def audit_ids(server, agreement_id=None):
    """The audit ids (of one agreement, or all), in the order the stream gives them: by the
    writing transaction, then id (on SQLite, where tx is always 0, the id alone)."""
    if agreement_id is None:
        return [r[0] for r in db_query(server, "SELECT id FROM audit_events ORDER BY tx, id")]
    return [r[0] for r in db_query(server, "SELECT id FROM audit_events WHERE agreement_id = ? ORDER BY tx, id",
                                   (agreement_id,))]


@pytest.fixture(scope="module")
def ag(server):
    a = agreement(server, {"enterprise": 400, "professional": 50})
    for i in range(5):
        add(a.sa, a.lic, name=f"Stream Person {i}")
    return a


@pytest.fixture(scope="module")
def other(server):
    a = agreement(server, {"enterprise": 20})
    add(a.sa, a.lic, name="Other Person")
    return a


# --------------------------------------------------------------------------------------
# Shape


def test_ndjson_lines_carry_the_activity_fields_and_a_cursor(server, ag):
    r, events, nxt = stream(ag.sa, ag.lic)
    assert r.headers.get("Cache-Control") == "no-store"
    ids = audit_ids(server, ag.id)
    assert [e["id"] for e in events] == ids, "every event, oldest first"
    for e in events:
        assert set(e) == EVENT_KEYS | {"address"}, e
        assert len(e["cursor"]) == 32 and all(c in "0123456789abcdef" for c in e["cursor"]), e["cursor"]
    assert len({e["cursor"] for e in events}) == len(events)
    assert nxt == events[-1]["cursor"]
    # The same events as the JSON pages, field for field (the cursor aside).
    page = ag.sa.get(url(ag.lic, "/activity?limit=500")).body["events"]
    assert list(reversed(page)) == [{k: v for k, v in e.items() if k != "cursor"} for e in events]


def test_accept_header_asks_for_the_stream(ag):
    r1, by_param, _ = stream(ag.sa, ag.lic)
    r2, by_accept, _ = stream(ag.sa, ag.lic, accept="text/html;q=0.5, application/x-ndjson")
    assert by_accept == by_param
    # Refused with q=0, or not named: the JSON page.
    r = ag.sa.get(url(ag.lic, "/activity"), headers={"Accept": "application/x-ndjson;q=0, application/json"})
    assert r.status == 200 and r.content_type == "application/json" and "events" in r.body, r
    # format=json wins over the header.
    r = ag.sa.get(url(ag.lic, "/activity?format=json"), headers={"Accept": NDJSON})
    assert r.status == 200 and r.content_type == "application/json", r


def test_addresses_only_for_super_admins(ag):
    _, events, _ = stream(ag.seller, ag.lic)
    assert events and all(set(e) == EVENT_KEYS for e in events), events[0]


def test_filters_apply(ag):
    _, events, _ = stream(ag.sa, ag.lic, action="subscription.")
    assert events and all(e["action"].startswith("subscription.") for e in events)
    _, mine, _ = stream(ag.sa, ag.lic, actor=ag.seller.email)
    assert all(e["actor"] == ag.seller.email for e in mine)


# --------------------------------------------------------------------------------------
# Paging with the cursor


def test_paging_through_many_events_sees_each_once(server, ag):
    for i in range(12):
        add(ag.sa, ag.lic, name=f"Paged Person {i}")
    seen, cursor = follow(ag.sa, ag.lic, limit=7)
    ids = [e["id"] for e in seen]
    assert ids == audit_ids(server, ag.id)
    assert len(set(ids)) == len(ids)
    # From the last cursor: nothing until something happens, then exactly that.
    r, events, nxt = stream(ag.sa, ag.lic, after=cursor)
    assert events == [] and nxt == cursor
    add(ag.sa, ag.lic, name="One More")
    r, events, nxt = stream(ag.sa, ag.lic, after=cursor)
    assert [e["action"] for e in events] == ["subscription.added"], events
    assert events[0]["details"]["name"] == "One More"
    assert nxt == events[0]["cursor"]


def test_after_end_starts_from_what_comes_next(ag):
    r, events, end = stream(ag.sa, ag.lic, after="end")
    assert r.status == 200 and events == [] and end, r
    r, events, again = stream(ag.sa, ag.lic, after=end)
    assert events == [] and again == end
    add(ag.sa, ag.lic, name="After The End")
    r, events, _ = stream(ag.sa, ag.lic, after="end")
    assert events == []
    r, events, _ = stream(ag.sa, ag.lic, after=end)
    assert [e["details"]["name"] for e in events] == ["After The End"]


def test_without_after_starts_at_the_beginning(server, ag):
    r, events, _ = stream(ag.sa, ag.lic, limit=1)
    assert [e["id"] for e in events] == audit_ids(server, ag.id)[:1]


@pytest.mark.parametrize("value", ["0", "10001", "-1", "x", "1.5", ""])
def test_limit_bounds(ag, value):
    r = ag.sa.get(url(ag.lic, "/activity?format=ndjson&limit=" + urllib.parse.quote(value)))
    assert field_errors(r) == {"limit": "out_of_range"}


def test_limit_up_to_ten_thousand(ag):
    r, events, _ = stream(ag.sa, ag.lic, limit=10000)
    assert r.status == 200 and events


@pytest.mark.parametrize("value", ["zz", "0" * 31, "g" * 32, "0" * 33, "8" + "0" * 31, "", "END", "now"])
def test_a_cursor_not_handed_out_is_refused(ag, value):
    r = ag.sa.get(url(ag.lic, "/activity?format=ndjson&after=" + urllib.parse.quote(value)))
    assert field_errors(r) == {"after": "invalid_value"}


def test_before_and_unknown_formats_are_refused(ag):
    r = ag.sa.get(url(ag.lic, "/activity?format=ndjson&before=5"))
    assert field_errors(r) == {"before": "not_allowed"}
    r = ag.sa.get(url(ag.lic, "/activity?format=xml"))
    assert field_errors(r) == {"format": "invalid_value"}


# --------------------------------------------------------------------------------------
# Tenants and capabilities


def test_another_agreements_events_never_appear(server, ag, other):
    theirs = set(audit_ids(server, other.id))
    _, events, _ = stream(ag.sa, ag.lic)
    assert not theirs & {e["id"] for e in events}
    # Their cursor is a place in the trail, nothing more: from it, only this agreement's events.
    _, their_events, _ = stream(other.sa, other.lic)
    first = their_events[0]["cursor"]
    add(other.sa, other.lic, name="Their Later Person")
    add(ag.sa, ag.lic, name="Our Later Person")
    _, from_theirs, _ = stream(ag.sa, ag.lic, after=first)
    assert [e["details"].get("name") for e in from_theirs] == ["Our Later Person"], from_theirs
    # Someone without a role on the agreement: 404, cursor or not.
    r = ag.sa.get(url(other.lic, "/activity?format=ndjson"))
    assert_problem(r, 404, "not_found")
    r = ag.sa.get(url(other.lic, "/activity?after=" + first), headers={"Accept": NDJSON})
    assert_problem(r, 404, "not_found")


def test_partner_without_the_activity_capability_is_refused(server, ag):
    rel = db_query(server, "SELECT r.id, r.capabilities FROM partner_relationships r JOIN organizations o"
                           " ON o.id = r.partner_org_id WHERE r.agreement_id = ? AND o.name = ? AND r.status = 'active'",
                   (ag.id, ag.seller.org))
    assert len(rel) == 1, rel
    rel_id, caps = rel[0]
    assert db_write(server, "UPDATE partner_relationships SET capabilities = ? WHERE id = ?", (caps & ~16, rel_id)) == 1
    try:
        for accept in (None, NDJSON):
            r, _, _ = stream(ag.seller, ag.lic, accept=accept)
            b = assert_problem(r, 403, "capability_activity_missing")
            assert b.get("capability") == "activity"
    finally:
        assert db_write(server, "UPDATE partner_relationships SET capabilities = ? WHERE id = ?", (caps, rel_id)) == 1


# --------------------------------------------------------------------------------------
# No gaps, no duplicates while writes continue



@pytest.fixture(scope="module")
def twin(server, tmp_path_factory):
    """A second instance on the module server's database (PostgreSQL), or the server itself."""
    yield from twin_server(server, tmp_path_factory)




def write_storm(server, twin, ags, singles=12, bulk=60):
    """On each agreement, through both instances at once: single adds from two threads and a
    bulk add (one long transaction of many audit rows) — writes on different agreements
    commit in any order. Returns when every write has ended."""
    def singles_on(a, srv, tag):
        c = on(a.sa, srv)
        for i in range(singles):
            r = c.post(subs(a.lic), sub_body(name=f"Storm {tag} {i}",
                                             sign_in_email=f"storm.{tag}.{i}.{a.id}@contoso.example"))
            assert r.status == 201, r

    def bulk_on(a, srv):
        c = on(a.sa, srv)
        job = start(c, a.lic, people(a, bulk, start_at=1000 + a.id * 10))
        assert finished(c, a.lic, job["id"])["state"] == "done"

    threads = []
    for k, a in enumerate(ags):
        threads.append(threading.Thread(target=singles_on, args=(a, server, f"s{k}")))
        threads.append(threading.Thread(target=singles_on, args=(a, twin, f"t{k}")))
        threads.append(threading.Thread(target=bulk_on, args=(a, twin if k % 2 else server)))
    errors = []

    def guarded(fn):
        def run(*args):
            try:
                fn(*args)
            except BaseException as e:   # reported after the join
                errors.append(e)
        return run

    for t in threads:
        t._target = guarded(t._target)
        t.start()
    for t in threads:
        t.join(120)
    assert not errors, errors


@pytest.fixture(scope="module")
def storm_agreements(server):
    out = []
    for _ in range(3):
        a = agreement(server, {"enterprise": 500})
        with_defaults(a)
        out.append(a)
    return out


def test_a_poller_sees_every_event_once_while_writes_continue(server, twin, storm_agreements):
    ags = storm_agreements
    ag = ags[0]
    seen = []
    stop = threading.Event()
    failures = []

    def poller():
        cursor = None
        try:
            while True:
                done = stop.is_set()
                p = {"limit": 25}
                if cursor:
                    p["after"] = cursor
                r, events, nxt = stream(ag.sa, ag.lic, **p)
                assert r.status == 200, r
                seen.extend(e["id"] for e in events)
                cursor = nxt
                # After the writers ended, one more pass that comes back empty is the end.
                if done and not events:
                    return
                if not events:
                    time.sleep(0.02)
        except BaseException as e:
            failures.append(e)

    t = threading.Thread(target=poller)
    t.start()
    try:
        write_storm(server, twin, ags)
    finally:
        stop.set()
        t.join(120)
    assert not failures, failures
    assert len(seen) == len(set(seen)), "an event was given twice"
    assert sorted(seen) == sorted(audit_ids(server, ag.id)), "an event was skipped"


def slow_writer(server, agreement_id):
    """A transaction of the test's own on the server's PostgreSQL database that has written an
    audit entry and not committed yet: (connection, the entry's id). It takes no lock of the
    server's, as any writer of the trail may not."""
    con = pg_connect(server.pg_db)
    con.autocommit = False
    with con.cursor() as cur:
        cur.execute("INSERT INTO audit_events (at, action, target_type, target_id, agreement_id)"
                    " VALUES (%s, 'subscriptions.exported', 'agreement', NULL, %s) RETURNING id",
                    (int(time.time()), agreement_id))
        return con, cur.fetchone()[0]


@pytest.mark.pg_only
def test_an_earlier_id_committing_later_is_not_skipped(server, ag):
    """The race a poller of "ids above the last one" loses: an id taken first, committed last."""
    _, _, cursor = stream(ag.sa, ag.lic, after="end")
    con, slow_id = slow_writer(server, ag.id)
    try:
        add(ag.sa, ag.lic, name="Quick Writer")
        seen = []
        _, events, cursor = stream(ag.sa, ag.lic, after=cursor)
        seen += [e["id"] for e in events]
        con.commit()
    finally:
        con.close()
    quick = [i for i in audit_ids(server, ag.id) if i > slow_id]
    assert quick, "the quick writer's entry came after the slow one's id"
    _, events, _ = stream(ag.sa, ag.lic, after=cursor)
    seen += [e["id"] for e in events]
    assert sorted(seen) == sorted([slow_id] + quick), "each exactly once, the slow one included"


# --------------------------------------------------------------------------------------
# The operator's audit log


def sink_lines(path):
    try:
        text = path.read_text()
    except FileNotFoundError:
        return []
    assert text == "" or text.endswith("\n"), "a line is half-written: " + text[-200:]
    return [json.loads(line) for line in text.splitlines()]


def wait_logged(path_or_paths, server, what="the audit log to hold every event", timeout=30):
    """Until the sink file(s) hold every audit id of the database; returns the ids read, in order."""
    paths = path_or_paths if isinstance(path_or_paths, list) else [path_or_paths]

    def complete():
        ids = [e["id"] for p in paths for e in sink_lines(p)]
        return ids if set(ids) >= set(audit_ids(server)) else None
    return poll(complete, timeout=timeout, interval=0.1, what=what)


@pytest.fixture
def logged(tmp_path_factory):
    """A fresh server writing the audit log to a file: (server, log path)."""
    made = []

    def make(log=None, pg_db=None, data=None):
        d = data or tmp_path_factory.mktemp("alog") / "data"
        log = log or d.parent / "audit.jsonl"
        srv = Server(d, extra_args=["--audit-log", str(log)], pg_db=pg_db)
        srv.mail = Maildir(srv.data / "maildir")
        live_servers.append(srv)
        made.append(srv)
        srv.start()
        return srv, log

    yield make
    retire_all(made)


def test_the_audit_log_holds_every_event_as_json_lines(logged):
    srv, log = logged()
    a = agreement(srv, {"enterprise": 10})
    add(a.sa, a.lic, name="Logged Person")
    ids = wait_logged(log, srv)
    assert ids == audit_ids(srv), "in order, once each"
    lines = sink_lines(log)
    added = [e for e in lines if e["action"] == "subscription.added"]
    assert len(added) == 1
    e = added[0]
    assert e["agreement"] == a.lic and e["actor"] == a.sa.email and e["address"] == "127.0.0.1"
    assert e["details"]["name"] == "Logged Person" and e["request_id"]
    assert {"cursor", "id", "at", "agreement", "actor", "actor_id", "action", "target_type", "target",
            "relationship", "token", "address", "request_id", "details"} == set(e)
    # Account-level events too (no agreement).
    assert any(x["action"] == "account.created" and x["agreement"] is None for x in lines)
    # The cursor is kept beside the file, at the last line written.
    cursor = log.parent / (log.name + ".cursor")
    poll(lambda: cursor.read_text().strip() == lines[-1]["cursor"], timeout=5, what="the cursor saved")


def test_killed_and_restarted_nothing_is_lost(logged):
    srv, log = logged()
    a = agreement(srv, {"enterprise": 200})
    with_defaults(a)
    wait_logged(log, srv)
    # A bulk add's hundred entries, then the process killed at once: some of them are not in
    # the file yet.
    job = start(a.sa, a.lic, people(a, 150))
    finished(a.sa, a.lic, job["id"])
    add(a.sa, a.lic, name="Last Before The Kill")
    srv.proc.kill()
    srv.proc.wait()
    srv._log.close()
    srv.proc = None
    srv.start()
    ids = wait_logged(log, srv, what="the restarted server to write what was left")
    assert set(ids) == set(audit_ids(srv)), "nothing lost"
    # Lines may repeat (at least once: the batch in hand when the process died), each first
    # appearance in the trail's order.
    first_seen = []
    for i in ids:
        if i not in first_seen:
            first_seen.append(i)
    assert first_seen == audit_ids(srv)


def test_rotation_by_rename_and_sighup_writes_a_new_file(logged):
    srv, log = logged()
    a = agreement(srv, {"enterprise": 10})
    wait_logged(log, srv)
    rotated = log.parent / (log.name + ".1")
    os.rename(log, rotated)
    srv.proc.send_signal(signal.SIGHUP)
    add(a.sa, a.lic, name="After Rotation")
    ids = wait_logged([rotated, log], srv)
    new = sink_lines(log)
    assert new and any(e["action"] == "subscription.added" for e in new), new
    assert not set(e["id"] for e in new) & set(e["id"] for e in sink_lines(rotated))
    assert len(ids) == len(set(ids))
    # Renamed away without a signal: noticed at the next batch all the same.
    rotated2 = log.parent / (log.name + ".2")
    os.rename(log, rotated2)
    add(a.sa, a.lic, name="After Quiet Rotation")
    poll(lambda: any(e["action"] == "subscription.added" for e in sink_lines(log)), timeout=15,
         what="a new file after a rotation without a signal")
    ids = wait_logged([rotated, rotated2, log], srv)
    assert len(ids) == len(set(ids))


def test_the_audit_log_follows_writes_on_many_agreements_exactly_once(logged, tmp_path_factory):
    srv, log = logged()
    other = twin_of(srv, tmp_path_factory) if PG_MODE else srv
    try:
        ags = []
        for _ in range(3):
            a = agreement(srv, {"enterprise": 500})
            with_defaults(a)
            ags.append(a)
        write_storm(srv, other, ags, singles=10, bulk=80)
        ids = wait_logged(log, srv)
    finally:
        if other is not srv:
            retire(other)
    assert len(ids) == len(set(ids)), "an entry was written twice"
    assert sorted(ids) == sorted(audit_ids(srv))


@pytest.mark.pg_only
def test_two_instances_on_one_audit_log_write_it_once(logged, tmp_path_factory):
    srv, log = logged()
    second = twin_of(srv, tmp_path_factory, extra_args=["--audit-log", str(log)])
    try:
        a = agreement(srv, {"enterprise": 20})
        add(on(a.sa, second), a.lic, name="Through The Second")
        ids = wait_logged(log, srv)
        time.sleep(1.5)   # both sinks' polls have passed: a second writer would have written by now
        ids = [e["id"] for e in sink_lines(log)]
        assert len(ids) == len(set(ids)), "written by both"
        assert "audit log held by another process" in second.log_path.read_text()
        # The first stopped, the second carries on from the cursor.
        assert srv.stop() == 0
        add(on(a.sa, second), a.lic, name="After The First Stopped")
        ids = wait_logged(log, second, what="the second instance to take over")
        assert len(ids) == len(set(ids)) and ids == audit_ids(second)
        assert "audit log taken over" in second.log_path.read_text()
    finally:
        retire(second)


@pytest.mark.pg_only
def test_the_audit_log_waits_for_an_earlier_id_committing_later(logged):
    srv, log = logged()
    a = agreement(srv, {"enterprise": 10})
    wait_logged(log, srv)
    con, slow_id = slow_writer(srv, a.id)
    try:
        add(a.sa, a.lic, name="Quick Writer")
        time.sleep(1.5)   # several of the sink's polls while the slow transaction is open
        con.commit()
    finally:
        con.close()
    ids = wait_logged(log, srv, what="the slow and the quick entries")
    assert slow_id in ids and len(ids) == len(set(ids))
    assert ids == audit_ids(srv)


def last_cursor(server):
    """The cursor of the trail's last entry, as the server writes it."""
    tx, i = db_query(server, "SELECT tx, id FROM audit_events ORDER BY tx DESC, id DESC LIMIT 1")[0]
    return f"{tx:016x}{i:016x}"


def test_the_syslog_audit_log_keeps_its_place_in_the_data_directory(logged):
    srv, _ = logged(log="syslog")
    a = agreement(srv, {"enterprise": 10})
    add(a.sa, a.lic, name="Sent To Syslog")
    cursor = srv.data / "audit-log.syslog.cursor"
    poll(lambda: cursor.exists() and cursor.read_text().strip() == last_cursor(srv), timeout=15,
         what="the syslog cursor to reach the trail's end")


def test_an_unreadable_cursor_stops_the_audit_log_rather_than_guess(tmp_path_factory, logged):
    d = tmp_path_factory.mktemp("alog-bad") / "data"
    log = d.parent / "audit.jsonl"
    (d.parent / "audit.jsonl.cursor").write_text("not a cursor\n")
    srv, _ = logged(log=log, data=d)
    agreement(srv, {"enterprise": 10})
    poll(lambda: "audit log cursor unreadable" in srv.log_path.read_text(), timeout=10, what="the refusal logged")
    time.sleep(1)
    assert sink_lines(log) == [], "nothing written from a place it cannot read"
