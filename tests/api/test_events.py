"""Integration events: every write an integrator follows leaves exactly one typed event in
`events`, in its own transaction, with a documented data object (docs/webhooks.md, "Event
types"); a refused or failed write leaves none. Read through the database, on SQLite and
PostgreSQL alike."""
import json

from support.accounts import addr
from support.agreements import agreement, url
from support.checks import assert_problem
from support.db import db_query, db_write
from support.subscriptions import add, subs


def events(server, ag, after=0):
    """[(type, data)] of the agreement's events with an id above `after`, oldest first."""
    rows = db_query(server, "SELECT id, type, data FROM events WHERE agreement_id = ? AND id > ? ORDER BY id",
                    (ag.id, after))
    return [(t, json.loads(d)) for _, t, d in rows]


def last_id(server):
    rows = db_query(server, "SELECT MAX(id) FROM events")
    return rows[0][0] or 0


def api_sub(ag, sid):
    r = ag.sa.get(subs(ag.lic, "/" + sid))
    assert r.status == 200, r
    return r.body


# --------------------------------------------------------------------------------------
# Subscriptions one at a time


def test_added_carries_the_subscription_as_the_api_shows_it(server):
    ag = agreement(server, {"enterprise": 5})
    mark = last_id(server)
    r = add(ag.sa, ag.lic, sign_in_email=addr("ev1"), reference="PO 12")
    assert events(server, ag, mark) == [("subscription.added",
                                         {"agreement": ag.lic, "subscription": api_sub(ag, r.body["id"])})]


def test_updated_names_exactly_the_fields_that_changed(server):
    ag = agreement(server, {"enterprise": 5})
    sid = add(ag.sa, ag.lic, sign_in_email=addr("ev2"), name="Ada", downloads=True).body["id"]
    before = api_sub(ag, sid)
    mark = last_id(server)
    r = ag.sa.patch(subs(ag.lic, "/" + sid), {"name": "Ada Lovelace", "downloads": False, "country": "FR",
                                               "notification_email": "ada@else.example"},
                    headers={"If-Match": '"1"'})
    assert r.status == 200, r
    after = api_sub(ag, sid)
    # country was FR already: not a change; version moves with every write and is no change either.
    assert events(server, ag, mark) == [("subscription.updated", {
        "agreement": ag.lic, "subscription": after,
        "changes": {"name": {"before": "Ada", "after": "Ada Lovelace"},
                    "notification_email": {"before": before["notification_email"], "after": "ada@else.example"},
                    "downloads": {"before": True, "after": False}}})]
    # An edit that changes nothing makes no event.
    mark = last_id(server)
    r = ag.sa.patch(subs(ag.lic, "/" + sid), {"name": "Ada Lovelace"}, headers={"If-Match": '"2"'})
    assert r.status == 200, r
    assert events(server, ag, mark) == []


def test_refused_edits_make_no_event(server):
    ag = agreement(server, {"enterprise": 5})
    sid = add(ag.sa, ag.lic, sign_in_email=addr("ev3")).body["id"]
    other = add(ag.sa, ag.lic, sign_in_email=addr("ev3b")).body
    mark = last_id(server)
    path = subs(ag.lic, "/" + sid)
    assert ag.sa.patch(path, {"name": "X"}, headers={"If-Match": '"7"'}).status == 412
    assert ag.sa.patch(path, {"sign_in_email": other["sign_in_email"]}, headers={"If-Match": '"1"'}).status == 422
    assert ag.sa.patch(path, {"level": "professional"}, headers={"If-Match": '"1"'}).status == 422
    add(ag.sa, ag.lic, expect=422, sign_in_email="not an address")
    add(ag.sa, ag.lic, expect=422, sign_in_email=other["sign_in_email"])            # duplicate
    assert events(server, ag, mark) == []


def test_removed_carries_each_subscription_as_it_was(server):
    ag = agreement(server, {"enterprise": 5})
    ids = [add(ag.sa, ag.lic, sign_in_email=addr(f"ev4{i}")).body["id"] for i in range(3)]
    was = {i: api_sub(ag, i) for i in ids}
    mark = last_id(server)
    r = ag.sa.delete(subs(ag.lic, "/" + ids[0]))
    assert r.status in (200, 204), r
    r = ag.sa.post(subs(ag.lic, "/remove"), {"ids": ids[1:]})
    assert r.status == 200, r
    assert events(server, ag, mark) == [("subscription.removed", {"agreement": ag.lic, "subscription": was[i]})
                                        for i in ids]
    # An unknown id refuses the whole selection: nothing removed, no event.
    keep = add(ag.sa, ag.lic, sign_in_email=addr("ev4k")).body["id"]
    mark = last_id(server)
    r = ag.sa.post(subs(ag.lic, "/remove"), {"ids": [keep, "00000000-0000-4000-8000-000000000000"]})
    assert r.status == 404, r
    assert events(server, ag, mark) == []


def test_resend_changes_nothing_and_makes_no_event(server):
    ag = agreement(server, {"enterprise": 5})
    sid = add(ag.sa, ag.lic, sign_in_email=addr("ev5")).body["id"]
    mark = last_id(server)
    r = ag.sa.post(subs(ag.lic, "/resend"), {"ids": [sid]})
    assert r.status in (200, 202, 204), r
    assert events(server, ag, mark) == []


def test_read_only_agreement_makes_no_event(server):
    ag = agreement(server, {"enterprise": 3})
    sid = add(ag.sa, ag.lic, sign_in_email=addr("ev6")).body["id"]
    db_write(server, "UPDATE agreements SET end_date = '2020-01-01' WHERE id = ?", (ag.id,))
    mark = last_id(server)
    assert_problem(add(ag.sa, ag.lic, expect=None), 403, "read_only")
    assert_problem(ag.sa.delete(url(ag.lic, f"/subscriptions/{sid}")), 403, "read_only")
    assert_problem(ag.sa.patch(url(ag.lic, f"/subscriptions/{sid}"), {"name": "X"}, headers={"If-Match": '"1"'}),
                   403, "read_only")
    assert events(server, ag, mark) == []
