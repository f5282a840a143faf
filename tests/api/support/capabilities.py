"""The capability matrix shared by the tests that go through every agreement route of the
route table: what each route needs (a capability, a role rule), the request each test sends
to it (a write's body invalid, so that nothing changes), what an allowed caller gets back, and
what a refused request must leave alone on the agreement."""
import time

from support.checks import assert_problem
from support.db import db_count, db_query, db_write
from support.files import finished, people, start
from support.routes import fill
from support.subscriptions import pool_rows, sub_count

BITS = {"read": 1, "assign": 2, "bulk": 4, "usage": 8, "activity": 16}
ALL = tuple(BITS)
NONE, PARTNER_CONTROL, SUPER = "none", "partner control", "super admins"
# The SCIM routes: super admins' tokens holding provisioning, and nobody's session.
PROVISIONING = "super admins + CAP_PROVISIONING"
SCIM_ROUTES = ("scim_config", "scim_resource_types", "scim_schemas", "scim_users_list", "scim_user_create",
               "scim_user_get", "scim_user_put", "scim_user_patch", "scim_user_delete", "scim_groups_list",
               "scim_group_create", "scim_group_get", "scim_group_put", "scim_group_patch", "scim_group_delete")

# What each agreement route needs, by its name in the route table: a capability, nothing
# beyond a role (NONE), super admins and partner managers (PARTNER_CONTROL), super admins.
EXPECTED = {
    "agreement_get": NONE,
    "overview": "read", "subs_list": "read", "subs_get": "read", "subs_export": "read", "subs_template": "read",
    "subs_add": "assign", "subs_update": "assign", "subs_delete": "assign", "subs_remove": "assign",
    "subs_resend": "assign",
    "subs_bulk_add": "bulk", "subs_bulk_edit": "bulk", "subs_bulk_remove": "bulk", "jobs_list": "bulk",
    "job_get": "bulk", "job_delete": "bulk", "job_annotated": "bulk", "job_cancel": "bulk", "job_changes": "bulk",
    "usage": "usage", "usage_csv": "usage",
    "activity": "activity", "activity_csv": "activity",
    "partners_list": PARTNER_CONTROL, "partner_remove": PARTNER_CONTROL, "partner_block_lift": PARTNER_CONTROL,
    "admins_list": SUPER, "admins_add": SUPER, "admins_remove": SUPER, "admin_invite_remove": SUPER,
    "prefs_get": SUPER, "prefs_put": SUPER, "agreement_tokens": SUPER, "agreement_token_revoke": SUPER,
    "webhooks_list": SUPER, "webhook_create": SUPER, "webhook_get": SUPER, "webhook_update": SUPER,
    "webhook_delete": SUPER, "webhook_rotate": SUPER, "webhook_ping": SUPER, "webhook_deliveries": SUPER,
    "webhook_delivery": SUPER, "webhook_redeliver": SUPER,
    "scim_mappings_list": SUPER, "scim_mapping_put": SUPER, "scim_mapping_delete": SUPER,
    "scim_mapping_preview": SUPER, "scim_groups_summary": SUPER,
    **{name: PROVISIONING for name in SCIM_ROUTES},
}
# Whatever else answers under these paths is the customer's control over partners (its
# requests, amendments): super admins and partner managers.
PARTNER_CONTROL_PATHS = tuple("/api/v1/agreements/{license}/" + p for p in ("partners", "partner-requests",
                                                                             "partner-blocks"))

# What the routes answer to someone allowed, with the requests below: a write's body is
# invalid (or its precondition missing) so that nothing changes, except the two deletes,
# which get a target of their own.
ALLOWED = {
    "agreement_get": 200, "overview": 200, "subs_list": 200, "subs_get": 200, "subs_export": 200,
    "subs_template": 200, "subs_add": 422, "subs_update": 428, "subs_delete": 204, "subs_remove": 422,
    "subs_resend": 422, "subs_bulk_add": 422, "subs_bulk_edit": 422, "subs_bulk_remove": 422, "jobs_list": 200,
    "job_get": 200, "job_delete": 204, "job_annotated": 200, "job_cancel": 409, "job_changes": 200, "usage": 200, "usage_csv": 200,
    "activity": 200, "activity_csv": 200, "partners_list": 200,
}
QUERY = {"subs_export": "format=csv", "subs_template": "format=csv"}
UPLOADS = {"subs_bulk_add", "subs_bulk_edit", "subs_bulk_remove"}
# An id no row has, for the routes whose refusal is the point.
NO_SUCH_ID = 999999999



def rule_of(route):
    if route.name in EXPECTED:
        return EXPECTED[route.name]
    if route.path.startswith(PARTNER_CONTROL_PATHS):
        return PARTNER_CONTROL
    return None


def rule_in_table(route):
    """What the table says the route needs, in EXPECTED's words."""
    if route.access == "ACCESS_AGREEMENT":
        return NONE if route.capability == "CAP_NONE" else route.capability[len("CAP_"):].lower()
    rule = {"ACCESS_AGREEMENT_PARTNERS": PARTNER_CONTROL, "ACCESS_AGREEMENT_SUPER": SUPER}.get(route.access)
    # A capability on a route only some customer roles may call would be meaningless.
    return rule if route.capability == "CAP_NONE" else f"{rule} + {route.capability}"


def bits(caps):
    return sum(BITS[c] for c in caps)


def set_caps(server, rel_id, caps):
    """The relationship's capabilities, written as the customer's amendment would leave them."""
    assert db_write(server, "UPDATE partner_relationships SET capabilities = ? WHERE id = ?", (bits(caps), rel_id)) == 1


def relationship_of(server, ag):
    rows = db_query(server, "SELECT r.id FROM partner_relationships r JOIN organizations o ON o.id = r.partner_org_id"
                            " WHERE r.agreement_id = ? AND o.name = ? AND r.status = 'active'", (ag.id, ag.seller.org))
    assert len(rows) == 1, rows
    return rows[0][0]


def state(server, ag):
    """What a refused request must leave alone on the agreement."""
    q = lambda sql: db_query(server, sql, (ag.id,))
    return (sub_count(server, ag), pool_rows(server, ag),
            db_count(server, "audit_events", "agreement_id = ?", (ag.id,)),
            q("SELECT id, state FROM jobs WHERE agreement_id = ? ORDER BY id"),
            q("SELECT id, status, capabilities, ends_at FROM partner_relationships WHERE agreement_id = ? ORDER BY id"),
            q("SELECT user_id, role FROM admin_roles WHERE agreement_id = ? ORDER BY user_id"),
            q("SELECT email, role FROM admin_invites WHERE agreement_id = ? ORDER BY email"),
            q("SELECT id, lifted_at FROM partner_blocks WHERE agreement_id = ? ORDER BY id"),
            q("SELECT * FROM agreement_prefs WHERE agreement_id = ?"))


def target(route, ag, **ids):
    """The path of `route` on agreement `ag`; ids fill its other placeholders (sub, job,
    relationship, admin; fresh_sub makes a subscriber to delete), an id no row has standing
    in for the rest."""
    values = {"license": ag.lic, "job": ids.get("job", NO_SUCH_ID), "id": NO_SUCH_ID, "delivery": NO_SUCH_ID}
    if route.name in ("subs_get", "subs_update"):
        values["id"] = ids["sub"]
    elif route.name == "subs_delete":
        values["id"] = ids["fresh_sub"]()
    elif route.name == "partner_remove":
        values["id"] = ids["relationship"]
    elif route.name == "admins_remove":
        values["id"] = ids["admin"]
    path = fill(route.path, **values)
    return path + "?" + QUERY[route.name] if route.name in QUERY else path


def send(client, route, path):
    """The request: a write's body is invalid, an upload a header without rows."""
    if route.name in UPLOADS:
        return client.request(route.method, path, body="Name,Sign-in Email\r\n", content_type="text/csv")
    return client.request(route.method, path, {} if route.method in ("POST", "PUT", "PATCH") else None)


def deletes_last(routes):
    """The routes with DELETE last, so a dismissed job has been read and cancelled first."""
    return sorted(routes, key=lambda r: r.method == "DELETE")


def own_job(client, ag):
    """A finished check-only job of the client's own (they need `bulk` while it is sent)."""
    job = start(client, ag.lic, people(ag, 2, start_at=int(time.time() * 1000) % 10 ** 9), check_only="true")
    return finished(client, ag.lic, job["id"])["id"]


def assert_allowed(r, route):
    assert r.status == ALLOWED[route.name], f"{route.method} {route.path} ({route.name}): want {ALLOWED[route.name]}, got {r}"


def assert_refused(r, route, status, code):
    """A refusal: problem+json, or on a SCIM route the SCIM error its clients read (the same
    code in its `code` member)."""
    if "/scim/v2/" not in route.path:
        return assert_problem(r, status, code)
    assert r.status == status and r.content_type == "application/scim+json", f"{route.name}: {r}"
    assert r.body["schemas"] == ["urn:ietf:params:scim:api:messages:2.0:Error"], r
    assert r.body["status"] == str(status) and r.body["code"] == code, f"{route.name}: want {code}, got {r}"
    return r.body


def assert_refused_unchanged(server, ag, r, route, status, code, before):
    b = assert_refused(r, route, status, code)
    assert state(server, ag) == before, f"{route.name}: a refused request changed something"
    return b
