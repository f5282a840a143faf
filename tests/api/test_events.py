"""Integration events: every write an integrator follows leaves exactly one typed event in
`events`, in its own transaction, with a documented data object (docs/webhooks.md, "Event
types"); a refused or failed write leaves none. Read through the database, on SQLite and
PostgreSQL alike."""
import datetime
import json
import time
from types import SimpleNamespace

from support.accounts import addr, partner_user, uniq, verified_user
from support.agreements import ORDERS, REGISTRATIONS, add_admin, agreement, reg_body, url
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


# --------------------------------------------------------------------------------------
# Admins


def test_admins_added_when_granted_or_when_an_invitation_is_accepted_and_removed(server):
    ag = agreement(server, {"enterprise": 2})
    # The customer became super admin by signing up: that is an admin added.
    got = [d for t, d in events(server, ag) if t == "admin.added"]
    assert got == [{"agreement": ag.lic, "admin": {"email": ag.customer_email.lower(), "name": "Camille Martin",
                                                    "role": "super_admin"}}], got
    known = verified_user(server, addr("known"), name="Kim Known")
    mark = last_id(server)
    assert add_admin(ag.sa, ag.lic, known.email, name="Whatever Typed").status == 201
    assert events(server, ag, mark) == [("admin.added", {"agreement": ag.lic, "admin": {
        "email": known.email.lower(), "name": "Kim Known", "role": "admin"}})]
    # An invitation is no admin yet; accepting it (signing up) is.
    newcomer = addr("newcomer")
    mark = last_id(server)
    assert add_admin(ag.sa, ag.lic, newcomer, name="Noa New", role="partner_manager").status == 201
    assert events(server, ag, mark) == []
    verified_user(server, newcomer, name="Noa New")
    assert events(server, ag, mark) == [("admin.added", {"agreement": ag.lic, "admin": {
        "email": newcomer.lower(), "name": "Noa New", "role": "partner_manager"}})]
    mark = last_id(server)
    assert ag.sa.delete(url(ag.lic, f"/admins/{known.user['id']}")).status in (200, 204)
    assert events(server, ag, mark) == [("admin.removed", {"agreement": ag.lic, "admin": {
        "email": known.email.lower(), "name": "Kim Known", "role": "admin"}})]
    # Refused: the last super admin stays, and nothing is announced.
    mark = last_id(server)
    assert_problem(ag.sa.delete(url(ag.lic, f"/admins/{ag.sa.user['id']}")), 409)
    assert_problem(add_admin(ag.sa, ag.lic, ag.sa.email, expect=None), 409)
    assert events(server, ag, mark) == []


# --------------------------------------------------------------------------------------
# Partner access


def rel_event(ag, rid, org_id, org_name, caps, ends_on, status):
    return {"id": rid, "organization": {"id": org_id, "name": org_name}, "capabilities": caps,
            "ends_on": ends_on, "status": status}


def org_of(server, rid):
    return db_query(server, "SELECT o.id, o.name FROM partner_relationships r JOIN organizations o"
                            " ON o.id = r.partner_org_id WHERE r.id = ?", (rid,))[0]


def customer(server):
    """An ordered agreement (the seller's access granted with it) whose customer signed up,
    with its authorization number, for another partner's registration."""
    seller = partner_user(server)
    cust = addr("cust", "contoso.example")
    r = seller.post(ORDERS, {"customer_name": "Contoso " + uniq("co"), "customer_email": cust,
                             "customer_country": "FR", "lines": [{"level": "enterprise", "quantity": 5}]})
    assert r.status == 201, r
    g = r.body["agreement"]
    ag = SimpleNamespace(lic=g["license_number"], authno=g["authorization_number"], customer_email=cust)
    ag.id = db_query(server, "SELECT id FROM agreements WHERE license_number = ?", (ag.lic,))[0][0]
    server.wait_for_mail(cust, subject_contains=ag.lic)
    ag.sa = verified_user(server, cust, name="Camille Martin")
    return ag


def test_partner_access_requested_granted_amended_removed(server):
    ag = customer(server)
    # The seller's access from the order is granted with the agreement.
    seller_rid = db_query(server, "SELECT id FROM partner_relationships WHERE agreement_id = ?", (ag.id,))[0][0]
    granted = [(t, d) for t, d in events(server, ag) if t.startswith("partner.")]
    assert [t for t, _ in granted] == ["partner.access_granted"], granted
    assert granted[0][1]["relationship"]["id"] == seller_rid and granted[0][1]["relationship"]["status"] == "active"
    assert ag.sa.put(url(ag.lic, "/preferences"), {"partner_approval": True}).status == 200
    p = partner_user(server)
    mark = last_id(server)
    r = p.post(REGISTRATIONS, reg_body(ag))
    assert r.status == 202, r
    rid, req_id = r.body["relationship_id"], r.body["request_id"]
    org_id, org_name = org_of(server, rid)
    got = events(server, ag, mark)
    assert len(got) == 1 and got[0][0] == "partner.access_requested", got
    asked = got[0][1]["relationship"]
    assert asked["id"] == rid and asked["status"] == "pending" and asked["organization"] == {"id": org_id,
                                                                                             "name": org_name}
    assert db_query(server, "SELECT relationship_id FROM events WHERE agreement_id = ? AND id > ?",
                    (ag.id, mark)) == [(rid,)]
    mark = last_id(server)
    r = ag.sa.post(url(ag.lic, f"/partner-requests/{req_id}/approve"), {"capabilities": ["read", "assign"]})
    assert r.status == 200, r
    assert events(server, ag, mark) == [("partner.access_granted", {"agreement": ag.lic, "relationship": rel_event(
        ag, rid, org_id, org_name, ["read", "assign"], r.body["ends_on"], "active")})]
    mark = last_id(server)
    before_end = r.body["ends_on"]
    r = ag.sa.patch(url(ag.lic, f"/partners/{rid}"), {"capabilities": ["read"]})
    assert r.status == 200, r
    assert events(server, ag, mark) == [("partner.access_amended", {
        "agreement": ag.lic,
        "relationship": rel_event(ag, rid, org_id, org_name, ["read"], before_end, "active"),
        "changes": {"capabilities": {"before": ["read", "assign"], "after": ["read"]}}})]
    # Only the renewal setting: nothing the event shows changed, no event.
    mark = last_id(server)
    assert ag.sa.patch(url(ag.lic, f"/partners/{rid}"), {"auto_renew": True}).status == 200
    assert ag.sa.patch(url(ag.lic, f"/partners/{rid}"), {}).status == 200
    assert events(server, ag, mark) == []
    assert ag.sa.delete(url(ag.lic, f"/partners/{rid}")).status in (200, 204)
    assert events(server, ag, mark) == [("partner.access_removed", {"agreement": ag.lic, "relationship": rel_event(
        ag, rid, org_id, org_name, ["read"], before_end, "removed")})]
    # Removing it again is refused: no second event.
    mark = last_id(server)
    assert ag.sa.delete(url(ag.lic, f"/partners/{rid}")).status == 409
    assert events(server, ag, mark) == []


def test_partner_access_ended_by_the_daily_pass(server):
    ag = agreement(server, {"enterprise": 2})
    rid = db_query(server, "SELECT id FROM partner_relationships WHERE agreement_id = ?", (ag.id,))[0][0]
    org_id, org_name = org_of(server, rid)
    now = int(time.time())
    ends = now - now % 86400 - 3600            # yesterday 23:00 UTC: the last day was yesterday
    db_write(server, "UPDATE partner_relationships SET ends_at = ? WHERE id = ?", (ends, rid))
    mark = last_id(server)
    server.cli("lifecycle")
    server.cli("lifecycle")
    last = datetime.datetime.fromtimestamp(ends - 1, datetime.timezone.utc).date().isoformat()
    got = [(t, d) for t, d in events(server, ag, mark) if t.startswith("partner.")]
    assert got == [("partner.access_ended", {"agreement": ag.lic, "relationship": rel_event(
        ag, rid, org_id, org_name, ["read", "assign", "bulk", "usage", "activity"], last, "ended")})], got


# --------------------------------------------------------------------------------------
# The agreement's end


def test_agreement_expiring_with_each_reminder_and_expired_once(server):
    ag = agreement(server, {"enterprise": 2})
    today = datetime.datetime.now(datetime.timezone.utc).date()
    end = (today + datetime.timedelta(days=30)).isoformat()
    db_write(server, "UPDATE agreements SET end_date = ? WHERE id = ?", (end, ag.id))
    mark = last_id(server)
    server.cli("lifecycle")
    server.cli("lifecycle")
    got = [(t, d) for t, d in events(server, ag, mark) if t.startswith("agreement.")]
    assert got == [("agreement.expiring", {"agreement": ag.lic, "end_date": end, "days": 30})], got
    # The end passes: expired, once however many passes run.
    end = (today - datetime.timedelta(days=1)).isoformat()
    db_write(server, "UPDATE agreements SET end_date = ? WHERE id = ?", (end, ag.id))
    mark = last_id(server)
    server.cli("lifecycle")
    server.cli("lifecycle")
    got = [(t, d) for t, d in events(server, ag, mark) if t.startswith("agreement.")]
    assert got == [("agreement.expired", {"agreement": ag.lic, "end_date": end})], got
