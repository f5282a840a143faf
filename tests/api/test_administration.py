"""Agreement administration beyond subscriptions: the admins of an agreement (direct
grants, invitations claimed at sign-in, the last-super-admin guard), preferences (defaults
for new subscribers, the customer-domain rule), the activity log and its CSV, maximum
usage, the lifecycle (expiry reminders, the grace period, read-only agreements) and the
subscriber's own view (their subscriptions, questions to their admins).

Agreements are created as in production: a partner places an order (and so gets partner
access), the customer signs up with the order's e-mail and becomes the super admin."""
import datetime
import json
import time
import urllib.parse

import pytest

from support.accounts import addr, uniq, verified_user
from support.agreements import add_admin, agreement, iso_to_ts, level_id, role_of, url
from support.checks import assert_problem, field_errors
from support.client import Client
from support.db import db_count, db_query, db_write
from support.files import read_csv
from support.subscriptions import add, sub_body

DAY = 86400

# The tests share one server: when it has died, each says so instead of failing on refused connections.
pytestmark = pytest.mark.usefixtures("server_alive")


# ---------------------------------------------------------------------------------------
# Helpers


def today_utc():
    return datetime.datetime.now(datetime.timezone.utc).date()


def admins(client, lic):
    r = client.get(url(lic, "/admins"))
    assert r.status == 200, r
    assert set(r.body) >= {"admins", "super_admin_count", "few_super_admins"}, r.body
    for a in r.body["admins"]:
        assert set(a) >= {"id", "name", "email", "role", "since", "pending"}, a
    return r.body


def admin_entry(body, email_addr, pending=None):
    hits = [a for a in body["admins"] if a["email"] == email_addr.lower() and (pending is None or a["pending"] == pending)]
    return hits[0] if hits else None


def events(client, lic, **params):
    q = ("?" + urllib.parse.urlencode(params)) if params else ""
    r = client.get(url(lic, "/activity") + q)
    assert r.status == 200, r
    assert set(r.body) >= {"events", "next_before"}, r.body
    return r.body


def outbox_for(server, template, recipient, needle=None):
    rows = db_query(server, "SELECT language, data FROM outbox WHERE template = ? AND recipient = ? ORDER BY id",
                    (template, recipient.lower()))
    return [r for r in rows if needle is None or needle in r[1]]


def usage(client, lic):
    r = client.get(url(lic, "/usage"))
    assert r.status == 200, r
    return {lv["level"]: lv for lv in r.body["levels"]}


@pytest.fixture(scope="module")
def ag(server):
    """A shared agreement (enterprise 10, professional 5) used by the read-mostly tests."""
    return agreement(server, {"enterprise": 10, "professional": 5})


# ---------------------------------------------------------------------------------------
# Admins


def test_admin_list_shows_the_single_super_admin_with_a_warning(server):
    a = agreement(server, {"enterprise": 2})
    body = admins(a.sa, a.lic)
    assert len(body["admins"]) == 1, body
    e = body["admins"][0]
    assert e["email"] == a.customer_email and e["role"] == "super_admin" and e["pending"] is False, e
    assert e["id"] == a.sa.user["id"], e
    assert e["name"] == "Camille Martin", e
    assert body["super_admin_count"] == 1 and body["few_super_admins"] is True, body


def test_adding_a_verified_account_grants_the_role_at_once(server):
    a = agreement(server, {"enterprise": 2})
    adm = verified_user(server, addr("admin"), name="Ada Admin")
    assert adm.get(url(a.lic)).status == 404
    r = add_admin(a.sa, a.lic, adm.email, name="Ada Admin")
    e = admin_entry(r.body, adm.email)
    assert e and e["role"] == "admin" and e["pending"] is False and e["id"] == adm.user["id"], r.body
    assert r.body["super_admin_count"] == 1 and r.body["few_super_admins"] is True, r.body
    r = adm.get(url(a.lic))
    assert r.status == 200 and r.body["role"] == "admin", r
    assert role_of(adm, a.lic) == "admin"
    m = server.wait_for_mail(adm.email, subject_contains=a.lic)
    assert "admin" in m.subject.lower(), m.subject
    assert outbox_for(server, "admin_invited", adm.email, a.lic)[0][0] == "en"
    acts = [ev["action"] for ev in events(a.sa, a.lic, action="admin.")["events"]]
    assert "admin.added" in acts, acts


def test_invitation_becomes_the_role_when_the_owner_signs_in_verified(server):
    a = agreement(server, {"enterprise": 2})
    invitee = addr("invitee")
    r = add_admin(a.sa, a.lic, invitee, name="Inès Invitée", language="fr")
    e = admin_entry(r.body, invitee)
    assert e and e["pending"] is True and e["role"] == "admin" and e["name"] == "Inès Invitée", r.body
    assert db_count(server, "admin_invites", "agreement_id = ? AND email = ?", (a.id, invitee)) == 1
    m = server.wait_for_mail(invitee, subject_contains=a.lic)
    assert "Votre rôle" in m.subject and "administrateur" in m.subject, m.subject
    assert m.link("/signin"), m.links
    assert outbox_for(server, "admin_invited", invitee, a.lic)[0][0] == "fr"
    # The invitee signs up, verifies and signs in: the invitation becomes the role.
    c = verified_user(server, invitee)
    assert role_of(c, a.lic) == "admin"
    r = c.get(url(a.lic))
    assert r.status == 200 and r.body["role"] == "admin", r
    body = admins(a.sa, a.lic)
    assert admin_entry(body, invitee, pending=True) is None, body
    e = admin_entry(body, invitee, pending=False)
    assert e and e["role"] == "admin" and e["id"] == c.user["id"], body
    assert db_count(server, "admin_invites", "email = ?", (invitee,)) == 0
    assert c.session()["recognized"] is True


def test_invited_super_admin_becomes_super_admin(server):
    a = agreement(server, {"enterprise": 2})
    invitee = addr("supinv")
    r = add_admin(a.sa, a.lic, invitee, super_admin=True)
    e = admin_entry(r.body, invitee)
    assert e and e["pending"] is True and e["role"] == "super_admin", r.body
    # A pending invitation is not yet a super admin.
    assert r.body["super_admin_count"] == 1 and r.body["few_super_admins"] is True, r.body
    m = server.wait_for_mail(invitee, subject_contains=a.lic)
    assert "super admin" in m.subject.lower(), m.subject
    c = verified_user(server, invitee)
    assert role_of(c, a.lic) == "super_admin"
    body = admins(a.sa, a.lic)
    assert body["super_admin_count"] == 2 and body["few_super_admins"] is False, body


def test_last_super_admin_cannot_be_removed(server):
    a = agreement(server, {"enterprise": 2})
    before = db_count(server, "admin_roles", "agreement_id = ?", (a.id,))
    r = a.sa.delete(url(a.lic, f"/admins/{a.sa.user['id']}"))
    assert_problem(r, 409, "last_super_admin")
    assert db_count(server, "admin_roles", "agreement_id = ?", (a.id,)) == before
    assert role_of(a.sa, a.lic) == "super_admin"
    # A second super admin makes removal possible.
    second = verified_user(server, addr("second"))
    r = add_admin(a.sa, a.lic, second.email, super_admin=True)
    assert r.body["super_admin_count"] == 2 and r.body["few_super_admins"] is False, r.body
    assert role_of(second, a.lic) == "super_admin"
    r = second.delete(url(a.lic, f"/admins/{a.sa.user['id']}"))
    assert r.status == 204, r
    assert a.sa.get(url(a.lic)).status == 404
    body = admins(second, a.lic)
    assert [x["email"] for x in body["admins"]] == [second.email], body
    assert body["super_admin_count"] == 1 and body["few_super_admins"] is True, body
    # ... and now the remaining one is the last again.
    r = second.delete(url(a.lic, f"/admins/{second.user['id']}"))
    assert_problem(r, 409, "last_super_admin")
    acts = [ev["action"] for ev in events(second, a.lic, action="admin.")["events"]]
    assert "admin.removed" in acts, acts


def test_the_last_super_admin_cannot_be_demoted_by_re_adding(server):
    """Adding the only super admin again as a plain admin must not leave the agreement
    without a super admin."""
    a = agreement(server, {"enterprise": 1})
    r = a.sa.post(url(a.lic, "/admins"), {"name": "Camille Martin", "email": a.customer_email, "super_admin": False})
    assert r.status in (201, 409), r
    if r.status == 409:
        assert_problem(r, 409, "last_super_admin")
    body = admins(a.sa, a.lic)
    assert body["super_admin_count"] == 1, body
    assert role_of(a.sa, a.lic) == "super_admin"


def test_re_adding_an_admin_as_super_admin_promotes_them(server):
    a = agreement(server, {"enterprise": 1})
    adm = verified_user(server, addr("promo"))
    add_admin(a.sa, a.lic, adm.email)
    r = add_admin(a.sa, a.lic, adm.email, super_admin=True)
    assert [x["role"] for x in r.body["admins"] if x["email"] == adm.email] == ["super_admin"], r.body
    assert r.body["super_admin_count"] == 2, r.body


def test_invitation_address_is_case_insensitive(server):
    a = agreement(server, {"enterprise": 1})
    invitee = addr("MixedCase")
    r = add_admin(a.sa, a.lic, invitee.upper())
    assert admin_entry(r.body, invitee.lower(), pending=True), r.body
    c = verified_user(server, invitee.lower())
    assert role_of(c, a.lic) == "admin"


def test_remove_an_ordinary_admin_and_unknown_ids(server):
    a = agreement(server, {"enterprise": 2})
    adm = verified_user(server, addr("admin"))
    add_admin(a.sa, a.lic, adm.email)
    r = a.sa.delete(url(a.lic, f"/admins/{adm.user['id']}"))
    assert r.status == 204, r
    assert adm.get(url(a.lic)).status == 404
    assert admin_entry(admins(a.sa, a.lic), adm.email) is None
    assert_problem(a.sa.delete(url(a.lic, f"/admins/{adm.user['id']}")), 404, "not_found")
    assert_problem(a.sa.delete(url(a.lic, "/admins/99999999")), 404, "not_found")
    assert_problem(a.sa.delete(url(a.lic, "/admins/abc")), 404)
    # A user who is admin elsewhere is not one here.
    other = agreement(server, {"enterprise": 1})
    assert_problem(a.sa.delete(url(a.lic, f"/admins/{other.sa.user['id']}")), 404)
    assert role_of(other.sa, other.lic) == "super_admin"


def test_remove_an_invitation(server):
    a = agreement(server, {"enterprise": 2})
    invitee = addr("withdrawn")
    r = add_admin(a.sa, a.lic, invitee)
    inv = admin_entry(r.body, invitee, pending=True)
    assert inv, r.body
    r = a.sa.delete(url(a.lic, f"/admin-invites/{inv['id']}"))
    assert r.status == 204, r
    assert admin_entry(admins(a.sa, a.lic), invitee) is None
    assert db_count(server, "admin_invites", "email = ?", (invitee,)) == 0
    assert_problem(a.sa.delete(url(a.lic, f"/admin-invites/{inv['id']}")), 404, "not_found")
    assert_problem(a.sa.delete(url(a.lic, "/admin-invites/99999999")), 404, "not_found")
    # The withdrawn invitee gets nothing on sign-in.
    c = verified_user(server, invitee)
    assert role_of(c, a.lic) is None
    assert c.get(url(a.lic)).status == 404
    acts = [ev["action"] for ev in events(a.sa, a.lic, action="admin.invite")["events"]]
    assert "admin.invite_withdrawn" in acts and "admin.invited" in acts, acts


def test_invitation_of_another_agreement_cannot_be_removed(server):
    a = agreement(server, {"enterprise": 1})
    b = agreement(server, {"enterprise": 1})
    invitee = addr("inv")
    inv = admin_entry(add_admin(b.sa, b.lic, invitee).body, invitee, pending=True)
    assert_problem(a.sa.delete(url(a.lic, f"/admin-invites/{inv['id']}")), 404)
    assert admin_entry(admins(b.sa, b.lic), invitee, pending=True)


def test_admin_routes_are_for_super_admins_only(server):
    a = agreement(server, {"enterprise": 2})
    adm = verified_user(server, addr("admin"))
    add_admin(a.sa, a.lic, adm.email)
    outsider = verified_user(server, addr("outsider"))
    other = agreement(server, {"enterprise": 1})
    target = addr("target")
    before = db_count(server, "admin_invites")
    for who in (adm, a.seller):
        assert who.get(url(a.lic)).status == 200
        assert_problem(who.get(url(a.lic, "/admins")), 403, "forbidden")
        assert_problem(who.post(url(a.lic, "/admins"), {"name": "X", "email": target}), 403, "forbidden")
        assert_problem(who.delete(url(a.lic, f"/admins/{a.sa.user['id']}")), 403, "forbidden")
        assert_problem(who.delete(url(a.lic, "/admin-invites/1")), 403, "forbidden")
        assert_problem(who.get(url(a.lic, "/preferences")), 403, "forbidden")
        assert_problem(who.put(url(a.lic, "/preferences"), {"alert_threshold": 50}), 403, "forbidden")
    for who in (outsider, other.sa):
        assert_problem(who.get(url(a.lic, "/admins")), 404, "not_found")
        assert_problem(who.post(url(a.lic, "/admins"), {"name": "X", "email": target}), 404, "not_found")
        assert_problem(who.get(url(a.lic, "/preferences")), 404, "not_found")
        assert_problem(who.get(url(a.lic, "/activity")), 404, "not_found")
        assert_problem(who.get(url(a.lic, "/activity.csv")), 404, "not_found")
        assert_problem(who.get(url(a.lic, "/usage")), 404, "not_found")
    assert db_count(server, "admin_invites") == before
    assert_problem(Client(server).get(url(a.lic, "/admins")), 401, "unauthenticated")


def test_add_admin_validation(server):
    a = agreement(server, {"enterprise": 1})
    before = (db_count(server, "admin_invites"), db_count(server, "admin_roles"), db_count(server, "outbox"))
    r = a.sa.post(url(a.lic, "/admins"), {"email": "not-an-address", "super_admin": "yes"})
    errs = field_errors(r)
    assert errs.get("email") == "invalid_email", errs
    assert errs.get("name") == "required", errs
    assert errs.get("super_admin") == "wrong_type", errs
    errs = field_errors(a.sa.post(url(a.lic, "/admins"), {"name": "", "email": addr("x"), "language": "de"}))
    assert "name" in errs and errs.get("language") == "invalid_value", errs
    errs = field_errors(a.sa.post(url(a.lic, "/admins"), {"name": "N" * 500, "email": addr("x")}))
    assert errs.get("name") == "too_long", errs
    errs = field_errors(a.sa.post(url(a.lic, "/admins"), {"name": "N"}))
    assert errs.get("email") == "required", errs
    r = a.sa.post(url(a.lic, "/admins"), body="{", content_type="application/json")
    assert_problem(r, 400, "malformed_json")
    assert (db_count(server, "admin_invites"), db_count(server, "admin_roles"), db_count(server, "outbox")) == before


def test_admin_add_needs_csrf(server):
    a = agreement(server, {"enterprise": 1})
    r = a.sa.post(url(a.lic, "/admins"), {"name": "X", "email": addr("x")}, csrf=False)
    assert_problem(r, 403, "csrf")


# ---------------------------------------------------------------------------------------
# Preferences


def test_preferences_defaults(server):
    a = agreement(server, {"enterprise": 2})
    r = a.sa.get(url(a.lic, "/preferences"))
    assert r.status == 200, r
    p = r.body
    assert set(p) >= {"contact_email", "default_level", "default_country", "default_language", "default_downloads",
                      "allow_outside_domains", "alert_threshold", "customer_domains"}, p
    assert p["allow_outside_domains"] is True, p
    assert p["alert_threshold"] == 90, p
    assert a.domain in p["customer_domains"], p
    assert p["contact_email"] is None and p["default_level"] is None, p


def test_preferences_fill_new_subscribers(server):
    a = agreement(server, {"enterprise": 2, "professional": 3})
    r = a.sa.put(url(a.lic, "/preferences"), {"default_level": "professional", "default_country": "DE",
                                               "default_language": "fr", "default_downloads": False,
                                               "alert_threshold": 75})
    assert r.status == 200, r
    p = r.body
    assert (p["default_level"], p["default_country"], p["default_language"], p["default_downloads"],
            p["alert_threshold"], p["allow_outside_domains"]) == ("professional", "DE", "fr", False, 75, True), p
    assert a.sa.get(url(a.lic, "/preferences")).body == p
    r = a.sa.post(url(a.lic, "/subscriptions"), {"name": "Defaulted Dev", "sign_in_email": addr("dflt"),
                                                  "send_email": False})
    assert r.status == 201, r
    s = r.body
    assert (s["level"], s["country"], s["language"], s["downloads"]) == ("professional", "DE", "fr", False), s
    # Explicit values still win over the defaults.
    s = add(a.sa, a.lic, level="enterprise", country="IT", language="it", downloads=True).body
    assert (s["level"], s["country"], s["language"], s["downloads"]) == ("enterprise", "IT", "it", True), s
    # PUT replaces the whole: absent fields return to their defaults.
    r = a.sa.put(url(a.lic, "/preferences"), {})
    assert r.status == 200, r
    p = r.body
    assert p["default_level"] is None and p["alert_threshold"] == 90 and p["default_downloads"] is True, p
    errs = field_errors(a.sa.post(url(a.lic, "/subscriptions"), {"name": "N", "sign_in_email": addr("x")}))
    assert errs.get("level") == "required" and errs.get("country") == "required", errs
    acts = [ev["action"] for ev in events(a.sa, a.lic, action="preferences.")["events"]]
    assert acts.count("preferences.updated") == 2, acts


def test_outside_domains_refused_when_not_allowed(server):
    a = agreement(server, {"enterprise": 3})
    # Allowed by default.
    add(a.sa, a.lic, sign_in_email=addr("free", "gmail.com"))
    r = a.sa.put(url(a.lic, "/preferences"), {"allow_outside_domains": False})
    assert r.status == 200 and r.body["allow_outside_domains"] is False, r
    before = db_count(server, "subscriptions", "agreement_id = ?", (a.id,))
    errs = field_errors(add(a.sa, a.lic, expect=None, sign_in_email=addr("free", "gmail.com")))
    assert errs.get("sign_in_email") == "outside_domain", errs
    assert db_count(server, "subscriptions", "agreement_id = ?", (a.id,)) == before
    s = add(a.sa, a.lic, sign_in_email=addr("own", a.domain)).body
    assert s["sign_in_email"].endswith("@" + a.domain), s
    # Changing an address to an outside one meets the same rule, alone or from a file.
    path = f"/api/v1/agreements/{a.lic}/subscriptions/{s['id']}"
    r = a.sa.patch(path, {"sign_in_email": addr("moved", "gmail.com")}, headers={"If-Match": f'"{s["version"]}"'})
    assert field_errors(r).get("sign_in_email") == "outside_domain", r
    edit = f"Subscription Id,Sign-in Email\n{s['id']},{addr('moved', 'gmail.com')}\n"
    r = a.sa.request("POST", f"/api/v1/agreements/{a.lic}/subscriptions/bulk-edit", body=edit, content_type="text/csv")
    assert r.status == 422 and r.body["report"]["errors"][0]["code"] == "outside_domain", r
    assert r.body["report"]["errors"][0]["column"] == "Sign-in Email", r
    r = a.sa.patch(path, {"sign_in_email": addr("moved", a.domain)}, headers={"If-Match": f'"{s["version"]}"'})
    assert r.status == 200, r


def test_preferences_validation(server):
    a = agreement(server, {"enterprise": 2})
    good = a.sa.get(url(a.lic, "/preferences")).body
    r = a.sa.put(url(a.lic, "/preferences"), {"default_level": "platforms", "alert_threshold": 0,
                                               "default_country": "fra"})
    errs = field_errors(r)
    assert errs.get("default_level") == "invalid_value", errs
    assert "alert_threshold" in errs and "default_country" in errs, errs
    errs = field_errors(a.sa.put(url(a.lic, "/preferences"), {"alert_threshold": 101, "default_country": "fr"}))
    assert "alert_threshold" in errs and errs.get("default_country") == "invalid_value", errs
    errs = field_errors(a.sa.put(url(a.lic, "/preferences"), {"default_level": "nonsense", "alert_threshold": "90",
                                                               "default_language": "xx", "contact_email": "bad",
                                                               "allow_outside_domains": "no"}))
    assert set(errs) >= {"default_level", "alert_threshold", "default_language", "contact_email",
                         "allow_outside_domains"}, errs
    # Boundaries 1 and 100 are accepted.
    for t in (1, 100):
        r = a.sa.put(url(a.lic, "/preferences"), {"alert_threshold": t})
        assert r.status == 200 and r.body["alert_threshold"] == t, r
    r = a.sa.put(url(a.lic, "/preferences"), {})
    assert r.status == 200 and r.body == good, (r, good)


# ---------------------------------------------------------------------------------------
# Activity


def make_activity(server):
    a = agreement(server, {"enterprise": 5})
    ids = [add(a.sa, a.lic).body["id"] for _ in range(3)]
    assert a.sa.delete(url(a.lic, f"/subscriptions/{ids[0]}")).status == 204
    add(a.seller, a.lic)
    assert a.sa.put(url(a.lic, "/preferences"), {"alert_threshold": 80}).status == 200
    return a


def test_activity_lists_events_newest_first(server):
    a = make_activity(server)
    body = events(a.sa, a.lic, limit=500)
    evs = body["events"]
    assert body["next_before"] is None, body
    ids = [e["id"] for e in evs]
    assert ids == sorted(ids, reverse=True), ids
    ats = [e["at"] for e in evs]
    assert ats == sorted(ats, reverse=True), ats
    for e in evs:
        assert set(e) >= {"id", "at", "actor", "action", "target_type", "target", "address", "details"}, e
    acts = [(e["actor"], e["action"]) for e in evs]
    assert acts[0] == (a.sa.email, "preferences.updated"), acts
    assert acts[1] == (a.seller.email, "subscription.added"), acts
    assert acts[2] == (a.sa.email, "subscription.removed"), acts
    assert [x for x in acts if x == (a.sa.email, "subscription.added")].__len__() == 3, acts
    added = [e for e in evs if e["action"] == "subscription.added"][0]
    assert added["target_type"] == "subscription" and added["details"]["level"] == "enterprise", added
    # Only this agreement's events.
    assert len(evs) == db_count(server, "audit_events", "agreement_id = ?", (a.id,))


def test_activity_filters(server):
    a = make_activity(server)
    evs = events(a.sa, a.lic, action="subscription.")["events"]
    assert sorted(e["action"] for e in evs) == ["subscription.added"] * 4 + ["subscription.removed"], evs
    evs = events(a.sa, a.lic, actor=a.seller.email.split("@")[0])["events"]
    assert evs and all(e["actor"] == a.seller.email for e in evs), evs
    assert [e["action"] for e in evs].count("subscription.added") == 1, evs
    assert "subscription.removed" not in [e["action"] for e in evs], evs
    assert events(a.sa, a.lic, actor="nobody-at-all")["events"] == []
    assert events(a.sa, a.lic, action="subscription.added.x")["events"] == []
    assert events(a.sa, a.lic, action="ubscription")["events"] == [], "action is a prefix, not a substring"
    # Dates: an old event (written directly) and today's ones.
    old_at = int(datetime.datetime(2021, 6, 15, 12, 0, tzinfo=datetime.timezone.utc).timestamp())
    db_write(server, "INSERT INTO audit_events (at, actor_email, action, target_type, target_id, agreement_id)"
                     " VALUES (?, 'old@example.com', 'test.old', 'agreement', ?, ?)", (old_at, a.lic, a.id))
    evs = events(a.sa, a.lic, **{"from": "2021-06-15", "to": "2021-06-15"})["events"]
    assert [e["action"] for e in evs] == ["test.old"], evs
    assert evs[0]["at"] == "2021-06-15T12:00:00Z", evs
    assert events(a.sa, a.lic, **{"from": "2021-06-16", "to": "2021-06-16"})["events"] == []
    assert events(a.sa, a.lic, to="2021-06-14")["events"] == []
    today = today_utc().isoformat()
    evs = events(a.sa, a.lic, **{"from": today})["events"]
    assert "test.old" not in [e["action"] for e in evs] and len(evs) >= 6, evs
    evs = events(a.sa, a.lic, to=today)["events"]
    assert "test.old" in [e["action"] for e in evs], evs
    tomorrow = (today_utc() + datetime.timedelta(days=1)).isoformat()
    assert events(a.sa, a.lic, **{"from": tomorrow})["events"] == []
    # Combined.
    evs = events(a.sa, a.lic, actor=a.sa.email, action="subscription.rem", **{"from": today, "to": today})["events"]
    assert [e["action"] for e in evs] == ["subscription.removed"], evs


def test_activity_paging_walks_every_event_once(server):
    a = make_activity(server)
    full = [e["id"] for e in events(a.sa, a.lic, limit=500)["events"]]
    assert len(full) >= 6
    seen, before, pages = [], None, 0
    while True:
        q = {"limit": 2}
        if before is not None:
            q["before"] = before
        body = events(a.sa, a.lic, **q)
        pages += 1
        assert len(body["events"]) <= 2, body
        seen += [e["id"] for e in body["events"]]
        before = body["next_before"]
        if before is None:
            break
        assert pages < 50
    assert seen == full, (seen, full)
    assert pages == (len(full) + 1) // 2, (pages, len(full))
    # Paging with a filter.
    seen, before = [], None
    while True:
        q = {"limit": 1, "action": "subscription."}
        if before is not None:
            q["before"] = before
        body = events(a.sa, a.lic, **q)
        seen += [e["action"] for e in body["events"]]
        before = body["next_before"]
        if before is None:
            break
    assert len(seen) == 5 and all(x.startswith("subscription.") for x in seen), seen


def test_activity_validation(server, ag):
    for q, field in (("limit=0", "limit"), ("limit=501", "limit"), ("limit=x", "limit"), ("from=2024-13-01", "from"),
                     ("to=yesterday", "to"), ("before=abc", "before"), ("before=-5", "before")):
        r = ag.sa.get(url(ag.lic, "/activity?" + q))
        errs = field_errors(r)
        assert field in errs, (q, errs)
    errs = field_errors(ag.sa.get(url(ag.lic, "/activity.csv?from=15/06/2021")))
    assert "from" in errs, errs


def test_activity_csv(server):
    a = make_activity(server)
    evs = events(a.sa, a.lic, limit=500)["events"]
    r = a.sa.get(url(a.lic, "/activity.csv"))
    rows = read_csv(r)
    assert rows[0] == ["time", "actor", "action", "target type", "target", "address", "actor name", "action label",
                       "target label", "token id", "token name", "details"], rows[0]
    assert len(rows) == 1 + len(evs), (len(rows), len(evs))
    body = rows[1:]
    assert [x[2] for x in body] == [e["action"] for e in evs], body
    assert [x[1] for x in body] == [e["actor"] for e in evs], body
    assert [x[0] for x in body] == [e["at"] for e in evs], body
    added = [x for x in body if x[2] == "subscription.added"][0]
    assert json.loads(added[-1])["level"] == "enterprise", added
    cd = r.headers.get("Content-Disposition") or ""
    assert f"activity-{a.lic}-{today_utc().isoformat()}.csv" in cd, cd
    # Filters apply to the CSV as well.
    rows = read_csv(a.sa.get(url(a.lic, "/activity.csv?action=subscription.removed")))
    assert len(rows) == 2 and rows[1][2] == "subscription.removed", rows
    # A partner with access may read the activity and its CSV.
    r = a.seller.get(url(a.lic, "/activity"))
    assert r.status == 200 and len(r.body["events"]) == len(evs), r
    assert len(read_csv(a.seller.get(url(a.lic, "/activity.csv")))) == 1 + len(evs)


def test_activity_csv_defuses_formula_like_cells(server):
    """An address may start with '=' (it is a valid e-mail address): in the CSV it is shown
    as typed, behind an apostrophe, never as a formula a spreadsheet would run."""
    ag = agreement(server, {"enterprise": 2})
    evil = "=2+3" + uniq("x") + "@contoso.example"
    adm = verified_user(server, evil)
    n = db_write(server, "INSERT INTO admin_roles (agreement_id, user_id, role, granted_at)"
                         " VALUES (?, ?, 'admin', ?)", (ag.id, adm.user["id"], int(time.time())))
    assert n == 1
    r = adm.post(f"/api/v1/agreements/{ag.lic}/subscriptions", sub_body(name="Eve"))
    assert r.status == 201, r
    rows = read_csv(ag.sa.get(url(ag.lic, "/activity.csv?action=subscription.added")))
    assert len(rows) == 2, rows
    assert rows[1][1] == "'" + evil, rows[1]          # the actor, shown as typed
    assert not any(c.startswith("=") for row in rows for c in row), rows


def test_activity_of_another_agreement_is_not_found(server, ag):
    other = agreement(server, {"enterprise": 1})
    assert_problem(other.sa.get(url(ag.lic, "/activity")), 404, "not_found")
    assert_problem(other.sa.get(url(ag.lic, "/activity.csv")), 404, "not_found")
    assert_problem(other.seller.get(url(ag.lic, "/activity")), 404, "not_found")


# ---------------------------------------------------------------------------------------
# Usage


def test_usage_maxima(server):
    a = agreement(server, {"enterprise": 5, "professional": 4})
    t0 = time.time()
    ids = [add(a.sa, a.lic).body["id"] for _ in range(3)]
    r = a.sa.post(url(a.lic, "/subscriptions/remove"), {"ids": ids[:2]})
    assert r.status == 200 and r.body["count"] == 2, r
    add(a.sa, a.lic)
    lv = usage(a.sa, a.lic)
    assert set(lv) == {"enterprise", "professional"}, lv
    e = lv["enterprise"]
    assert e["purchased"] == 5 and e["assigned"] == 2, e
    assert e["max_life"] == 3 and e["max_12_months"] == 3, e
    assert e["max_life_first_at"] and e["max_12_months_first_at"], e
    assert t0 - 5 <= iso_to_ts(e["max_life_first_at"]) <= time.time() + 5, e
    assert e["max_12_months_first_at"] == e["max_life_first_at"], e
    assert [m["assigned"] for m in e["new_maxima"]] == [1, 2, 3], e
    assert all(m["purchased"] == 5 and m["at"] for m in e["new_maxima"]), e
    assert e["new_maxima"][2]["at"] == e["max_life_first_at"], e
    p = lv["professional"]
    assert (p["purchased"], p["assigned"], p["max_12_months"], p["max_life"]) == (4, 0, 0, 0), p
    assert p["max_12_months_first_at"] is None and p["max_life_first_at"] is None and p["new_maxima"] == [], p
    # The full history as CSV: a header and one row per change.
    r = a.sa.get(url(a.lic, "/usage.csv"))
    rows = read_csv(r)
    assert rows[0] == ["level", "time", "assigned", "purchased"], rows[0]
    assert [(x[0], x[2], x[3]) for x in rows[1:]] == [("enterprise", str(n), "5") for n in (1, 2, 3, 2, 1, 2)], rows
    # The partner may read it too; other agreements may not.
    assert a.seller.get(url(a.lic, "/usage")).status == 200
    other = agreement(server, {"enterprise": 1})
    assert_problem(other.sa.get(url(a.lic, "/usage.csv")), 404)


def test_usage_window_of_twelve_months(server):
    a = agreement(server, {"enterprise": 20, "professional": 20})
    now = int(time.time())
    old = now - 400 * DAY
    lid = level_id(server, "enterprise")
    # An old peak of 10, back to 1 before the twelve-month window opened.
    db_write(server, "INSERT INTO usage_changes (agreement_id, level_id, at, assigned_after, purchased)"
                     " VALUES (?, ?, ?, 10, 20), (?, ?, ?, 1, 20)",
             (a.id, lid, old, a.id, lid, now - 380 * DAY))
    add(a.sa, a.lic)
    add(a.sa, a.lic)
    e = usage(a.sa, a.lic)["enterprise"]
    assert e["max_life"] == 10, e
    assert abs(iso_to_ts(e["max_life_first_at"]) - old) <= 1, e
    assert e["max_12_months"] == 2, e
    assert iso_to_ts(e["max_12_months_first_at"]) >= now - 5, e
    assert [m["assigned"] for m in e["new_maxima"]] == [10], e
    rows = read_csv(a.sa.get(url(a.lic, "/usage.csv")))
    assert [x[2] for x in rows[1:] if x[0] == "enterprise"] == ["10", "1", "1", "2"], rows


# ---------------------------------------------------------------------------------------
# Lifecycle


def lifecycle(server, day):
    return server.cli("lifecycle", "--today", day.isoformat())


def expiring_rows(server, email_addr, lic):
    return outbox_for(server, "agreement_expiring", email_addr, lic)


def test_expiry_reminders(server):
    a = agreement(server, {"enterprise": 2})
    adm = verified_user(server, addr("admin"))
    add_admin(a.sa, a.lic, adm.email)
    today = today_utc()
    end = today + datetime.timedelta(days=47)
    assert db_write(server, "UPDATE agreements SET end_date = ? WHERE id = ?", (end.isoformat(), a.id)) == 1
    p = lifecycle(server, today)
    assert "reminder" in p.stdout, p.stdout
    for who in (a.sa.email, adm.email):
        rows = expiring_rows(server, who, a.lic)
        assert len(rows) == 1, (who, rows)
        d = json.loads(rows[0][1])
        assert d["days"] == "47" and d["end_date"] == end.isoformat() and d["license_number"] == a.lic, d
    assert expiring_rows(server, a.seller.email, a.lic) == [], "partners get no expiry reminder"
    # The same day again: nothing more.
    lifecycle(server, today)
    lifecycle(server, today + datetime.timedelta(days=1))
    for who in (a.sa.email, adm.email):
        assert len(expiring_rows(server, who, a.lic)) == 1, who
    # 41 days later, 6 days are left: only the 7-day reminder (not the 30-day one).
    lifecycle(server, today + datetime.timedelta(days=41))
    for who in (a.sa.email, adm.email):
        rows = expiring_rows(server, who, a.lic)
        assert len(rows) == 2, (who, rows)
        assert sorted(json.loads(x[1])["days"] for x in rows) == ["47", "6"], rows
    notices = sorted(r[0] for r in db_query(server, "SELECT days FROM expiry_notices WHERE agreement_id = ?", (a.id,)))
    assert notices == [7, 30, 60, 120], notices
    lifecycle(server, today + datetime.timedelta(days=42))
    for who in (a.sa.email, adm.email):
        assert len(expiring_rows(server, who, a.lic)) == 2, who
    acts = [e["action"] for e in events(a.sa, a.lic, action="agreement.")["events"]]
    assert acts.count("agreement.expiry_reminder") == 2, acts


def test_reminders_queued_for_a_given_day_are_delivered_now(server):
    """`lifecycle --today D` queues the reminders due on D; they go out at once, not at
    noon of D (the day given only decides which reminders are due)."""
    a = agreement(server, {"enterprise": 1})
    today = today_utc()
    end = today + datetime.timedelta(days=47)
    db_write(server, "UPDATE agreements SET end_date = ? WHERE id = ?", (end.isoformat(), a.id))
    lifecycle(server, today + datetime.timedelta(days=41))
    assert len(expiring_rows(server, a.customer_email, a.lic)) == 1
    due = db_query(server, "SELECT next_attempt_at FROM outbox WHERE template = 'agreement_expiring'"
                           " AND recipient = ?", (a.customer_email,))[0][0]
    assert due <= time.time() + 5, f"queued for {due}, {due - time.time():.0f}s in the future"
    # The subject words the end date as running text: "ends on January 22, 2027".
    long_end = f"{end.strftime('%B')} {end.day}, {end.year}"
    m = server.wait_for_mail(a.customer_email, subject_contains=long_end)
    assert a.lic in m.subject and end.isoformat() not in m.subject, m.subject


def test_lifecycle_rejects_a_bad_date(server):
    p = server.cli("lifecycle", "--today", "2024-02-30x", check=False)
    assert p.returncode != 0, p


def test_read_only_after_the_grace_period(server):
    a = agreement(server, {"enterprise": 3})
    sid = add(a.sa, a.lic).body["id"]
    db_write(server, "UPDATE agreements SET end_date = '2020-01-01' WHERE id = ?", (a.id,))
    before = (db_count(server, "subscriptions", "agreement_id = ?", (a.id,)), db_count(server, "admin_invites"))
    assert_problem(add(a.sa, a.lic, expect=None), 403, "read_only")
    assert_problem(a.seller.post(url(a.lic, "/subscriptions"), sub_body()), 403, "read_only")
    assert_problem(a.sa.delete(url(a.lic, f"/subscriptions/{sid}")), 403, "read_only")
    assert_problem(a.sa.patch(url(a.lic, f"/subscriptions/{sid}"), {"name": "X"}, headers={"If-Match": '"1"'}),
                   403, "read_only")
    assert_problem(a.sa.post(url(a.lic, "/admins"), {"name": "X", "email": addr("x")}), 403, "read_only")
    assert_problem(a.sa.put(url(a.lic, "/preferences"), {"alert_threshold": 50}), 403, "read_only")
    assert before == (db_count(server, "subscriptions", "agreement_id = ?", (a.id,)), db_count(server, "admin_invites"))
    # Reads and exports still work.
    r = a.sa.get(url(a.lic, "/subscriptions"))
    assert r.status == 200 and r.body["total"] == 1, r
    assert a.sa.get(url(a.lic)).body["status"] == "expired"
    assert a.sa.get(url(a.lic, f"/subscriptions/{sid}")).status == 200
    for tail in ("/overview", "/usage", "/activity", "/admins", "/preferences"):
        assert a.sa.get(url(a.lic, tail)).status == 200, tail
    read_csv(a.sa.get(url(a.lic, "/activity.csv")))
    read_csv(a.sa.get(url(a.lic, "/usage.csv")))


def test_writes_still_work_within_the_grace_period(server):
    a = agreement(server, {"enterprise": 3})
    today = today_utc()
    db_write(server, "UPDATE agreements SET end_date = ? WHERE id = ?",
             ((today - datetime.timedelta(days=1)).isoformat(), a.id))
    assert a.sa.get(url(a.lic)).body["status"] == "expired"
    sid = add(a.sa, a.lic).body["id"]
    # The last day of the default 30-day grace period is still writable ...
    db_write(server, "UPDATE agreements SET end_date = ? WHERE id = ?",
             ((today - datetime.timedelta(days=30)).isoformat(), a.id))
    add(a.sa, a.lic)
    # ... the day after it is not.
    db_write(server, "UPDATE agreements SET end_date = ? WHERE id = ?",
             ((today - datetime.timedelta(days=31)).isoformat(), a.id))
    assert_problem(add(a.sa, a.lic, expect=None), 403, "read_only")
    assert_problem(a.sa.delete(url(a.lic, f"/subscriptions/{sid}")), 403, "read_only")


def test_disabled_agreement_is_read_only(server):
    a = agreement(server, {"enterprise": 3})
    db_write(server, "UPDATE agreements SET disabled = 1 WHERE id = ?", (a.id,))
    assert_problem(add(a.sa, a.lic, expect=None), 403, "read_only")
    assert a.sa.get(url(a.lic, "/subscriptions")).status == 200


# ---------------------------------------------------------------------------------------
# The subscriber's view


def test_subscriber_sees_their_subscriptions(server):
    a = agreement(server, {"enterprise": 3, "professional": 2})
    dev_email = addr("dev")
    dev = verified_user(server, dev_email)
    assert dev.session()["recognized"] is False
    r = dev.get("/api/v1/me/subscriptions")
    assert r.status == 200 and r.body["subscriptions"] == [], r
    add(a.sa, a.lic, sign_in_email=dev_email, level="professional", downloads=False)
    assert dev.session()["recognized"] is True
    r = dev.get("/api/v1/me/subscriptions")
    assert r.status == 200, r
    subs = r.body["subscriptions"]
    assert len(subs) == 1, subs
    s = subs[0]
    assert s["license_number"] == a.lic and s["customer"] == a.customer_name, s
    assert s["level"] == "professional" and s["level_name"] == "Professional", s
    assert s["expires"] == a.end_date and s["downloads"] is False and s["status"] == "active", s
    # Someone else's subscriptions are not shown.
    assert db_query(server, "SELECT COUNT(*) FROM subscriptions WHERE agreement_id = ?", (a.id,))[0][0] == 1
    add(a.sa, a.lic)
    assert len(dev.get("/api/v1/me/subscriptions").body["subscriptions"]) == 1
    assert_problem(Client(server).get("/api/v1/me/subscriptions"), 401, "unauthenticated")


def test_subscription_found_whatever_the_case_of_its_address(server):
    a = agreement(server, {"enterprise": 2})
    dev_email = addr("casedev")
    dev = verified_user(server, dev_email)
    add(a.sa, a.lic, sign_in_email=dev_email.upper())
    subs = dev.get("/api/v1/me/subscriptions").body["subscriptions"]
    assert [s["license_number"] for s in subs] == [a.lic], subs
    assert dev.session()["recognized"] is True


def test_question_goes_to_the_customer_and_super_admins(server):
    a = agreement(server, {"enterprise": 3})
    second = verified_user(server, addr("second"))
    add_admin(a.sa, a.lic, second.email, super_admin=True)
    plain = verified_user(server, addr("plainadmin"))
    add_admin(a.sa, a.lic, plain.email)
    for who in (second.email, plain.email):
        server.wait_for_mail(who, subject_contains=a.lic)
    dev_email = addr("asker")
    dev = verified_user(server, dev_email, name="Dev Asker")
    add(a.sa, a.lic, sign_in_email=dev_email)
    r = dev.post("/api/v1/me/questions", {"license_number": a.lic, "subject": "Need Visual Studio",
                                          "message": "Which download do I need?"})
    assert r.status == 202, r
    for who in (a.customer_email, second.email):
        m = server.wait_for_mail(who, subject_contains=a.lic)
        assert "Which download do I need?" in (m.text or ""), m.text
        assert "Need Visual Studio" in (m.text or "") or "Need Visual Studio" in m.subject, m.text
    assert outbox_for(server, "subscriber_question", plain.email) == [], "ordinary admins are not recipients"
    assert outbox_for(server, "subscriber_question", dev_email) == [], "no copy unless asked"
    r = dev.post("/api/v1/me/questions", {"license_number": a.lic, "subject": "Again", "message": "Copy please",
                                          "copy_to_me": True})
    assert r.status == 202, r
    m = server.wait_for_mail(dev_email, subject_contains=a.lic)
    assert "Copy please" in (m.text or ""), m.text
    assert len(outbox_for(server, "subscriber_question", a.customer_email)) == 2
    acts = [e["action"] for e in events(a.sa, a.lic, action="subscriber.")["events"]]
    assert acts == ["subscriber.question", "subscriber.question"], acts


def test_question_goes_to_the_contact_address_when_set(server):
    a = agreement(server, {"enterprise": 3})
    contact = addr("helpdesk", a.domain)
    r = a.sa.put(url(a.lic, "/preferences"), {"contact_email": contact})
    assert r.status == 200 and r.body["contact_email"] == contact, r
    dev_email = addr("asker")
    dev = verified_user(server, dev_email)
    add(a.sa, a.lic, sign_in_email=dev_email)
    before_customer = len(outbox_for(server, "subscriber_question", a.customer_email))
    r = dev.post("/api/v1/me/questions", {"license_number": a.lic, "subject": "Help", "message": "Hello there",
                                          "copy_to_me": True})
    assert r.status == 202, r
    m = server.wait_for_mail(contact, subject_contains=a.lic)
    assert "Hello there" in (m.text or ""), m.text
    server.wait_for_mail(dev_email, subject_contains=a.lic)
    assert len(outbox_for(server, "subscriber_question", a.customer_email)) == before_customer


def test_question_where_nothing_is_held_is_not_found(server):
    a = agreement(server, {"enterprise": 3})
    b = agreement(server, {"enterprise": 3})
    dev_email = addr("asker")
    dev = verified_user(server, dev_email)
    add(a.sa, a.lic, sign_in_email=dev_email)
    before = db_count(server, "outbox")
    assert_problem(dev.post("/api/v1/me/questions", {"license_number": b.lic, "subject": "S", "message": "M"}),
                   404, "not_found")
    assert_problem(dev.post("/api/v1/me/questions", {"license_number": "99999999", "subject": "S", "message": "M"}),
                   404, "not_found")
    # An admin of the agreement who holds no subscription there may not use it either.
    assert_problem(b.sa.post("/api/v1/me/questions", {"license_number": b.lic, "subject": "S", "message": "M"}),
                   404, "not_found")
    assert db_count(server, "outbox") == before


def test_question_validation(server):
    a = agreement(server, {"enterprise": 3})
    dev_email = addr("asker")
    dev = verified_user(server, dev_email)
    add(a.sa, a.lic, sign_in_email=dev_email)
    before = db_count(server, "outbox")
    errs = field_errors(dev.post("/api/v1/me/questions", {}))
    assert errs.get("license_number") == "required" and errs.get("subject") == "required" \
        and errs.get("message") == "required", errs
    errs = field_errors(dev.post("/api/v1/me/questions", {"license_number": a.lic, "subject": "S" * 201,
                                                          "message": "M" * 5001}))
    assert errs.get("subject") == "too_long" and errs.get("message") == "too_long", errs
    errs = field_errors(dev.post("/api/v1/me/questions", {"license_number": a.lic, "subject": "S", "message": ""}))
    assert "message" in errs, errs
    r = dev.post("/api/v1/me/questions", {"license_number": a.lic, "subject": "S" * 200, "message": "M" * 5000})
    assert r.status == 202, r
    assert db_count(server, "outbox") == before + 1
    assert_problem(dev.post("/api/v1/me/questions", {"license_number": a.lic, "subject": "S", "message": "M"},
                            csrf=False), 403, "csrf")
    assert_problem(Client(server).post("/api/v1/me/questions", {"license_number": a.lic, "subject": "S",
                                                                "message": "M"}), 401, "unauthenticated")
