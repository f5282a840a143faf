"""Every error path of the state-changing routes is clean, proved by failing each database
operation in turn.

The server runs with --fault-injection (test build only). A request carrying
`X-Openseat-Fault: stmt:N` has its Nth database operation (statement, outermost begin or
commit) fail as the database would; every reply says how many operations it ran
(`X-Openseat-Ops`) and whether the fault fired (`X-Openseat-Fault-Fired`). For each route:
one clean run counts its operations and records what it changes, then for N = 1..count the
Nth operation fails, and:

- the answer is a problem+json 500 `internal` (503 `unavailable` for a busy database), or,
  where the failed operation was best effort, the clean run's own answer;
- the database holds the route's whole change or none of it (row counts of every table, the
  rows edited in place, and every pool's `assigned` equal to its subscriptions);
- the server still answers /healthz.

Refused sign-in and registration attempts are recorded as throttle failures on purpose in
a transaction of their own, so auth_failures is left out of the comparison.
"""
import time
from types import SimpleNamespace

import pytest

from support.accounts import addr, partner_add, partner_user, unique_email, verified_user
from support.agreements import AGREEMENTS, ORDERS, agreement
from support.checks import assert_problem
from support.client import Client
from support.db import db_query, db_write
from support.files import export_rows, to_csv
from support.server import healthy, module_server
from support.subscriptions import sub_body, subs

TABLES = ("users", "email_tokens", "sessions", "outbox", "audit_events", "settings", "organizations",
          "partner_members", "agreements", "orders", "order_lines", "pools", "lsc_relations", "admin_roles",
          "idempotency_keys", "handoff_nonces", "partner_access", "partner_blocks", "subscriptions",
          "seat_releases", "usage_changes", "admin_invites", "agreement_prefs", "expiry_notices", "sub_terms",
          "sub_term_counts", "programs", "jobs", "job_files", "partner_relationships", "partner_requests",
          "partner_relationship_people", "events", "job_changes", "api_tokens", "webhook_endpoints",
          "webhook_deliveries")
# Rows changed in place (a count alone would not see the change).
CONTENT = {
    "subscriptions": "SELECT uuid, name, sign_in_email, notification_email, reference, downloads, country,"
                     " language, version FROM subscriptions ORDER BY uuid",
    "pools": "SELECT agreement_id, level_id, purchased, assigned FROM pools ORDER BY 1, 2",
    "agreement_prefs": "SELECT agreement_id, contact_email, default_level, default_country, default_language,"
                       " default_downloads, allow_outside_domains, alert_threshold FROM agreement_prefs ORDER BY 1",
    "partner_access": "SELECT id, removed_at FROM partner_access ORDER BY id",
    "partner_blocks": "SELECT id, lifted_at FROM partner_blocks ORDER BY id",
    "admin_roles": "SELECT agreement_id, user_id, role FROM admin_roles ORDER BY 1, 2",
    "users": "SELECT id, email_verified_at FROM users ORDER BY id",
    "partner_relationship_people": "SELECT relationship_id, member_id FROM partner_relationship_people ORDER BY 1, 2",
    "partner_relationships": "SELECT id, status, people, capabilities, ends_at, auto_renew FROM partner_relationships"
                             " ORDER BY id",
    "partner_requests": "SELECT id, status, reason FROM partner_requests ORDER BY id",
    "api_tokens": "SELECT id, revoked_at, revoked_by FROM api_tokens ORDER BY id",
    "webhook_endpoints": "SELECT id, url, description, event_types, enabled, secret, previous_secret"
                         " FROM webhook_endpoints ORDER BY id",
}
# Operations whose failure a route rides out on purpose (the reason is beside each call):
# withdrawing a provisional throttle failure, touching a session.
BEST_EFFORT = ("DELETE FROM auth_failures WHERE id", "UPDATE sessions SET last_seen_at")
# Whether a change creates these rows depends on what is there already (a customer
# organization, a search term seen before): left out of "the same change", and checked by
# invariants instead (assert_consistent).
VARIES = {"organizations", "sub_term_counts"}
COUNTS_SQL = " UNION ALL ".join(f"SELECT '{t}', COUNT(*) FROM {t}" for t in TABLES)


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """A server of this module's own, with fault injection on (mail into its Maildir)."""
    yield from module_server(tmp_path_factory, "faults", ["--fault-injection"])


def snapshot(server):
    snap = {t: n for t, n in db_query(server, COUNTS_SQL)}
    for t, sql in CONTENT.items():
        snap[t + "*"] = db_query(server, sql)
    return snap


def changed(before, after):
    """What changed: {table: row count difference} plus {table*: True} for edited rows."""
    out = {}
    for k in before:
        if k.rstrip("*") in VARIES:
            continue
        if k.endswith("*"):
            if before[k] != after[k]:
                out[k] = True
        elif after[k] != before[k]:
            out[k] = after[k] - before[k]
    return out


def assert_consistent(server):
    assert_pools_consistent(server)
    rows = db_query(server, "SELECT c.agreement_id, c.term, c.n, (SELECT COUNT(*) FROM sub_terms t"
                            " WHERE t.agreement_id = c.agreement_id AND t.term = c.term) AS m"
                            " FROM sub_term_counts c WHERE c.n <> (SELECT COUNT(*) FROM sub_terms t"
                            " WHERE t.agreement_id = c.agreement_id AND t.term = c.term)")
    assert not rows, f"term counts that differ from the terms (agreement, term, n, rows): {rows[:5]}"


def assert_pools_consistent(server):
    rows = db_query(server, "SELECT p.agreement_id, p.level_id, p.assigned, (SELECT COUNT(*) FROM subscriptions s"
                            " WHERE s.agreement_id = p.agreement_id AND s.level_id = p.level_id)"
                            " FROM pools p WHERE p.assigned <> (SELECT COUNT(*) FROM subscriptions s"
                            " WHERE s.agreement_id = p.agreement_id AND s.level_id = p.level_id)")
    assert not rows, f"pools whose assigned differs from their subscriptions (agreement, level, assigned, rows): {rows}"


def settle(server):
    """Wait until the mail worker has nothing in flight, so only the request changes the outbox."""
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if not db_query(server, "SELECT COUNT(*) FROM outbox WHERE sent_at IS NULL")[0][0]:
            return
        time.sleep(0.05)


def run_route(server, name, prepare, call, clean_status):
    """prepare() -> state for one run; call(state, headers) -> Response. Counts, then fails each operation."""
    state = prepare()
    settle(server)
    before = snapshot(server)
    r = call(state, {})
    assert r.status == clean_status, f"{name}: clean run: {r}"
    ops = int(r.headers.get("X-Openseat-Ops") or 0)
    assert ops > 0, f"{name}: no operation counted ({r.headers.get('X-Openseat-Ops')!r})"
    settle(server)
    want = changed(before, snapshot(server))
    assert want, f"{name}: the clean run changed nothing"
    failures, after_commit, swallowed = [], [], []
    for n in range(1, ops + 1):
        state = prepare()
        settle(server)
        before = snapshot(server)
        r = call(state, {"X-Openseat-Fault": f"stmt:{n}" + (":busy" if n % 5 == 0 else "")})
        settle(server)
        got = changed(before, snapshot(server))
        fired = r.headers.get("X-Openseat-Fault-Fired") == "1"
        try:
            assert healthy(server.port), "/healthz does not answer 200 after the fault"
            assert_consistent(server)
            if r.status == clean_status:
                # The failed operation was best effort (or did not happen: the count varies).
                op = r.headers.get("X-Openseat-Fault-Op") or ""
                assert not fired or op.startswith(BEST_EFFORT), \
                    f"answered {r.status} as if nothing failed, though {op!r} did: an error swallowed"
                assert got == want, f"answered {r.status} like the clean run, changed {got} instead of {want}"
                if fired:
                    swallowed.append(n)
            else:
                assert fired, f"the fault did not fire, yet the answer is {r}"
                want_status, want_code = (503, "unavailable") if n % 5 == 0 else (500, "internal")
                assert_problem(r, want_status, want_code)
                assert got in ({}, want), f"half-written: changed {got}; the clean run changed {want}"
                if got:
                    after_commit.append(n)
        except AssertionError as e:
            failures.append(f"{name}, operation {n}/{ops}: {e}")
    assert not failures, "\n".join(failures)
    # For the record (pytest -s): operations whose failure the route rode out (best effort),
    # and those after the commit (the change is whole, the answer says it failed).
    print(f"\n{name}: {ops} operations; best effort: {swallowed}; failed after the commit: {after_commit}")
    return ops, after_commit


# ---------------------------------------------------------------------------------------
# The routes


@pytest.fixture(scope="module")
def world(server):
    w = SimpleNamespace()
    w.seller = partner_user(server)
    w.ag = agreement(server, {"enterprise": 1000, "professional": 1000}, seller=w.seller)
    r = w.ag.sa.put(f"{AGREEMENTS}/{w.ag.lic}/preferences",
                    {"default_level": "enterprise", "default_country": "FR", "default_language": "en"})
    assert r.status == 200, r
    return w


def new_sub(ag):
    r = ag.sa.post(subs(ag.lic), sub_body(send_email=False))
    assert r.status == 201, r
    return r.body


def test_signup(server):
    def call(_, h):
        return Client(server).post("/api/v1/signup", {"name": "Ada", "email": unique_email("fault"),
                                                      "password": "correct horse battery"}, headers=h)
    run_route(server, "sign-up", lambda: None, call, 202)


def test_signin(server):
    email = unique_email("signin")
    verified_user(server, email)

    def prepare():
        c = Client(server)
        c.refresh_csrf()
        return c

    run_route(server, "sign-in", prepare,
              lambda c, h: c.post("/api/v1/session", {"email": email, "password": "correct horse battery"},
                                  headers=h), 200)


def test_order_create(server, world):
    def call(_, h):
        return world.seller.post(ORDERS, {"customer_name": "Fault Co", "customer_email": addr("cust", "contoso.example"),
                                          "customer_country": "FR", "lines": [{"level": "enterprise", "quantity": 3}]},
                                 headers=h)
    run_route(server, "order create", lambda: None, call, 201)


def test_partner_registration(server, world):
    p = partner_user(server)

    def prepare_with_email():
        cust = addr("reg", "contoso.example")
        db_write(server, "DELETE FROM auth_failures")
        r = world.seller.post(ORDERS, {"customer_name": "Reg Co", "customer_email": cust, "customer_country": "FR",
                                       "lines": [{"level": "enterprise", "quantity": 3}]})
        assert r.status == 201, r
        a = r.body["agreement"]
        return {"route": "new_license", "license_number": a["license_number"],
                "authorization_number": a["authorization_number"], "customer_email": cust, "attestation": True}

    run_route(server, "partner registration", prepare_with_email,
              lambda body, h: p.post("/api/v1/partner-registrations", body, headers=h), 201)


def test_subscriber_add(server, world):
    ag = world.ag
    run_route(server, "subscriber add", lambda: None,
              lambda _, h: ag.sa.post(subs(ag.lic), sub_body(send_email=True), headers=h), 201)


def test_subscriber_edit(server, world):
    ag = world.ag
    run_route(server, "subscriber edit", lambda: new_sub(ag),
              lambda s, h: ag.sa.patch(subs(ag.lic, "/" + s["id"]), {"name": "Changed Name",
                                                                      "sign_in_email": addr("moved")},
                                       headers={"If-Match": '"1"', **h}), 200)


def test_subscriber_remove(server, world):
    ag = world.ag
    run_route(server, "subscriber remove", lambda: [new_sub(ag), new_sub(ag)],
              lambda s, h: ag.sa.post(subs(ag.lic, "/remove"), {"ids": [x["id"] for x in s]}, headers=h), 200)


def test_subscriber_delete(server, world):
    ag = world.ag
    run_route(server, "subscriber delete", lambda: new_sub(ag),
              lambda s, h: ag.sa.delete(subs(ag.lic, "/" + s["id"]), headers=h), 204)


def test_subscriber_resend(server, world):
    ag = world.ag
    s = new_sub(ag)
    run_route(server, "subscriber resend", lambda: s,
              lambda s, h: ag.sa.post(subs(ag.lic, "/resend"), {"ids": [s["id"]]}, headers=h), 200)


def test_token_create(server, world):
    ag = world.ag
    run_route(server, "token create", lambda: None,
              lambda _, h: ag.sa.post("/api/v1/tokens", {"name": "CI", "agreement": ag.lic, "capabilities": ["read"]},
                                      headers=h), 201)


def test_token_revoke(server, world):
    ag = world.ag

    def prepare():
        r = ag.sa.post("/api/v1/tokens", {"name": "to revoke", "capabilities": ["read"]})
        assert r.status == 201, r
        return r.body["id"]

    run_route(server, "token revoke", prepare, lambda t, h: ag.sa.delete(f"/api/v1/tokens/{t}", headers=h), 204)


def test_agreement_token_revoke(server, world):
    ag = world.ag

    def prepare():
        r = world.seller.post("/api/v1/tokens", {"name": "partner's", "agreement": ag.lic, "capabilities": ["read"]})
        assert r.status == 201, r
        return r.body["id"]

    run_route(server, "agreement token revoke", prepare,
              lambda t, h: ag.sa.delete(f"{AGREEMENTS}/{ag.lic}/tokens/{t}", headers=h), 204)


def test_admins_add(server, world):
    ag = world.ag
    run_route(server, "admins add", lambda: None,
              lambda _, h: ag.sa.post(f"{AGREEMENTS}/{ag.lic}/admins", {"name": "Ada Admin", "email": addr("adm")},
                                      headers=h), 201)


def test_admins_remove(server, world):
    ag = world.ag
    u = verified_user(server, addr("admin"))

    def prepare():
        db_write(server, "INSERT INTO admin_roles (agreement_id, user_id, role, granted_at) SELECT ?, ?, 'admin', ?"
                         " WHERE NOT EXISTS (SELECT 1 FROM admin_roles WHERE agreement_id = ? AND user_id = ?)",
                 (ag.id, u.user["id"], int(time.time()), ag.id, u.user["id"]))

    run_route(server, "admins remove", prepare,
              lambda _, h: ag.sa.delete(f"{AGREEMENTS}/{ag.lic}/admins/{u.user['id']}", headers=h), 204)


def test_preferences_put(server, world):
    ag = world.ag
    seq = iter(range(10, 100))
    run_route(server, "preferences put", lambda: next(seq),
              lambda t, h: ag.sa.put(f"{AGREEMENTS}/{ag.lic}/preferences", {"alert_threshold": t}, headers=h), 200)


def test_webhook_create_and_rotate(server, world):
    ag = world.ag
    hooks = f"{AGREEMENTS}/{ag.lic}/webhooks"
    run_route(server, "webhook create", lambda: None,
              lambda t, h: ag.sa.post(hooks, {"url": "https://192.0.2.1/hook", "enabled": False}, headers=h), 201)
    hid = ag.sa.get(hooks).body["webhooks"][0]["id"]
    run_route(server, "webhook rotate", lambda: None, lambda t, h: ag.sa.post(f"{hooks}/{hid}/secret", headers=h), 200)


def test_subscriber_add_fans_out_to_webhooks(server):
    # An agreement of its own, whose endpoint takes its events: a subscriber's addition and
    # its event's deliveries are written together or not at all.
    ag = agreement(server, {"enterprise": 1000})
    hooks = f"{AGREEMENTS}/{ag.lic}/webhooks"
    assert ag.sa.post(hooks, {"url": "https://192.0.2.1/hook", "event_types": ["subscription.added"]}).status == 201
    ops, _ = run_route(server, "subscriber add with a webhook", lambda: None,
                       lambda t, h: ag.sa.post(subs(ag.lic), sub_body(send_email=False), headers=h), 201)
    assert db_query(server, "SELECT COUNT(*) FROM webhook_deliveries d JOIN webhook_endpoints w"
                            " ON w.id = d.endpoint_id WHERE w.agreement_id = ?", (ag.id,))[0][0] >= 1


def test_partner_remove(server, world):
    ag = world.ag
    p = partner_user(server)
    r = p.post("/api/v1/partner-registrations", {"route": "new_license", "license_number": ag.lic,
                                                 "authorization_number": world_authno(server, world),
                                                 "customer_email": ag.customer_email, "attestation": True})
    assert r.status == 201, r
    gid = r.body["relationship_id"]

    def prepare():
        db_write(server, "UPDATE partner_relationships SET status = 'active', ended_at = NULL, ended_by = NULL"
                         " WHERE id = ?", (gid,))
        db_write(server, "UPDATE partner_blocks SET lifted_at = ? WHERE agreement_id = ? AND lifted_at IS NULL",
                 (int(time.time()), ag.id))

    run_route(server, "partner remove", prepare,
              lambda _, h: ag.sa.delete(f"{AGREEMENTS}/{ag.lic}/partners/{gid}", headers=h), 204)


def world_authno(server, world):
    r = world.seller.get(f"/api/v1/lsc/licenses/{world.ag.lic}")
    assert r.status == 200, r
    return r.body["agreement"]["authorization_number"] if "agreement" in r.body else r.body["authorization_number"]


def test_bulk_add(server, world):
    ag = world.ag

    def call(_, h):
        text = ("Name,Sign-in Email,Subscription Level,Country,Language\n"
                f"Ann Lee,{addr('bulk')},enterprise,FR,en\nBen Roy,{addr('bulk')},professional,BE,fr\n")
        return ag.sa.request("POST", subs(ag.lic, "/bulk"), body=text, content_type="text/csv", headers=h)

    run_route(server, "bulk add", lambda: None, call, 201)


def test_bulk_edit(server):
    ag = agreement(server, {"enterprise": 200})   # its own: the export stays small
    r = ag.sa.put(f"{AGREEMENTS}/{ag.lic}/preferences",
                  {"default_level": "enterprise", "default_country": "FR", "default_language": "en"})
    assert r.status == 200, r

    def prepare():
        s = new_sub(ag)
        header, rows = export_rows(ag.sa, ag.lic)
        for row in rows:
            if row["Subscription Id"] == s["id"]:
                row["Name"] = "Edited In A File"
                row["Sign-in Email"] = addr("file")
        return to_csv(header, rows)

    run_route(server, "bulk edit", prepare,
              lambda text, h: ag.sa.request("POST", subs(ag.lic, "/bulk-edit"), body=text, content_type="text/csv",
                                            headers=h), 200)


@pytest.fixture(scope="module")
def asking(server):
    """An agreement whose customer approves partners: one partner's registration waits as a
    request, another partner's was approved."""
    w = SimpleNamespace(ag=agreement(server, {"enterprise": 10}))
    ag = w.ag
    assert ag.sa.put(f"{AGREEMENTS}/{ag.lic}/preferences", {"partner_approval": True}).status == 200
    authno = ag.seller.get(f"/api/v1/lsc/licenses/{ag.lic}").body
    authno = authno["agreement"]["authorization_number"] if "agreement" in authno else authno["authorization_number"]

    def register():
        p = partner_user(server)
        r = p.post("/api/v1/partner-registrations", {"route": "new_license", "license_number": ag.lic,
                                                     "authorization_number": authno,
                                                     "customer_email": ag.customer_email, "attestation": True})
        assert r.status == 202, r
        return p, r.body["relationship_id"], r.body["request_id"]

    w.p, w.rel, w.req = register()
    w.active, w.active_rel, req = register()
    r = ag.sa.post(f"{AGREEMENTS}/{ag.lic}/partner-requests/{req}/approve", {})
    assert r.status == 200, r
    w.active_org = r.body["organization"]["id"]
    return w


def reopen_request(server, w):
    db_write(server, "UPDATE partner_requests SET status = 'pending', decided_at = NULL, decided_by = NULL,"
                     " reason = NULL WHERE id = ?", (w.req,))
    db_write(server, "UPDATE partner_relationships SET status = 'pending', starts_at = NULL, ended_at = NULL,"
                     " ended_by = NULL WHERE id = ?", (w.rel,))


def test_partner_request_approve(server, asking):
    ag = asking.ag
    run_route(server, "partner request approve", lambda: reopen_request(server, asking),
              lambda _, h: ag.sa.post(f"{AGREEMENTS}/{ag.lic}/partner-requests/{asking.req}/approve",
                                      {"capabilities": ["read", "assign"]}, headers=h), 200)


def test_partner_request_deny(server, asking):
    ag = asking.ag
    run_route(server, "partner request deny", lambda: reopen_request(server, asking),
              lambda _, h: ag.sa.post(f"{AGREEMENTS}/{ag.lic}/partner-requests/{asking.req}/deny",
                                      {"reason": "Not this year"}, headers=h), 200)


def test_partner_amend(server, asking):
    ag = asking.ag

    def prepare():
        db_write(server, "UPDATE partner_relationships SET capabilities = 31 WHERE id = ?", (asking.active_rel,))

    run_route(server, "partner amend", prepare,
              lambda _, h: ag.sa.patch(f"{AGREEMENTS}/{ag.lic}/partners/{asking.active_rel}",
                                       {"capabilities": ["read"]}, headers=h), 200)


def test_partner_amendment_request(server, asking):
    def prepare():
        db_write(server, "DELETE FROM partner_requests WHERE relationship_id = ? AND kind = 'amendment'",
                 (asking.active_rel,))

    path = f"/api/v1/partner-organizations/{asking.active_org}/relationships/{asking.active_rel}/amendments"
    run_route(server, "partner amendment request", prepare,
              lambda _, h: asking.active.post(path, {"capabilities": ["read", "usage"],
                                                     "ends_on": time.strftime("%Y-%m-%d", time.gmtime(
                                                         time.time() + 30 * 86400))}, headers=h), 201)


def test_commit_fault_rolls_back(server, world):
    """`commit:N` fails the Nth commit: the whole change is rolled back."""
    ag = world.ag
    settle(server)
    before = snapshot(server)
    r = ag.sa.post(subs(ag.lic), sub_body(send_email=True), headers={"X-Openseat-Fault": "commit:1"})
    assert r.headers.get("X-Openseat-Fault-Fired") == "1" and r.headers.get("X-Openseat-Fault-Op") == "COMMIT", r
    assert_problem(r, 500, "internal")
    settle(server)
    assert changed(before, snapshot(server)) == {}
    assert_consistent(server)


def test_malformed_fault_is_not_armed(server, world):
    r = world.ag.sa.get(f"{AGREEMENTS}/{world.ag.lic}/overview", headers={"X-Openseat-Fault": "stmt:zero"})
    assert r.status == 200 and r.headers.get("X-Openseat-Fault-Fired") is None, r
    assert int(r.headers["X-Openseat-Ops"]) > 0


def test_off_by_default(server_factory):
    """Without --fault-injection the header is ignored and nothing about operations is said."""
    srv = server_factory()
    r = Client(srv).get("/healthz", headers={"X-Openseat-Fault": "stmt:1"})
    assert r.status == 200 and r.headers.get("X-Openseat-Ops") is None, r
    assert r.headers.get("X-Openseat-Fault-Fired") is None, r


# --- the partner organization's own page


@pytest.fixture(scope="module")
def org_admin(server, world):
    """An admin of the seller's partner organization, its id and the relationship it has with
    world.ag."""
    email = addr("orgadmin", "fabrikam-partner.example")
    partner_add(server, world.seller.org, email, admin=True)
    c = verified_user(server, email)
    c.org_id = db_query(server, "SELECT org_id FROM partner_members WHERE email = ?", (email,))[0][0]
    c.rel_id = db_query(server, "SELECT id FROM partner_relationships WHERE agreement_id = ? AND partner_org_id = ?",
                        (world.ag.id, c.org_id))[0][0]
    return c


def test_partner_person_add(server, org_admin):
    o = org_admin
    run_route(server, "partner person add", lambda: addr("staff", "fabrikam-partner.example"),
              lambda email, h: o.post(f"/api/v1/partner-organizations/{o.org_id}/people",
                                      {"email": email, "role": "member"}, headers=h), 201)


def test_partner_person_remove(server, org_admin):
    o = org_admin
    email = addr("leaver", "fabrikam-partner.example")

    def prepare():
        db_write(server, "INSERT INTO partner_members (org_id, email, role, created_at) SELECT ?, ?, 'member', ?"
                         " WHERE NOT EXISTS (SELECT 1 FROM partner_members WHERE org_id = ? AND email = ?)",
                 (o.org_id, email, int(time.time()), o.org_id, email))
        member = db_query(server, "SELECT id FROM partner_members WHERE org_id = ? AND email = ?", (o.org_id, email))[0][0]
        # Named by the relationship, so the removal also takes the name away.
        db_write(server, "INSERT INTO partner_relationship_people (relationship_id, member_id) SELECT ?, ?"
                         " WHERE NOT EXISTS (SELECT 1 FROM partner_relationship_people WHERE relationship_id = ?"
                         " AND member_id = ?)", (o.rel_id, member, o.rel_id, member))
        return member

    run_route(server, "partner person remove", prepare,
              lambda member, h: o.delete(f"/api/v1/partner-organizations/{o.org_id}/people/{member}", headers=h), 204)


def test_partner_relationship_people(server, world, org_admin):
    o = org_admin
    member = db_query(server, "SELECT id FROM partner_members WHERE org_id = ? AND email = ?",
                      (o.org_id, world.seller.email))[0][0]

    def prepare():
        db_write(server, "UPDATE partner_relationships SET people = 'all' WHERE id = ?", (o.rel_id,))
        db_write(server, "DELETE FROM partner_relationship_people WHERE relationship_id = ?", (o.rel_id,))

    run_route(server, "partner relationship people", prepare,
              lambda _, h: o.put(f"/api/v1/partner-organizations/{o.org_id}/relationships/{o.rel_id}/people",
                                 {"people": "named", "member_ids": [member]}, headers=h), 200)
