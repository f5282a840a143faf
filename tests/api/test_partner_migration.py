"""The move from per-person partner grants to relationships, on a database made by the
version before it: the schema of migrations 001–015 with the rows that version wrote (partner
organizations and their members, accounts, agreements, live and removed grants, a block), then
a server started on it, which applies migration 016. Every organization with live grants on an
agreement gets one active relationship with every capability that names exactly the people
who had a grant, for a year; removed grants become removed relationships; blocks and the old
grants stay as they were; nobody gains access."""
import time
from types import SimpleNamespace

import pytest

from support import ROOT
from support.agreements import url
from support.accounts import wait_for_link_mail
from support.client import Client
from support.db import PG_MODE, db_query, db_write, pg_connect
from support.server import Maildir, Server, live_servers

BEFORE = 15                 # the last migration of the version before relationships
YEAR = 365 * 86400
NEW_PASSWORD = "a passphrase after the move"


def migration_files():
    d = ROOT / "src" / "store" / "migrations" / ("pg" if PG_MODE else "sqlite")
    files = sorted(p for p in d.glob("*.sql") if int(p.name.split("_")[0]) <= BEFORE)
    assert [int(p.name.split("_")[0]) for p in files] == list(range(1, BEFORE + 1)), files
    return files


def schema_as_the_old_version_left_it(srv):
    """Migrations 001–015 applied and recorded as the server records them (store.c)."""
    now = int(time.time())
    if PG_MODE:
        con = pg_connect(srv.pg_db)
        try:
            with con.cursor() as cur:
                cur.execute("CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL,"
                            " applied_at BIGINT NOT NULL)")
                for f in migration_files():
                    cur.execute(f.read_text())
                    cur.execute("INSERT INTO schema_migrations VALUES (%s, %s, %s)",
                                (int(f.name[:3]), f"migrations/pg/{f.name}", now))
        finally:
            con.close()
        return
    import sqlite3
    srv.data.mkdir(parents=True, exist_ok=True)
    con = sqlite3.connect(str(srv.db_path))
    try:
        con.execute("CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL,"
                    " applied_at BIGINT NOT NULL)")
        for f in migration_files():
            con.executescript(f.read_text())
            con.execute("INSERT INTO schema_migrations VALUES (?, ?, ?)", (int(f.name[:3]), f"migrations/sqlite/{f.name}", now))
        con.commit()
    finally:
        con.close()


def put(srv, sql, params):
    assert db_write(srv, sql, params) == 1, sql


def one(srv, sql, params):
    rows = db_query(srv, sql, params)
    assert len(rows) == 1, (sql, params, rows)
    return rows[0][0]


def rows_as_the_old_version_wrote_them(srv):
    """Organizations P and Q with members, a customer C with agreements A and B; on A two of
    P's people hold live grants (p3, their colleague, none) and Q's person a removed one
    with its block; on B one of P's people holds a live grant."""
    t = int(time.time())
    w = SimpleNamespace(t=t, granted=[t - 90 * 86400, t - 30 * 86400], removed_at=t - 10 * 86400)
    tag = str(t)[-6:]
    for kind, name in (("customer", f"Contoso {tag}"), ("partner", f"Partner P {tag}"), ("partner", f"Partner Q {tag}")):
        put(srv, "INSERT INTO organizations (kind, name, country, created_at) VALUES (?, ?, 'FR', ?)",
            (kind, name, t - 400 * 86400))
    org = lambda name: one(srv, "SELECT id FROM organizations WHERE name = ?", (name,))
    w.c_org, w.p_org, w.q_org = org(f"Contoso {tag}"), org(f"Partner P {tag}"), org(f"Partner Q {tag}")
    w.p_name, w.q_name = f"Partner P {tag}", f"Partner Q {tag}"
    w.users = {}
    for key, name in (("c", "Camille Martin"), ("p1", "Paul Un"), ("p2", "Pia Deux"), ("p3", "Pat Trois"),
                      ("q1", "Quentin Un")):
        email = f"{key}.{tag}@{'contoso' if key == 'c' else key[0] + 'org'}.example"
        put(srv, "INSERT INTO users (email, name, password_hash, language, email_verified_at, created_at, updated_at)"
                 " VALUES (?, ?, ?, 'en', ?, ?, ?)",
            (email, name, "$argon2id$v=19$m=8,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNo", t - 300 * 86400,
             t - 300 * 86400, t - 300 * 86400))
        w.users[key] = SimpleNamespace(email=email, id=one(srv, "SELECT id FROM users WHERE email = ?", (email,)))
    for key, org_id, role in (("p1", w.p_org, "admin"), ("p2", w.p_org, "member"), ("p3", w.p_org, "member"),
                              ("q1", w.q_org, "admin")):
        put(srv, "INSERT INTO partner_members (org_id, email, role, created_at) VALUES (?, ?, ?, ?)",
            (org_id, w.users[key].email, role, t - 200 * 86400))
        w.users[key].member = one(srv, "SELECT id FROM partner_members WHERE org_id = ? AND email = ?",
                                  (org_id, w.users[key].email))
    w.lic = {}
    for key, n in (("A", "1"), ("B", "2")):
        lic = f"7{tag}{n}"
        put(srv, "INSERT INTO agreements (license_number, auth_hash, auth_sealed, customer_org_id, customer_email,"
                 " partner_org_id, program, start_date, end_date, disabled, created_at)"
                 " VALUES (?, ?, ?, ?, ?, ?, 'Open License', '2025-01-01', '2030-12-31', 0, ?)",
            (lic, f"hash-{lic}", f"sealed-{lic}", w.c_org, w.users["c"].email, w.p_org, t - 100 * 86400))
        w.lic[key] = lic
        ag_id = one(srv, "SELECT id FROM agreements WHERE license_number = ?", (lic,))
        setattr(w, key, ag_id)
        put(srv, "INSERT INTO pools (agreement_id, level_id, purchased) SELECT ?, id, 10 FROM levels"
                 " WHERE code = 'enterprise'", (ag_id,))
        put(srv, "INSERT INTO admin_roles (agreement_id, user_id, role, granted_at) VALUES (?, ?, 'super_admin', ?)",
            (ag_id, w.users["c"].id, t - 100 * 86400))
    grant = ("INSERT INTO partner_access (agreement_id, user_id, partner_org_id, route, granted_at, attested_at,"
             " removed_at, removed_by) VALUES (?, ?, ?, ?, ?, ?, ?, ?)")
    put(srv, grant, (w.A, w.users["p1"].id, w.p_org, "order", w.granted[0], None, None, None))
    put(srv, grant, (w.A, w.users["p2"].id, w.p_org, "registration", w.granted[1], w.granted[1], None, None))
    put(srv, grant, (w.A, w.users["q1"].id, w.q_org, "new_license", w.granted[0], w.granted[0], w.removed_at,
                     w.users["c"].id))
    put(srv, grant, (w.B, w.users["p1"].id, w.p_org, "handoff", w.granted[1], None, None, None))
    put(srv, "INSERT INTO partner_blocks (agreement_id, partner_org_id, blocked_at, blocked_by) VALUES (?, ?, ?, ?)",
        (w.A, w.q_org, w.removed_at, w.users["c"].id))
    return w


def blocks(srv):
    return db_query(srv, "SELECT id, agreement_id, partner_org_id, blocked_at, blocked_by, lifted_at, lifted_by"
                         " FROM partner_blocks ORDER BY id")


def old_grants(srv):
    return db_query(srv, "SELECT id, agreement_id, user_id, partner_org_id, route, granted_at, removed_at"
                         " FROM partner_access ORDER BY id")


@pytest.fixture(scope="module")
def moved(tmp_path_factory):
    """A server started on the old version's database, once 016 has run."""
    srv = Server(tmp_path_factory.mktemp("moved") / "data")
    srv.mail = Maildir(srv.data / "maildir")
    live_servers.append(srv)
    try:
        schema_as_the_old_version_left_it(srv)
        w = rows_as_the_old_version_wrote_them(srv)
        w.blocks, w.grants = blocks(srv), old_grants(srv)
        w.started = int(time.time())
        srv.start()
        w.srv = srv
        yield w
        srv.check_stopped_cleanly()
    finally:
        live_servers.remove(srv)
        srv.destroy()


def signed_in(w, key):
    """The person, signed in after setting a password through the reset link (the old
    version's password is not known to the test)."""
    srv, email = w.srv, w.users[key].email
    c = Client(srv)
    assert c.post("/api/v1/password-reset", {"email": email}).status == 202
    tok = wait_for_link_mail(srv, email, "/reset").token("/reset")
    r = c.post("/api/v1/password-reset/confirm", {"token": tok, "password": NEW_PASSWORD})
    assert r.status == 200, r
    r = c.sign_in(email, NEW_PASSWORD)
    assert r.status == 200, r
    return c


def test_the_new_schema_is_recorded(moved):
    # 016 and every migration after it, each once.
    d = ROOT / "src" / "store" / "migrations" / ("pg" if PG_MODE else "sqlite")
    files = list(d.glob("*.sql"))
    latest = max(int(f.name[:3]) for f in files)
    assert latest >= 16
    # Numbers are reserved per change as it is planned, so a later one may land before an
    # earlier: every file once, whatever the gaps.
    assert db_query(moved.srv, "SELECT MAX(version), COUNT(*) FROM schema_migrations") == [(latest, len(files))]


def test_live_grants_become_one_relationship_per_organization_naming_who_had_them(moved):
    w, srv = moved, moved.srv
    rels = db_query(srv, "SELECT agreement_id, partner_org_id, status, capabilities, people, starts_at, ends_at,"
                         " period_days, auto_renew, route, ended_at, ended_by FROM partner_relationships"
                         " WHERE status IN ('pending', 'active') ORDER BY agreement_id")
    assert [(r[0], r[1], r[2], r[3], r[4], r[7], r[8], r[9]) for r in rels] == [
        (w.A, w.p_org, "active", 31, "named", 365, 0, "migrated"),
        (w.B, w.p_org, "active", 31, "named", 365, 0, "migrated"),
    ], rels
    assert [r[5] for r in rels] == [w.granted[0], w.granted[1]], "access began with the first grant"
    for r in rels:
        assert w.started + YEAR - 5 <= r[6] <= int(time.time()) + YEAR + 5, ("about a year on", r)
        assert r[10] is None and r[11] is None, r

    def named(ag):
        return sorted(m for (m,) in db_query(
            srv, "SELECT rp.member_id FROM partner_relationship_people rp JOIN partner_relationships r"
                 " ON r.id = rp.relationship_id WHERE r.agreement_id = ? AND r.status = 'active'", (ag,)))
    assert named(w.A) == sorted([w.users["p1"].member, w.users["p2"].member])
    assert named(w.B) == [w.users["p1"].member]
    assert db_query(srv, "SELECT COUNT(*) FROM partner_requests") == [(0,)]


def test_removed_grants_stay_history_and_blocks_and_grants_are_untouched(moved):
    w, srv = moved, moved.srv
    removed = db_query(srv, "SELECT agreement_id, partner_org_id, capabilities, people, ends_at, route, ended_at,"
                            " ended_by FROM partner_relationships WHERE status NOT IN ('pending', 'active')")
    assert removed == [(w.A, w.q_org, 31, "named", w.removed_at, "migrated", w.removed_at, w.users["c"].id)]
    assert blocks(srv) == w.blocks and len(w.blocks) == 1
    assert old_grants(srv) == w.grants and len(w.grants) == 4


def test_who_had_a_grant_keeps_access_and_nobody_gains_any(moved):
    w = moved
    lic_a, lic_b = w.lic["A"], w.lic["B"]
    for key in ("p1", "p2"):
        c = signed_in(w, key)
        r = c.get(url(lic_a))
        assert r.status == 200 and r.body["role"] == "partner", (key, r)
        assert r.body["capabilities"] == ["read", "assign", "bulk", "usage", "activity"], r.body
        assert c.get(url(lic_a, "/overview")).status == 200
        assert c.get(url(lic_b)).status == (200 if key == "p1" else 404), key
    # A colleague of theirs who never had a grant, and the removed partner, see nothing.
    for key in ("p3", "q1"):
        c = signed_in(w, key)
        for lic in (lic_a, lic_b):
            r = c.get(url(lic))
            assert r.status == 404, (key, lic, r)
        r = c.get("/api/v1/agreements")
        assert r.status == 200 and not [a for a in r.body["agreements"] if a["license_number"] in (lic_a, lic_b)], r


def test_the_customer_sees_the_moved_relationships(moved):
    w = moved
    r = signed_in(w, "c").get(url(w.lic["A"], "/partners"))
    assert r.status == 200, r
    listed = [(p["organization"]["name"], p["status"], p["people"], p["route"]) for p in r.body["relationships"]]
    assert listed == [(w.p_name, "active", "named", "migrated"), (w.q_name, "removed", "named", "migrated")], listed
    live = r.body["relationships"][0]
    assert live["capabilities"] == ["read", "assign", "bulk", "usage", "activity"], live
    assert sorted(p["email"] for p in live["named_people"]) == sorted([w.users["p1"].email, w.users["p2"].email])
    assert live["period_days"] == 365 and live["auto_renew"] is False and live["pending_request"] is None, live
    assert [b["organization"] for b in r.body["blocks"]] == [w.q_name], r.body
