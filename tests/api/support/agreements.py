"""Agreements and who may act on them, made the way production makes them: a partner's order
in the licensing center (the partner gets access, the customer becomes super admin by signing
up with the order's address), or an upstream import with `openseat import agreements`, then a
partner registration. Also the agreement's admins and the numbers an agreement carries."""
import datetime
import random
import time
from types import SimpleNamespace

from support.accounts import addr, partner_user, uniq, unique_email, verified_user
from support.db import db_count, db_query, db_write

ORDERS = "/api/v1/lsc/orders"
AGREEMENTS = "/api/v1/agreements"
REGISTRATIONS = "/api/v1/partner-registrations"

# The characters of an authorization number (no 0/O, 1/I/L).
ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
# The columns of `openseat import agreements`.
CSV_HEADER = ["license_number", "authorization_number", "customer_name", "customer_country", "customer_email",
              "partner_name", "start_date", "end_date", "lines"]

_rng = random.SystemRandom()


# --------------------------------------------------------------------------------------
# Paths


def url(lic, tail=""):
    """An agreement's route in the administration portal."""
    return f"{AGREEMENTS}/{lic}{tail}"


def lic_path(lic):
    """A license's route in the licensing service center."""
    return f"/api/v1/lsc/licenses/{lic}"


# --------------------------------------------------------------------------------------
# Ordered agreements


def agreement(server, lines, seller=None, customer_name=None, domain="contoso.example"):
    """An agreement ordered by a partner (who gets partner access) whose customer has signed up
    and is its super admin. lines: {level: quantity}. The customer's invitation mail is taken
    from the mailbox, so a test's next wait for mail to the customer gets a later one."""
    seller = seller or partner_user(server)
    cust = addr("cust", domain)
    name = customer_name or "Contoso " + uniq("co")
    r = seller.post(ORDERS, {"customer_name": name, "customer_email": cust, "customer_country": "FR",
                             "lines": [{"level": k, "quantity": v} for k, v in lines.items()]})
    assert r.status == 201, f"order: {r}"
    ag = SimpleNamespace(lic=r.body["agreement"]["license_number"], end_date=r.body["agreement"]["end_date"],
                         customer_email=cust, customer_name=name, seller=seller, domain=domain)
    ag.id = db_query(server, "SELECT id FROM agreements WHERE license_number = ?", (ag.lic,))[0][0]
    server.wait_for_mail(cust, subject_contains=ag.lic)   # the customer invitation
    ag.sa = verified_user(server, cust, name="Camille Martin")
    assert role_of(ag.sa, ag.lic) == "super_admin"
    return ag


def role_of(client, lic):
    """The client's role on the agreement (super_admin, admin, partner…), None when it has none."""
    r = client.get(AGREEMENTS)
    assert r.status == 200, r
    roles = [a["role"] for a in r.body["agreements"] if a["license_number"] == lic]
    return roles[0] if roles else None


def add_admin(client, lic, email_addr, name="Ada Admin", expect=201, **kw):
    """POST .../admins: a direct grant (an existing account) or an invitation."""
    body = {"name": name, "email": email_addr}
    body.update(kw)
    r = client.post(url(lic, "/admins"), body)
    if expect is not None:
        assert r.status == expect, f"add admin {email_addr}: want {expect}, got {r}"
    return r


def add_admin_in_db(server, ag):
    """An (ordinary) admin of the agreement, written into admin_roles directly: for tests about
    what an admin may do rather than about how one is appointed."""
    adm = verified_user(server, addr("admin"))
    n = db_write(server, "INSERT INTO admin_roles (agreement_id, user_id, role, granted_at)"
                         " VALUES (?, ?, 'admin', ?)", (ag.id, adm.user["id"], int(time.time())))
    assert n == 1
    r = adm.get(url(ag.lic))
    assert r.status == 200 and r.body["role"] == "admin", r
    return adm


def level_id(server, code):
    return db_query(server, "SELECT id FROM levels WHERE code = ?", (code,))[0][0]


def iso_to_ts(s):
    """The Unix time of an ISO 8601 UTC instant as the API writes them (2025-01-31T12:00:00Z)."""
    return datetime.datetime.strptime(s, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=datetime.timezone.utc).timestamp()


# --------------------------------------------------------------------------------------
# Imported agreements and partner registration


def new_license(server=None):
    """A license number no agreement of `server` has (any free-looking one without a server)."""
    while True:
        n = str(_rng.randint(10000000, 99999999))
        if server is None or not server.db_exists() or \
                not db_count(server, "agreements", "license_number = ?", (n,)):
            return n


def new_authno():
    return "".join(_rng.choice(ALPHABET) for _ in range(14))


def write_import_csv(path, cells):
    """A file for `openseat import agreements` with one agreement: `cells` in CSV_HEADER's order."""
    path.write_text(",".join(CSV_HEADER) + "\n" + ",".join(cells) + "\n", encoding="utf-8")
    return path


def import_agreement(server, partner_name, customer_email=None, customer_name=None, country="FR"):
    """An agreement placed upstream by `partner_name` (created as a partner organization
    with no portal user unless members are added), imported with the CLI."""
    a = SimpleNamespace(lic=new_license(server), authno=new_authno(),
                        customer_email=customer_email or unique_email("cust").replace("@example.com",
                                                                                     "@adatum.example"),
                        customer_name=customer_name or "Adatum " + uniq("co"), partner_name=partner_name)
    cells = [a.lic, a.authno, a.customer_name, country, a.customer_email, partner_name, "2025-01-01",
             "2030-12-31", '"enterprise:10;platforms:3"']
    path = write_import_csv(server.data.parent / f"import-{a.lic}.csv", cells)
    p = server.cli("import", "agreements", str(path))
    assert "imported 1" in p.stdout, p.stdout
    return a


def reg_body(ag, route="new_license", **override):
    """A partner registration for agreement `ag`; keyword arguments override fields (None
    removes one)."""
    body = {"authorization_number": ag.authno, "license_number": ag.lic, "customer_email": ag.customer_email,
            "attestation": True}
    if route is not None:
        body["route"] = route
    for k, v in override.items():
        if v is None:
            body.pop(k, None)
        else:
            body[k] = v
    return body


def assert_granted(r, ag, status=201):
    """A registration answer: 201 granted, or 200 already_registered."""
    want = "granted" if status == 201 else "already_registered"
    assert r.status == status, f"want {status} {want}, got {r}"
    assert r.content_type == "application/json", r
    assert r.body["status"] == want and r.body["license_number"] == ag.lic, r.body
    assert isinstance(r.body["relationship_id"], int), r.body
