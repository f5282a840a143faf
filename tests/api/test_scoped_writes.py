"""Writes scoped to an agreement, through two instances on one database.

On PostgreSQL a write transaction that names its agreement holds that agreement alone and
shares the rest of the store (src/store/pg.c): writes on two agreements run at the same
time, writes on one agreement one after the other. Here two `openseat serve` processes share
the module's database (on SQLite, where one writer is the rule, the module's one server
plays both parts) and the rules that the single write lock used to protect are raced again:

  * two bulk adds on two agreements both succeed, and their write transactions were open at
    the same instant (seen in PostgreSQL's own lock table, not inferred from durations);
  * two bulk adds on one agreement both succeed, one after the other, and the pool holds;
  * more single adds than seats: the pool is never exceeded, one alert per crossing;
  * two super admins removing each other: one of them stays.
"""
import threading

import pytest

from support.accounts import addr, verified_user
from support.agreements import add_admin, agreement, url
from support.checks import assert_problem
from support.client import on_server as on
from support.concurrency import clones, parallel
from support.db import PG_MODE, db_query
from support.files import finished, people, start, with_defaults
from support.server import twin_server
from support.subscriptions import alerts, overview, pool_rows, sub_body, sub_count, subs

# The first half of an agreement's advisory lock key (AGREEMENT_LOCK_NS in src/store/pg.c).
AGREEMENT_LOCK_NS = 1869837153


@pytest.fixture(scope="module")
def twin(server, tmp_path_factory):
    """A second instance on the module server's database (PostgreSQL), or the server itself."""
    yield from twin_server(server, tmp_path_factory)




def agreement_locks_held(server):
    """The agreements whose write lock is granted right now (PostgreSQL's pg_locks)."""
    rows = db_query(server, "SELECT objid FROM pg_locks WHERE locktype = 'advisory' AND objsubid = 2"
                            f" AND classid = {AGREEMENT_LOCK_NS} AND granted")
    return {int(r[0]) for r in rows}


class LockWatch:
    """Samples pg_locks on a thread until stopped: every set of agreements seen holding their
    write lock at one instant."""

    def __init__(self, server):
        self.server = server
        self.seen = []
        self.stop = threading.Event()
        self.t = threading.Thread(target=self.run, daemon=True)

    def run(self):
        while not self.stop.is_set():
            held = agreement_locks_held(self.server)
            if held:
                self.seen.append(held)
            self.stop.wait(0.005)

    def __enter__(self):
        self.t.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        self.t.join(timeout=10)


@pytest.mark.pg_only
def test_bulk_adds_on_two_agreements_through_two_instances_overlap(server, twin):
    rows = 20000
    a = with_defaults(agreement(server, {"enterprise": rows}))
    b = with_defaults(agreement(server, {"enterprise": rows}))
    files = [people(a, rows), people(b, rows)]
    a.sa.refresh_csrf()
    b.sa.refresh_csrf()
    clients = [a.sa, on(b.sa, twin)]
    with LockWatch(server) as watch:
        job_ids = parallel(2, lambda i: start(clients[i], [a, b][i].lic, files[i], send_email="false")["id"])
        done = [finished(clients[i], [a, b][i].lic, job_ids[i], timeout=180) for i in range(2)]
    for d in done:
        assert d["state"] == "done" and d["status"] == 201 and d["result"]["added"] == rows, d
    assert sub_count(server, a) == sub_count(server, b) == rows
    assert pool_rows(server, a) == pool_rows(server, b) == {"enterprise": rows}
    # Both write transactions were open at one instant: each held its agreement's lock while
    # the other held its own.
    both = {a.id, b.id}
    assert any(both <= held for held in watch.seen), \
        f"never saw both agreements' writes at once; samples: {watch.seen[:3]} … ({len(watch.seen)})"


def test_bulk_adds_on_one_agreement_through_two_instances_both_apply(server, twin):
    rows = 3000
    ag = with_defaults(agreement(server, {"enterprise": 2 * rows}))
    files = [people(ag, rows), people(ag, rows, start_at=rows)]
    ag.sa.refresh_csrf()
    clients = [ag.sa, on(ag.sa, twin)]
    watch_ctx = LockWatch(server) if PG_MODE else None
    if watch_ctx:
        watch_ctx.__enter__()
    try:
        job_ids = parallel(2, lambda i: start(clients[i], ag.lic, files[i], send_email="false")["id"])
        done = [finished(clients[i], ag.lic, job_ids[i], timeout=120) for i in range(2)]
    finally:
        if watch_ctx:
            watch_ctx.__exit__(None, None, None)
    for d in done:
        assert d["state"] == "done" and d["status"] == 201 and d["result"]["added"] == rows, d
    assert sub_count(server, ag) == 2 * rows
    assert overview(ag.sa, ag.lic)["enterprise"] == (2 * rows, 2 * rows, 0)
    assert pool_rows(server, ag) == {"enterprise": 2 * rows}


def test_bulk_adds_on_one_agreement_more_than_its_seats_one_is_refused(server, twin):
    rows = 1500
    ag = with_defaults(agreement(server, {"enterprise": rows + 10}))
    files = [people(ag, rows), people(ag, rows, start_at=rows)]
    ag.sa.refresh_csrf()
    clients = [ag.sa, on(ag.sa, twin)]
    job_ids = parallel(2, lambda i: start(clients[i], ag.lic, files[i], send_email="false")["id"])
    done = [finished(clients[i], ag.lic, job_ids[i], timeout=120) for i in range(2)]
    assert sorted(d["status"] for d in done) == [201, 422], done
    assert sub_count(server, ag) == rows
    assert pool_rows(server, ag) == {"enterprise": rows}


def test_adds_racing_through_two_instances_never_overfill_and_alert_once(server, twin):
    # Several agreements at once, each raced from both instances: a seat count or an alert
    # decided on a value read outside the agreement's lock shows up as an overfull pool, or
    # 0 or 2 alerts, in some of them.
    ags = [agreement(server, {"enterprise": 10}) for _ in range(3)]
    calls = []
    for k, ag in enumerate(ags):
        ag.sa.refresh_csrf()
        for i, c in enumerate(clones(ag.sa, 12)):
            calls.append((on(c, twin) if i % 2 else c, ag, f"two{k}-{i}"))
    results = parallel(len(calls), lambda i: calls[i][0].post(subs(calls[i][1].lic),
                                                              sub_body(sign_in_email=addr(calls[i][2]))))
    for ag in ags:
        mine = [r.status for r, call in zip(results, calls) if call[1] is ag]
        assert sorted(mine) == [201] * 10 + [422] * 2, mine
        assert overview(ag.sa, ag.lic)["enterprise"] == (10, 10, 0)
        assert pool_rows(server, ag) == {"enterprise": 10}
        assert alerts(server, ag) == 1, f"{alerts(server, ag)} pool alerts for one crossing"


def test_two_super_admins_removing_each_other_through_two_instances_one_stays(server, twin):
    # Each removes the other at once. The one whose removal commits first stays; the other is
    # refused inside its transaction (409 last_super_admin) or, when the first committed
    # before its request was authorized, no longer has a role there (404).
    for rnd in range(4):
        ag = agreement(server, {"enterprise": 2})
        second = verified_user(server, addr(f"second{rnd}"))
        add_admin(ag.sa, ag.lic, second.email, super_admin=True)
        ag.sa.refresh_csrf()
        second.refresh_csrf()
        pair = [(ag.sa, second), (on(second, twin), ag.sa)]
        results = parallel(2, lambda i: pair[i][0].delete(url(ag.lic, f"/admins/{pair[i][1].user['id']}")))
        codes = sorted(r.status for r in results)
        assert codes in ([204, 404], [204, 409]), [(r.status, r.body) for r in results]
        if codes[1] == 409:
            assert_problem(next(r for r in results if r.status == 409), 409, "last_super_admin")
        supers = db_query(server, "SELECT COUNT(*) FROM admin_roles WHERE agreement_id = ? AND role = 'super_admin'",
                          (ag.id,))[0][0]
        assert supers == 1
