"""SCIM provisioning takes over a seat someone already holds by hand (docs/scim.md, "Groups →
seats"): when a group's rule gives a person a level they already hold as an ordinary
subscription, that subscription becomes the provisioned one — no second seat, no second
assignment e-mail, the pool unchanged, its language, country and downloads kept — audited as
`provisioning.seat_adopted`; from then on it follows the rule, so leaving the group removes it.
A subscription another provisioned user holds is not taken over twice, and another agreement's
subscriptions are never looked at."""
import json

import pytest

from support.accounts import addr
from support.agreements import agreement, url
from support.db import db_query
from support.scim import new_group, new_user, patch, provider
from support.subscriptions import outbox_rows

pytestmark = pytest.mark.usefixtures("server_alive")


def subs(server, ag, email):
    return db_query(server, "SELECT s.uuid, l.code, s.language, s.country, s.downloads FROM subscriptions s"
                            " JOIN levels l ON l.id = s.level_id WHERE s.agreement_id = ? AND s.sign_in_email = ?"
                            " ORDER BY l.code", (ag.id, email))


def assigned(server, ag, level):
    return db_query(server, "SELECT COUNT(*) FROM subscriptions s JOIN levels l ON l.id = s.level_id"
                            " WHERE s.agreement_id = ? AND l.code = ?", (ag.id, level))[0][0]


def adopted_rows(server, ag):
    return [(t, json.loads(d)) for t, d in db_query(
        server, "SELECT target_id, details FROM audit_events WHERE agreement_id = ? AND action = ? ORDER BY id",
        (ag.id, "provisioning.seat_adopted"))]


def by_hand(ag, email, level="enterprise", **kw):
    body = {"name": "Grace Hopper", "sign_in_email": email, "level": level, "country": "DE", "language": "fr",
            "downloads": False}
    body.update(kw)
    r = ag.sa.post(url(ag.lic, "/subscriptions"), body)
    assert r.status == 201, r
    return r.body


def map_group(ag, group_id, level):
    r = ag.sa.put(url(ag.lic, "/provisioning/mappings"),
                  {"group": group_id, "level": level, "language": "en", "country": "FR", "downloads": True})
    assert r.status == 200, r


def test_a_hand_held_seat_is_taken_over_then_follows_the_rule(server):
    # One seat, already taken by hand: a second seat could not be given, so only a take-over passes.
    ag = agreement(server, {"enterprise": 1})
    idp = provider(server, ag)
    email = addr("held", "contoso.example")
    by_hand(ag, email)
    [(uuid, _, _, _, _)] = subs(server, ag, email)
    assert len(outbox_rows(server, "subscription_assigned", email)) == 1
    u = new_user(idp, userName=email, emails=[{"value": email, "type": "work"}])
    g = new_group(idp, "Seats " + u["id"][:8])
    map_group(ag, g["id"], "enterprise")
    r = patch(idp, f"/Groups/{g['id']}", {"op": "add", "path": "members", "value": [{"value": u["id"]}]})
    assert r.status == 200, r
    # The same subscription, as it was: its language, country and downloads are kept.
    assert subs(server, ag, email) == [(uuid, "enterprise", "fr", "DE", 0)]
    assert assigned(server, ag, "enterprise") == 1
    assert len(outbox_rows(server, "subscription_assigned", email)) == 1      # no second welcome
    [(target, details)] = adopted_rows(server, ag)
    assert target == uuid, target
    assert details["user_name"] == email and details["level"] == "enterprise", details
    assert details["group"] == g["displayName"] and details["kept"] == "language,country,downloads", details
    # Sent again: nothing more.
    r = patch(idp, f"/Groups/{g['id']}", {"op": "add", "path": "members", "value": [{"value": u["id"]}]})
    assert r.status == 200 and len(adopted_rows(server, ag)) == 1, r
    # Directory-driven from now on: out of the group, the seat goes.
    r = patch(idp, f"/Groups/{g['id']}", {"op": "remove", "path": f'members[value eq "{u["id"]}"]'})
    assert r.status == 200, r
    assert subs(server, ag, email) == []
    removed = db_query(server, "SELECT COUNT(*) FROM audit_events WHERE agreement_id = ? AND action = ?"
                               " AND target_id = ?", (ag.id, "subscription.removed", uuid))[0][0]
    assert removed == 1


def test_the_same_settings_keep_nothing_and_a_deactivated_person_loses_the_adopted_seat(server):
    ag = agreement(server, {"enterprise": 2, "professional": 2})
    idp = provider(server, ag)
    email = addr("same", "contoso.example")
    by_hand(ag, email, level="professional", country="FR", language="en", downloads=True)
    u = new_user(idp, userName=email, emails=[{"value": email, "type": "work"}])
    g = new_group(idp, "Pro " + u["id"][:8], [u["id"]])
    map_group(ag, g["id"], "professional")       # the rule set afterwards takes it over too
    [(_, details)] = adopted_rows(server, ag)
    assert details["kept"] == "", details
    assert [row[1] for row in subs(server, ag, email)] == ["professional"]
    r = patch(idp, f"/Users/{u['id']}", {"op": "Replace", "value": {"active": "False"}})
    assert r.status == 200 and subs(server, ag, email) == [], r


def test_a_seat_another_provisioned_user_holds_is_not_taken_twice(server):
    ag = agreement(server, {"enterprise": 3})
    idp = provider(server, ag)
    email = addr("twice", "contoso.example")
    u1 = new_user(idp, userName=email, emails=[{"value": email, "type": "work"}])
    u2 = new_user(idp, userName=addr("alias", "contoso.example"), emails=[{"value": email, "type": "work"}])
    g = new_group(idp, "Twice " + u1["id"][:8], [u1["id"]])
    map_group(ag, g["id"], "enterprise")
    assert len(subs(server, ag, email)) == 1 and adopted_rows(server, ag) == []
    r = patch(idp, f"/Groups/{g['id']}", {"op": "add", "path": "members", "value": [{"value": u2["id"]}]})
    assert r.status == 409 and r.body["scimType"] == "uniqueness" and email in r.body["detail"], r
    assert adopted_rows(server, ag) == [] and len(subs(server, ag, email)) == 1


def test_another_agreements_subscription_is_not_taken_over(server):
    mine, theirs = agreement(server, {"enterprise": 2}), agreement(server, {"enterprise": 2})
    email = addr("cross", "contoso.example")
    by_hand(theirs, email)
    [(their_uuid, *_)] = subs(server, theirs, email)
    idp = provider(server, mine)
    u = new_user(idp, userName=email, emails=[{"value": email, "type": "work"}])
    g = new_group(idp, "Cross " + u["id"][:8], [u["id"]])
    map_group(mine, g["id"], "enterprise")
    [(uuid, *_)] = subs(server, mine, email)
    assert uuid != their_uuid and adopted_rows(server, mine) == [] and adopted_rows(server, theirs) == []
    assert len(outbox_rows(server, "subscription_assigned", email)) == 2     # one from each agreement
    assert subs(server, theirs, email)[0][0] == their_uuid
