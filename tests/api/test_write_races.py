"""What decides a write is read inside its transaction: concurrent requests that each read,
decide and write never act on what another one changed in between.

Each test races requests that decide on the same rows (a pool's seat count, a subscription's
version) and checks the outcome is what one-after-the-other would give."""

from support.accounts import addr
from support.agreements import agreement
from support.concurrency import clones, parallel
from support.subscriptions import alerts, overview, sub_body, subs


def test_concurrent_adds_filling_a_pool_send_exactly_one_alert(server):
    # Ten adds race for a pool of ten (alert at 90 %: the ninth seat crosses). Whatever order
    # they commit in, exactly one of them takes the pool across the threshold. Several
    # agreements: a read outside the transaction shows up as 0 or 2 alerts in some of them.
    rounds = 4
    for rnd in range(rounds):
        ag = agreement(server, {"enterprise": 10})
        ag.sa.refresh_csrf()
        cs = clones(ag.sa, 10)
        results = parallel(10, lambda i: cs[i].post(subs(ag.lic), sub_body(sign_in_email=addr(f"race{rnd}-{i}"))))
        assert sorted(r.status for r in results) == [201] * 10, [(r.status, r.body) for r in results]
        assert overview(ag.sa, ag.lic)["enterprise"] == (10, 10, 0)
        assert alerts(server, ag) == 1, f"round {rnd}: {alerts(server, ag)} pool alerts for one crossing"


def test_more_adds_than_seats_never_overfill(server):
    ag = agreement(server, {"enterprise": 5})
    ag.sa.refresh_csrf()
    cs = clones(ag.sa, 9)
    results = parallel(9, lambda i: cs[i].post(subs(ag.lic), sub_body(sign_in_email=addr(f"over{i}"))))
    codes = sorted(r.status for r in results)
    assert codes == [201] * 5 + [422] * 4, [(r.status, r.body) for r in results]
    for r in results:
        if r.status == 422:
            assert [e["code"] for e in r.body["errors"]] == ["no_seats_left"], r.body
    assert overview(ag.sa, ag.lic)["enterprise"] == (5, 5, 0)
    assert alerts(server, ag) == 1


def test_concurrent_edits_of_one_version_one_wins(server):
    # Every editor read version 1; only one write may be based on it, the others learn
    # that it changed (412) instead of overwriting it.
    ag = agreement(server, {"enterprise": 5})
    r = ag.sa.post(subs(ag.lic), sub_body(sign_in_email=addr("edited")))
    assert r.status == 201, r
    sid = r.body["id"]
    ag.sa.refresh_csrf()
    cs = clones(ag.sa, 8)
    results = parallel(8, lambda i: cs[i].patch(subs(ag.lic, f"/{sid}"), {"name": f"Name {i}"},
                                            headers={"If-Match": '"1"'}))
    codes = sorted(r.status for r in results)
    assert codes == [200] + [412] * 7, [(r.status, r.body) for r in results]
    winner = next(r for r in results if r.status == 200)
    r = ag.sa.get(subs(ag.lic, f"/{sid}"))
    assert r.body["name"] == winner.body["name"] and r.body["version"] == 2, r.body
