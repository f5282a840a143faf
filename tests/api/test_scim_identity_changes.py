"""A provisioned seat follows its person's identity at the provider (docs/scim.md, "Groups →
seats"): when the provider changes the work address or the display name of someone who holds
a seat through a rule, the same subscription takes the new address and name — an edit, not a
removal and a new seat: the pool does not move, both addresses hear of the change as for an
edit by hand, it is audited and announced as `subscription.updated`. Sending the change again
changes nothing; an address another subscription of the level already holds is refused to the
provider, and nothing of the request is written."""
import json

import pytest

from support.accounts import addr
from support.agreements import agreement, url
from support.db import db_query
from support.scim import new_group, new_user, patch, provider
from support.subscriptions import outbox_rows

pytestmark = pytest.mark.usefixtures("server_alive")

WORK = 'emails[type eq "work"].value'


def seats(server, ag):
    return db_query(server, "SELECT s.uuid, s.sign_in_email, s.name FROM subscriptions s WHERE s.agreement_id = ?"
                            " ORDER BY s.id", (ag.id,))


def updates(server, ag):
    return [json.loads(d) if d else None for (d,) in db_query(
        server, "SELECT details FROM audit_events WHERE agreement_id = ? AND action = 'subscription.updated'"
                " ORDER BY id", (ag.id,))]


def events(server, ag):
    return [json.loads(d) for (d,) in db_query(
        server, "SELECT data FROM events WHERE agreement_id = ? AND type = 'subscription.updated' ORDER BY id",
        (ag.id,))]


def provisioned(server):
    ag = agreement(server, {"enterprise": 2})
    idp = provider(server, ag)
    old = addr("before", "contoso.example")
    u = new_user(idp, name=old, displayName="Ada Lovelace")
    g = new_group(idp, "Engineering " + u["id"][:8], [u["id"]])
    r = ag.sa.put(url(ag.lic, "/provisioning/mappings"),
                  {"group": g["id"], "level": "enterprise", "language": "en", "country": "FR"})
    assert r.status == 200, r
    [(uuid, email, name)] = seats(server, ag)
    assert (email, name) == (old, "Ada Lovelace")
    return ag, idp, u, uuid, old


def test_a_new_work_address_moves_the_same_seat_and_both_addresses_hear_of_it(server):
    ag, idp, u, uuid, old = provisioned(server)
    new = addr("after", "contoso.example")
    r = patch(idp, f"/Users/{u['id']}", {"op": "replace", "path": WORK, "value": new})
    assert r.status == 200, r
    assert seats(server, ag) == [(uuid, new, "Ada Lovelace")]
    assert db_query(server, "SELECT assigned FROM pools WHERE agreement_id = ?", (ag.id,)) == [(1,)]
    assert updates(server, ag) == [{"old_email": old, "new_email": new}]
    [ev] = events(server, ag)
    assert ev["changes"]["sign_in_email"] == {"before": old, "after": new}, ev
    assert len(outbox_rows(server, "sign_in_changed", new)) == 1
    assert len(outbox_rows(server, "sign_in_changed", old)) == 1

    # The provider sends it again: nothing more happens.
    again = patch(idp, f"/Users/{u['id']}", {"op": "replace", "path": WORK, "value": new})
    assert again.status == 200, again
    assert len(updates(server, ag)) == 1 and len(events(server, ag)) == 1
    assert len(outbox_rows(server, "sign_in_changed", new)) == 1


def test_a_new_display_name_renames_the_seat(server):
    ag, idp, u, uuid, old = provisioned(server)
    r = patch(idp, f"/Users/{u['id']}", {"op": "replace", "path": "displayName", "value": "Ada King"})
    assert r.status == 200, r
    assert seats(server, ag) == [(uuid, old, "Ada King")]
    [ev] = events(server, ag)
    assert ev["changes"]["name"] == {"before": "Ada Lovelace", "after": "Ada King"}, ev


def test_an_address_another_seat_of_the_level_holds_is_refused_and_nothing_changes(server):
    ag, idp, u, uuid, old = provisioned(server)
    taken = addr("taken", "contoso.example")
    r = ag.sa.post(url(ag.lic, "/subscriptions"), {"name": "Someone Else", "sign_in_email": taken,
                                                   "level": "enterprise", "country": "FR", "language": "en"})
    assert r.status == 201, r
    refused = patch(idp, f"/Users/{u['id']}", {"op": "replace", "path": WORK, "value": taken})
    assert refused.status == 409, refused
    assert refused.body["scimType"] == "uniqueness" and taken in refused.body["detail"], refused.body
    assert (uuid, old, "Ada Lovelace") in seats(server, ag)
    got = idp.get(f"/Users/{u['id']}").body
    assert [e["value"] for e in got["emails"] if e.get("type") == "work"] == [old], got
    assert updates(server, ag) == []
