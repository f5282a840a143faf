"""A group → seat rule previewed, then applied with its plan (docs/scim.md, "Changing a rule"):
the preview of setting, changing and removing a rule lists exactly who gains, loses, changes
level and is refused (nested groups, one person in two groups of a level, a full pool); a
preview writes nothing (seats, rules, audit, outbox, events); an apply with the plan succeeds
and says what it did; an apply after the members changed is refused 409 `plan_changed` and
writes nothing; another agreement's super admin, an ordinary admin and bad bodies are refused;
a group of 10 000 people is previewed with exact counts and a bounded list."""
import time

import pytest

from support.agreements import add_admin_in_db, agreement, url
from support.db import db_query
from support.scim import new_group, new_user, patch, provider, users_in_bulk

pytestmark = pytest.mark.usefixtures("server_alive")

RULE = {"language": "en", "country": "FR", "downloads": True}


def preview(ag, body, expect=200):
    r = ag.sa.post(url(ag.lic, "/provisioning/mappings/preview"), body)
    assert r.status == expect, r
    return r.body


def rule(group, level, **kw):
    return {"group": group, "level": level, **RULE, **kw}


def put(ag, body, expect=200):
    r = ag.sa.put(url(ag.lic, "/provisioning/mappings"), body)
    assert r.status == expect, r
    return r.body


def people(entries):
    return sorted((e["email"], e.get("level") or (e["from_level"], e["to_level"])) for e in entries)


def held(server, ag):
    return sorted(db_query(server, "SELECT s.sign_in_email, l.code FROM subscriptions s JOIN levels l"
                                   " ON l.id = s.level_id WHERE s.agreement_id = ?", (ag.id,)))


def written(server, ag):
    """Everything a rule change writes, counted."""
    q = [("SELECT COUNT(*) FROM subscriptions WHERE agreement_id = ?", (ag.id,)),
         ("SELECT COUNT(*) FROM scim_mappings WHERE agreement_id = ?", (ag.id,)),
         ("SELECT COUNT(*) FROM scim_seats s JOIN scim_users u ON u.id = s.scim_user_id"
          " WHERE u.agreement_id = ?", (ag.id,)),
         ("SELECT COUNT(*) FROM audit_events WHERE agreement_id = ?", (ag.id,)),
         ("SELECT COUNT(*) FROM events WHERE agreement_id = ?", (ag.id,)),
         ("SELECT COUNT(*) FROM outbox", ()),
         ("SELECT assigned FROM pools WHERE agreement_id = ? ORDER BY level_id", (ag.id,))]
    return [db_query(server, sql, p) for sql, p in q]


@pytest.fixture(scope="module")
def ag(server):
    return agreement(server, {"enterprise": 2, "professional": 10})


@pytest.fixture(scope="module")
def idp(server, ag):
    return provider(server, ag)


def test_set_change_and_remove_are_previewed_exactly_then_applied_with_their_plan(server, ag, idp):
    a, b, c = new_user(idp), new_user(idp), new_user(idp, active=False)
    inner = new_group(idp, "Inner " + a["id"][:8], [b["id"], c["id"]])
    team = new_group(idp, "Team " + a["id"][:8], [a["id"], inner["id"]])
    other = new_group(idp, "Other " + a["id"][:8], [a["id"]])
    # Setting: everyone active under the group, nested ones too, gains a seat; c is inactive.
    before = written(server, ag)
    p = preview(ag, rule(team["id"], "professional"))
    assert people(p["gains"]) == sorted([(a["userName"], "professional"), (b["userName"], "professional")])
    assert p["losses"] == p["changes"] == p["refused"] == []
    assert p["counts"] == {"gains": 2, "losses": 0, "changes": 0, "refused": 0}
    g = p["gains"][0]
    assert set(g) == {"scim_id", "email", "name", "level"} and g["name"] == "Ada Lovelace"
    assert {g["scim_id"] for g in p["gains"]} == {a["id"], b["id"]}
    assert len(p["plan"]) == 64
    assert written(server, ag) == before, "a preview writes nothing"
    # The same preview twice has the same plan; the apply with it does what was shown.
    assert preview(ag, rule(team["id"], "professional"))["plan"] == p["plan"]
    m = put(ag, {**rule(team["id"], "professional"), "plan": p["plan"]})
    assert m["applied"] == {"gains": 2, "losses": 0, "changes": 0, "refused": 0}, m
    assert held(server, ag) == sorted([(a["userName"], "professional"), (b["userName"], "professional")])
    # a is also in `other`: mapping it to the same level gives a nothing more.
    p2 = preview(ag, rule(other["id"], "professional"))
    assert p2["counts"] == {"gains": 0, "losses": 0, "changes": 0, "refused": 0}, p2
    om = put(ag, {**rule(other["id"], "professional"), "plan": p2["plan"]})
    # Changing team's level: a keeps professional through `other` and gains enterprise; b's
    # seat changes level.
    p3 = preview(ag, rule(team["id"], "enterprise"))
    assert people(p3["gains"]) == [(a["userName"], "enterprise")]
    assert people(p3["changes"]) == [(b["userName"], ("professional", "enterprise"))]
    assert p3["losses"] == [] and p3["refused"] == []
    # Language only: seats already held keep theirs, so nobody is listed.
    p4 = preview(ag, rule(team["id"], "professional", language="fr"))
    assert p4["counts"] == {"gains": 0, "losses": 0, "changes": 0, "refused": 0}, p4
    assert p4["plan"] != p2["plan"]
    put(ag, {**rule(team["id"], "enterprise"), "plan": p3["plan"]})
    assert held(server, ag) == sorted([(a["userName"], "enterprise"), (a["userName"], "professional"),
                                       (b["userName"], "enterprise")])
    # Removing team's rule: a and b lose enterprise; a keeps professional.
    before = written(server, ag)
    p5 = preview(ag, {"remove": m["id"]})
    assert people(p5["losses"]) == sorted([(a["userName"], "enterprise"), (b["userName"], "enterprise")])
    assert p5["gains"] == p5["changes"] == p5["refused"] == []
    assert written(server, ag) == before
    r = ag.sa.delete(url(ag.lic, f"/provisioning/mappings/{m['id']}?plan={p5['plan']}"))
    assert r.status == 200 and r.body["applied"]["losses"] == 2, r
    assert held(server, ag) == [(a["userName"], "professional")]
    # Without a plan the routes answer as they always did.
    assert ag.sa.delete(url(ag.lic, f"/provisioning/mappings/{om['id']}")).status == 204
    assert held(server, ag) == []


def test_a_full_pool_is_listed_as_refused_and_its_apply_refused(server):
    small = agreement(server, {"enterprise": 1})
    idp = provider(server, small)
    u1, u2 = new_user(idp), new_user(idp)
    g = new_group(idp, "Everyone", [u1["id"], u2["id"]])
    before = written(server, small)
    p = preview(small, rule(g["id"], "enterprise"))
    assert people(p["gains"]) == [(u1["userName"], "enterprise")]
    assert [(e["email"], e["level"], e["reason"]) for e in p["refused"]] == \
        [(u2["userName"], "enterprise", "no_seats_left")]
    assert p["counts"]["refused"] == 1
    assert written(server, small) == before
    # Applying it, plan or not, is refused whole, as a provider's change would be.
    r = small.sa.put(url(small.lic, "/provisioning/mappings"), {**rule(g["id"], "enterprise"), "plan": p["plan"]})
    assert r.status == 409 and r.body["code"] != "plan_changed" and "seats left" in r.body["detail"], r
    assert written(server, small) == before


def test_a_membership_change_after_the_preview_refuses_the_plan_and_writes_nothing(server, ag, idp):
    a, b = new_user(idp), new_user(idp)
    g = new_group(idp, "Moving " + a["id"][:8], [a["id"]])
    p = preview(ag, rule(g["id"], "professional"))
    assert p["counts"]["gains"] == 1
    patch(idp, f"/Groups/{g['id']}", {"op": "add", "path": "members", "value": [{"value": b["id"]}]})
    before = written(server, ag)
    r = ag.sa.put(url(ag.lic, "/provisioning/mappings"), {**rule(g["id"], "professional"), "plan": p["plan"]})
    assert r.status == 409 and r.body["code"] == "plan_changed", r
    assert written(server, ag) == before
    # Previewed again, it goes through.
    p = preview(ag, rule(g["id"], "professional"))
    assert p["counts"]["gains"] == 2
    m = put(ag, {**rule(g["id"], "professional"), "plan": p["plan"]})
    # The removal's plan, then someone leaves: refused too.
    p = preview(ag, {"remove": m["id"]})
    patch(idp, f"/Groups/{g['id']}", {"op": "remove", "path": f'members[value eq "{b["id"]}"]'})
    before = written(server, ag)
    r = ag.sa.delete(url(ag.lic, f"/provisioning/mappings/{m['id']}?plan={p['plan']}"))
    assert r.status == 409 and r.body["code"] == "plan_changed", r
    assert written(server, ag) == before
    # A plan of another change does not fit this one.
    other = preview(ag, rule(g["id"], "enterprise"))["plan"]
    r = ag.sa.delete(url(ag.lic, f"/provisioning/mappings/{m['id']}?plan={other}"))
    assert r.status == 409 and r.body["code"] == "plan_changed", r
    assert ag.sa.delete(url(ag.lic, f"/provisioning/mappings/{m['id']}")).status == 204


def test_who_may_preview(server, ag, idp):
    g = new_group(idp, "Guarded " + str(time.time_ns()))
    other = agreement(server, {"professional": 1})
    # Another agreement's super admin on this one's preview.
    r = other.sa.post(url(ag.lic, "/provisioning/mappings/preview"), rule(g["id"], "professional"))
    assert r.status in (403, 404), r
    # This group through the other agreement: unknown there.
    r = other.sa.post(url(other.lic, "/provisioning/mappings/preview"), rule(g["id"], "professional"))
    assert r.status == 422 and [e["field"] for e in r.body["errors"]] == ["group"], r
    adm = add_admin_in_db(server, ag)
    r = adm.post(url(ag.lic, "/provisioning/mappings/preview"), rule(g["id"], "professional"))
    assert r.status == 403, r
    r = adm.get(url(ag.lic, "/provisioning/groups"))
    assert r.status == 403, r


@pytest.mark.parametrize("body, field", [
    ({"remove": "x"}, "remove"),
    ({"remove": 0}, "remove"),
    ({"remove": 999999999}, "remove"),
    ({"remove": 1, "group": "x"}, "remove"),
    ({"level": "professional", **RULE}, "group"),
    ({"group": "no-such-group", "level": "professional", **RULE}, "group"),
    ({"group": "g", "level": "professional", "language": "xx", "country": "FR"}, "language"),
    ({"group": "g", "level": "professional", "language": "en", "country": "ZZ"}, "country"),
    ({"group": "g", "level": "professional", "language": "en", "country": "FR", "downloads": "yes"}, "downloads"),
])
def test_bad_bodies_name_the_field(ag, body, field):
    r = ag.sa.post(url(ag.lic, "/provisioning/mappings/preview"), body)
    assert r.status == 422 and field in [e["field"] for e in r.body["errors"]], r


def test_unknown_level_and_bad_plans(ag, idp):
    g = new_group(idp, "Levels " + str(time.time_ns()))
    r = ag.sa.post(url(ag.lic, "/provisioning/mappings/preview"), rule(g["id"], "ultimate"))
    assert r.status == 422 and [e["field"] for e in r.body["errors"]] == ["level"], r
    r = ag.sa.put(url(ag.lic, "/provisioning/mappings"), {**rule(g["id"], "professional"), "plan": "nope"})
    assert r.status == 422 and [e["field"] for e in r.body["errors"]] == ["plan"], r
    r = ag.sa.delete(url(ag.lic, "/provisioning/mappings/1?plan=nope"))
    assert r.status in (400, 422) and [e["field"] for e in r.body["errors"]] == ["plan"], r


def test_groups_are_listed_with_their_member_counts(server, ag, idp):
    a, b = new_user(idp), new_user(idp, active=False)
    inner = new_group(idp, "Counted inner " + a["id"][:8], [b["id"]])
    outer = new_group(idp, "Counted outer " + a["id"][:8], [a["id"], inner["id"]])
    r = ag.sa.get(url(ag.lic, "/provisioning/groups"))
    assert r.status == 200, r
    by = {g["id"]: g for g in r.body["groups"]}
    assert by[outer["id"]]["members"] == 2 and by[outer["id"]]["active_members"] == 1
    assert by[inner["id"]]["members"] == 1 and by[inner["id"]]["active_members"] == 0
    assert r.body["total"] >= 2
    # Another agreement sees none of them.
    other = agreement(server, {"professional": 1})
    r = other.sa.get(url(other.lic, "/provisioning/groups"))
    assert r.status == 200 and r.body == {"groups": [], "total": 0}, r


def test_ten_thousand_members_are_previewed_with_exact_counts(server):
    big = agreement(server, {"enterprise": 20000})
    idp = provider(server, big)
    g = new_group(idp, "Everyone")
    n = 10000
    users_in_bulk(server, big, n, group=g["id"])
    before = written(server, big)
    # Correctness at this size, not speed (bench/RESULTS.md has the figures): a preview of ten
    # thousand people may take longer than the client's usual wait.
    big.sa.timeout = 180
    p = preview(big, rule(g["id"], "enterprise"))
    assert p["counts"] == {"gains": n, "losses": 0, "changes": 0, "refused": 0}
    assert len(p["gains"]) == p["listed_max"] == 1000
    assert written(server, big) == before
    r = big.sa.get(url(big.lic, "/provisioning/groups"))
    assert r.body["groups"][0]["members"] == n, r
