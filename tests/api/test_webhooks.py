"""Webhooks: endpoints an agreement's super admins (or a partner organization's admins) register,
and the signed deliveries of the agreement's events to them. Every request is received by a real
receiver (tests/peers/webhook-receiver.mjs) that verifies it with the standardwebhooks npm
package, as an integrator would. The server runs with --webhooks-allow-private (the receiver is
on 127.0.0.1); test_webhooks_ssrf.py covers a server without it. Retries are moved on by making
pending deliveries due in the database, as other tests move time."""
import base64
import time

import pytest

from support.accounts import addr, partner_add, verified_user
from support.agreements import agreement, url
from support.checks import assert_problem, field_errors
from support.db import db_query, db_write
from support.files import upload, with_defaults
from support.server import module_server
from support.subscriptions import add
from support.webhooks import create, deliveries_in_db, hooks, make_due, org_hooks, receiver  # noqa: F401 (a fixture)

pytestmark = pytest.mark.usefixtures("server_alive")

ORGS = "/api/v1/partner-organizations"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    yield from module_server(tmp_path_factory, "webhooks", extra_args=["--webhooks-allow-private"])


def sub_event(rc, email_addr):
    """The subscription.added requests received for email_addr."""
    return [q for q in rc.received() if q["payload"] and q["payload"]["type"] == "subscription.added"
            and q["payload"]["data"]["subscription"]["sign_in_email"] == email_addr]


def delivery_of(server, endpoint_id, type_="subscription.added"):
    rows = [d for d in deliveries_in_db(server, endpoint_id) if d[1] == type_]
    return rows


def wait_status(server, delivery_id, status, timeout=20):
    def check():
        r = db_query(server, "SELECT status FROM webhook_deliveries WHERE id = ?", (delivery_id,))
        return r and r[0][0] == status
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, (delivery_id, status, db_query(
            server, "SELECT status, attempts FROM webhook_deliveries WHERE id = ?", (delivery_id,)))
        time.sleep(0.05)


# ---------------------------------------------------------------------------------------
# Endpoints


def test_an_endpoint_is_made_changed_and_deleted_and_its_secret_shown_once(server, receiver):
    ag = agreement(server, {"enterprise": 5})
    r = ag.sa.post(hooks(ag.lic), {"url": receiver.url, "description": "Our CRM",
                                   "event_types": ["subscription.added", "subscription.removed"]})
    assert r.status == 201, r
    h = r.body
    assert h["secret"].startswith("whsec_") and len(base64.b64decode(h["secret"][6:])) == 32, h
    assert h["event_types"] == ["subscription.added", "subscription.removed"] and h["enabled"] is True, h
    assert h["disabled_reason"] is None and h["previous_secret_expires_at"] is None, h

    got = ag.sa.get(hooks(ag.lic, f"/{h['id']}"))
    assert got.status == 200 and "secret" not in got.body, got
    listed = ag.sa.get(hooks(ag.lic))
    assert [x["id"] for x in listed.body["webhooks"]] == [h["id"]], listed
    assert "secret" not in listed.body["webhooks"][0]
    assert "subscription.added" in listed.body["event_types"], listed.body

    r = ag.sa.patch(hooks(ag.lic, f"/{h['id']}"), {"event_types": [], "description": "All of it",
                                                   "enabled": False})
    assert r.status == 200, r
    assert r.body["event_types"] == [] and r.body["enabled"] is False and r.body["disabled_reason"] == "owner", r
    assert r.body["description"] == "All of it" and "secret" not in r.body

    r = ag.sa.patch(hooks(ag.lic, f"/{h['id']}"), {"event_types": ["subscription.nope"]})
    assert_problem(r, 422, "validation")
    assert field_errors(r)["event_types"] == "unknown_event_type", r.body
    r = ag.sa.post(hooks(ag.lic), {"url": receiver.url, "enabled": "yes", "description": "d" * 201})
    assert_problem(r, 422, "validation")
    assert field_errors(r) == {"enabled": "wrong_type", "description": "too_long"}, r.body
    r = ag.sa.post(hooks(ag.lic), {"description": "no url"})
    assert field_errors(r) == {"url": "required"}, r.body
    assert field_errors(ag.sa.patch(hooks(ag.lic, f"/{h['id']}"), {"url": " "})) == {"url": "required"}

    assert ag.sa.delete(hooks(ag.lic, f"/{h['id']}")).status == 204
    assert ag.sa.get(hooks(ag.lic, f"/{h['id']}")).status == 404
    actions = [a for (a,) in db_query(server, "SELECT action FROM audit_events WHERE target_type = 'webhook'"
                                              " AND target_id = ? ORDER BY id", (str(h["id"]),))]
    assert actions == ["webhook.created", "webhook.updated", "webhook.deleted"], actions


def test_events_arrive_signed_with_a_stable_id_and_their_answer_is_logged(server, receiver):
    ag = agreement(server, {"enterprise": 5})
    h = create(ag.sa, hooks(ag.lic), receiver.url)
    receiver.secrets(h["secret"])
    who = addr("grace")
    add(ag.sa, ag.lic, sign_in_email=who)
    got = receiver.wait_for(lambda rs: sub_event(receiver, who), what="subscription.added")
    q = sub_event(receiver, who)[0]
    assert q["verified"] == [True], q
    assert q["payload"]["type"] == "subscription.added"
    assert q["payload"]["data"]["agreement"] == ag.lic
    assert q["payload"]["timestamp"].endswith("Z"), q["payload"]
    [d] = delivery_of(server, h["id"])
    assert q["headers"]["webhook-id"] == f"msg_{d[0]}", (q["headers"], d)
    wait_status(server, d[0], "delivered")

    r = ag.sa.get(hooks(ag.lic, f"/{h['id']}/deliveries/{d[0]}"))
    assert r.status == 200, r
    assert r.body["status"] == "delivered" and r.body["attempts"] == 1 and r.body["last_status"] == 200, r.body
    [t] = r.body["attempt_log"]
    assert t["http_status"] == 200 and t["error"] is None, t
    # The answer's first KiB, no more.
    assert t["response"].startswith("accepted ") and len(t["response"]) == 1024, t
    assert isinstance(t["duration_ms"], int)
    assert got


def test_receiver_down_then_up_gets_every_event_under_the_same_ids(server, receiver):
    ag = agreement(server, {"enterprise": 10})
    h = create(ag.sa, hooks(ag.lic), receiver.url, event_types=["subscription.added"])
    receiver.secrets(h["secret"])
    receiver.mode("fail", 500)
    first = addr("first")
    add(ag.sa, ag.lic, sign_in_email=first)
    receiver.wait_for(lambda rs: sub_event(receiver, first), what="the failed try")
    failed_id = sub_event(receiver, first)[0]["headers"]["webhook-id"]
    receiver.stop()
    people = [addr("down") for _ in range(3)]
    for p in people:
        add(ag.sa, ag.lic, sign_in_email=p)
    # Every delivery is tried, fails, and waits its backoff: 5 s after the first try.
    def all_tried():
        rows = delivery_of(server, h["id"])
        return len(rows) == 4 and all(r[2] == "pending" and r[3] >= 1 for r in rows)
    deadline = time.monotonic() + 20
    while not all_tried():
        assert time.monotonic() < deadline, delivery_of(server, h["id"])
        time.sleep(0.1)
    for d in delivery_of(server, h["id"]):
        [(at,)] = db_query(server, "SELECT MAX(at) FROM webhook_attempts WHERE delivery_id = ?", (d[0],))
        assert d[4] - at == (5 if d[3] == 1 else 300), d
    r = ag.sa.get(hooks(ag.lic, f"/{h['id']}/deliveries"))
    assert {x["status"] for x in r.body["deliveries"]} == {"pending"}, r.body
    t = ag.sa.get(hooks(ag.lic, f"/{h['id']}/deliveries/{r.body['deliveries'][0]['id']}")).body["attempt_log"]
    assert t[0]["http_status"] is None and t[0]["error"], t

    receiver.mode("ok")
    receiver.start()
    make_due(server, h["id"])
    receiver.wait_for(lambda rs: all(sub_event(receiver, p) for p in people + [first])
                      and len(sub_event(receiver, first)) >= 2, what="every event after the receiver came back")
    ids = {p: {q["headers"]["webhook-id"] for q in sub_event(receiver, p)} for p in people + [first]}
    assert ids[first] == {failed_id}, ids   # retried under the id it failed with
    assert len({next(iter(v)) for v in ids.values()}) == 4, ids
    assert all(q["verified"] == [True] for p in people for q in sub_event(receiver, p))
    for d in delivery_of(server, h["id"]):
        wait_status(server, d[0], "delivered")


def test_a_redirect_is_not_followed_and_counts_as_a_failure(server, receiver):
    ag = agreement(server, {"enterprise": 5})
    h = create(ag.sa, hooks(ag.lic), receiver.url)
    receiver.mode("redirect")
    r = ag.sa.post(hooks(ag.lic, f"/{h['id']}/ping"))
    assert r.status == 202 and r.body["type"] == "webhook.ping" and r.body["status"] == "pending", r
    did = r.body["id"]

    def tried():
        b = ag.sa.get(hooks(ag.lic, f"/{h['id']}/deliveries/{did}")).body
        # The delivery row is read before its log: once it counts a try, the log holds it.
        return b if b["attempts"] else None
    deadline = time.monotonic() + 20
    while not (b := tried()):
        assert time.monotonic() < deadline
        time.sleep(0.1)
    assert b["status"] == "pending" and b["last_status"] == 302, b
    assert b["attempt_log"][0]["http_status"] == 302 and "redirect" in b["attempt_log"][0]["error"], b
    time.sleep(0.5)
    assert receiver.received(path="/moved") == []


def test_ping_and_redelivery_reach_that_endpoint_only_under_the_same_id(server, receiver):
    ag = agreement(server, {"enterprise": 5})
    h = create(ag.sa, hooks(ag.lic), receiver.url)
    other = create(ag.sa, hooks(ag.lic), receiver.url + "?other")
    receiver.secrets(h["secret"])
    r = ag.sa.post(hooks(ag.lic, f"/{h['id']}/ping"))
    assert r.status == 202, r
    did = r.body["id"]
    got = receiver.wait_for(lambda rs: [q for q in rs if q["payload"]["type"] == "webhook.ping"], what="the ping")
    pings = [q for q in got if q["payload"]["type"] == "webhook.ping"]
    assert len(pings) == 1 and pings[0]["payload"]["data"] == {"endpoint_id": h["id"]}, pings
    assert pings[0]["verified"] == [True] and pings[0]["headers"]["webhook-id"] == f"msg_{did}"
    wait_status(server, did, "delivered")
    assert delivery_of(server, other["id"], "webhook.ping") == []

    r = ag.sa.post(hooks(ag.lic, f"/{h['id']}/deliveries/{did}/redeliver"))
    assert r.status == 202 and r.body["status"] == "pending", r
    got = receiver.wait_for(lambda rs: len([q for q in rs if q["payload"]["type"] == "webhook.ping"]) == 2,
                            what="the redelivery")
    assert {q["headers"]["webhook-id"] for q in got if q["payload"]["type"] == "webhook.ping"} == {f"msg_{did}"}
    wait_status(server, did, "delivered")
    b = ag.sa.get(hooks(ag.lic, f"/{h['id']}/deliveries/{did}")).body
    assert len(b["attempt_log"]) == 2, b
    assert_problem(ag.sa.post(hooks(ag.lic, f"/{other['id']}/deliveries/{did}/redeliver")), 404, "not_found")


def test_deliveries_page_newest_first(server, receiver):
    ag = agreement(server, {"enterprise": 5})
    h = create(ag.sa, hooks(ag.lic), receiver.url)
    ids = [ag.sa.post(hooks(ag.lic, f"/{h['id']}/ping")).body["id"] for _ in range(3)]
    r = ag.sa.get(hooks(ag.lic, f"/{h['id']}/deliveries?limit=2"))
    assert [d["id"] for d in r.body["deliveries"]] == ids[::-1][:2] and r.body["next_before"] == ids[1], r.body
    r = ag.sa.get(hooks(ag.lic, f"/{h['id']}/deliveries?limit=2&before={ids[1]}"))
    assert [d["id"] for d in r.body["deliveries"]] == [ids[0]] and r.body["next_before"] is None, r.body
    assert field_errors(ag.sa.get(hooks(ag.lic, f"/{h['id']}/deliveries?limit=0"))) == {"limit": "out_of_range"}


def test_rotation_signs_with_both_secrets_during_the_overlap(server, receiver):
    ag = agreement(server, {"enterprise": 5})
    h = create(ag.sa, hooks(ag.lic), receiver.url)
    r = ag.sa.post(hooks(ag.lic, f"/{h['id']}/secret"))
    assert r.status == 200, r
    new = r.body["secret"]
    assert new.startswith("whsec_") and new != h["secret"], r.body
    left = time.mktime(time.strptime(r.body["previous_secret_expires_at"], "%Y-%m-%dT%H:%M:%SZ")) - time.mktime(
        time.gmtime())
    assert 23 * 3600 < left <= 24 * 3600 + 60, r.body
    receiver.secrets(h["secret"], new)
    did = ag.sa.post(hooks(ag.lic, f"/{h['id']}/ping")).body["id"]
    got = receiver.wait_for(lambda rs: [q for q in rs if q["headers"]["webhook-id"] == f"msg_{did}"])
    [q] = [q for q in got if q["headers"]["webhook-id"] == f"msg_{did}"]
    assert q["verified"] == [True, True], q
    assert len(q["headers"]["webhook-signature"].split(" ")) == 2, q["headers"]

    # Once the overlap is over, only the new secret signs.
    db_write(server, "UPDATE webhook_endpoints SET previous_until = ? WHERE id = ?", (int(time.time()) - 1, h["id"]))
    did = ag.sa.post(hooks(ag.lic, f"/{h['id']}/ping")).body["id"]
    got = receiver.wait_for(lambda rs: [q for q in rs if q["headers"]["webhook-id"] == f"msg_{did}"])
    [q] = [q for q in got if q["headers"]["webhook-id"] == f"msg_{did}"]
    assert q["verified"] == [False, True], q
    actions = [a for (a,) in db_query(server, "SELECT action FROM audit_events WHERE target_type = 'webhook'"
                                              " AND target_id = ? ORDER BY id", (str(h["id"]),))]
    assert actions == ["webhook.created", "webhook.secret_rotated"], actions


def test_a_failing_endpoint_is_disabled_after_days_and_its_owners_told(server, receiver):
    ag = agreement(server, {"enterprise": 5})
    h = create(ag.sa, hooks(ag.lic), receiver.url)
    receiver.mode("fail", 503)
    did = ag.sa.post(hooks(ag.lic, f"/{h['id']}/ping")).body["id"]
    deadline = time.monotonic() + 20
    while not db_query(server, "SELECT failing_since FROM webhook_endpoints WHERE id = ?", (h["id"],))[0][0]:
        assert time.monotonic() < deadline
        time.sleep(0.05)
    assert ag.sa.get(hooks(ag.lic, f"/{h['id']}")).body["enabled"] is True
    # Three days and more of failures, then one more.
    db_write(server, "UPDATE webhook_endpoints SET failing_since = ? WHERE id = ?",
             (int(time.time()) - 3 * 86400 - 60, h["id"]))
    make_due(server, h["id"])
    m = server.mail.wait_for_mail(ag.customer_email, subject_contains=receiver.url, timeout=20)
    assert ag.lic in m.text, m.text
    b = ag.sa.get(hooks(ag.lic, f"/{h['id']}")).body
    assert b["enabled"] is False and b["disabled_reason"] == "failing", b
    wait_status(server, did, "failed")
    # No more deliveries are made for it, until it is turned on again.
    who = addr("after")
    add(ag.sa, ag.lic, sign_in_email=who)
    assert delivery_of(server, h["id"]) == []
    assert db_query(server, "SELECT COUNT(*) FROM audit_events WHERE action = 'webhook.disabled' AND target_id = ?",
                    (str(h["id"]),))[0][0] == 1
    r = ag.sa.patch(hooks(ag.lic, f"/{h['id']}"), {"enabled": True})
    assert r.body["enabled"] is True and r.body["disabled_reason"] is None, r.body
    assert db_query(server, "SELECT failing_since FROM webhook_endpoints WHERE id = ?", (h["id"],))[0][0] is None


# ---------------------------------------------------------------------------------------
# Tenants


def test_another_agreements_super_admin_cannot_see_or_touch_an_endpoint(server, receiver):
    a = agreement(server, {"enterprise": 5})
    b = agreement(server, {"enterprise": 5})
    h = create(a.sa, hooks(a.lic), receiver.url)
    did = a.sa.post(hooks(a.lic, f"/{h['id']}/ping")).body["id"]
    for who, lic in ((b.sa, b.lic), (b.sa, a.lic)):
        assert who.get(hooks(lic, f"/{h['id']}")).status == 404
        assert who.patch(hooks(lic, f"/{h['id']}"), {"description": "x"}).status == 404
        assert who.delete(hooks(lic, f"/{h['id']}")).status == 404
        assert who.post(hooks(lic, f"/{h['id']}/secret")).status == 404
        assert who.post(hooks(lic, f"/{h['id']}/ping")).status == 404
        assert who.get(hooks(lic, f"/{h['id']}/deliveries")).status == 404
        assert who.get(hooks(lic, f"/{h['id']}/deliveries/{did}")).status == 404
        assert who.post(hooks(lic, f"/{h['id']}/deliveries/{did}/redeliver")).status == 404
    assert [x["id"] for x in b.sa.get(hooks(b.lic)).body["webhooks"]] == []
    # The owner's own changes need the session's CSRF token, like every cookie-authenticated change.
    for method, tail in (("POST", ""), ("PATCH", f"/{h['id']}"), ("DELETE", f"/{h['id']}"),
                         ("POST", f"/{h['id']}/secret"), ("POST", f"/{h['id']}/ping"),
                         ("POST", f"/{h['id']}/deliveries/{did}/redeliver")):
        body = {"url": receiver.url} if method != "DELETE" else None
        assert_problem(a.sa.request(method, hooks(a.lic, tail), body, csrf=False), 403, "csrf")
    # The agreement's partner is not one of its super admins.
    assert_problem(a.seller.get(hooks(a.lic)), 403, "forbidden")
    assert a.sa.get(hooks(a.lic, f"/{h['id']}")).body["description"] == ""


def org_admin(server, org):
    c = verified_user(server, email := addr("porgadm", "fabrikam-partner.example"))
    partner_add(server, org, email, admin=True)
    ids = [o["id"] for o in c.get(ORGS).body["organizations"] if o["name"] == org]
    c.org_id = ids[0]
    return c


def test_a_partner_organization_endpoint_gets_what_its_relationships_allow(server, receiver):
    a = agreement(server, {"enterprise": 5})                  # the org's relationship: every capability
    b = agreement(server, {"enterprise": 5})                  # another organization's
    adm = org_admin(server, a.seller.org)
    # A plain member may not manage it; someone outside does not see it.
    assert_problem(a.seller.get(org_hooks(adm.org_id)), 403, "partner_admin_required")
    assert b.seller.get(org_hooks(adm.org_id)).status == 404
    h = create(adm, org_hooks(adm.org_id), receiver.url)
    receiver.secrets(h["secret"])
    assert b.seller.get(org_hooks(adm.org_id, f"/{h['id']}")).status == 404
    assert a.sa.get(hooks(a.lic, f"/{h['id']}")).status == 404       # not the agreement's

    mine, theirs = addr("mine"), addr("theirs")
    add(a.sa, a.lic, sign_in_email=mine)
    add(b.sa, b.lic, sign_in_email=theirs)
    a.sa.post(url(a.lic, "/admins"), {"name": "Ada Admin", "email": addr("adm")})   # customer-only events
    receiver.wait_for(lambda rs: sub_event(receiver, mine), what="the organization's agreement's event")
    time.sleep(1.0)
    assert sub_event(receiver, theirs) == []
    types = {q["payload"]["type"] for q in receiver.received()}
    assert not any(t.startswith("admin.") for t in types), types
    assert all(q["verified"] == [True] for q in receiver.received())
    assert {d[1] for d in deliveries_in_db(server, h["id"])} == {"subscription.added"}, deliveries_in_db(server, h["id"])


def test_a_removed_partners_pending_deliveries_are_dropped(server, receiver):
    a = agreement(server, {"enterprise": 5})
    adm = org_admin(server, a.seller.org)
    h = create(adm, org_hooks(adm.org_id), receiver.url)
    receiver.stop()
    who = addr("pending")
    add(a.sa, a.lic, sign_in_email=who)
    deadline = time.monotonic() + 20
    while not any(d[3] >= 1 for d in delivery_of(server, h["id"])):
        assert time.monotonic() < deadline
        time.sleep(0.05)
    [d] = delivery_of(server, h["id"])
    rel = [p for p in a.sa.get(url(a.lic, "/partners")).body["relationships"]
           if p["organization"]["name"] == a.seller.org][0]
    assert a.sa.delete(url(a.lic, f"/partners/{rel['id']}")).status == 204
    receiver.start()
    make_due(server, h["id"])
    wait_status(server, d[0], "dropped")
    b = adm.get(org_hooks(adm.org_id, f"/{h['id']}/deliveries/{d[0]}")).body
    assert b["attempt_log"][-1]["error"].startswith("dropped"), b
    time.sleep(0.5)
    assert sub_event(receiver, who) == []


def test_a_partner_organization_endpoint_gets_bulk_events_only_while_it_holds_bulk(server, receiver):
    a = with_defaults(agreement(server, {"enterprise": 50}))
    adm = org_admin(server, a.seller.org)
    h = create(adm, org_hooks(adm.org_id), receiver.url)
    own = create(a.sa, hooks(a.lic), receiver.url + "?own")

    def set_caps(bits):
        assert db_write(server, "UPDATE partner_relationships SET capabilities = ? WHERE agreement_id = ?"
                                " AND status = 'active'", (bits, a.id)) == 1

    def bulk(n):
        r = upload(a.sa, a.lic, "Name,Sign-in Email\n" + "".join(f"Ann Lee,{addr('bulk')}\n" for _ in range(n)),
                   send_email="false")
        assert r.status == 201, r

    def types(endpoint):
        return [d[1] for d in deliveries_in_db(server, endpoint)]

    set_caps(1)                                    # read only
    bulk(2)
    who = addr("single")
    add(a.sa, a.lic, sign_in_email=who)
    receiver.wait_for(lambda rs: sub_event(receiver, who), what="the subscription event")
    assert "bulk.applied" in types(own["id"]), types(own["id"])
    assert "bulk.applied" not in types(h["id"]) and "subscription.added" in types(h["id"]), types(h["id"])

    # Narrowed after the event, before its delivery: dropped, never sent.
    set_caps(31)
    receiver.stop()
    bulk(1)
    deadline = time.monotonic() + 20
    while not [d for d in delivery_of(server, h["id"], "bulk.applied") if d[3] >= 1]:
        assert time.monotonic() < deadline, deliveries_in_db(server, h["id"])
        time.sleep(0.05)
    [d] = delivery_of(server, h["id"], "bulk.applied")
    set_caps(1)
    receiver.start()
    make_due(server, h["id"])
    wait_status(server, d[0], "dropped")
    time.sleep(0.5)
    assert not [q for q in receiver.received() if q["payload"]["type"] == "bulk.applied"
                and q["headers"]["webhook-id"] == f"msg_{d[0]}"]
