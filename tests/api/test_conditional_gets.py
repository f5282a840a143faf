"""Conditional GETs of an agreement's subscribers list, subscriptions and overview.

The list and the overview carry a strong ETag made of the agreement's data version, the
normalized query and the caller's access; If-None-Match with it answers 304 with no body
while nothing changed. Every state-changing agreement route must move the version: the
test goes through each of them (read from the route table, so a new route without a case
fails) and checks that both tags changed after it. A subscription keeps its version ETag."""
import time

from support.accounts import addr, partner_user, verified_user
from support.agreements import AGREEMENTS, add_admin, agreement, url
from support.db import db_query, db_write
from support.files import export_rows, to_csv, upload, with_defaults
from support.routes import agreement_routes
from support.subscriptions import sub_body, subs

# State-changing agreement routes that change a job only, never what the lists show.
NOT_LISTED = {"job_delete": "deletes a finished job's record", "job_cancel": "cancels a job, nothing applied",
              "agreement_token_revoke": "revokes an API token, nothing the lists show"}
# Webhook endpoints and their deliveries are not in what the tags cover (subscribers, overview).
NOT_LISTED.update({name: "a webhook endpoint or its deliveries" for name in (
    "webhook_create", "webhook_update", "webhook_delete", "webhook_rotate", "webhook_ping", "webhook_redeliver")})
# An identity provider's users and groups and the group rules are not listed either; the seats
# they give or take are subscriptions like any other (test_scim.py checks that those move the tags).
NOT_LISTED.update({name: "SCIM users, groups and group rules" for name in (
    "scim_user_create", "scim_user_put", "scim_user_patch", "scim_user_delete", "scim_group_create",
    "scim_group_put", "scim_group_patch", "scim_group_delete", "scim_mapping_put", "scim_mapping_delete")})
NOT_LISTED["scim_mapping_preview"] = "a group rule's preview: done and rolled back, nothing kept"


def etag(client, path, **headers):
    r = client.get(path, headers=headers or None)
    assert r.status in (200, 304), r
    assert r.headers.get("ETag"), r.headers
    return r


def tags(client, lic):
    return (etag(client, subs(lic) + "?limit=5").headers["ETag"], etag(client, url(lic, "/overview")).headers["ETag"])


def new_sub(ag):
    r = ag.sa.post(subs(ag.lic), sub_body(send_email=False))
    assert r.status == 201, r
    return r.body


def test_unchanged_list_and_overview_answer_304_without_a_body(server):
    ag = agreement(server, {"enterprise": 5})
    new_sub(ag)
    for path in (subs(ag.lic) + "?limit=5&sort=name", url(ag.lic, "/overview")):
        first = etag(ag.sa, path)
        assert first.status == 200 and first.headers["ETag"].startswith('"d'), first.headers
        again = etag(ag.sa, path, **{"If-None-Match": first.headers["ETag"]})
        assert again.status == 304 and again.raw == b"", again
        assert again.headers["ETag"] == first.headers["ETag"]
        assert again.headers.get("Cache-Control") == first.headers.get("Cache-Control") == "no-store"
        # Among others, weak or not, and "*": still the current representation.
        listed = f'"x", W/{first.headers["ETag"]}'
        assert etag(ag.sa, path, **{"If-None-Match": listed}).status == 304
        assert etag(ag.sa, path, **{"If-None-Match": "*"}).status == 304
        assert etag(ag.sa, path, **{"If-None-Match": '"d1-0000000000000000"'}).status == 200


def test_the_tag_follows_the_query_and_the_caller(server):
    ag = agreement(server, {"enterprise": 5})
    new_sub(ag)
    base = etag(ag.sa, subs(ag.lic) + "?limit=5").headers["ETag"]
    # The same query written differently: the same tag; another query: another.
    assert etag(ag.sa, subs(ag.lic) + "?sort=name&limit=5&order=asc").headers["ETag"] == base
    for other in ("?limit=6", "?limit=5&q=grace", "?limit=5&sort=level", "?limit=5&order=desc",
                  "?limit=5&level=enterprise", "?limit=5&downloads=true"):
        assert etag(ag.sa, subs(ag.lic) + other).headers["ETag"] != base, other
    # The partner who placed the order sees the same rows under another access: not the
    # super admin's tag, and a 304 only on their own.
    mine = etag(ag.seller, subs(ag.lic) + "?limit=5")
    assert mine.status == 200 and mine.headers["ETag"] != base
    assert etag(ag.seller, subs(ag.lic) + "?limit=5", **{"If-None-Match": base}).status == 200
    # Another agreement's customer gets no 304 for a tag of this one: 404, as without it.
    other = agreement(server, {"enterprise": 1})
    r = other.sa.get(subs(ag.lic) + "?limit=5", headers={"If-None-Match": base})
    assert r.status == 404, r
    # The overview names levels in the reader's language: a change of language, another tag.
    before = etag(ag.sa, url(ag.lic, "/overview")).headers["ETag"]
    r = ag.sa.patch("/api/v1/account", {"language": "fr"})
    assert r.status == 200, r
    after = etag(ag.sa, url(ag.lic, "/overview"))
    assert after.headers["ETag"] != before
    assert etag(ag.sa, url(ag.lic, "/overview"), **{"If-None-Match": before}).status == 200


def test_a_subscription_keeps_its_version_etag(server):
    ag = agreement(server, {"enterprise": 5})
    s = new_sub(ag)
    r = ag.sa.get(subs(ag.lic, f"/{s['id']}"))
    assert r.status == 200 and r.headers["ETag"] == '"1"', r.headers
    r = ag.sa.get(subs(ag.lic, f"/{s['id']}"), headers={"If-None-Match": '"1"'})
    assert r.status == 304 and r.raw == b"" and r.headers["ETag"] == '"1"', r
    r = ag.sa.patch(subs(ag.lic, f"/{s['id']}"), {"name": "Renamed"}, headers={"If-Match": '"1"'})
    assert r.status == 200, r
    r = ag.sa.get(subs(ag.lic, f"/{s['id']}"), headers={"If-None-Match": '"1"'})
    assert r.status == 200 and r.headers["ETag"] == '"2"' and r.body["name"] == "Renamed", r


def test_every_state_changing_agreement_route_moves_the_tags(server):
    ag = with_defaults(agreement(server, {"enterprise": 50}))
    assert ag.sa.put(f"{AGREEMENTS}/{ag.lic}/preferences", {"partner_approval": True, "default_level": "enterprise",
                                                            "default_country": "FR", "default_language": "en"}).status == 200
    authno = ag.seller.get(f"/api/v1/lsc/licenses/{ag.lic}").body
    authno = authno["agreement"]["authorization_number"] if "agreement" in authno else authno["authorization_number"]

    def register():
        p = partner_user(server)
        r = p.post("/api/v1/partner-registrations", {"route": "new_license", "license_number": ag.lic,
                                                     "authorization_number": authno,
                                                     "customer_email": ag.customer_email, "attestation": True})
        assert r.status == 202, r
        return r.body["relationship_id"], r.body["request_id"]

    approved_rel, approved_req = register()
    _, denied_req = register()
    state = {}

    def admins_remove():
        other = verified_user(server, addr("adm"))
        add_admin(ag.sa, ag.lic, other.email)
        return ag.sa.delete(url(ag.lic, f"/admins/{other.user['id']}"))

    def invite_remove():
        email = addr("invitee")
        add_admin(ag.sa, ag.lic, email)
        inv = db_query(server, "SELECT id FROM admin_invites WHERE agreement_id = ? AND email = ?", (ag.id, email))[0][0]
        return ag.sa.delete(url(ag.lic, f"/admin-invites/{inv}"))

    def bulk_edit():
        s = new_sub(ag)
        header, rows = export_rows(ag.sa, ag.lic)
        for row in rows:
            if row["Subscription Id"] == s["id"]:
                row["Name"] = "Edited In A File"
        return ag.sa.request("POST", subs(ag.lic, "/bulk-edit"), body=to_csv(header, rows), content_type="text/csv")

    def block_lift():
        block = db_query(server, "SELECT id FROM partner_blocks WHERE agreement_id = ? AND lifted_at IS NULL",
                         (ag.id,))[0][0]
        return ag.sa.delete(url(ag.lic, f"/partner-blocks/{block}"))

    cases = [
        ("subs_add", lambda: ag.sa.post(subs(ag.lic), sub_body(send_email=False)), 201),
        ("subs_update", lambda: ag.sa.patch(subs(ag.lic, f"/{new_sub(ag)['id']}"), {"name": "Edited"},
                                            headers={"If-Match": '"1"'}), 200),
        ("subs_delete", lambda: ag.sa.delete(subs(ag.lic, f"/{new_sub(ag)['id']}")), 204),
        ("subs_remove", lambda: ag.sa.post(subs(ag.lic, "/remove"), {"ids": [new_sub(ag)["id"]]}), 200),
        ("subs_resend", lambda: ag.sa.post(subs(ag.lic, "/resend"), {"ids": [new_sub(ag)["id"]]}), 200),
        ("subs_bulk_add", lambda: upload(ag.sa, ag.lic, f"Name,Sign-in Email\nAnn Lee,{addr('bulk')}\n",
                                         send_email="false"), 201),
        ("subs_bulk_edit", bulk_edit, 200),
        ("subs_bulk_remove", lambda: ag.sa.request("POST", subs(ag.lic, "/bulk-remove"),
                                                   body=new_sub(ag)["sign_in_email"] + "\n",
                                                   content_type="text/plain"), 200),
        ("admins_add", lambda: add_admin(ag.sa, ag.lic, addr("newadmin"), expect=None), 201),
        ("admins_remove", admins_remove, 204),
        ("admin_invite_remove", invite_remove, 204),
        ("prefs_put", lambda: ag.sa.put(f"{AGREEMENTS}/{ag.lic}/preferences", {"alert_threshold": 80}), 200),
        ("partner_request_approve", lambda: ag.sa.post(url(ag.lic, f"/partner-requests/{approved_req}/approve"),
                                                       {"capabilities": ["read", "assign"]}), 200),
        ("partner_request_deny", lambda: ag.sa.post(url(ag.lic, f"/partner-requests/{denied_req}/deny"),
                                                    {"reason": "Not this year"}), 200),
        ("partner_amend", lambda: ag.sa.patch(url(ag.lic, f"/partners/{approved_rel}"), {"capabilities": ["read"]}),
         200),
        ("partner_remove", lambda: ag.sa.delete(url(ag.lic, f"/partners/{approved_rel}")), 204),
        ("partner_block_lift", block_lift, 204),
    ]
    changing = {r.name for r in agreement_routes() if r.method != "GET"}
    assert {c[0] for c in cases} | set(NOT_LISTED) == changing, \
        f"routes without a case here: {changing - {c[0] for c in cases} - set(NOT_LISTED)}"
    for name, act, status in cases:
        before = tags(ag.sa, ag.lic)
        r = act()
        assert r.status == status, f"{name}: {r}"
        after = tags(ag.sa, ag.lic)
        assert after[0] != before[0] and after[1] != before[1], f"{name} left the tags as they were: {before}"
        # The old tag is no longer current; the new one is.
        assert etag(ag.sa, subs(ag.lic) + "?limit=5", **{"If-None-Match": before[0]}).status == 200, name
        assert etag(ag.sa, subs(ag.lic) + "?limit=5", **{"If-None-Match": after[0]}).status == 304, name


def test_a_reorder_moves_the_overview_tag(server):
    ag = agreement(server, {"enterprise": 5})
    before = etag(ag.sa, url(ag.lic, "/overview")).headers["ETag"]
    r = ag.seller.post("/api/v1/lsc/orders", {"license_number": ag.lic, "lines": [{"level": "enterprise", "quantity": 3}]})
    assert r.status == 201, r
    after = etag(ag.sa, url(ag.lic, "/overview"), **{"If-None-Match": before})
    assert after.status == 200 and after.headers["ETag"] != before
    assert [lv["purchased"] for lv in after.body["levels"] if lv["level"] == "enterprise"] == [8], after.body
