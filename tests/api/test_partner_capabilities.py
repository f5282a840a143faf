"""What a partner relationship's capabilities allow, route by route: the route table is
classified (every agreement route needs one capability, or is for partners' control, or for
super admins only), and each capability set is tried on every route as a partner, then as the
customer's admin and as a partner manager; another agreement's routes answer 404 whatever the
partner holds. A background job stops when its owner's relationship loses `bulk`, and goes on
when it loses something else. The activity log says which relationship a partner acted under
and filters by it."""
import json
import urllib.parse

import pytest

from support.accounts import addr, verified_user
from support.agreements import add_admin, agreement, role_of, url
from support.checks import assert_problem, field_errors
from support.db import db_count, db_query
from support.files import people, start, with_defaults
from support.jobs import busy_worker, ended, state_of
from support.capabilities import (ALL, EXPECTED, NONE, PARTNER_CONTROL, PROVISIONING, SUPER, assert_allowed,
                                  assert_refused, assert_refused_unchanged, deletes_last, own_job, relationship_of, rule_in_table,
                                  rule_of, send, set_caps, state, target)
from support.routes import agreement_routes, route_table
from support.subscriptions import add, sub_count, subs

pytestmark = pytest.mark.usefixtures("server_alive")

CAP_SETS = [("read",), ("read", "assign"), ("read", "bulk"), ("read", "usage"), ("read", "activity"), ALL]


@pytest.fixture(scope="module")
def world(server):
    """Agreement A (its seller's organization acting under relationship `rel`, a subscriber
    `sub`) and agreement B of another customer and seller."""
    ag = with_defaults(agreement(server, {"enterprise": 500}))
    ag.rel = relationship_of(server, ag)
    ag.sub = add(ag.sa, ag.lic).body["id"]
    other = with_defaults(agreement(server, {"enterprise": 20}))
    other.rel = relationship_of(server, other)
    other.sub = add(other.sa, other.lic).body["id"]
    other.job = own_job(other.sa, other)
    ag.fresh_sub = lambda: add(ag.sa, ag.lic).body["id"]
    return type("World", (), {"a": ag, "b": other})


# --------------------------------------------------------------------------------------
# The table


def test_every_agreement_route_is_classified_as_the_table_says():
    table = agreement_routes()
    unclassified = [f"{r.method} {r.path} ({r.name})" for r in table if rule_of(r) is None]
    assert not unclassified, f"agreement routes without an expected capability or rule: {unclassified}"
    disagree = [(r.name, rule_of(r), rule_in_table(r)) for r in table if rule_of(r) != rule_in_table(r)]
    assert not disagree, f"(route, expected, table): {disagree}"
    names = [r.name for r in table]
    assert len(names) == len(set(names)), f"two agreement routes share a name: {names}"
    gone = set(EXPECTED) - set(names)
    assert not gone, f"expected agreement routes the table no longer has: {gone}"


def test_no_route_outside_an_agreement_names_a_capability():
    stray = [r.name for r in route_table() if not r.access.startswith("ACCESS_AGREEMENT") and r.capability != "CAP_NONE"]
    assert not stray, stray


# --------------------------------------------------------------------------------------
# The matrix


@pytest.mark.parametrize("caps", CAP_SETS, ids=lambda c: "+".join(c) if c != ALL else "all")
def test_a_partner_may_do_exactly_what_its_capabilities_say(server, world, caps):
    ag, partner = world.a, world.a.seller
    set_caps(server, ag.rel, ALL)
    job = own_job(partner, ag)
    set_caps(server, ag.rel, caps)
    r = partner.get(url(ag.lic))
    assert r.status == 200 and r.body["role"] == "partner", r
    assert r.body["capabilities"] == [c for c in ALL if c in caps], r.body
    for route in deletes_last(agreement_routes()):
        rule = rule_of(route)
        path = target(route, ag, sub=ag.sub, job=job, fresh_sub=ag.fresh_sub, relationship=ag.rel,
                      admin=ag.sa.user["id"])
        before = state(server, ag)
        r = send(partner, route, path)
        if rule in (PARTNER_CONTROL, SUPER, PROVISIONING):
            assert_refused_unchanged(server, ag, r, route, 403, "forbidden", before)
        elif rule == NONE or rule in caps:
            assert_allowed(r, route)
        else:
            b = assert_refused_unchanged(server, ag, r, route, 403, f"capability_{rule}_missing", before)
            assert b["capability"] == rule, b
    set_caps(server, ag.rel, ALL)


def test_the_customers_admin_holds_every_capability_and_no_partner_control(server, world):
    ag = world.a
    adm = verified_user(server, addr("admin"))
    assert add_admin(ag.sa, ag.lic, adm.email, role="admin").status == 201
    assert role_of(adm, ag.lic) == "admin"
    r = adm.get(url(ag.lic))
    assert r.status == 200 and r.body["capabilities"] == list(ALL), r
    job = own_job(adm, ag)
    for route in deletes_last(agreement_routes()):
        rule = rule_of(route)
        path = target(route, ag, sub=ag.sub, job=job, fresh_sub=ag.fresh_sub, relationship=ag.rel,
                      admin=ag.sa.user["id"])
        before = state(server, ag)
        r = send(adm, route, path)
        if rule in (PARTNER_CONTROL, SUPER, PROVISIONING):
            assert_refused_unchanged(server, ag, r, route, 403, "forbidden", before)
        else:
            assert_allowed(r, route)


def test_a_partner_manager_controls_partners_and_holds_no_capability(server, world):
    ag = world.a
    invitee = addr("pm")
    r = add_admin(ag.sa, ag.lic, invitee, name="Paz Manager", role="partner_manager")
    assert [a["role"] for a in r.body["admins"] if a["email"] == invitee] == ["partner_manager"], r.body
    server.wait_for_mail(invitee, subject_contains=ag.lic)
    pm = verified_user(server, invitee)
    assert role_of(pm, ag.lic) == "partner_manager"
    r = pm.get(url(ag.lic))
    assert r.status == 200 and r.body["role"] == "partner_manager" and r.body["capabilities"] == [], r
    job = own_job(ag.seller, ag)
    for route in agreement_routes():
        rule = rule_of(route)
        if rule == PARTNER_CONTROL and route.method != "GET":
            continue        # allowed, and it would change what the other tests stand on
        path = target(route, ag, sub=ag.sub, job=job, fresh_sub=lambda: ag.sub, relationship=ag.rel,
                      admin=ag.sa.user["id"])
        before = state(server, ag)
        r = send(pm, route, path)
        if rule in (NONE, PARTNER_CONTROL):
            assert_allowed(r, route)
        elif rule in (SUPER, PROVISIONING):
            assert_refused_unchanged(server, ag, r, route, 403, "forbidden", before)
        else:
            b = assert_refused_unchanged(server, ag, r, route, 403, f"capability_{rule}_missing", before)
            assert b["capability"] == rule, b
    r = pm.get(url(ag.lic, "/partners"))
    assert ag.rel in [p["id"] for p in r.body["relationships"]], r.body


def test_every_capability_on_one_agreement_opens_nothing_of_another(server, world):
    ag, other = world.a, world.b
    set_caps(server, ag.rel, ALL)
    before = state(server, other)
    for route in deletes_last(agreement_routes()):
        r = send(ag.seller, route, target(route, other, sub=other.sub, job=other.job, fresh_sub=lambda: other.sub,
                                          relationship=other.rel, admin=other.sa.user["id"]))
        assert_refused(r, route, 404, "not_found")
    assert state(server, other) == before


# --------------------------------------------------------------------------------------
# Through a background job





def test_a_queued_job_stops_when_its_owner_loses_bulk_and_not_for_usage(server):
    ag = with_defaults(agreement(server, {"enterprise": 200}))
    rel = relationship_of(server, ag)
    _, blocker = busy_worker(server)
    stopped = start(ag.seller, ag.lic, people(ag, 40), send_email="false")
    assert state_of(server, stopped["id"]) == "queued", "the job must still wait for this test"
    since = db_query(server, "SELECT COALESCE(MAX(id), 0) FROM audit_events")[0][0]
    set_caps(server, rel, [c for c in ALL if c != "bulk"])
    state_, status, result, written = ended(server, stopped["id"])
    assert (state_, status, written) == ("failed", 403, 0), result
    result = json.loads(result)
    assert result["code"] == "capability_bulk_missing" and result["capability"] == "bulk", result
    assert sub_count(server, ag) == 0
    assert db_count(server, "audit_events", "agreement_id = ? AND action = 'subscription.added' AND id > ?",
                    (ag.id, since)) == 0
    rows = db_query(server, "SELECT target_id, details FROM audit_events WHERE agreement_id = ?"
                            " AND action = 'job.access_removed' AND id > ?", (ag.id, since))
    assert [t for t, _ in rows] == [stopped["id"]], rows
    assert json.loads(rows[0][1])["reason"] == "capability_bulk_missing", rows
    assert ended(server, blocker["id"])[0] == "done"

    # Losing another capability is no reason to stop one.
    set_caps(server, rel, ALL)
    _, blocker = busy_worker(server)
    goes_on = start(ag.seller, ag.lic, people(ag, 40), send_email="false")
    assert state_of(server, goes_on["id"]) == "queued", "the job must still wait for this test"
    set_caps(server, rel, [c for c in ALL if c != "usage"])
    state_, status, result, written = ended(server, goes_on["id"])
    assert (state_, written) == ("done", 40), result
    assert sub_count(server, ag) == 40
    assert ended(server, blocker["id"])[0] == "done"


# --------------------------------------------------------------------------------------
# The activity log by relationship


def activity(client, lic, **params):
    r = client.get(url(lic, "/activity") + ("?" + urllib.parse.urlencode(params) if params else ""))
    assert r.status == 200, r
    return r.body["events"]


def test_the_activity_log_names_the_relationship_a_partner_acted_under(server, world):
    ag, other = world.a, world.b
    set_caps(server, ag.rel, ALL)
    mine = add(ag.sa, ag.lic, name="Own Hire").body["id"]
    added = add(ag.seller, ag.lic, name="Partner Hire")
    theirs = added.body["id"]
    r = ag.seller.patch(subs(ag.lic, "/" + theirs), {"name": "Partner Hire Renamed"},
                        headers={"If-Match": added.headers.get("ETag")})
    assert r.status == 200, r

    by_target = {}
    for ev in activity(ag.sa, ag.lic, limit=100):
        by_target.setdefault((ev["action"], ev["target"]), ev)
    rel = {"id": ag.rel, "organization": ag.seller.org}
    assert by_target[("subscription.added", theirs)]["relationship"] == rel
    assert by_target[("subscription.updated", theirs)]["relationship"] == rel
    assert by_target[("subscription.added", mine)]["relationship"] is None

    only = activity(ag.sa, ag.lic, relationship=ag.rel, limit=100)
    assert only and all(ev["relationship"] == rel for ev in only), only
    assert {("subscription.added", theirs), ("subscription.updated", theirs)} <= {(e["action"], e["target"]) for e in only}
    assert ("subscription.added", mine) not in {(e["action"], e["target"]) for e in only}
    # The partner reads the same through its own access.
    assert [e["id"] for e in activity(ag.seller, ag.lic, relationship=ag.rel, limit=100)] == [e["id"] for e in only]

    # Another agreement's relationship has no event here; its own agreement has them.
    add(other.seller, other.lic)
    assert activity(ag.sa, ag.lic, relationship=other.rel) == []
    assert activity(other.sa, other.lic, relationship=other.rel)

    for bad in ("abc", "0", "-3", "1.5", "", "99999999999999999999999"):
        r = ag.sa.get(url(ag.lic, "/activity?relationship=" + urllib.parse.quote(bad)))
        assert r.status == 422, (bad, r)
        assert field_errors(r) == {"relationship": "invalid_value"}, (bad, r)
