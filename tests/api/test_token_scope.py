"""What an API token may do is its owner's standing narrowed by the token, decided on every
request: route by route of the route table, a token lacking the route's capability gets
403 capability_<name>_missing and one holding it passes (manage for the routes of super admins
and partner managers); a token named to one agreement reads any other as unknown (404). A
partner's token loses at once what its relationship loses, a removed admin's tokens stop
working, and an agreement's super admins see and revoke the tokens that can act on it — not
another agreement's."""
import pytest

from support.accounts import addr, verified_user
from support.agreements import add_admin, agreement, role_of, url
from support.checks import assert_problem
from support.files import with_defaults
from support.routes import agreement_routes
from support.subscriptions import add
from support.tokens import TOKENS, bearer, make_token
from support.capabilities import (NONE, PARTNER_CONTROL, PROVISIONING, SUPER, assert_allowed, assert_refused,
                                  assert_refused_unchanged,
                                  deletes_last, own_job, relationship_of, rule_of, send, set_caps, state, target)

pytestmark = pytest.mark.usefixtures("server_alive")

CAPS = ["read", "assign", "bulk", "usage", "activity", "manage"]
# The routes of super admins and partner managers a `manage` token reads (their writes are the
# other tests' business: here they would change what the matrix stands on).
MANAGE_READS = {"partners_list": 200, "admins_list": 200, "prefs_get": 200, "agreement_tokens": 200}


def token(client, caps, agreement_lic=None, name="scoped"):
    return make_token(client, name=name, capabilities=list(caps), agreement=agreement_lic)


@pytest.fixture(scope="module")
def world(server):
    ag = with_defaults(agreement(server, {"enterprise": 500}))
    ag.rel = relationship_of(server, ag)
    ag.sub = add(ag.sa, ag.lic).body["id"]
    ag.fresh_sub = lambda: add(ag.sa, ag.lic).body["id"]
    other = with_defaults(agreement(server, {"enterprise": 20}, seller=ag.seller))
    other.rel = relationship_of(server, other)
    other.sub = add(other.sa, other.lic).body["id"]
    return type("World", (), {"a": ag, "b": other})


@pytest.mark.parametrize("cap", CAPS)
def test_a_token_may_do_what_both_it_and_its_owner_hold(server, world, cap):
    ag = world.a
    job = own_job(ag.sa, ag)
    t = bearer(server, token(ag.sa, [cap], ag.lic)["secret"])
    for route in deletes_last(agreement_routes()):
        rule = rule_of(route)
        if rule in (PARTNER_CONTROL, SUPER) and cap == "manage" and route.name not in MANAGE_READS:
            continue
        path = target(route, ag, sub=ag.sub, job=job, fresh_sub=ag.fresh_sub, relationship=ag.rel,
                      admin=ag.sa.user["id"])
        before = state(server, ag)
        r = send(t, route, path)
        if rule == PROVISIONING:
            # Not one of these capabilities opens the SCIM routes (test_scim.py: provisioning does).
            b = assert_refused_unchanged(server, ag, r, route, 403, "capability_provisioning_missing", before)
            assert b["capability"] == "provisioning", b
        elif rule in (PARTNER_CONTROL, SUPER):
            if cap == "manage":
                assert r.status == MANAGE_READS[route.name], f"{route.name}: {r}"
            else:
                b = assert_refused_unchanged(server, ag, r, route, 403, "capability_manage_missing", before)
                assert b["capability"] == "manage", b
        elif rule == NONE or rule == cap:
            assert_allowed(r, route)
        else:
            b = assert_refused_unchanged(server, ag, r, route, 403, f"capability_{rule}_missing", before)
            assert b["capability"] == rule, b


def test_a_token_named_to_one_agreement_reads_another_as_unknown(server, world):
    ag, other = world.a, world.b
    # The seller holds a role on both; its token is named to A.
    t = bearer(server, token(ag.seller, ["read", "assign", "bulk", "usage", "activity"], ag.lic)["secret"])
    assert t.get(url(ag.lic, "/overview")).status == 200
    before = state(server, other)
    for route in deletes_last(agreement_routes()):
        r = send(t, route, target(route, other, sub=other.sub, job=999999999, fresh_sub=lambda: other.sub,
                                  relationship=other.rel, admin=other.sa.user["id"]))
        assert_refused(r, route, 404, "not_found")
    assert state(server, other) == before
    # A token for every agreement reaches both.
    t_all = bearer(server, token(ag.seller, ["read"])["secret"])
    assert t_all.get(url(ag.lic, "/overview")).status == 200
    assert t_all.get(url(other.lic, "/overview")).status == 200


def test_a_partners_token_loses_what_its_relationship_loses(server):
    ag = with_defaults(agreement(server, {"enterprise": 20}))
    rel = relationship_of(server, ag)
    t = bearer(server, token(ag.seller, ["read", "assign"], ag.lic)["secret"])
    assert t.get(url(ag.lic, "/subscriptions")).status == 200
    set_caps(server, rel, ["assign"])   # narrowed: read no longer there
    r = t.get(url(ag.lic, "/subscriptions"))
    assert_problem(r, 403, "capability_read_missing")
    set_caps(server, rel, ["read", "assign"])
    assert t.get(url(ag.lic, "/subscriptions")).status == 200
    # Removed by the customer: the agreement is unknown to the token at once.
    assert ag.sa.delete(url(ag.lic, f"/partners/{rel}")).status == 204
    assert_problem(t.get(url(ag.lic, "/subscriptions")), 404, "not_found")
    assert_problem(t.get(url(ag.lic)), 404, "not_found")


def test_a_removed_admins_token_stops_working(server):
    ag = with_defaults(agreement(server, {"enterprise": 20}))
    adm = verified_user(server, addr("tokadmin"))
    assert add_admin(ag.sa, ag.lic, adm.email, role="admin").status == 201
    assert role_of(adm, ag.lic) == "admin"
    t = bearer(server, token(adm, ["read"])["secret"])
    assert t.get(url(ag.lic, "/subscriptions")).status == 200
    assert ag.sa.delete(url(ag.lic, f"/admins/{adm.user['id']}")).status == 204
    assert_problem(t.get(url(ag.lic, "/subscriptions")), 404, "not_found")
    # The token itself is still valid: the owner simply has no role there any more.
    assert t.get("/api/v1/levels").status == 200


def test_super_admins_see_and_revoke_the_tokens_that_reach_their_agreement_only(server):
    a = with_defaults(agreement(server, {"enterprise": 20}))
    b = with_defaults(agreement(server, {"enterprise": 20}, seller=a.seller))
    named_a = token(a.seller, ["read"], a.lic, name="named to A")
    named_b = token(a.seller, ["read"], b.lic, name="named to B")
    every = token(a.seller, ["read"], name="every agreement")
    stranger = token(verified_user(server, addr("stranger")), ["read"], name="someone else's")
    r = a.sa.get(url(a.lic, "/tokens"))
    assert r.status == 200, r
    seen = {x["id"]: x for x in r.body["items"]}
    assert named_a["id"] in seen and every["id"] in seen, seen
    assert named_b["id"] not in seen and stranger["id"] not in seen, seen
    assert seen[named_a["id"]]["owner"]["email"] == a.seller.email, seen
    assert all("secret" not in x for x in r.body["items"])
    # B's super admin sees B's tokens, and cannot revoke A's.
    seen_b = {x["id"] for x in b.sa.get(url(b.lic, "/tokens")).body["items"]}
    assert named_b["id"] in seen_b and every["id"] in seen_b and named_a["id"] not in seen_b, seen_b
    assert_problem(b.sa.delete(url(b.lic, f"/tokens/{named_a['id']}")), 404, "not_found")
    assert_problem(a.sa.delete(url(a.lic, f"/tokens/{stranger['id']}")), 404, "not_found")
    # Others with a role on A: not theirs to see.
    assert_problem(a.seller.get(url(a.lic, "/tokens")), 403, "forbidden")
    # A's super admin revokes the token named to A: it stops working, and it is audited on A.
    assert a.sa.delete(url(a.lic, f"/tokens/{named_a['id']}")).status == 204
    assert_problem(bearer(server, named_a["secret"]).get(url(a.lic, "/overview")), 401, "token_invalid")
    assert named_a["id"] not in {x["id"] for x in a.sa.get(url(a.lic, "/tokens")).body["items"]}
    evs = a.sa.get(url(a.lic, "/activity?action=token.")).body["events"]
    assert [e["action"] for e in evs if e["target"] == str(named_a["id"])] == ["token.revoked", "token.created"], evs
    mine = [x for x in a.seller.get(TOKENS).body["items"] if x["id"] == named_a["id"]][0]
    assert mine["status"] == "revoked", mine
    # Another agreement's token, untouched.
    assert bearer(server, named_b["secret"]).get(url(b.lic, "/overview")).status == 200
