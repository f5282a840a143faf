"""The activity log names people and things: each event carries its actor's name and a readable
target (`target_label`) resolved by the server — a subscriber's name and level, an
organization's name, a person's name and address, a job's file — so the UI can word it
without a request per row; the CSV has the same names and the action's label in the reader's
language after the raw columns. A name is only ever taken from the event's own agreement:
an identifier that also exists on another agreement names nothing there."""
import csv
import io
import json
import pathlib
import re
import time

import pytest

from support.accounts import addr, partner_user, verified_user
from support.agreements import add_admin, agreement, url
from support.db import db_query, db_write
from support.files import read_csv
from support.subscriptions import add, subs

ROOT = pathlib.Path(__file__).resolve().parents[2]
UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def events(client, lic, **params):
    query = "&".join(f"{k}={v}" for k, v in {"limit": 500, **params}.items())
    r = client.get(url(lic, f"/activity?{query}"))
    assert r.status == 200, r
    return r.body["events"]


def one(evs, action):
    found = [e for e in evs if e["action"] == action]
    assert found, (action, [e["action"] for e in evs])
    return found[0]


@pytest.fixture(scope="module")
def story(server):
    """An agreement on which a subscriber was added, edited and removed, another added, an
    admin appointed, and a partner let in; the super admin is Camille Martin."""
    a = agreement(server, {"enterprise": 10, "professional": 5})
    ada = add(a.sa, a.lic, name="Ada Lovelace", level="professional").body
    r = a.sa.patch(subs(a.lic, f"/{ada['id']}"), {"name": "Ada King"},
                   headers={"If-Match": f'"{ada["version"]}"'})
    assert r.status == 200, r
    gone = add(a.sa, a.lic, name="Grace Hopper", level="enterprise").body
    assert a.sa.delete(subs(a.lic, f"/{gone['id']}")).status == 204
    a.admin = verified_user(server, addr("admin"), name="Ada Admin", language="fr")
    add_admin(a.sa, a.lic, a.admin.email, name="Ada Admin")
    a.ada, a.gone = ada, gone
    return a


def test_subscription_events_name_the_subscriber_and_level(story):
    evs = events(story.sa, story.lic, action="subscription.")
    added = [e for e in evs if e["action"] == "subscription.added"]
    assert {e["target_label"] for e in added} == {"Ada King (Professional)", "Grace Hopper (Enterprise)"}, added
    # Once removed, the row is gone: the event's own record names the subscriber.
    removed = one(evs, "subscription.removed")
    assert removed["target"] == story.gone["id"]
    assert removed["target_label"] == "Grace Hopper (Enterprise)", removed
    assert one(evs, "subscription.updated")["target_label"] == "Ada King (Professional)"
    for e in evs:
        assert e["actor_name"] == "Camille Martin" and e["actor"] == story.sa.email, e
        assert not UUID.search(e["target_label"] or ""), e
    # The documented members are all still there.
    for e in evs:
        assert {"id", "at", "actor", "action", "target_type", "target", "details"} <= set(e), e


def test_admin_and_partner_events_name_the_person_and_organization(story):
    evs = events(story.sa, story.lic)
    added = one(evs, "admin.added")
    assert added["target_label"] == f"Ada Admin ({story.admin.email})", added
    granted = one(evs, "partner.access_granted")
    assert granted["target_type"] == "partner_relationship"
    assert granted["target_label"] == story.seller.org, granted
    assert granted["actor_name"] == story.seller.name, granted


def test_removed_partner_is_named_by_its_organization(server):
    a = agreement(server, {"enterprise": 1})
    r = a.sa.get(url(a.lic, "/partners"))
    pid = r.body["relationships"][0]["id"]
    assert a.sa.delete(url(a.lic, f"/partners/{pid}")).status == 204
    ev = one(events(a.sa, a.lic), "partner.access_removed")
    assert ev["target_type"] == "organization" and ev["target_label"] == a.seller.org, ev
    assert ev["actor_name"] == "Camille Martin", ev


def test_agreement_wide_events_have_no_label(story):
    """A target nothing names (the agreement itself) has a null label, not a made-up one."""
    evs = [e for e in events(story.sa, story.lic) if e["target_type"] == "agreement"]
    assert evs, "the order's agreement.created is on the log"
    for e in evs:
        assert e["target_label"] is None, e


def test_csv_has_names_and_the_action_label_in_the_readers_language(story):
    rows = read_csv(story.sa.get(url(story.lic, "/activity.csv")))
    assert rows[0] == ["time", "actor", "action", "target type", "target", "address", "actor name",
                       "action label", "target label", "token id", "token name", "details"], rows[0]
    removed = [r for r in rows[1:] if r[2] == "subscription.removed"]
    assert removed and removed[0][6:9] == ["Camille Martin", "Subscriber removed", "Grace Hopper (Enterprise)"], removed
    # The French admin (no address column; `;` between fields) reads French labels.
    r = story.admin.get(url(story.lic, "/activity.csv"))
    read_csv(r)
    rows = list(csv.reader(io.StringIO(r.raw[3:].decode("utf-8"), newline=""), delimiter=";"))
    assert rows[0][5:8] == ["actor name", "action label", "target label"], rows[0]
    removed = [r for r in rows[1:] if r[2] == "subscription.removed"]
    assert removed[0][5:8] == ["Camille Martin", "Abonné retiré", "Grace Hopper (Enterprise)"], removed


def forge(server, agreement_id, target_type, target_id):
    db_write(server,
             "INSERT INTO audit_events (at, actor_user_id, actor_email, action, target_type, target_id, agreement_id,"
             " address, request_id, details) VALUES (?, NULL, 'forged@example.com', ?, ?, ?, ?, NULL, 'forged', NULL)",
             (int(time.time()), f"forged.{target_type}", target_type, target_id, agreement_id))


def test_names_from_another_agreement_never_show(server, story):
    """Events on agreement B whose identifiers are those of agreement A's subscription, partner
    grant, job and pending invitation: B's log names none of A's rows."""
    other = agreement(server, {"enterprise": 1})
    invitee = addr("invitee")
    add_admin(story.sa, story.lic, invitee, name="Ivy Invitee")
    grant = db_query(server, "SELECT id FROM partner_relationships WHERE agreement_id = ?", (story.id,))[0][0]
    forge(server, other.id, "subscription", story.ada["id"])
    forge(server, other.id, "partner_relationship", str(grant))
    forge(server, other.id, "email", invitee)
    # A "user" target named by address (a subscriber's question) is read, not cast, on either database.
    forge(server, other.id, "user", "someone@example.com")
    evs = [e for e in events(other.sa, other.lic) if e["action"].startswith("forged.")]
    assert len(evs) == 4, evs
    for e in evs:
        assert e["target_label"] in (None, invitee), e
    text = json.dumps(evs)
    for secret in ("Ada King", "Ivy Invitee", story.seller.org):
        assert secret not in text, (secret, text)
    rows = read_csv(other.sa.get(url(other.lic, "/activity.csv")))
    text = json.dumps(rows)
    for secret in ("Ada King", "Ivy Invitee", story.seller.org):
        assert secret not in text, (secret, text)
    # The same identifiers on A's own log are named.
    forge(server, story.id, "subscription", story.ada["id"])
    mine = [e for e in events(story.sa, story.lic) if e["action"] == "forged.subscription"]
    assert mine[0]["target_label"] == "Ada King (Professional)", mine


def test_partner_reads_the_same_names(story, server):
    evs = events(story.seller, story.lic)
    assert one(evs, "subscription.removed")["target_label"] == "Grace Hopper (Enterprise)"


def documented_actions():
    text = (ROOT / "docs" / "api-contract.md").read_text(encoding="utf-8")
    section = text.split("## Audit actions", 1)[1]
    return re.findall(r"^\| `([a-z_.]+)` \|", section, re.M)


@pytest.mark.parametrize("lang", ["en", "fr"])
def test_every_action_has_a_label_and_a_sentence(lang):
    cat = json.loads((ROOT / "web" / "i18n" / f"{lang}.json").read_text(encoding="utf-8"))
    actions = documented_actions()
    assert len(actions) > 40, actions
    for action in actions:
        assert cat.get(f"activity.label.{action}"), (lang, action)
        sentence = cat.get(f"activity.action.{action}")
        assert sentence and ("{actor}" in sentence or "{target}" in sentence), (lang, action, sentence)
        assert set(re.findall(r"\{(\w+)\}", sentence)) <= {"actor", "target"}, (lang, action, sentence)
    assert "{actor}" in cat["activity.action.unknown"] and "{action}" in cat["activity.action.unknown"]
