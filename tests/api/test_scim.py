"""SCIM 2.0 provisioning of an agreement (docs/scim.md): the discovery endpoints; users
created, filtered, replaced, patched and deleted; groups patched in the shapes Entra ID and
Okta send; a sequence replayed changes nothing; groups mapped to seats (nested groups, two
groups of one level, deactivation, a full pool refused with a SCIM error); a token of another
agreement, or without `provisioning`, refused."""
import pytest

from support.agreements import agreement, url
from support.db import db_query
from support.scim import ERROR, SCIM_CT, new_group, new_user, patch, provider, user_body
from support.tokens import bearer, make_token

pytestmark = pytest.mark.usefixtures("server_alive")


@pytest.fixture(scope="module")
def ag(server):
    return agreement(server, {"enterprise": 3, "professional": 10})


@pytest.fixture(scope="module")
def idp(server, ag):
    return provider(server, ag)


def seats(server, ag, email):
    return sorted(row[0] for row in db_query(
        server, "SELECT l.code FROM subscriptions s JOIN levels l ON l.id = s.level_id"
                " WHERE s.agreement_id = ? AND s.sign_in_email = ?", (ag.id, email)))


def map_group(ag, group_id, level, expect=200):
    r = ag.sa.put(url(ag.lic, "/provisioning/mappings"),
                  {"group": group_id, "level": level, "language": "en", "country": "FR", "downloads": True})
    assert r.status == expect, r
    return r.body


# --------------------------------------------------------------------------------------
# Discovery


def test_discovery_endpoints(idp):
    r = idp.get("/ServiceProviderConfig")
    assert r.status == 200 and r.body["patch"]["supported"] is True, r
    assert r.headers["Content-Type"].startswith(SCIM_CT)
    r = idp.get("/ResourceTypes")
    assert r.status == 200 and {x["name"] for x in r.body["Resources"]} == {"User", "Group"}, r
    r = idp.get("/Schemas")
    assert r.status == 200 and len(r.body["Resources"]) == 2, r


# --------------------------------------------------------------------------------------
# Users


def test_users_create_get_filter_replace_patch_delete(idp):
    u = new_user(idp, externalId="ext-1")
    name = u["userName"]
    assert u["id"] and u["meta"]["resourceType"] == "User" and u["active"] is True, u
    assert idp.get(f"/Users/{u['id']}").body["userName"] == name
    # Filters: userName (in any case), externalId, the work e-mail.
    for flt in (f'userName eq "{name.upper()}"', 'externalId eq "ext-1"',
                f'emails[type eq "work"].value eq "{name}"'):
        r = idp.get("/Users?filter=" + quote(flt))
        assert r.status == 200 and r.body["totalResults"] == 1 and r.body["Resources"][0]["id"] == u["id"], (flt, r)
    r = idp.get("/Users?filter=" + quote('title eq "x"'))
    assert r.status == 400 and r.body["schemas"] == [ERROR] and r.body["scimType"] == "invalidFilter", r
    # The same userName again: uniqueness.
    r = idp.post("/Users", user_body(name))
    assert r.status == 409 and r.body["scimType"] == "uniqueness" and r.body["status"] == "409", r
    # Replace.
    r = idp.put(f"/Users/{u['id']}", user_body(name, displayName="Ada L."))
    assert r.status == 200 and r.body["displayName"] == "Ada L.", r
    # Entra's PATCH: capitalised op, replace without a path, "False" as a string.
    r = patch(idp, f"/Users/{u['id']}", {"op": "Replace", "value": {"active": "False"}},
              {"op": "replace", "path": "name.givenName", "value": "Augusta"})
    assert r.status == 200 and r.body["active"] is False and r.body["name"]["givenName"] == "Augusta", r
    assert r.body["name"]["familyName"] == "Lovelace", r
    r = idp.delete(f"/Users/{u['id']}")
    assert r.status == 204, r
    r = idp.get(f"/Users/{u['id']}")
    assert r.status == 404 and r.body["schemas"] == [ERROR], r


def test_users_paging(idp):
    made = [new_user(idp)["id"] for _ in range(3)]
    r = idp.get("/Users?startIndex=1&count=2")
    assert r.status == 200 and r.body["itemsPerPage"] == 2 and r.body["totalResults"] >= 3, r
    r2 = idp.get(f"/Users?startIndex={r.body['totalResults']}&count=10")
    assert r2.body["itemsPerPage"] == 1 and r2.body["Resources"][0]["id"] == made[-1], r2


def quote(s):
    from urllib.parse import quote as q
    return q(s, safe="")


# --------------------------------------------------------------------------------------
# Groups: the PATCH forms Entra ID and Okta send


def members_of(idp, gid):
    return sorted(m["value"] for m in idp.get(f"/Groups/{gid}").body.get("members", []))


def test_group_patch_entra_and_okta_forms(idp):
    a, b, c = (new_user(idp)["id"] for _ in range(3))
    g = new_group(idp, "Engineering " + a[:8])
    gid = g["id"]
    # Entra: Add with a list of values, op capitalised.
    r = patch(idp, f"/Groups/{gid}", {"op": "Add", "path": "members", "value": [{"value": a}, {"value": b}]})
    assert r.status == 200, r
    assert members_of(idp, gid) == sorted([a, b])
    # Entra: Remove with values.
    r = patch(idp, f"/Groups/{gid}", {"op": "Remove", "path": "members", "value": [{"value": a}]})
    assert r.status == 200 and members_of(idp, gid) == [b], r
    # Okta: remove by filter path.
    r = patch(idp, f"/Groups/{gid}", {"op": "remove", "path": f'members[value eq "{b}"]'})
    assert r.status == 200 and members_of(idp, gid) == [], r
    # Okta: replace without a path (name and members).
    r = patch(idp, f"/Groups/{gid}", {"op": "replace", "value": {"id": gid, "displayName": "Eng " + a[:8],
                                                                  "members": [{"value": c}]}})
    assert r.status == 200 and r.body["displayName"] == "Eng " + a[:8], r
    assert members_of(idp, gid) == [c]
    # Case-insensitive attribute names.
    r = patch(idp, f"/Groups/{gid}", {"op": "add", "path": "Members", "value": [{"Value": a}]})
    assert r.status == 200 and members_of(idp, gid) == sorted([a, c]), r
    # An unknown member: a SCIM 400.
    r = patch(idp, f"/Groups/{gid}", {"op": "add", "path": "members", "value": [{"value": "nope"}]})
    assert r.status == 400 and r.body["scimType"] == "invalidValue", r
    assert members_of(idp, gid) == sorted([a, c])
    r = idp.get(f"/Groups/{gid}?excludedAttributes=members")
    assert r.status == 200 and "members" not in r.body, r
    r = idp.get("/Groups?filter=" + quote(f'displayName eq "Eng {a[:8]}"'))
    assert r.body["totalResults"] == 1, r


def test_replaying_a_sequence_changes_nothing(server, ag, idp):
    u = new_user(idp)
    g = new_group(idp, "Replay " + u["id"][:8])
    seq = [{"op": "add", "path": "members", "value": [{"value": u["id"]}]},
           {"op": "replace", "path": "displayName", "value": "Replayed " + u["id"][:8]}]
    patch(idp, f"/Groups/{g['id']}", *seq)
    before = idp.get(f"/Groups/{g['id']}").body
    audits = db_query(server, "SELECT COUNT(*) FROM audit_events WHERE agreement_id = ?", (ag.id,))[0][0]
    r = patch(idp, f"/Groups/{g['id']}", *seq)
    assert r.status == 200, r
    after = idp.get(f"/Groups/{g['id']}").body
    assert after == before
    assert db_query(server, "SELECT COUNT(*) FROM audit_events WHERE agreement_id = ?", (ag.id,))[0][0] == audits


# --------------------------------------------------------------------------------------
# Groups → seats


def test_nested_groups_and_two_groups_one_seat(server, ag, idp):
    u = new_user(idp)
    email = u["userName"]
    inner = new_group(idp, "Inner " + u["id"][:8], [u["id"]])
    outer = new_group(idp, "Outer " + u["id"][:8], [inner["id"]])
    other = new_group(idp, "Other " + u["id"][:8], [u["id"]])
    assert seats(server, ag, email) == []
    tag = ag.sa.get(url(ag.lic, "/subscriptions?limit=5")).headers["ETag"]
    map_group(ag, outer["id"], "professional")
    assert seats(server, ag, email) == ["professional"]
    # A provisioned seat is a subscription like any other: the list's tag moves.
    assert ag.sa.get(url(ag.lic, "/subscriptions?limit=5"), headers={"If-None-Match": tag}).status == 200
    map_group(ag, other["id"], "professional")
    assert seats(server, ag, email) == ["professional"]        # two groups of one level: one seat
    # Out of the inner group: still in `other`.
    patch(idp, f"/Groups/{inner['id']}", {"op": "remove", "path": f'members[value eq "{u["id"]}"]'})
    assert seats(server, ag, email) == ["professional"]
    patch(idp, f"/Groups/{other['id']}", {"op": "Remove", "path": "members", "value": [{"value": u["id"]}]})
    assert seats(server, ag, email) == []
    # Back, then deactivated; then deleted.
    patch(idp, f"/Groups/{inner['id']}", {"op": "add", "path": "members", "value": [{"value": u["id"]}]})
    assert seats(server, ag, email) == ["professional"]
    patch(idp, f"/Users/{u['id']}", {"op": "Replace", "path": "active", "value": "False"})
    assert seats(server, ag, email) == []
    patch(idp, f"/Users/{u['id']}", {"op": "Replace", "path": "active", "value": True})
    assert seats(server, ag, email) == ["professional"]
    assert idp.delete(f"/Users/{u['id']}").status == 204
    assert seats(server, ag, email) == []


def test_a_full_pool_is_a_scim_conflict_and_nothing_is_written(server, idp):
    small = agreement(server, {"enterprise": 1})
    p = provider(server, small)
    g = p.post("/Groups", {"displayName": "Seats"}).body
    map_group(small, g["id"], "enterprise")
    u1, u2 = new_user(p), new_user(p)
    r = patch(p, f"/Groups/{g['id']}", {"op": "add", "path": "members", "value": [{"value": u1["id"]}]})
    assert r.status == 200 and seats(server, small, u1["userName"]) == ["enterprise"], r
    r = patch(p, f"/Groups/{g['id']}", {"op": "add", "path": "members", "value": [{"value": u2["id"]}]})
    assert r.status == 409 and r.body["schemas"] == [ERROR] and r.body["scimType"] == "tooMany", r
    assert "enterprise" in r.body["detail"] and "seats left" in r.body["detail"], r
    assert members_of(p, g["id"]) == [u1["id"]]


# --------------------------------------------------------------------------------------
# Who may call


def test_another_agreements_token_and_a_token_without_provisioning(server, ag, idp):
    other = agreement(server, {"professional": 1})
    theirs = provider(server, other)
    r = theirs.c.get(url(ag.lic, "/scim/v2/Users"))
    assert r.status in (401, 404) and r.body["schemas"] == [ERROR], r
    t = make_token(ag.sa, agreement=ag.lic, capabilities=["read", "assign", "manage"])
    r = bearer(server, t["secret"]).get(url(ag.lic, "/scim/v2/Users"))
    assert r.status == 403 and r.body["code"] == "capability_provisioning_missing", r
    # A session never reaches SCIM.
    r = ag.sa.get(url(ag.lic, "/scim/v2/Users"))
    assert r.status == 403 and r.body["code"] == "capability_provisioning_missing", r
    # Provisioning is named to one agreement.
    r = ag.sa.post("/api/v1/tokens", {"name": "x", "capabilities": ["provisioning"]})
    assert r.status == 422, r
