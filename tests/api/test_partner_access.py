"""Partner access to a customer's agreement in the administration portal, and the
customer's control over it: the Open License partner registration (routes new_license
and registration) with its throttles, the licensing-center hand-off (signed links),
the customer notification of every grant, removal and blocks, recognition, and the
authorization of the agreement-scoped routes across tenants."""
import base64
import hashlib
import hmac
import json
import os
import time
import urllib.parse
from types import SimpleNamespace

import pytest

from support.accounts import partner_user, template_subject, uniq, unique_email, verified_user
from support.agreements import (AGREEMENTS, ORDERS, REGISTRATIONS, assert_granted, import_agreement, new_authno,
                                new_license, reg_body, url)
from support.checks import assert_problem, field_errors
from support.client import Client
from support.db import db_count, db_query, db_write

HANDOFF = "/api/v1/handoff"

# The tests share one server: when it has died, each says so instead of failing on refused connections.
pytestmark = pytest.mark.usefixtures("server_alive")


# ---------------------------------------------------------------------------------------
# Helpers


def order_agreement(partner_client, customer_email=None, customer_name=None, country="FR"):
    """An agreement created by an order of this partner user (which gets route "order")."""
    cust = customer_email or unique_email("ordered").replace("@example.com", "@contoso.example")
    name = customer_name or "Contoso " + uniq("co")
    r = partner_client.post(ORDERS, {"customer_name": name, "customer_email": cust, "customer_country": country,
                                     "lines": [{"level": "enterprise", "quantity": 3}]})
    assert r.status == 201, f"order: {r}"
    ag = r.body["agreement"]
    return SimpleNamespace(lic=ag["license_number"], authno=ag["authorization_number"], customer_email=cust,
                           customer_name=name, partner_name=ag["partner"]["name"])


def customer_super_admin(server, ag, language=None, name="Camille Martin"):
    """The customer signs up with the order's e-mail and becomes the agreement's super admin."""
    c = verified_user(server, ag.customer_email, language=language, name=name)
    r = c.get(AGREEMENTS)
    assert r.status == 200, r
    assert (ag.lic, "super_admin") in [(a["license_number"], a["role"]) for a in r.body["agreements"]], r.body
    return c


def add_super_admin_in_db(server, lic, user_id):
    """There is no API to appoint administrators yet, so a second super admin is written
    straight into admin_roles (the same row the customer's own recognition creates)."""
    n = db_write(server, "INSERT INTO admin_roles (agreement_id, user_id, role, granted_at)"
                         " SELECT id, ?, 'super_admin', ? FROM agreements WHERE license_number = ?",
                 (user_id, int(time.time()), lic))
    assert n == 1


def register(client, ag, route="new_license", **override):
    return client.post(REGISTRATIONS, reg_body(ag, route, **override))


def grants(server, lic, email_addr=None, live_only=False):
    """(id, email, org, route, starts_at, created_at, ended_at) of the agreement's partner
    relationships (one per organization), the e-mail being the person whose route created it."""
    sql = ("SELECT r.id, u.email, o.name, r.route, r.starts_at, r.created_at, r.ended_at"
           " FROM partner_relationships r JOIN agreements g ON g.id = r.agreement_id"
           " LEFT JOIN users u ON u.id = r.requested_by JOIN organizations o ON o.id = r.partner_org_id"
           " WHERE g.license_number = ?")
    params = [lic]
    if email_addr:
        sql += " AND u.email = ?"
        params.append(email_addr.lower())
    if live_only:
        sql += " AND r.status IN ('pending', 'active')"
    return db_query(server, sql + " ORDER BY r.id", params)


def agreement_id(server, lic):
    return db_query(server, "SELECT id FROM agreements WHERE license_number = ?", (lic,))[0][0]


def failures(server, scope, key):
    return db_count(server, "auth_failures", "scope = ? AND key = ?", (scope, str(key)))


def audits(server, action, actor_id=None, lic=None):
    """(agreement_id, target_type, target_id, details) of audit events."""
    sql = "SELECT agreement_id, target_type, target_id, details FROM audit_events WHERE action = ?"
    params = [action]
    if actor_id is not None:
        sql += " AND actor_user_id = ?"
        params.append(actor_id)
    if lic is not None:
        sql += " AND agreement_id = (SELECT id FROM agreements WHERE license_number = ?)"
        params.append(lic)
    return db_query(server, sql + " ORDER BY id", params)


def queued(server, template, lic, recipient=None):
    """Outbox rows of `template` about license `lic` (queued with the grant, so visible at once)."""
    # The JSON is read here: json_extract() is SQLite's, PostgreSQL has other operators.
    sql = "SELECT recipient, language, data FROM outbox WHERE template = ?"
    params = [template]
    if recipient:
        sql += " AND recipient = ?"
        params.append(recipient.lower())
    return [(r, lang) for r, lang, data in db_query(server, sql + " ORDER BY id", params)
            if json.loads(data).get("license_number") == lic]


def mail_about(server, to, language, template, lic):
    return server.wait_for_mail(to.lower(), subject_contains=template_subject(language, template,
                                                                              license_number=lic))


def problem_without_request_id(resp):
    b = dict(assert_problem(resp, resp.status))
    b.pop("request_id")
    return b


# --- hand-off tokens


def b64u(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64u(text):
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def handoff_token(client, lic):
    """A fresh hand-off token from the licensing center (redirect not followed)."""
    r = client.get(f"/api/v1/lsc/licenses/{lic}/handoff")
    assert r.status == 303, f"hand-off link for {lic}: {r}"
    loc = r.headers.get("Location")
    assert loc and loc.startswith(client.server.url + "/handoff?token="), loc
    return urllib.parse.parse_qs(urllib.parse.urlsplit(loc).query)["token"][0]


def handoff_key(server):
    rows = db_query(server, "SELECT value FROM settings WHERE key = 'handoff_key'")
    assert rows and len(rows[0][0]) == 64, rows
    return bytes.fromhex(rows[0][0])


def sign_token(key, claims):
    payload = b64u(json.dumps(claims, separators=(",", ":")).encode())
    mac = hmac.new(key, payload.encode(), hashlib.sha256).digest()
    return payload + "." + b64u(mac)


def forge_token(server, lic, email_addr, exp_in=600, key=None):
    return sign_token(key or handoff_key(server),
                      {"lic": lic, "email": email_addr.lower(), "exp": int(time.time()) + exp_in,
                       "nonce": b64u(os.urandom(24))})


def claims_of(token):
    return json.loads(unb64u(token.split(".")[0]))


def handoff(client, token):
    return client.post(HANDOFF, {"token": token})


# ---------------------------------------------------------------------------------------
# 1. Registration


def test_registration_new_license_grants_access(server):
    ag = import_agreement(server, "Litware " + uniq("r"))
    p = partner_user(server, name="Nora Petit")
    before_ids = [g[0] for g in grants(server, ag.lic)]
    assert before_ids == []
    assert_problem(p.get(url(ag.lic)), 404, "not_found")

    t0 = int(time.time())
    r = register(p, ag, route="new_license")
    assert_granted(r, ag, 201)

    rows = grants(server, ag.lic)
    assert len(rows) == 1, rows
    _, email_addr, org, route, granted_at, attested_at, removed_at = rows[0]
    assert (email_addr, org, route, removed_at) == (p.email, p.org, "new_license", None), rows
    assert t0 - 5 <= granted_at <= time.time() + 5, rows
    assert attested_at is not None, "the attestation time is recorded"
    g = audits(server, "partner.access_granted", actor_id=p.user["id"], lic=ag.lic)
    assert len(g) == 1 and json.loads(g[0][3]).get("route") == "new_license", g

    r = p.get(AGREEMENTS)
    assert r.status == 200, r
    mine = [a for a in r.body["agreements"] if a["license_number"] == ag.lic]
    assert len(mine) == 1 and mine[0]["role"] == "partner", r.body
    assert mine[0]["customer"]["name"] == ag.customer_name, mine

    r = p.get(url(ag.lic))
    assert r.status == 200, r
    d = r.body
    assert d["license_number"] == ag.lic and d["role"] == "partner", d
    assert d["customer"] == {"name": ag.customer_name, "country": "FR"}, d
    assert d["program"] == "Open License" and d["status"] == "active", d
    assert (d["start_date"], d["end_date"]) == ("2025-01-01", "2030-12-31"), d


def test_registration_route_registration_and_default(server):
    ag = import_agreement(server, "Litware " + uniq("r"))
    p = partner_user(server)
    assert_granted(register(p, ag, route="registration"), ag, 201)
    assert [g[3] for g in grants(server, ag.lic)] == ["registration"]
    assert p.get(url(ag.lic)).status == 200

    # Without a route the not-recognized page's registration is meant.
    ag2 = import_agreement(server, "Litware " + uniq("r"))
    assert_granted(register(p, ag2, route=None), ag2, 201)
    assert [g[3] for g in grants(server, ag2.lic)] == ["registration"]

    # A registration cannot claim another route.
    ag3 = import_agreement(server, "Litware " + uniq("r"))
    for bad in ("handoff", "order", "NEW_LICENSE", ""):
        r = register(p, ag3, route=bad)
        assert "route" in field_errors(r), f"route {bad!r}: {r}"
    assert grants(server, ag3.lic) == []


@pytest.mark.parametrize("typed", [
    lambda a: a.lower(),
    lambda a: f"{a[:5]} {a[5:9]} {a[9:]}",
    lambda a: f"{a[:5]}-{a[5:9]}-{a[9:]}".lower(),
    lambda a: f" {a[:5]}.{a[5:9]}.{a[9:]} ",
], ids=["lower", "spaces", "dashes-lower", "dots-padded"])
def test_registration_accepts_authorization_number_as_typed(server, typed):
    ag = import_agreement(server, "Litware " + uniq("t"))
    p = partner_user(server)
    typed_authno = typed(ag.authno)
    assert typed_authno != ag.authno
    assert_granted(register(p, ag, authorization_number=typed_authno), ag, 201)
    assert len(grants(server, ag.lic, p.email, live_only=True)) == 1


def test_registration_customer_email_in_other_capitals(server):
    ag = import_agreement(server, "Litware " + uniq("t"))
    p = partner_user(server)
    local, domain = ag.customer_email.split("@")
    assert_granted(register(p, ag, customer_email=local.upper() + "@" + domain.upper()), ag, 201)


def test_already_registered_grants_nothing_twice(server):
    ag = import_agreement(server, "Litware " + uniq("a"))
    customer_super_admin(server, ag)
    p = partner_user(server)
    assert_granted(register(p, ag, route="new_license"), ag, 201)
    assert len(queued(server, "partner_added", ag.lic)) == 1
    mail_about(server, ag.customer_email, "en", "partner_added", ag.lic)

    for route in ("new_license", "registration"):
        r = register(p, ag, route=route)
        assert_granted(r, ag, 200)
    # Other ways of writing the same details: still the same agreement, still once.
    assert_granted(register(p, ag, authorization_number=ag.authno.lower()), ag, 200)

    assert len(grants(server, ag.lic, p.email)) == 1, grants(server, ag.lic)
    assert len(audits(server, "partner.access_granted", lic=ag.lic)) == 1
    assert len(queued(server, "partner_added", ag.lic)) == 1, "no second partner_added notification"
    server.mail.assert_no_mail(ag.customer_email, wait=1.0)
    assert failures(server, "reg_user", p.user["id"]) == 0, "successful attempts do not count as failures"


def test_placing_partner_is_already_registered(server):
    p = partner_user(server)
    ag = order_agreement(p)
    assert [(g[1], g[3]) for g in grants(server, ag.lic)] == [(p.email, "order")]
    assert_granted(register(p, ag), ag, 200)
    assert len(grants(server, ag.lic)) == 1


def test_no_match_is_one_answer_for_every_wrong_field(server):
    ag = import_agreement(server, "Litware " + uniq("n"))
    p = partner_user(server)
    uid = p.user["id"]
    gid = agreement_id(server, ag.lic)
    missing_lic = new_license(server)
    other_authno = new_authno()
    cases = [
        ("authorization", dict(authorization_number=other_authno), ag.lic, gid),
        ("license", dict(license_number=missing_lic), missing_lic, None),
        ("email", dict(customer_email="someone.else@adatum.example"), ag.lic, gid),
    ]
    bodies = []
    for i, (what, change, lic_key, want_agreement) in enumerate(cases, start=1):
        before_lic = failures(server, "reg_license", lic_key)
        r = register(p, ag, **change)
        b = assert_problem(r, 422, "no_match")
        assert "errors" not in b, f"a mismatch must not name a field ({what}): {b}"
        assert b["detail"] == "These details do not match an Open License agreement", b
        assert b["params"] == {"tries_left": 5 - i}, b
        bodies.append({k: v for k, v in problem_without_request_id(r).items() if k != "params"})
        assert failures(server, "reg_user", uid) == i, f"wrong {what}: not counted for the user"
        assert failures(server, "reg_license", lic_key) == before_lic + 1, f"wrong {what}: not counted for the license"
        rows = audits(server, "partner.registration_failed", actor_id=uid)
        assert len(rows) == i, rows
        assert rows[-1][0] == want_agreement, f"wrong {what}: audit agreement_id {rows[-1][0]}, want {want_agreement}"
        assert rows[-1][2] == lic_key, rows[-1]
    assert all(b == bodies[0] for b in bodies), f"the mismatches must be indistinguishable: {bodies}"
    assert grants(server, ag.lic) == []
    assert_problem(p.get(url(ag.lic)), 404, "not_found")

    # The agreement's own failure record names the attempts on it (not the one on another number).
    assert len(audits(server, "partner.registration_failed", lic=ag.lic)) == 2

    # The right details still work afterwards (3 failures < 5), and the success does not count.
    assert_granted(register(p, ag), ag, 201)
    assert failures(server, "reg_user", uid) == 3


def test_attestation_is_required_and_not_counted(server):
    ag = import_agreement(server, "Litware " + uniq("att"))
    p = partner_user(server)
    uid = p.user["id"]
    for att in (False, "absent", "true", 1, "yes", None):
        body = reg_body(ag)
        if att == "absent":
            del body["attestation"]
        else:
            body["attestation"] = att
        errs = field_errors(p.post(REGISTRATIONS, body))
        assert "attestation" in errs, f"attestation {att!r}: {errs}"
    # Missing details: each named `required`, with the attestation unticked as well.
    r = p.post(REGISTRATIONS, {"route": "new_license"})
    errs = field_errors(r)
    for f in ("authorization_number", "license_number", "customer_email"):
        assert errs.get(f) == "required", errs
    assert "attestation" in errs, errs
    r = p.post(REGISTRATIONS, {"attestation": True})
    errs = field_errors(r)
    assert {f: errs.get(f) for f in ("authorization_number", "license_number", "customer_email")} == \
        dict.fromkeys(("authorization_number", "license_number", "customer_email"), "required"), errs

    assert failures(server, "reg_user", uid) == 0, "validation errors are not counted"
    assert failures(server, "reg_license", ag.lic) == 0
    assert audits(server, "partner.registration_failed", actor_id=uid) == []
    assert grants(server, ag.lic) == []
    assert_granted(register(p, ag), ag, 201)


def test_someone_in_no_partner_organization_registers_theirs(server):
    ag = import_agreement(server, "Litware " + uniq("np"))
    customer_super_admin(server, ag, language="en")
    u = verified_user(server, unique_email("newhire"), name="Nina Newhire")
    # Without an organization's name: asked for it, nothing counted.
    for route in ("new_license", "registration"):
        r = register(u, ag, route=route)
        assert field_errors(r).get("organization_name") == "required", r
    assert failures(server, "reg_user", u.user["id"]) == 0
    assert failures(server, "reg_license", ag.lic) == 0
    assert grants(server, ag.lic) == []
    org = "Reseller " + uniq("new")
    # Wrong details with a name: counted as any mismatch, and no organization is created.
    assert_problem(register(u, ag, authorization_number=new_authno(), organization_name=org), 422, "no_match")
    assert db_count(server, "organizations", "name = ?", (org,)) == 0
    # The name of an organization already in openseat: its admins invite people instead.
    taken = partner_user(server).org
    r = register(u, ag, organization_name=taken)
    assert field_errors(r).get("organization_name") == "organization_exists", r
    assert grants(server, ag.lic) == []
    assert db_count(server, "partner_members", "email = ?", (u.email,)) == 0
    # The right details and a new name: the organization exists, with this person as its admin.
    r = register(u, ag, organization_name=org)
    assert_granted(r, ag, 201)
    rows = db_query(server, "SELECT m.role FROM partner_members m JOIN organizations o ON o.id = m.org_id"
                            " WHERE o.name = ? AND o.kind = 'partner' AND m.email = ?", (org, u.email))
    assert rows == [("admin",)], rows
    assert [(g[1], g[2]) for g in grants(server, ag.lic)] == [(u.email, org)]
    assert u.get(url(ag.lic)).status == 200
    assert len(audits(server, "partner.created", actor_id=u.user["id"])) == 1
    # The customer is told, plainly, that the organization is new to the portal.
    m = mail_about(server, ag.customer_email, "en", "partner_added", ag.lic)
    assert org in m.text and "new to openseat" in m.text, m.text


def test_customer_admin_is_not_a_partner_by_registering(server):
    """A customer's super admin in no partner organization is asked for one like anybody."""
    ag = import_agreement(server, "Litware " + uniq("np"))
    sa = customer_super_admin(server, ag)
    r = register(sa, ag)
    assert field_errors(r).get("organization_name") == "required", r
    assert grants(server, ag.lic) == []


def test_registration_needs_sign_in_and_csrf(server):
    ag = import_agreement(server, "Litware " + uniq("cs"))
    anon = Client(server)
    assert_problem(anon.post(REGISTRATIONS, reg_body(ag)), 401, "unauthenticated")
    p = partner_user(server)
    assert_problem(p.post(REGISTRATIONS, reg_body(ag), csrf=False), 403, "csrf")
    assert_problem(p.post(REGISTRATIONS, reg_body(ag), csrf="wrong-token"), 403, "csrf")
    assert grants(server, ag.lic) == []
    assert failures(server, "reg_user", p.user["id"]) == 0


def test_throttle_per_user_then_lifts(server):
    ag = import_agreement(server, "Litware " + uniq("th"))
    ag_other = import_agreement(server, "Litware " + uniq("th"))
    p = partner_user(server)
    uid = p.user["id"]
    wrong = [dict(authorization_number=new_authno()), dict(customer_email="x@adatum.example"),
             dict(license_number=new_license(server)), dict(authorization_number=new_authno()),
             dict(customer_email="y@adatum.example")]
    for change in wrong:
        assert_problem(register(p, ag, **change), 422, "no_match")
    assert failures(server, "reg_user", uid) == 5

    # The sixth attempt is refused even with the right details, on any license.
    for target in (ag, ag_other):
        r = register(p, target)
        b = assert_problem(r, 429, "throttled")
        ra = r.headers.get("Retry-After")
        assert ra is not None and ra.isdigit(), f"Retry-After header: {ra!r}"
        assert 1 <= int(ra) <= 15 * 60, ra
        assert b.get("retry_after") == int(ra), b
    assert grants(server, ag.lic) == [] and grants(server, ag_other.lic) == []
    assert failures(server, "reg_user", uid) == 5, "refused attempts are not recorded again"
    assert len(audits(server, "partner.registration_throttled", actor_id=uid)) == 2

    # The window passes.
    n = db_write(server, "UPDATE auth_failures SET at = at - 3700 WHERE scope = 'reg_user' AND key = ?", (str(uid),))
    assert n == 5
    assert_granted(register(p, ag), ag, 201)
    assert_granted(register(p, ag_other), ag_other, 201)


def test_throttle_per_license(server):
    ag = import_agreement(server, "Litware " + uniq("tl"))
    ag_free = import_agreement(server, "Litware " + uniq("tl"))
    for i in range(4):
        u = partner_user(server)
        for k in range(5):
            # One of the attempts writes the number with spaces around it: same license.
            lic = f"  {ag.lic} " if (i, k) == (3, 4) else ag.lic
            r = register(u, ag, license_number=lic, customer_email=f"wrong{k}@adatum.example")
            assert_problem(r, 422, "no_match")
    assert failures(server, "reg_license", ag.lic) == 20

    fresh = partner_user(server)
    r = register(fresh, ag)
    b = assert_problem(r, 429, "throttled")
    ra = r.headers.get("Retry-After")
    assert ra is not None and ra.isdigit(), ra
    # Limited by the license's hour, not by the user's 15 minutes.
    assert 15 * 60 < int(ra) <= 3600, ra
    assert b.get("retry_after") == int(ra), b
    assert grants(server, ag.lic) == []
    assert failures(server, "reg_user", fresh.user["id"]) == 0

    # The user is not throttled on other licenses.
    assert_granted(register(fresh, ag_free), ag_free, 201)

    n = db_write(server, "UPDATE auth_failures SET at = at - 3700 WHERE scope = 'reg_license' AND key = ?",
                 (ag.lic,))
    assert n == 20
    assert_granted(register(fresh, ag), ag, 201)


# ---------------------------------------------------------------------------------------
# 2. The customer hears of every grant (F6)


def check_partner_added(m, server, ag, p, route_words, language):
    assert m.subject == template_subject(language, "partner_added", license_number=ag.lic), m.subject
    text = m.text or ""
    assert "{{" not in m.subject + text, text
    for want in (p.org, p.name, p.email, ag.lic):
        assert want in text, f"partner_added mail lacks {want!r}:\n{text}"
    for w in route_words:
        assert w.lower() in text.lower(), f"partner_added mail ({language}) does not name the route ({w!r}):\n{text}"
    link = f"{server.url}/agreements/{ag.lic}/partners"
    assert link in m.links, f"no link {link} in {m.links}"
    # The moment is written as running text in the mail's language, not as an ISO date.
    now = time.gmtime()
    if language == "fr":
        months = ["janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre",
                  "octobre", "novembre", "décembre"]
        today = f"{'1er' if now.tm_mday == 1 else now.tm_mday} {months[now.tm_mon - 1]} {now.tm_year} à "
    else:
        today = f"{time.strftime('%B', now)} {now.tm_mday}, {now.tm_year}, "
    assert today in text, f"partner_added mail does not say when ({today}):\n{text}"
    assert time.strftime("%Y-%m-%d", now) not in text, text
    # What the partner may do, and until when (a year by default), in words.
    last = time.gmtime(time.time() + 365 * 86400)
    if language == "fr":
        assert "consulter les abonnés" in text and "journal d’activité" in text, text
        assert f"{months[last.tm_mon - 1]} {last.tm_year} inclus" in text, text
    else:
        assert "see subscribers" in text and "activity log" in text, text
        assert f"{time.strftime('%B', last)}" in text and "(included)" in text, text


def test_partner_added_reaches_customer_and_every_super_admin(server):
    placing = partner_user(server, name="Paul Placing")
    ag = order_agreement(placing, country="FR")
    # The order's own grant (route "order") is not notified.
    assert [(g[1], g[3]) for g in grants(server, ag.lic)] == [(placing.email, "order")]
    assert queued(server, "partner_added", ag.lic) == []

    customer_super_admin(server, ag, language="en")
    sa2 = verified_user(server, unique_email("second.admin"), language="fr", name="Zoé Second")
    add_super_admin_in_db(server, ag.lic, sa2.user["id"])
    assert (ag.lic, "super_admin") in [(a["license_number"], a["role"]) for a in sa2.get(AGREEMENTS).body["agreements"]]

    # new_license
    q = partner_user(server, name="Quentin Dialog")
    assert_granted(register(q, ag, route="new_license"), ag, 201)
    assert sorted(queued(server, "partner_added", ag.lic)) == sorted([(ag.customer_email, "en"),
                                                                      (sa2.user["email"], "fr")])
    check_partner_added(mail_about(server, ag.customer_email, "en", "partner_added", ag.lic), server, ag, q,
                        ["New Open license"], "en")
    check_partner_added(mail_about(server, sa2.user["email"], "fr", "partner_added", ag.lic), server, ag, q,
                        ["Nouveau contrat Open License"], "fr")

    # handoff: another member of the placing organization follows the licensing center's link.
    # Its organization's relationship (from the order) already covers all its people: nothing
    # is granted twice, and nobody is told twice.
    h = partner_user(server, org=placing.org, name="Hugo Handoff")
    assert_granted(handoff(h, handoff_token(h, ag.lic)), ag, 200)
    assert len(queued(server, "partner_added", ag.lic)) == 2

    # registration (the not-recognized page)
    g = partner_user(server, name="Gina Registration")
    assert_granted(register(g, ag, route="registration"), ag, 201)
    check_partner_added(mail_about(server, ag.customer_email, "en", "partner_added", ag.lic), server, ag, g,
                        ["partner registration"], "en")
    check_partner_added(mail_about(server, sa2.user["email"], "fr", "partner_added", ag.lic), server, ag, g,
                        ["enregistrement des partenaires"], "fr")

    # Exactly one per recipient and new relationship; none to the partners themselves.
    assert len(queued(server, "partner_added", ag.lic)) == 4
    for who in (placing, q, h, g):
        assert queued(server, "partner_added", ag.lic, who.email) == []
    time.sleep(0.5)
    assert server.mail.count(ag.customer_email, "partner was added") == 2
    for who in (placing, q, h, g):
        assert server.mail.count(who.email, "partner") == 0, f"{who.email} got a partner mail"


def test_partner_added_language_without_an_account(server):
    """A customer e-mail with no account gets the order's language (French for FR)."""
    placing = partner_user(server)
    ag = order_agreement(placing, country="FR")
    q = partner_user(server, name="Quentin Dialog")
    assert_granted(register(q, ag), ag, 201)
    assert queued(server, "partner_added", ag.lic) == [(ag.customer_email, "fr")]
    check_partner_added(mail_about(server, ag.customer_email, "fr", "partner_added", ag.lic), server, ag, q,
                        ["Nouveau contrat Open License"], "fr")


def test_no_partner_added_for_orders(server):
    placing = partner_user(server)
    ag = order_agreement(placing, country="GB")
    customer_super_admin(server, ag)
    # A re-order by another member of the placing organization.
    other = partner_user(server, org=placing.org)
    r = other.post(ORDERS, {"customer_name": ag.customer_name, "customer_email": ag.customer_email,
                            "license_number": ag.lic, "lines": [{"level": "platforms", "quantity": 1}]})
    assert r.status == 201, r
    assert queued(server, "partner_added", ag.lic) == []
    time.sleep(1.0)
    assert server.mail.count(ag.customer_email, "partner was added") == 0


# ---------------------------------------------------------------------------------------
# 3. Hand-off (F4)


@pytest.fixture
def handoff_setup(server):
    """An agreement imported for a partner organization with two portal members, none of
    whom has access yet."""
    org = "Litware " + uniq("ho")
    ag = import_agreement(server, org)
    a = partner_user(server, org=org, name="Ana Handoff")
    b = partner_user(server, org=org, name="Ben Handoff")
    return SimpleNamespace(ag=ag, a=a, b=b, org=org)


def test_handoff_grants_access(server, handoff_setup):
    s = handoff_setup
    tok = handoff_token(s.a, s.ag.lic)
    assert claims_of(tok)["email"] == s.a.email and claims_of(tok)["lic"] == s.ag.lic
    assert_granted(handoff(s.a, tok), s.ag, 201)
    assert [(g[1], g[2], g[3]) for g in grants(server, s.ag.lic)] == [(s.a.email, s.org, "handoff")]
    r = s.a.get(url(s.ag.lic))
    assert r.status == 200 and r.body["role"] == "partner", r
    assert s.a.session()["recognized"] is True

    # Replayed: the link works once.
    assert_problem(handoff(s.a, tok), 410, "link_invalid")
    # A fresh link for someone who already has access: already registered.
    assert_granted(handoff(s.a, handoff_token(s.a, s.ag.lic)), s.ag, 200)
    assert len(grants(server, s.ag.lic)) == 1


def test_handoff_replay_by_someone_else_is_refused(server, handoff_setup):
    s = handoff_setup
    tok = handoff_token(s.a, s.ag.lic)
    assert_granted(handoff(s.a, tok), s.ag, 201)
    # Same token, another session of the same person: still used up.
    again = Client(server)
    assert again.sign_in(s.a.email).status == 200
    assert_problem(handoff(again, tok), 410, "link_invalid")


def test_handoff_wrong_account_keeps_the_link(server, handoff_setup):
    s = handoff_setup
    tok = handoff_token(s.a, s.ag.lic)
    # Signed in as another partner user (same organization, other address).
    r = handoff(s.b, tok)
    b = assert_problem(r, 403, "wrong_account")
    assert grants(server, s.ag.lic) == []
    # A partner user of another organization.
    stranger = partner_user(server)
    assert_problem(handoff(stranger, tok), 403, "wrong_account")
    assert grants(server, s.ag.lic) == []
    # The right person can still use the same link.
    assert_granted(handoff(s.a, tok), s.ag, 201)
    assert [(g[1], g[3]) for g in grants(server, s.ag.lic)] == [(s.a.email, "handoff")]
    assert b["detail"], b


def test_handoff_expired_tampered_and_foreign_keys(server, handoff_setup):
    s = handoff_setup
    # The forging technique is sound: a token we sign with the server's key is accepted.
    good = forge_token(server, s.ag.lic, s.b.email)
    assert_granted(handoff(s.b, good), s.ag, 201)

    expired = forge_token(server, s.ag.lic, s.a.email, exp_in=-60)
    assert_problem(handoff(s.a, expired), 410, "link_invalid")
    just_expired = forge_token(server, s.ag.lic, s.a.email, exp_in=-1)
    assert_problem(handoff(s.a, just_expired), 410, "link_invalid")

    wrong_key = forge_token(server, s.ag.lic, s.a.email, key=os.urandom(32))
    assert_problem(handoff(s.a, wrong_key), 410, "link_invalid")

    real = handoff_token(s.a, s.ag.lic)
    payload, mac = real.split(".")
    claims = claims_of(real)
    # A byte of the payload changed (a later expiry), signature kept.
    claims["exp"] += 3600
    tampered = b64u(json.dumps(claims, separators=(",", ":")).encode()) + "." + mac
    assert tampered != real
    assert_problem(handoff(s.a, tampered), 410, "link_invalid")
    # One character of the encoded payload flipped.
    i = len(payload) // 2
    flipped = payload[:i] + ("A" if payload[i] != "A" else "B") + payload[i + 1:] + "." + mac
    assert_problem(handoff(s.a, flipped), 410, "link_invalid")
    # Signature of another token.
    other_mac = handoff_token(s.a, s.ag.lic).split(".")[1]
    assert_problem(handoff(s.a, payload + "." + other_mac), 410, "link_invalid")
    for junk in ("abc", "abc.def", real + ".x", payload + ".", "." + mac, real.replace(".", "")):
        assert_problem(handoff(s.a, junk), 410, "link_invalid")
    assert "token" in field_errors(s.a.post(HANDOFF, {}))

    assert [g[1] for g in grants(server, s.ag.lic)] == [s.b.email], "nothing granted by a bad link"
    # None of these used the genuine link up (b's organization already has access: 200).
    assert_granted(handoff(s.a, real), s.ag, 200)


def test_handoff_forged_for_non_partner(server, handoff_setup):
    s = handoff_setup
    u = verified_user(server, unique_email("notpartner"))
    tok = forge_token(server, s.ag.lic, u.user["email"])
    assert_problem(handoff(u, tok), 403, "not_partner")
    assert grants(server, s.ag.lic) == []
    assert u.session()["recognized"] is False


def test_handoff_needs_sign_in_and_csrf(server, handoff_setup):
    s = handoff_setup
    tok = handoff_token(s.a, s.ag.lic)
    assert_problem(Client(server).post(HANDOFF, {"token": tok}), 401, "unauthenticated")
    assert_problem(s.a.post(HANDOFF, {"token": tok}, csrf=False), 403, "csrf")
    assert grants(server, s.ag.lic) == []
    assert_granted(handoff(s.a, tok), s.ag, 201)


def test_handoff_link_only_for_related_partners(server, handoff_setup):
    s = handoff_setup
    stranger = partner_user(server)
    assert_problem(stranger.get(f"/api/v1/lsc/licenses/{s.ag.lic}/handoff"), 404, "not_found")


# ---------------------------------------------------------------------------------------
# 4. Removal and the customer's control


def test_removal_block_and_lift(server):
    org = "Removable Partners " + uniq("rm")
    ag = import_agreement(server, org, customer_name="Tailspin " + uniq("co"))
    sa = customer_super_admin(server, ag, name="Sam Admin")
    r1 = partner_user(server, org=org, name="Rita One")
    r2 = partner_user(server, org=org, name="Rémi Deux", language="fr")
    x = partner_user(server, name="Xavier Other")     # another organization, stays

    assert_granted(handoff(r1, handoff_token(r1, ag.lic)), ag, 201)
    # One relationship per organization: r1's covers all its people, r2 included.
    assert_granted(register(r2, ag, route="registration"), ag, 200)
    assert_granted(register(x, ag, route="new_license"), ag, 201)
    assert r2.get(url(ag.lic)).status == 200

    r = sa.get(url(ag.lic, "/partners"))
    assert r.status == 200, r
    listed = {p["organization"]["name"]: p for p in r.body["relationships"]}
    assert set(listed) == {org, x.org}, r.body
    assert {o: (p["route"], p["status"], p["people"]) for o, p in listed.items()} == {
        org: ("handoff", "active", "all"),
        x.org: ("new_license", "active", "all"),
    }
    for p in listed.values():
        assert isinstance(p["id"], int) and abs(p["starts_at"] - time.time()) < 120, p
        assert p["capabilities"] == ["read", "assign", "bulk", "usage", "activity"], p
        # A year by default; the last day is the one access ends in.
        assert p["ends_at"] - p["starts_at"] == 365 * 86400, p
        assert p["ends_on"] == time.strftime("%Y-%m-%d", time.gmtime(p["ends_at"] - 1)), p
        assert p["auto_renew"] is False and p["ended_at"] is None, p
        assert p["pending_request"] is None, p
    assert r.body["blocks"] == [] and r.body["requests"] == [], r.body

    # Remove r1's organization.
    r = sa.delete(url(ag.lic, f"/partners/{listed[org]['id']}"))
    assert r.status == 204, r
    assert r.raw == b"", r.raw

    # The very next request of each of its people is refused.
    for who in (r1, r2):
        assert_problem(who.get(url(ag.lic)), 404, "not_found")
        assert ag.lic not in [a["license_number"] for a in who.get(AGREEMENTS).body["agreements"]]
        assert who.session()["recognized"] is False
    # The other organization keeps its access.
    assert x.get(url(ag.lic)).status == 200

    r = sa.get(url(ag.lic, "/partners"))
    listed = {p["organization"]["name"]: p for p in r.body["relationships"]}
    assert listed[org]["status"] == "removed", listed[org]
    assert isinstance(listed[org]["ended_at"], int) and abs(listed[org]["ended_at"] - time.time()) < 120
    assert listed[org]["ended_by"] == "Sam Admin", listed[org]
    assert listed[x.org]["status"] == "active"
    blocks = r.body["blocks"]
    assert len(blocks) == 1 and blocks[0]["organization"] == org, blocks
    assert blocks[0]["blocked_by"] == "Sam Admin" and isinstance(blocks[0]["blocked_at"], int), blocks
    block_id = blocks[0]["id"]

    rows = audits(server, "partner.access_removed", actor_id=sa.user["id"], lic=ag.lic)
    assert len(rows) == 1, rows
    assert org in rows[0][3], rows

    # Each of its people is told, in their language.
    m1 = mail_about(server, r1.email, "en", "partner_removed", ag.lic)
    assert org in m1.text and ag.customer_name in m1.text and ag.lic in m1.text, m1.text
    m2 = mail_about(server, r2.email, "fr", "partner_removed", ag.lic)
    assert ag.lic in m2.text and "{{" not in m2.text, m2.text
    assert queued(server, "partner_removed", ag.lic, x.email) == []

    # Removing again: 409.
    assert_problem(sa.delete(url(ag.lic, f"/partners/{listed[org]['id']}")), 409, "conflict")
    assert len(audits(server, "partner.access_removed", lic=ag.lic)) == 1

    # Blocked by every route, for every member of the organization.
    assert_problem(register(r1, ag, route="registration"), 403, "partner_blocked")
    assert_problem(register(r1, ag, route="new_license"), 403, "partner_blocked")
    assert_problem(handoff(r1, handoff_token(r1, ag.lic)), 403, "partner_blocked")
    assert_problem(register(r2, ag, route="new_license"), 403, "partner_blocked")
    r3 = partner_user(server, org=org, name="Rose Trois")
    assert_problem(register(r3, ag, route="registration"), 403, "partner_blocked")
    assert_problem(handoff(r3, handoff_token(r3, ag.lic)), 403, "partner_blocked")
    assert [g[2] for g in grants(server, ag.lic, live_only=True)] == [x.org]
    assert len(queued(server, "partner_added", ag.lic)) == 2, "a blocked attempt notifies nobody"

    # Lift the block.
    assert_problem(sa.delete(url(ag.lic, f"/partner-blocks/{block_id + 100000}")), 404, "not_found")
    r = sa.delete(url(ag.lic, f"/partner-blocks/{block_id}"))
    assert r.status == 204, r
    assert len(audits(server, "partner.block_lifted", actor_id=sa.user["id"], lic=ag.lic)) == 1
    assert sa.get(url(ag.lic, "/partners")).body["blocks"] == []
    assert_problem(sa.delete(url(ag.lic, f"/partner-blocks/{block_id}")), 404, "not_found")

    assert_granted(register(r1, ag, route="registration"), ag, 201)
    assert_granted(handoff(r3, handoff_token(r3, ag.lic)), ag, 200)
    assert r1.get(url(ag.lic)).status == 200 and r3.get(url(ag.lic)).status == 200
    r = sa.get(url(ag.lic, "/partners"))
    rows = [(p["organization"]["name"], p["status"]) for p in r.body["relationships"]]
    assert sorted(rows) == sorted([(org, "active"), (x.org, "active"), (org, "removed")]), rows


def test_removed_partner_can_be_removed_again_after_lift(server):
    org = "Again Partners " + uniq("ag")
    ag = import_agreement(server, org)
    sa = customer_super_admin(server, ag)
    p = partner_user(server, org=org)
    assert_granted(register(p, ag), ag, 201)
    gid = grants(server, ag.lic, p.email)[0][0]
    assert sa.delete(url(ag.lic, f"/partners/{gid}")).status == 204
    bid = sa.get(url(ag.lic, "/partners")).body["blocks"][0]["id"]
    assert sa.delete(url(ag.lic, f"/partner-blocks/{bid}")).status == 204
    assert_granted(register(p, ag), ag, 201)
    gid2 = grants(server, ag.lic, p.email, live_only=True)[0][0]
    assert gid2 != gid
    assert sa.delete(url(ag.lic, f"/partners/{gid2}")).status == 204
    assert_problem(p.get(url(ag.lic)), 404, "not_found")
    assert len(sa.get(url(ag.lic, "/partners")).body["blocks"]) == 1
    assert_problem(register(p, ag), 403, "partner_blocked")


def test_removing_the_placing_partner(server):
    placing = partner_user(server)
    ag = order_agreement(placing, country="GB")
    sa = customer_super_admin(server, ag)
    r = sa.get(url(ag.lic, "/partners"))
    assert [(p["organization"]["name"], p["route"], p["status"]) for p in r.body["relationships"]] == [
        (placing.org, "order", "active")]
    assert placing.get(url(ag.lic)).status == 200
    assert sa.delete(url(ag.lic, f"/partners/{r.body['relationships'][0]['id']}")).status == 204
    assert_problem(placing.get(url(ag.lic)), 404, "not_found")
    assert_problem(register(placing, ag), 403, "partner_blocked")
    assert_problem(handoff(placing, handoff_token(placing, ag.lic)), 403, "partner_blocked")


# ---------------------------------------------------------------------------------------
# 5. Authorization across tenants


@pytest.fixture(scope="module")
def tenants(server):
    """Agreements A and B, each with its super admin, a live partner, and a removed
    (blocked) partner organization."""
    t = SimpleNamespace()
    t.A = import_agreement(server, "Tenant A Partner " + uniq("a"))
    t.B = import_agreement(server, "Tenant B Partner " + uniq("b"))
    t.sa_A = customer_super_admin(server, t.A, name="Ada Admin")
    t.sa_B = customer_super_admin(server, t.B, name="Bea Admin")
    t.p_A = partner_user(server, name="Pat A")
    t.p_B = partner_user(server, name="Pat B")
    t.removed_A = partner_user(server, name="Rex A")
    t.removed_B = partner_user(server, name="Rex B")
    for who, ag in ((t.p_A, t.A), (t.p_B, t.B), (t.removed_A, t.A), (t.removed_B, t.B)):
        assert_granted(register(who, ag), ag, 201)
    t.grant_A = grants(server, t.A.lic, t.p_A.email)[0][0]
    t.grant_B = grants(server, t.B.lic, t.p_B.email)[0][0]
    t.removed_grant_A = grants(server, t.A.lic, t.removed_A.email)[0][0]
    assert t.sa_A.delete(url(t.A.lic, f"/partners/{t.removed_grant_A}")).status == 204
    rb = grants(server, t.B.lic, t.removed_B.email)[0][0]
    assert t.sa_B.delete(url(t.B.lic, f"/partners/{rb}")).status == 204
    t.block_A = t.sa_A.get(url(t.A.lic, "/partners")).body["blocks"][0]["id"]
    t.block_B = t.sa_B.get(url(t.B.lic, "/partners")).body["blocks"][0]["id"]
    t.nobody = verified_user(server, unique_email("norole"))
    return t


def scoped_requests(lic, grant_id, block_id):
    return [("GET", url(lic)), ("GET", url(lic, "/partners")),
            ("DELETE", url(lic, f"/partners/{grant_id}")), ("DELETE", url(lic, f"/partner-blocks/{block_id}"))]


def state(server, t):
    return (grants(server, t.A.lic), grants(server, t.B.lic),
            db_query(server, "SELECT id, lifted_at FROM partner_blocks WHERE id IN (?, ?) ORDER BY id",
                     (t.block_A, t.block_B)))


def test_matrix_other_tenant_is_not_found(server, tenants):
    t = tenants
    before = state(server, t)
    cases = [
        ("partner of A on B", t.p_A, scoped_requests(t.B.lic, t.grant_B, t.block_B)),
        ("super admin of A on B", t.sa_A, scoped_requests(t.B.lic, t.grant_B, t.block_B)),
        ("super admin of B on A", t.sa_B, scoped_requests(t.A.lic, t.grant_A, t.block_A)),
        ("removed partner of A on A", t.removed_A, scoped_requests(t.A.lic, t.grant_A, t.block_A)),
        ("user without a role on A", t.nobody, scoped_requests(t.A.lic, t.grant_A, t.block_A)),
        ("super admin of A, unknown license", t.sa_A,
         scoped_requests(new_license(server), t.grant_A, t.block_A)),
        ("super admin of A, malformed license", t.sa_A, scoped_requests("12ab5678", t.grant_A, t.block_A)),
    ]
    bodies = set()
    for what, who, reqs in cases:
        for method, path in reqs:
            r = who.request(method, path)
            b = assert_problem(r, 404, "not_found")
            bodies.add((b["title"], b["detail"] if "detail" in b else None))
            assert not isinstance(r.body, dict) or "license_number" not in r.body, f"{what} {method} {path}: {r}"
    assert len(bodies) == 1, f"404s differ (existence revealed?): {bodies}"
    assert state(server, t) == before, "a refused request changed something"


def test_matrix_partner_never_manages_partners(server, tenants):
    t = tenants
    before = state(server, t)
    r = t.p_A.get(url(t.A.lic))
    assert r.status == 200 and r.body["role"] == "partner", r
    for method, path in scoped_requests(t.A.lic, t.grant_A, t.block_A)[1:] + [
            ("DELETE", url(t.A.lic, f"/partners/{t.removed_grant_A}")),
            # A grant of B by id through A's URL: refused as well.
            ("DELETE", url(t.A.lic, f"/partners/{t.grant_B}"))]:
        assert_problem(t.p_A.request(method, path), 403, "forbidden")
    assert state(server, t) == before


def test_matrix_cross_ids_through_own_agreement(server, tenants):
    """B's grant and block ids through A's URL, by A's super admin: unknown there."""
    t = tenants
    before = state(server, t)
    assert_problem(t.sa_A.delete(url(t.A.lic, f"/partners/{t.grant_B}")), 404, "not_found")
    assert_problem(t.sa_A.delete(url(t.A.lic, f"/partner-blocks/{t.block_B}")), 404, "not_found")
    for bad in ("999999999", "0", "-1", "abc", "1.5"):
        assert_problem(t.sa_A.delete(url(t.A.lic, f"/partners/{bad}")), 404, "not_found")
        assert_problem(t.sa_A.delete(url(t.A.lic, f"/partner-blocks/{bad}")), 404, "not_found")
    assert state(server, t) == before
    assert t.p_B.get(url(t.B.lic)).status == 200


def test_matrix_anonymous_and_csrf(server, tenants):
    t = tenants
    before = state(server, t)
    anon = Client(server)
    for method, path in scoped_requests(t.A.lic, t.grant_A, t.block_A):
        assert_problem(anon.request(method, path), 401, "unauthenticated")
    for _, path in scoped_requests(t.A.lic, t.grant_A, t.block_A)[2:]:
        assert_problem(t.sa_A.delete(path, csrf=False), 403, "csrf")
        assert_problem(t.sa_A.delete(path, csrf="not-the-token"), 403, "csrf")
        assert_problem(t.sa_A.delete(path, headers={"Origin": "https://evil.example"}), 403, "csrf")
    assert state(server, t) == before
    # The super admin's own view works (control).
    r = t.sa_A.get(url(t.A.lic, "/partners"))
    assert r.status == 200, r
    assert {p["id"] for p in r.body["relationships"]} == {t.grant_A, t.removed_grant_A}, r.body
    r = t.sa_A.get(url(t.A.lic))
    assert r.status == 200 and r.body["role"] == "super_admin", r


def test_matrix_admin_is_not_a_super_admin(server, tenants):
    """An (ordinary) admin of A sees the agreement but not its Partners routes. There is
    no API to appoint admins yet, so the role is written into admin_roles directly."""
    t = tenants
    before = state(server, t)
    adm = verified_user(server, unique_email("admin"))
    n = db_write(server, "INSERT INTO admin_roles (agreement_id, user_id, role, granted_at)"
                         " VALUES (?, ?, 'admin', ?)",
                 (agreement_id(server, t.A.lic), adm.user["id"], int(time.time())))
    assert n == 1
    r = adm.get(url(t.A.lic))
    assert r.status == 200 and r.body["role"] == "admin", r
    assert adm.session()["recognized"] is True
    for method, path in scoped_requests(t.A.lic, t.grant_A, t.block_A)[1:]:
        assert_problem(adm.request(method, path), 403, "forbidden")
    for method, path in scoped_requests(t.B.lic, t.grant_B, t.block_B):
        assert_problem(adm.request(method, path), 404, "not_found")
    assert state(server, t) == before


# ---------------------------------------------------------------------------------------
# 6. Recognition


def test_recognition(server):
    plain = verified_user(server, unique_email("plain"))
    s = plain.session()
    assert s["authenticated"] is True
    assert s.get("recognized") is False and s.get("partner") is False, s

    ag = import_agreement(server, "Litware " + uniq("rec"))
    p = partner_user(server)
    s = p.session()
    assert s.get("recognized") is False and s.get("partner") is True, s

    assert_granted(register(p, ag), ag, 201)
    s = p.session()
    assert s.get("recognized") is True and s.get("partner") is True, s

    sa = customer_super_admin(server, ag)
    s = sa.session()
    assert s.get("recognized") is True and s.get("partner") is False, s

    gid = grants(server, ag.lic, p.email)[0][0]
    assert sa.delete(url(ag.lic, f"/partners/{gid}")).status == 204
    s = p.session()
    assert s.get("recognized") is False and s.get("partner") is True, s

    anon = Client(server).session()
    assert anon["authenticated"] is False and "recognized" not in anon, anon


def test_placing_partner_is_recognized(server):
    p = partner_user(server)
    assert p.session()["recognized"] is False
    order_agreement(p)
    assert p.session()["recognized"] is True
