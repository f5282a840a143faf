"""The licensing service center: orders (F1), the customer's recognition as super admin
(F2), idempotent retries, re-orders, tenant isolation, input validation, hand-off links
and subscription levels."""
import datetime
import json
import re
import time
import urllib.parse

import pytest

from support.accounts import new_partner, partner_add, signup_and_verify, template_subject, unique_email
from support.agreements import AGREEMENTS, ALPHABET, ORDERS, lic_path
from support.checks import assert_problem, field_errors
from support.client import Client
from support.concurrency import clones, parallel
from support.db import db_count, db_query, db_write

AUTHNO_RE = re.compile(rf"^[{ALPHABET}]{{5}}-[{ALPHABET}]{{4}}-[{ALPHABET}]{{5}}$")
LICENSE_RE = re.compile(r"^[1-9][0-9]{7}$")
DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
LEVEL_CODES = ["enterprise", "professional", "test_professional", "platforms"]
RELATIONSHIPS = "/api/v1/lsc/relationships"
LEVELS = "/api/v1/levels"

FRENCH_MARKERS = ("bonjour", "numéro de licence", "commande", "adresse", "compte", "votre", "vous")
ENGLISH_MARKERS = ("hello", "license number", "order", "address", "account", "your", "you")


def customer_address(prefix="it", domain="adatum.example"):
    """A fresh customer e-mail address (lower case) on the given domain."""
    return unique_email(prefix).split("@")[0] + "@" + domain


def mixed_case(addr):
    """The same address with capitals, e.g. It.1.2@Adatum.Example."""
    local, domain = addr.split("@")
    return local[:1].upper() + local[1:] + "@" + ".".join(p.capitalize() for p in domain.split("."))


def order_body(customer_email, name="Adatum Corporation", country="FR", lines=None, **extra):
    body = {"customer_name": name, "customer_email": customer_email, "customer_country": country,
            "lines": lines if lines is not None else [{"level": "enterprise", "quantity": 5},
                                                      {"level": "professional", "quantity": 10}],
            "po_reference": "PO-2025-0042"}
    if country is None:
        del body["customer_country"]
    body.update(extra)
    return body


def place(client, body, key=None, expect=201):
    r = client.post(ORDERS, body, headers={"Idempotency-Key": key} if key is not None else None)
    if expect is not None:
        assert r.status == expect, f"order: want {expect}, got {r}"
    return r


def pools_of(agreement):
    return {p["level"]: p["purchased"] for p in agreement["pools"]}


def counts(server):
    """Rows that an order could add."""
    return {t: db_count(server, t) for t in ("agreements", "orders", "order_lines", "pools", "outbox",
                                              "idempotency_keys", "organizations", "lsc_relations")}


def language_of(mail):
    t = (mail.subject + "\n" + (mail.text or "")).lower()
    fr = sum(w in t for w in FRENCH_MARKERS)
    en = sum(w in t for w in ENGLISH_MARKERS)
    if fr >= 3 and fr > en:
        return "fr"
    if en >= 3 and en > fr:
        return "en"
    return None


def audit_rows(server, action, license_number):
    return db_query(server,
                    "SELECT e.actor_user_id, e.target_type, e.target_id, e.details FROM audit_events e"
                    " JOIN agreements g ON g.id = e.agreement_id"
                    " WHERE e.action = ? AND g.license_number = ? ORDER BY e.id", (action, license_number))


def unused_license_number(server):
    for n in range(98765432, 10000000, -1111):
        if not db_count(server, "agreements", "license_number = ?", (str(n),)):
            return str(n)
    raise AssertionError("no free license number")


@pytest.fixture(scope="module")
def partner(server):
    """(client, email, org) of a partner user shared by the tests of this module."""
    return new_partner(server, org="Fabrikam Partners " + unique_email("fab").split("@")[0])


# ---------------------------------------------------------------------------------------
# F1 + F2 end to end


def test_order_to_super_admin_end_to_end(server):
    p = Client(server)
    p_email = unique_email("alex")
    signup_and_verify(p, p_email, name="Alex Morgan")
    org = "Fabrikam Partners " + unique_email("org").split("@")[0]
    cname = "Adatum Corporation " + unique_email("c").split("@")[0]
    cust = customer_address("it")

    # Not a partner yet: refused, nothing created.
    before = counts(server)
    assert_problem(place(p, order_body(cust, name=cname), expect=None), 403, "forbidden")
    assert counts(server) == before

    partner_add(server, org, p_email, "FR")
    r = place(p, order_body(cust, name=cname))
    assert r.content_type == "application/json"
    order, ag = r.body["order"], r.body["agreement"]
    lic = order["license_number"]
    assert isinstance(lic, str) and LICENSE_RE.match(lic), lic
    assert isinstance(order["id"], int)
    assert r.headers.get("Location") in (None, lic_path(lic)), r.headers.get("Location")
    assert sorted((l["level"], l["quantity"]) for l in order["lines"]) == [("enterprise", 5), ("professional", 10)]

    assert ag["license_number"] == lic
    assert ag["program"] == "Open License"
    assert ag["customer"] == {"name": cname, "country": "FR"}
    assert ag["customer_email"] == cust
    assert ag["partner"]["name"] == org
    assert ag["status"] == "active"
    assert DATE_RE.match(ag["start_date"]) and DATE_RE.match(ag["end_date"]), ag
    today = datetime.datetime.now(datetime.timezone.utc).date()
    assert abs((datetime.date.fromisoformat(ag["start_date"]) - today).days) <= 1, ag["start_date"]
    assert ag["end_date"] > ag["start_date"]
    authno = ag.get("authorization_number")
    assert isinstance(authno, str) and AUTHNO_RE.match(authno), f"bad authorization number {authno!r}"
    assert pools_of(ag) == {"enterprise": 5, "professional": 10}
    for pool in ag["pools"]:
        assert isinstance(pool.get("level_name"), str) and pool["level_name"], pool

    # The relationship summary and the details, as the partner.
    r = p.get(RELATIONSHIPS)
    assert r.status == 200, r
    mine = [a for a in r.body["agreements"] if a["license_number"] == lic]
    assert len(mine) == 1, r.body
    rel = mine[0]
    assert rel["relation"] == "partner"
    assert rel["customer"] == {"name": cname, "country": "FR"}
    assert rel["program"] == "Open License" and rel["status"] == "active"
    assert rel["start_date"] == ag["start_date"] and rel["end_date"] == ag["end_date"]
    assert "authorization_number" not in rel, "the summary must not carry authorization numbers"

    r = p.get(lic_path(lic))
    assert r.status == 200, r
    d = r.body
    assert d["license_number"] == lic and d["authorization_number"] == authno
    assert pools_of(d) == {"enterprise": 5, "professional": 10}
    assert len(d["orders"]) == 1, d["orders"]
    o = d["orders"][0]
    assert o["id"] == order["id"]
    assert o["po_reference"] == "PO-2025-0042"
    assert o["placed_by"], o
    assert DATE_RE.match(o["placed_at"]), o
    assert sorted((l["level"], l["quantity"]) for l in o["lines"]) == [("enterprise", 5), ("professional", 10)]
    contacts = {(c["role"], c["email"]) for c in d["contacts"]}
    assert ("customer", cust) in contacts, d["contacts"]
    assert ("partner", p_email) in contacts, d["contacts"]
    assert d.get("handoff_url"), "partners get the hand-off link"
    assert lic in d["handoff_url"] and "/handoff" in d["handoff_url"], d["handoff_url"]

    # The invitation, in French for a customer in France.
    m = server.wait_for_mail(cust)
    assert m.subject == template_subject("fr", "customer_invitation", license_number=lic), m.subject
    assert language_of(m) == "fr", f"expected a French invitation:\n{m.subject}\n{m.text}"
    assert lic in m.text and cust in m.text, m.text
    assert "{{" not in m.subject + m.text, m.text
    assert authno not in m.text and authno.replace("-", "") not in m.text, \
        "the invitation must not carry the authorization number"
    links = [l for l in m.links if l.startswith(server.url + "/")]
    assert any(urllib.parse.urlsplit(l).path in ("/signin", "/signup") for l in links), m.links

    # The customer signs up with the address in other capitals, verifies, signs in.
    c = Client(server)
    typed = mixed_case(cust)
    assert typed != cust
    r = c.post("/api/v1/signup", {"name": "Ines Traoré", "email": typed, "password": "correct horse battery"})
    assert r.status == 202, r
    vm = server.wait_for_mail(cust)
    r = c.post("/api/v1/verify", {"token": vm.token("/verify")})
    assert r.status == 200, r
    r = c.sign_in(typed)
    assert r.status == 200, r
    customer_id = r.body["user"]["id"]

    r = c.get(AGREEMENTS)
    assert r.status == 200, r
    assert [(a["license_number"], a["role"]) for a in r.body["agreements"]] == [(lic, "super_admin")], r.body
    a0 = r.body["agreements"][0]
    assert a0["customer"]["name"] == cname
    assert a0["status"] == "active" and a0["start_date"] == ag["start_date"] and a0["end_date"] == ag["end_date"]

    r = c.get(RELATIONSHIPS)
    assert r.status == 200, r
    assert [(a["license_number"], a["relation"]) for a in r.body["agreements"]] == [(lic, "customer")], r.body
    r = c.get(lic_path(lic))
    assert r.status == 200, r
    assert r.body["authorization_number"] == authno
    assert "handoff_url" not in r.body or not r.body["handoff_url"], "hand-off links are for partners only"
    assert_problem(c.get(lic_path(lic) + "/handoff"), 404, "not_found")

    rows = audit_rows(server, "admin.super_admin_granted", lic)
    assert len(rows) == 1, rows
    assert rows[0][2] == str(customer_id), rows
    assert db_query(server, "SELECT COUNT(*) FROM admin_roles ar JOIN agreements g ON g.id = ar.agreement_id"
                            " WHERE g.license_number = ? AND ar.user_id = ? AND ar.role = 'super_admin'",
                    (lic, customer_id))[0][0] == 1

    # Once: signing in again grants and audits nothing more.
    c2 = Client(server)
    assert c2.sign_in(cust).status == 200
    assert len(audit_rows(server, "admin.super_admin_granted", lic)) == 1
    assert [a["license_number"] for a in c2.get(AGREEMENTS).body["agreements"]] == [lic]

    # The partner user has no portal role on it.
    r = p.get(AGREEMENTS)
    assert r.status == 200, r
    assert all(a["role"] != "super_admin" for a in r.body["agreements"] if a["license_number"] == lic)


@pytest.mark.parametrize("country,language,want", [
    ("GB", None, "en"),
    ("US", "fr", "fr"),
    ("BE", None, "fr"),
    ("FR", "en", "en"),
    (None, None, "en"),
])
def test_invitation_language(server, partner, country, language, want):
    p, _, org = partner
    cust = customer_address("lang")
    extra = {"language": language} if language else {}
    r = place(p, order_body(cust, country=country, **extra))
    lic = r.body["order"]["license_number"]
    m = server.wait_for_mail(cust)
    assert m.subject == template_subject(want, "customer_invitation", license_number=lic), \
        f"country {country} language {language}: subject {m.subject!r}"
    assert language_of(m) == want, f"want a {want} mail:\n{m.text}"
    assert lic in m.text and cust in m.text and org in m.text


def test_invitation_to_existing_account_says_sign_in(server, partner):
    p, _, _ = partner
    cust = customer_address("known", "contoso.example")
    c = Client(server)
    signup_and_verify(c, cust, name="Camille Martin")
    r = place(p, order_body(cust, name="Contoso", country="GB"))
    lic = r.body["order"]["license_number"]
    m = server.wait_for_mail(cust)
    assert m.subject == template_subject("en", "customer_invitation_existing", license_number=lic)
    text = m.text.lower()
    assert "sign in" in text, m.text
    assert "create" not in text and "sign up" not in text, f"an existing account is not told to create one:\n{m.text}"
    assert lic in m.text and cust in m.text
    assert server.url + "/signin" in m.links, m.links
    assert not any(urllib.parse.urlsplit(l).path == "/signup" for l in m.links), m.links

    # Same in French.
    cust_fr = customer_address("connu", "contoso.example")
    signup_and_verify(Client(server), cust_fr, language="fr")
    lic_fr = place(p, order_body(cust_fr, name="Contoso", country="FR")).body["order"]["license_number"]
    m = server.wait_for_mail(cust_fr)
    assert m.subject == template_subject("fr", "customer_invitation_existing", license_number=lic_fr)
    assert "connectez-vous" in m.text.lower() and "créez" not in m.text.lower(), m.text

    # The existing (signed-in) customer gets the role at the next sign-in.
    assert c.sign_in(cust).status == 200
    assert [a["license_number"] for a in c.get(AGREEMENTS).body["agreements"]] == [lic]


def test_agreement_keeps_the_ordered_customer_country(server, partner):
    """Two orders for customers of the same name in different countries, by different
    partners: each agreement shows the country given on its own order."""
    p, _, _ = partner
    q, _, _ = new_partner(server)
    name = "Same Name Ltd " + unique_email("n").split("@")[0]
    a = place(p, order_body(customer_address("samefr"), name=name, country="FR")).body["agreement"]
    b = place(q, order_body(customer_address("samegb"), name=name, country="GB")).body["agreement"]
    assert a["customer"] == {"name": name, "country": "FR"}
    assert b["customer"] == {"name": name, "country": "GB"}, \
        f"ordered for country GB, the agreement says {b['customer']}"
    rel = [x for x in q.get(RELATIONSHIPS).body["agreements"] if x["license_number"] == b["license_number"]]
    assert rel and rel[0]["customer"]["country"] == "GB", rel


def test_order_address_in_capitals(server, partner):
    """The customer e-mail is kept normalised, whatever capitals the partner typed."""
    p, _, _ = partner
    cust = customer_address("caps")
    r = place(p, order_body("  " + mixed_case(cust) + " ", country="GB"))
    lic = r.body["order"]["license_number"]
    assert r.body["agreement"]["customer_email"] == cust
    m = server.wait_for_mail(cust)
    assert m.addressed_to(cust) and lic in m.text
    c = Client(server)
    signup_and_verify(c, cust)
    assert [(a["license_number"], a["role"]) for a in c.get(AGREEMENTS).body["agreements"]] == \
        [(lic, "super_admin")]


def test_quantity_bounds_are_accepted(server, partner):
    p, _, _ = partner
    r = place(p, order_body(customer_address("bounds"), lines=[{"level": "test_professional", "quantity": 1},
                                                               {"level": "platforms", "quantity": 100000}]))
    assert pools_of(r.body["agreement"]) == {"test_professional": 1, "platforms": 100000}


# ---------------------------------------------------------------------------------------
# Idempotency


def test_idempotent_replay(server, partner):
    p, _, _ = partner
    cust = customer_address("idem")
    body = order_body(cust)
    key = "order-" + unique_email("k").split("@")[0]

    r1 = place(p, body, key=key)
    order_id, lic = r1.body["order"]["id"], r1.body["order"]["license_number"]
    after_first = counts(server)

    r2 = place(p, body, key=key, expect=200)
    assert r2.body["order"]["id"] == order_id
    assert r2.body["order"]["license_number"] == lic
    assert r2.body["agreement"]["license_number"] == lic
    assert r2.body["agreement"]["authorization_number"] == r1.body["agreement"]["authorization_number"]
    assert pools_of(r2.body["agreement"]) == {"enterprise": 5, "professional": 10}, "a replay must not add seats"
    assert counts(server) == after_first

    # The same body written with its keys in another order (and other spacing) is the same request.
    items = list(body.items())[::-1]
    raw = "{" + ", ".join(f"{json.dumps(k)} :  {json.dumps(v)}" for k, v in items) + "}"
    assert raw != json.dumps(body)
    r3 = p.post(ORDERS, body=raw, headers={"Idempotency-Key": key})
    assert r3.status == 200, r3
    assert r3.body["order"]["id"] == order_id
    assert counts(server) == after_first

    # Same key, different body: conflict, nothing created.
    changed = order_body(cust, lines=[{"level": "enterprise", "quantity": 6},
                                      {"level": "professional", "quantity": 10}])
    assert_problem(place(p, changed, key=key, expect=None), 409, "conflict")
    assert counts(server) == after_first

    # Exactly one invitation for all of that.
    assert db_count(server, "outbox", "recipient = ?", (cust,)) == 1
    server.wait_for_mail(cust)
    server.mail.assert_no_mail(cust, wait=0.5)
    assert db_count(server, "agreements", "customer_email = ?", (cust,)) == 1

    # Another key: a new order and a new agreement.
    r4 = place(p, body, key=key + "-2")
    assert r4.body["order"]["id"] != order_id
    assert r4.body["order"]["license_number"] != lic
    assert db_count(server, "agreements", "customer_email = ?", (cust,)) == 2

    # Without a key, nothing is deduplicated.
    r5 = place(p, body)
    assert r5.body["order"]["license_number"] not in (lic, r4.body["order"]["license_number"])


def test_idempotent_concurrent_retries(server, partner):
    """A burst of retries of one request, all at once: one order, the others replay it."""
    p, _, _ = partner
    cust = customer_address("burst")
    body = order_body(cust)
    key = "burst-" + unique_email("k").split("@")[0]
    p.refresh_csrf()
    before = counts(server)
    cs = clones(p, 8)
    results = parallel(8, lambda i: cs[i].post(ORDERS, body, headers={"Idempotency-Key": key}))
    statuses = sorted(r.status for r in results)
    assert statuses == [200] * (len(results) - 1) + [201], [(r.status, r.body) for r in results]
    assert len({r.body["order"]["id"] for r in results}) == 1
    assert db_count(server, "agreements", "customer_email = ?", (cust,)) == 1
    assert db_count(server, "orders") == before["orders"] + 1
    assert db_count(server, "outbox", "recipient = ?", (cust,)) == 1


def test_concurrent_orders_get_distinct_numbers(server, partner):
    p, _, _ = partner
    p.refresh_csrf()
    cs = clones(p, 8)
    results = parallel(8, lambda i: cs[i].post(ORDERS, order_body(customer_address(f"many{i}"))))
    assert all(r.status == 201 for r in results), [(r.status, r.body) for r in results]
    assert len({r.body["order"]["license_number"] for r in results}) == len(results)
    assert len({r.body["agreement"]["authorization_number"] for r in results}) == len(results)


def test_idempotency_key_is_per_user(server, partner):
    """Another partner's request with the same key is not a replay of the first one."""
    p, _, _ = partner
    q, _, _ = new_partner(server)
    key = "shared-" + unique_email("k").split("@")[0]
    body = order_body(customer_address("peruser"))
    r1 = place(p, body, key=key)
    r2 = q.post(ORDERS, body, headers={"Idempotency-Key": key})
    assert r2.status == 201, f"another user's key must not replay (or leak) the first order: {r2}"
    assert r2.body["order"]["id"] != r1.body["order"]["id"]
    assert r2.body["order"]["license_number"] != r1.body["order"]["license_number"]


def test_idempotency_key_limits(server, partner):
    p, _, _ = partner
    ok = place(p, order_body(customer_address("k128")), key="k" * 128)
    assert ok.status == 201
    assert place(p, order_body(customer_address("k128")), key="k" * 128, expect=None).status == 409
    assert place(p, order_body(customer_address("k1")), key="1").status == 201

    before = counts(server)
    for bad in ("k" * 129, "x" * 200, "has space", "tab\there", "clé-unique", "\u00e9t\u00e9", ""):
        r = place(p, order_body(customer_address("badkey")), key=bad, expect=None)
        errs = field_errors(r)
        assert "Idempotency-Key" in errs, f"key {bad!r}: {r.body}"
    assert counts(server) == before


# ---------------------------------------------------------------------------------------
# Re-orders


def test_reorder_adds_to_pools(server, partner):
    p, _, _ = partner
    cust = customer_address("reorder")
    first = place(p, order_body(cust))
    lic = first.body["order"]["license_number"]
    authno = first.body["agreement"]["authorization_number"]
    server.wait_for_mail(cust)
    n_agreements = db_count(server, "agreements")

    r = place(p, {"license_number": lic, "po_reference": "PO-2",
                  "lines": [{"level": "enterprise", "quantity": 3}, {"level": "platforms", "quantity": 2}]})
    assert r.body["order"]["license_number"] == lic
    assert r.body["order"]["id"] != first.body["order"]["id"]
    assert sorted((l["level"], l["quantity"]) for l in r.body["order"]["lines"]) == [("enterprise", 3), ("platforms", 2)]
    assert pools_of(r.body["agreement"]) == {"enterprise": 8, "professional": 10, "platforms": 2}
    assert r.body["agreement"]["authorization_number"] == authno
    assert db_count(server, "agreements") == n_agreements

    d = p.get(lic_path(lic)).body
    assert pools_of(d) == {"enterprise": 8, "professional": 10, "platforms": 2}
    assert len(d["orders"]) == 2
    assert {o["po_reference"] for o in d["orders"]} == {"PO-2025-0042", "PO-2"}
    # No new invitation for a re-order.
    assert db_count(server, "outbox", "recipient = ?", (cust,)) == 1
    server.mail.assert_no_mail(cust, wait=0.5)

    # The license number may be typed with spaces around it.
    r = place(p, {"license_number": f"  {lic} ", "lines": [{"level": "test_professional", "quantity": 1}]})
    assert pools_of(r.body["agreement"]) == {"enterprise": 8, "professional": 10, "test_professional": 1,
                                             "platforms": 2}


def test_reorder_of_unrelated_license(server, partner):
    p, _, _ = partner
    q, _, _ = new_partner(server)
    lic = place(p, order_body(customer_address("mine"))).body["order"]["license_number"]
    before = counts(server)
    lines = [{"level": "enterprise", "quantity": 1}]

    r = place(q, {"license_number": lic, "lines": lines}, expect=None)
    assert_problem(r, 404, "not_found")
    r = place(q, {"license_number": lic, "lines": lines, "language": "en"}, expect=None)
    assert_problem(r, 404, "not_found")
    assert counts(server) == before
    assert pools_of(p.get(lic_path(lic)).body) == {"enterprise": 5, "professional": 10}

    for bad in ("1234567", "123456789", "1234567a", "abcdefgh", "12 345 678"):
        r = place(p, {"license_number": bad, "lines": lines}, expect=None)
        assert "license_number" in field_errors(r), f"{bad!r}: {r.body}"
    assert counts(server) == before


def test_reorder_of_unknown_license(fresh_server):
    """A license number that does not exist: 404, exactly like an unrelated one (its own
    server, so that a crash here does not take the other tests down)."""
    srv = fresh_server
    p, _, _ = new_partner(srv)
    q, _, _ = new_partner(srv)
    lic = place(q, order_body(customer_address("other"))).body["order"]["license_number"]
    unknown = unused_license_number(srv)
    lines = [{"level": "enterprise", "quantity": 1}]
    before = counts(srv)

    hidden = place(p, {"license_number": lic, "lines": lines}, expect=None)
    assert_problem(hidden, 404, "not_found")
    # With a language given, then without (the invitation language is then not chosen).
    for body in ({"license_number": unknown, "lines": lines, "language": "fr"},
                 {"license_number": unknown, "lines": lines},
                 {"license_number": unknown, "lines": lines, "customer_name": "X",
                  "customer_email": "x@adatum.example"}):
        r = place(p, body, expect=None)
        assert_problem(r, 404, "not_found")
        assert (r.body["title"], r.body.get("detail")) == (hidden.body["title"], hidden.body.get("detail")), \
            "a missing license must look exactly like an unrelated one"
    assert counts(srv) == before
    assert srv.proc.poll() is None, "the server died"


# ---------------------------------------------------------------------------------------
# Tenant isolation


def test_other_partner_sees_nothing(server, partner):
    p, _, org = partner
    cust = customer_address("secret")
    lic = place(p, order_body(cust, name="Secret Customer")).body["order"]["license_number"]

    q, q_email, q_org = new_partner(server, country="DE")
    assert q_org != org
    r = q.get(RELATIONSHIPS)
    assert r.status == 200, r
    assert lic not in [a["license_number"] for a in r.body["agreements"]]
    own = place(q, order_body(customer_address("theirs"), name="Their Customer")).body["order"]["license_number"]
    r = q.get(RELATIONSHIPS)
    assert [a["license_number"] for a in r.body["agreements"]] == [own], r.body
    assert all(a["customer"]["name"] != "Secret Customer" for a in r.body["agreements"])

    hidden = q.get(lic_path(lic))
    missing = q.get(lic_path(unused_license_number(server)))
    for resp in (hidden, missing):
        assert_problem(resp, 404, "not_found")
    assert set(hidden.body) == set(missing.body)
    for k in ("type", "title", "detail", "code", "status"):
        assert hidden.body.get(k) == missing.body.get(k), f"{k}: {hidden.body} vs {missing.body}"
    assert "Secret" not in hidden.raw.decode() and cust not in hidden.raw.decode()

    hidden_h = q.get(lic_path(lic) + "/handoff")
    missing_h = q.get(lic_path(unused_license_number(server)) + "/handoff")
    assert_problem(hidden_h, 404, "not_found")
    assert_problem(missing_h, 404, "not_found")
    assert hidden_h.headers.get("Location") is None
    assert hidden_h.body.get("detail") == missing_h.body.get("detail")

    # A non-numeric or wrongly sized number in the path is just not found.
    for bad in ("abc", "1234567", "123456789"):
        assert_problem(q.get(lic_path(bad)), 404, "not_found")

    # And the first partner still sees its own, not the other's.
    mine = [a["license_number"] for a in p.get(RELATIONSHIPS).body["agreements"]]
    assert lic in mine and own not in mine
    assert_problem(p.get(lic_path(own)), 404, "not_found")


def test_two_members_of_one_partner_share_its_licenses(server, partner):
    p, _, org = partner
    lic = place(p, order_body(customer_address("shared"))).body["order"]["license_number"]
    colleague, colleague_email, _ = new_partner(server, org=org)
    r = colleague.get(lic_path(lic))
    assert r.status == 200, r
    assert r.body.get("relation", "partner") == "partner"
    assert AUTHNO_RE.match(r.body["authorization_number"])
    r = colleague.get(lic_path(lic) + "/handoff")
    assert r.status == 303, r


def test_unrelated_user_sees_nothing(server, partner):
    p, _, _ = partner
    lic = place(p, order_body(customer_address("private"))).body["order"]["license_number"]
    u = Client(server)
    signup_and_verify(u, unique_email("nobody"))
    assert u.get(RELATIONSHIPS).body == {"agreements": []}
    assert u.get(AGREEMENTS).body == {"agreements": []}
    assert_problem(u.get(lic_path(lic)), 404, "not_found")
    assert_problem(u.get(lic_path(lic) + "/handoff"), 404, "not_found")


# ---------------------------------------------------------------------------------------
# Validation


GOOD_LINE = {"level": "enterprise", "quantity": 5}

BAD_ORDERS = [
    ("unknown level", {"lines": [{"level": "gold", "quantity": 5}]}, ["lines[0].level"]),
    ("level missing", {"lines": [{"quantity": 5}]}, ["lines[0].level"]),
    ("level not text", {"lines": [{"level": 1, "quantity": 5}]}, ["lines[0].level"]),
    ("quantity 0", {"lines": [{"level": "enterprise", "quantity": 0}]}, ["lines[0].quantity"]),
    ("quantity negative", {"lines": [{"level": "enterprise", "quantity": -3}]}, ["lines[0].quantity"]),
    ("quantity 100001", {"lines": [{"level": "enterprise", "quantity": 100001}]}, ["lines[0].quantity"]),
    ("quantity as text", {"lines": [{"level": "enterprise", "quantity": "5"}]}, ["lines[0].quantity"]),
    ("quantity fraction", {"lines": [{"level": "enterprise", "quantity": 2.5}]}, ["lines[0].quantity"]),
    ("quantity missing", {"lines": [{"level": "enterprise"}]}, ["lines[0].quantity"]),
    ("quantity null", {"lines": [{"level": "enterprise", "quantity": None}]}, ["lines[0].quantity"]),
    ("second line bad", {"lines": [GOOD_LINE, {"level": "platforms", "quantity": 0}]}, ["lines[1].quantity"]),
    ("line not an object", {"lines": ["enterprise:5"]}, ["lines[0]"]),
    ("customer_email missing", {"customer_email": None}, ["customer_email"]),
    ("customer_email malformed", {"customer_email": "it-at-adatum.example"}, ["customer_email"]),
    ("customer_email two ats", {"customer_email": "a@b@adatum.example"}, ["customer_email"]),
    ("customer_email empty", {"customer_email": ""}, ["customer_email"]),
    ("customer_name empty", {"customer_name": ""}, ["customer_name"]),
    ("customer_name blank", {"customer_name": "   "}, ["customer_name"]),
    ("customer_name missing", {"customer_name": None}, ["customer_name"]),
    ("customer_name too long", {"customer_name": "x" * 1000}, ["customer_name"]),
    ("no lines", {"lines": []}, ["lines"]),
    ("lines missing", {"lines": None}, ["lines"]),
    ("lines a string", {"lines": "enterprise:5"}, ["lines"]),
    ("lines an object", {"lines": {"level": "enterprise", "quantity": 5}}, ["lines"]),
    ("duplicate level", {"lines": [GOOD_LINE, {"level": "professional", "quantity": 1},
                                   {"level": "enterprise", "quantity": 2}]}, ["lines[2].level"]),
    ("too many lines", {"lines": [dict(GOOD_LINE) for _ in range(21)]}, ["lines"]),
    ("country fra", {"customer_country": "fra"}, ["customer_country"]),
    ("country fr", {"customer_country": "fr"}, ["customer_country"]),
    ("country digits", {"customer_country": "F1"}, ["customer_country"]),
    ("language de", {"language": "de"}, ["language"]),
    ("po_reference too long", {"po_reference": "P" * 101}, ["po_reference"]),
    ("everything at once",
     {"customer_name": "", "customer_email": "nope", "customer_country": "fra",
      "lines": [{"level": "gold", "quantity": 0}, {"level": "enterprise", "quantity": "5"},
                {"level": "enterprise", "quantity": 100001}]},
     ["customer_name", "customer_email", "customer_country", "lines[0].level", "lines[0].quantity",
      "lines[1].quantity", "lines[2].level", "lines[2].quantity"]),
]


@pytest.mark.parametrize("case,change,fields", BAD_ORDERS, ids=[c[0] for c in BAD_ORDERS])
def test_bad_order_is_rejected_and_changes_nothing(server, partner, case, change, fields):
    p, _, _ = partner
    body = order_body(customer_address("bad"))
    for k, v in change.items():
        if v is None:
            body.pop(k, None)
        else:
            body[k] = v
    before = counts(server)
    r = place(p, body, key="bad-" + unique_email("k").split("@")[0], expect=None)
    errs = field_errors(r)
    for f in fields:
        assert f in errs, f"{case}: field {f!r} not named in {r.body['errors']}"
    assert counts(server) == before, f"{case}: a rejected order changed the database"
    server.mail.assert_no_mail(body.get("customer_email") or "nobody@adatum.example")


def test_non_partner_cannot_order(server):
    u = Client(server)
    signup_and_verify(u, unique_email("notpartner"))
    before = counts(server)
    r = place(u, order_body(customer_address("np")), expect=None)
    b = assert_problem(r, 403, "forbidden")
    assert "errors" not in b or not b["errors"]
    # Even a re-order of an existing license, or an invalid body, says forbidden.
    assert_problem(place(u, {"lines": []}, expect=None), 403, "forbidden")
    assert counts(server) == before
    assert u.get(RELATIONSHIPS).body == {"agreements": []}


def test_malformed_json_order(server, partner):
    p, _, _ = partner
    before = counts(server)
    assert_problem(p.post(ORDERS, body='{"customer_name": "x", "lines": ['), 400, "malformed_json")
    for raw in ("[]", '"order"', "null", "42"):
        r = p.post(ORDERS, body=raw)
        assert r.status in (400, 422), f"{raw}: {r}"
        assert_problem(r, r.status)
    assert counts(server) == before


# ---------------------------------------------------------------------------------------
# Authentication and CSRF


def test_anonymous_is_refused(server, partner):
    p, _, _ = partner
    lic = place(p, order_body(customer_address("anon"))).body["order"]["license_number"]
    a = Client(server)
    for path in (LEVELS, RELATIONSHIPS, AGREEMENTS, lic_path(lic), lic_path(lic) + "/handoff",
                 lic_path("12345678")):
        r = a.get(path)
        assert_problem(r, 401, "unauthenticated")
        assert r.headers.get("Location") is None
    before = counts(server)
    assert_problem(a.post(ORDERS, order_body(customer_address("anon"))), 401, "unauthenticated")
    assert counts(server) == before


def test_order_needs_csrf(server, partner):
    p, _, _ = partner
    before = counts(server)
    assert_problem(p.post(ORDERS, order_body(customer_address("csrf")), csrf=False), 403, "csrf")
    assert_problem(p.post(ORDERS, order_body(customer_address("csrf")), csrf="not-the-token"), 403, "csrf")
    assert_problem(p.post(ORDERS, order_body(customer_address("csrf")),
                          headers={"Origin": "https://evil.example"}), 403, "csrf")
    assert counts(server) == before


# ---------------------------------------------------------------------------------------
# Hand-off


def test_handoff_redirect(server, partner):
    p, p_email, _ = partner
    lic = place(p, order_body(customer_address("handoff"))).body["order"]["license_number"]
    url = p.get(lic_path(lic)).body["handoff_url"]
    assert url

    r = p.get(lic_path(lic) + "/handoff")
    assert r.status == 303, r
    loc = r.headers.get("Location")
    assert loc and loc.startswith(server.url + "/handoff?token="), loc
    token = urllib.parse.parse_qs(urllib.parse.urlsplit(loc).query)["token"][0]
    assert token.count(".") == 1 and len(token) > 40, token
    assert re.match(r"^[A-Za-z0-9_.-]+$", token), token
    # The signed part names the license and the partner user, and expires in ten minutes.
    import base64
    part = token.split(".")[0]
    claims = json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))
    assert claims.get("lic") == lic and claims.get("email") == p_email, claims
    assert abs(claims["exp"] - (time.time() + 600)) < 60, claims

    # The link the details give leads to the same place.
    path = urllib.parse.urlsplit(url).path
    r2 = p.get(path)
    assert r2.status == 303, r2
    loc2 = r2.headers.get("Location")
    assert loc2.startswith(server.url + "/handoff?token=") and loc2 != loc, "every link is fresh"

    assert len(audit_rows(server, "handoff.issued", lic)) >= 2


# ---------------------------------------------------------------------------------------
# Levels


def test_levels(server):
    en = Client(server)
    signup_and_verify(en, unique_email("levels"))
    r = en.get(LEVELS)
    assert r.status == 200, r
    assert [l["code"] for l in r.body["levels"]] == LEVEL_CODES
    names = dict(db_query(server, "SELECT code, name_en FROM levels"))
    assert {l["code"]: l["name"] for l in r.body["levels"]} == names
    assert names["enterprise"] == "Enterprise"

    fr = Client(server)
    signup_and_verify(fr, unique_email("niveaux"), language="fr")
    r = fr.get(LEVELS)
    assert r.status == 200, r
    assert [l["code"] for l in r.body["levels"]] == LEVEL_CODES
    assert {l["code"]: l["name"] for l in r.body["levels"]} == dict(db_query(server, "SELECT code, name_fr FROM levels"))


def test_level_names_follow_the_user_language(fresh_server):
    """With distinct French names in the table, a French user gets them (list and pools)."""
    assert db_write(fresh_server, "UPDATE levels SET name_fr = 'Plateformes' WHERE code = 'platforms'") == 1
    assert db_write(fresh_server, "UPDATE levels SET name_fr = 'Entreprise (fr)' WHERE code = 'enterprise'") == 1
    p, p_email, _ = new_partner(fresh_server, language="fr")
    names = {l["code"]: l["name"] for l in p.get(LEVELS).body["levels"]}
    assert names["platforms"] == "Plateformes" and names["enterprise"] == "Entreprise (fr)", names
    lic = place(p, order_body(customer_address("fr"), lines=[{"level": "platforms", "quantity": 1}])
                ).body["order"]["license_number"]
    pools = p.get(lic_path(lic)).body["pools"]
    assert [(x["level"], x["level_name"]) for x in pools] == [("platforms", "Plateformes")]

    # The same user in English.
    r = p.patch("/api/v1/account", {"language": "en"})
    assert r.status == 200, r
    names = {l["code"]: l["name"] for l in p.get(LEVELS).body["levels"]}
    assert names["platforms"] == "Platforms" and names["enterprise"] == "Enterprise", names
    pools = p.get(lic_path(lic)).body["pools"]
    assert [(x["level"], x["level_name"]) for x in pools] == [("platforms", "Platforms")]


# ---------------------------------------------------------------------------------------
# Demo data


def test_demo_data(fresh_server):
    srv = fresh_server
    out = srv.cli("demo", timeout=120)
    assert "alex@fabrikam-partner.example" in out.stdout
    m = re.search(r"license (\d{8}), authorization ([A-Z0-9-]{16})", out.stdout)
    assert m, out.stdout
    tailspin_lic = m.group(1)
    again = srv.cli("demo", timeout=120)
    assert tailspin_lic in again.stdout, "the demo seeding is idempotent"
    assert db_count(srv, "agreements") == 3

    alex = Client(srv)
    assert alex.sign_in("alex@fabrikam-partner.example", "demo-password-1").status == 200
    rel = {a["customer"]["name"]: a for a in alex.get(RELATIONSHIPS).body["agreements"]}
    assert set(rel) == {"Contoso", "Northwind Traders"}, rel
    assert all(a["relation"] == "partner" for a in rel.values())
    assert_problem(alex.get(lic_path(tailspin_lic)), 404, "not_found")
    contoso = alex.get(lic_path(rel["Contoso"]["license_number"])).body
    assert pools_of(contoso) == {"enterprise": 25, "professional": 50}

    camille = Client(srv)
    assert camille.sign_in("camille@contoso.example", "demo-password-1").status == 200
    ag = camille.get(AGREEMENTS).body["agreements"]
    assert [(a["customer"]["name"], a["role"]) for a in ag] == [("Contoso", "super_admin")]


# ---------------------------------------------------------------------------------------
# Backup (`openseat backup FILE`, online, while the server runs)


@pytest.mark.sqlite_only
def test_backup_is_a_consistent_sqlite_copy(fresh_server, tmp_path):
    import sqlite3
    srv = fresh_server
    srv.cli("demo", timeout=120)
    dest = tmp_path / "backup.db"
    out = srv.cli("backup", str(dest))
    assert str(dest) in out.stdout, out.stdout
    con = sqlite3.connect(f"file:{dest}?mode=ro", uri=True)
    try:
        assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert con.execute("SELECT COUNT(*) FROM agreements").fetchone()[0] == db_count(srv, "agreements") == 3
    finally:
        con.close()


@pytest.mark.pg_only
def test_backup_is_a_pg_dump_archive(fresh_server, tmp_path):
    """On PostgreSQL the backup is pg_dump's custom format, which pg_restore reads."""
    import subprocess
    srv = fresh_server
    srv.cli("demo", timeout=120)
    dest = tmp_path / "backup.dump"
    out = srv.cli("backup", str(dest), timeout=120)
    assert str(dest) in out.stdout, out.stdout
    assert dest.exists() and dest.read_bytes()[:5] == b"PGDMP", dest
    p = subprocess.run(["pg_restore", "--list", str(dest)], stdin=subprocess.DEVNULL, capture_output=True,
                       text=True, timeout=60)
    assert p.returncode == 0, p.stderr
    assert "TABLE DATA public agreements" in p.stdout, p.stdout[:2000]
