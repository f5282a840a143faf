"""Partner requests answered by the customer, and partner access changed in place.

With approval on, a partner's registration waits as a request that super admins and partner
managers answer from the link in their e-mail: approve as asked, approve less (narrow), or
deny. A request answered too late has lapsed (410); one already answered is 409, and of two
answers racing on one request exactly one decides it. The customer changes an active
relationship in place (the partner's very next request sees it), and a partner asks for a
change the same way (an amendment request, one open at a time)."""
import datetime
import json
import threading
import time
import urllib.parse
from types import SimpleNamespace

import pytest

from support.accounts import addr, partner_add, partner_user, template_subject, uniq, verified_user
from support.agreements import ORDERS, REGISTRATIONS, reg_body, url
from support.checks import assert_problem, field_errors
from support.concurrency import parallel
from support.db import PG_MODE, db_count, db_query, db_write, pg_connect

pytestmark = pytest.mark.usefixtures("server_alive")

ALL = ["read", "assign", "bulk", "usage", "activity"]


# ---------------------------------------------------------------------------------------
# Helpers


def day(offset):
    """The UTC day `offset` days from today, as the API writes last days of access."""
    return (datetime.datetime.now(datetime.timezone.utc).date() + datetime.timedelta(days=offset)).isoformat()


def customer(server):
    """An ordered agreement whose customer is its super admin (approval on), with a
    partner manager appointed through POST /admins."""
    seller = partner_user(server)
    cust = addr("cust", "contoso.example")
    name = "Contoso " + uniq("co")
    r = seller.post(ORDERS, {"customer_name": name, "customer_email": cust, "customer_country": "FR",
                             "lines": [{"level": "enterprise", "quantity": 5}]})
    assert r.status == 201, r
    g = r.body["agreement"]
    ag = SimpleNamespace(lic=g["license_number"], authno=g["authorization_number"], customer_email=cust,
                         customer_name=name, seller=seller)
    ag.id = db_query(server, "SELECT id FROM agreements WHERE license_number = ?", (ag.lic,))[0][0]
    server.wait_for_mail(cust, subject_contains=ag.lic)   # the customer invitation
    ag.sa = verified_user(server, cust, name="Camille Martin")
    r = ag.sa.put(url(ag.lic, "/preferences"), {"partner_approval": True})
    assert r.status == 200 and r.body["partner_approval"] is True, r
    ag.pm = verified_user(server, addr("pm", "contoso.example"), name="Pat Manager")
    r = ag.sa.post(url(ag.lic, "/admins"), {"name": "Pat Manager", "email": ag.pm.email, "role": "partner_manager"})
    assert r.status == 201, r
    return ag


def request_link(mail, lic):
    """The request id in the e-mail's link to the Partners page."""
    link = mail.link(f"/agreements/{lic}/partners")
    assert link, mail.links
    return int(urllib.parse.parse_qs(urllib.parse.urlsplit(link).query)["request"][0])


def pending_registration(server, ag, partner=None, **ask):
    """A partner of a new organization registers; the request waits. Returns the partner and
    the request id, read from the link mailed to the partner manager."""
    p = partner or partner_user(server)
    r = p.post(REGISTRATIONS, reg_body(ag, **ask))
    assert r.status == 202 and r.body["status"] == "pending", r
    m = server.wait_for_mail(ag.pm.email, subject_contains=template_subject("en", "partner_request",
                                                                            license_number=ag.lic))
    req_id = request_link(m, ag.lic)
    assert req_id == r.body["request_id"]
    p.relationship_id = r.body["relationship_id"]
    return p, req_id


def approve(c, ag, req_id, **body):
    return c.post(url(ag.lic, f"/partner-requests/{req_id}/approve"), body)


def deny(c, ag, req_id, **body):
    return c.post(url(ag.lic, f"/partner-requests/{req_id}/deny"), body)


def rel_row(server, rel_id):
    return db_query(server, "SELECT status, capabilities, ends_at, starts_at FROM partner_relationships WHERE id = ?",
                    (rel_id,))[0]


def request_status(server, req_id):
    return db_query(server, "SELECT status FROM partner_requests WHERE id = ?", (req_id,))[0][0]


def audits(server, action, ag):
    return db_query(server, "SELECT actor_user_id, target_type, target_id, relationship_id, details FROM audit_events"
                            " WHERE action = ? AND agreement_id = ? ORDER BY id", (action, ag.id))


def add_subscriber(c, ag):
    return c.post(url(ag.lic, "/subscriptions"), {"name": "Grace Hopper", "sign_in_email": addr("dev", "contoso.example"),
                                                  "level": "enterprise", "country": "FR", "language": "en"})


def org_id_of(server, rel_id):
    return db_query(server, "SELECT partner_org_id FROM partner_relationships WHERE id = ?", (rel_id,))[0][0]


# ---------------------------------------------------------------------------------------
# Approve, narrow, deny


def test_approval_from_the_mailed_link_gives_access(server):
    ag = customer(server)
    p, req_id = pending_registration(server, ag)
    # The super admin hears of it too.
    m = server.wait_for_mail(ag.customer_email, subject_contains=template_subject("en", "partner_request",
                                                                                 license_number=ag.lic))
    assert request_link(m, ag.lic) == req_id
    assert p.get(url(ag.lic, "/overview")).status == 404
    assert rel_row(server, p.relationship_id)[0] == "pending"

    r = approve(ag.pm, ag, req_id)
    assert r.status == 200, r
    assert r.body["id"] == p.relationship_id and r.body["status"] == "active", r.body
    assert r.body["capabilities"] == ALL and r.body["pending_request"] is None
    assert r.body["starts_at"] >= int(time.time()) - 60
    assert request_status(server, req_id) == "approved"
    ev = audits(server, "partner.request_approved", ag)
    assert len(ev) == 1 and ev[0][0] == ag.pm.user["id"] and ev[0][1:4] == ("partner_request", str(req_id),
                                                                             p.relationship_id), ev

    assert p.get(url(ag.lic, "/overview")).status == 200
    assert add_subscriber(p, ag).status == 201
    m = server.wait_for_mail(p.email, subject_contains=template_subject("en", "partner_request_approved",
                                                                       license_number=ag.lic))
    assert p.org in m.text and f"/agreements/{ag.lic}" in m.text, m.text


def test_narrowed_approval_grants_less_and_says_what_was_asked(server):
    ag = customer(server)
    p, req_id = pending_registration(server, ag, capabilities=["read", "assign", "usage"], ends_on=day(100))

    r = approve(ag.sa, ag, req_id, capabilities=["read", "bulk"], ends_on=day(200))
    assert field_errors(r) == {"capabilities": "beyond_request", "ends_on": "beyond_request"}
    assert request_status(server, req_id) == "pending"

    r = approve(ag.sa, ag, req_id, capabilities=["read", "usage"], ends_on=day(50))
    assert r.status == 200, r
    assert r.body["capabilities"] == ["read", "usage"] and r.body["ends_on"] == day(50), r.body
    assert request_status(server, req_id) == "narrowed"
    assert len(audits(server, "partner.request_narrowed", ag)) == 1

    assert p.get(url(ag.lic, "/subscriptions")).status == 200
    assert p.get(url(ag.lic, "/usage")).status == 200
    b = assert_problem(add_subscriber(p, ag), 403, "capability_assign_missing")
    assert b["capability"] == "assign"
    assert_problem(p.get(url(ag.lic, "/activity")), 403, "capability_activity_missing")

    m = server.wait_for_mail(p.email, subject_contains=template_subject("en", "partner_request_narrowed",
                                                                       license_number=ag.lic))
    assert "assign, edit and remove subscriptions" in m.text    # asked, not granted
    assert "see the maximum-usage report" in m.text


def test_approving_the_last_day_asked_for_is_approving_as_asked(server):
    """A request's end is an instant of its last day; the approval form names that day. Sending
    it back unchanged grants what was asked, not a day too much (nor `beyond_request`)."""
    ag = customer(server)
    p, req_id = pending_registration(server, ag)
    asked = ag.sa.get(url(ag.lic, "/partners")).body["requests"][0]
    assert asked["id"] == req_id and asked["ends_at"] % 86400 != 0, asked
    r = approve(ag.sa, ag, req_id, capabilities=asked["capabilities"], ends_on=asked["ends_on"])
    assert r.status == 200, r
    assert r.body["ends_at"] == asked["ends_at"] and r.body["ends_on"] == asked["ends_on"], r.body
    assert request_status(server, req_id) == "approved"
    # The day before is a narrowing, to the end of that day.
    p2, req2 = pending_registration(server, ag)
    asked2 = [q for q in ag.sa.get(url(ag.lic, "/partners")).body["requests"] if q["id"] == req2][0]
    earlier = time.strftime("%Y-%m-%d", time.gmtime(asked2["ends_at"] - 86400 - 1))
    r = approve(ag.sa, ag, req2, ends_on=earlier)
    assert r.status == 200 and r.body["ends_on"] == earlier and r.body["ends_at"] % 86400 == 0, r.body
    assert request_status(server, req2) == "narrowed"


def test_denial_with_a_reason(server):
    ag = customer(server)
    p, req_id = pending_registration(server, ag)
    r = deny(ag.pm, ag, req_id, reason="x" * 501)
    assert field_errors(r) == {"reason": "too_long"}

    r = deny(ag.pm, ag, req_id, reason="We work with another reseller")
    assert r.status == 200, r
    assert r.body["id"] == req_id and r.body["status"] == "denied", r.body
    assert r.body["reason"] == "We work with another reseller" and r.body["decided_at"]
    assert rel_row(server, p.relationship_id)[0] == "denied"
    assert p.get(url(ag.lic, "/overview")).status == 404
    assert len(audits(server, "partner.request_denied", ag)) == 1
    m = server.wait_for_mail(p.email, subject_contains=template_subject("en", "partner_request_denied",
                                                                       license_number=ag.lic))
    assert "We work with another reseller" in m.text

    assert_problem(approve(ag.pm, ag, req_id), 409, "request_decided")
    assert_problem(deny(ag.pm, ag, req_id), 409, "request_decided")
    assert rel_row(server, p.relationship_id)[0] == "denied"


def test_french_requester_reads_the_decision_in_french(server):
    ag = customer(server)
    p = partner_user(server, language="fr")
    p, req_id = pending_registration(server, ag, partner=p)
    assert deny(ag.sa, ag, req_id).status == 200
    m = server.wait_for_mail(p.email, subject_contains=template_subject("fr", "partner_request_denied",
                                                                       license_number=ag.lic))
    assert "Le client n’a pas donné de motif." in m.text


def test_who_may_answer(server):
    ag = customer(server)
    p, req_id = pending_registration(server, ag)
    # A partner manager answers requests but holds no capability on subscribers.
    assert_problem(ag.pm.get(url(ag.lic, "/subscriptions")), 403, "capability_read_missing")
    # The partner cannot answer its own request, nor can a plain admin.
    assert p.post(url(ag.lic, f"/partner-requests/{req_id}/approve"), {}).status == 404
    adm = verified_user(server, addr("adm", "contoso.example"))
    assert ag.sa.post(url(ag.lic, "/admins"), {"name": "Ann Admin", "email": adm.email, "role": "admin"}).status == 201
    assert_problem(approve(adm, ag, req_id), 403, "forbidden")
    assert request_status(server, req_id) == "pending"


def test_a_request_of_another_agreement_is_not_found(server):
    a, b = customer(server), customer(server)
    _, req_b = pending_registration(server, b)
    assert_problem(approve(a.sa, a, req_b), 404, "not_found")
    assert_problem(deny(a.sa, a, req_b), 404, "not_found")
    # ... nor can the other customer reach it through an agreement it has no role on.
    assert approve(a.sa, b, req_b).status == 404
    assert request_status(server, req_b) == "pending"
    assert approve(a.sa, a, 999999999).status == 404
    assert approve(b.pm, b, req_b).status == 200


def test_a_lapsed_request_is_gone_and_recorded(server):
    ag = customer(server)
    p, req_id = pending_registration(server, ag)
    db_write(server, "UPDATE partner_requests SET lapses_at = ?, created_at = created_at - 31 * 86400 WHERE id = ?",
             (int(time.time()) - 60, req_id))
    assert_problem(approve(ag.sa, ag, req_id), 410, "request_lapsed")
    assert request_status(server, req_id) == "lapsed"
    assert rel_row(server, p.relationship_id)[0] == "lapsed"
    ev = audits(server, "partner.request_lapsed", ag)
    assert len(ev) == 1 and ev[0][0] is None and ev[0][3] == p.relationship_id, ev
    assert p.get(url(ag.lic, "/overview")).status == 404
    assert_problem(deny(ag.sa, ag, req_id), 409, "request_decided")


# ---------------------------------------------------------------------------------------
# Races: what decides is read inside the write


def race(server, first, second):
    ag = customer(server)
    p, req_id = pending_registration(server, ag)
    results = parallel(2, lambda i: (first if i == 0 else second)(ag, req_id, p))
    return ag, p, req_id, results


def test_two_approvals_one_wins(server):
    for _ in range(2):
        ag, p, req_id, res = race(server, lambda ag, q, p: approve(ag.sa, ag, q), lambda ag, q, p: approve(ag.pm, ag, q))
        assert sorted(r.status for r in res) == [200, 409], res
        assert_problem(next(r for r in res if r.status == 409), 409, "request_decided")
        assert len(audits(server, "partner.request_approved", ag)) == 1
        assert rel_row(server, p.relationship_id)[0] == "active"


def test_approval_and_denial_one_wins(server):
    for _ in range(2):
        ag, p, req_id, res = race(server, lambda ag, q, p: approve(ag.sa, ag, q), lambda ag, q, p: deny(ag.pm, ag, q))
        assert sorted(r.status for r in res) == [200, 409], res
        assert_problem(next(r for r in res if r.status == 409), 409, "request_decided")
        approved = res[0].status == 200
        assert request_status(server, req_id) == ("approved" if approved else "denied")
        assert rel_row(server, p.relationship_id)[0] == ("active" if approved else "denied")
        assert (p.get(url(ag.lic, "/overview")).status == 200) == approved


def test_approval_and_removal_never_leave_access(server):
    # A removal that commits first denies the request (the approval is then 409); one that
    # commits second removes the access the approval gave. Either way the partner is out.
    for _ in range(2):
        ag, p, req_id, res = race(server, lambda ag, q, p: approve(ag.pm, ag, q),
                                  lambda ag, q, p: ag.sa.delete(url(ag.lic, f"/partners/{p.relationship_id}")))
        appr, rem = res
        assert rem.status == 204, rem
        assert appr.status in (200, 409), appr
        if appr.status == 409:
            assert_problem(appr, 409, "request_decided")
        assert request_status(server, req_id) == ("approved" if appr.status == 200 else "denied")
        assert rel_row(server, p.relationship_id)[0] == "removed"
        assert p.get(url(ag.lic, "/overview")).status == 404


# ---------------------------------------------------------------------------------------
# Changes in place


def active_partner(server, ag):
    """A partner of a new organization whose access the customer approved."""
    p, req_id = pending_registration(server, ag)
    assert approve(ag.sa, ag, req_id).status == 200
    p.org_id = org_id_of(server, p.relationship_id)
    return p


def test_customer_narrowing_applies_to_the_very_next_request(server):
    ag = customer(server)
    p = active_partner(server, ag)
    assert add_subscriber(p, ag).status == 201
    r = ag.pm.patch(url(ag.lic, f"/partners/{p.relationship_id}"), {"capabilities": ["read"], "auto_renew": True})
    assert r.status == 200, r
    assert r.body["id"] == p.relationship_id and r.body["capabilities"] == ["read"] and r.body["auto_renew"] is True
    assert_problem(add_subscriber(p, ag), 403, "capability_assign_missing")
    assert p.get(url(ag.lic, "/subscriptions")).status == 200
    ev = audits(server, "partner.relationship_amended", ag)
    assert len(ev) == 1 and ev[0][1:4] == ("partner_relationship", str(p.relationship_id), p.relationship_id), ev
    m = server.wait_for_mail(p.email, subject_contains=template_subject("en", "partner_amended", license_number=ag.lic))
    assert "see subscribers and export lists" in m.text and "automatic at the end" in m.text

    # A last day brought forward; nothing sent changes nothing and records nothing.
    r = ag.sa.patch(url(ag.lic, f"/partners/{p.relationship_id}"), {"ends_on": day(10)})
    assert r.status == 200 and r.body["ends_on"] == day(10), r
    assert ag.sa.patch(url(ag.lic, f"/partners/{p.relationship_id}"), {}).status == 200
    assert len(audits(server, "partner.relationship_amended", ag)) == 2
    assert db_count(server, "partner_relationships", "agreement_id = ?", (ag.id,)) == 2   # the seller's and this one


def test_customer_change_is_checked(server):
    ag = customer(server)
    p = active_partner(server, ag)
    path = url(ag.lic, f"/partners/{p.relationship_id}")
    r = ag.sa.patch(path, {"capabilities": ["assign"], "ends_on": day(731), "auto_renew": "yes"})
    assert field_errors(r) == {"capabilities": "read_required", "ends_on": "out_of_range", "auto_renew": "wrong_type"}
    assert field_errors(ag.sa.patch(path, {"ends_on": day(-1)})) == {"ends_on": "out_of_range"}
    assert field_errors(ag.sa.patch(path, {"capabilities": ["read", "admin"]})) == {"capabilities": "invalid_value"}
    other = customer(server)
    assert_problem(other.sa.patch(url(other.lic, f"/partners/{p.relationship_id}"), {"capabilities": ["read"]}),
                   404, "not_found")
    assert_problem(ag.pm.patch(url(ag.lic, "/partners/999999999"), {"capabilities": ["read"]}), 404, "not_found")
    # Only super admins and partner managers; the partner cannot widen its own access.
    assert p.patch(path, {"capabilities": ALL}).status == 403
    assert ag.sa.delete(path).status == 204
    assert_problem(ag.sa.patch(path, {"capabilities": ["read"]}), 409, "relationship_ended")
    # Past its end, a relationship is over even before the housekeeping says so.
    q = active_partner(server, ag)
    db_write(server, "UPDATE partner_relationships SET ends_at = ? WHERE id = ?", (int(time.time()) - 1, q.relationship_id))
    assert_problem(ag.sa.patch(url(ag.lic, f"/partners/{q.relationship_id}"), {"ends_on": day(30)}), 409,
                   "relationship_ended")


def amend_path(org_id, rel_id):
    return f"/api/v1/partner-organizations/{org_id}/relationships/{rel_id}/amendments"


def test_partner_amendment_changes_the_relationship_in_place(server):
    ag = customer(server)
    p = active_partner(server, ag)
    r = ag.sa.patch(url(ag.lic, f"/partners/{p.relationship_id}"), {"capabilities": ["read"]})
    assert r.status == 200
    onboarded = db_count(server, "audit_events", "agreement_id = ? AND action LIKE 'partner.access_granted'", (ag.id,))

    r = p.post(amend_path(p.org_id, p.relationship_id), {"capabilities": ["read", "assign"], "ends_on": day(60)})
    assert r.status == 201, r
    assert r.body["kind"] == "amendment" and r.body["relationship_id"] == p.relationship_id, r.body
    assert r.body["status"] == "pending" and r.body["capabilities"] == ["read", "assign"]
    req_id = r.body["id"]
    ev = audits(server, "partner.request_created", ag)
    assert ev[-1][1:4] == ("partner_request", str(req_id), p.relationship_id), ev
    assert json.loads(ev[-1][4])["kind"] == "amendment"
    m = server.wait_for_mail(ag.pm.email, subject_contains=template_subject("en", "partner_amendment_request",
                                                                            license_number=ag.lic))
    assert request_link(m, ag.lic) == req_id
    assert_problem(p.post(amend_path(p.org_id, p.relationship_id), {"capabilities": ALL, "ends_on": day(60)}),
                   409, "request_open")
    # Until it is answered nothing changes.
    assert_problem(add_subscriber(p, ag), 403, "capability_assign_missing")

    r = approve(ag.pm, ag, req_id)
    assert r.status == 200, r
    assert r.body["id"] == p.relationship_id and r.body["capabilities"] == ["read", "assign"], r.body
    assert r.body["ends_on"] == day(60)
    assert add_subscriber(p, ag).status == 201
    assert db_count(server, "partner_relationships", "agreement_id = ? AND partner_org_id = ?", (ag.id, p.org_id)) == 1
    assert db_count(server, "audit_events", "agreement_id = ? AND action LIKE 'partner.access_granted'",
                    (ag.id,)) == onboarded
    server.wait_for_mail(p.email, subject_contains=template_subject("en", "partner_request_approved",
                                                                    license_number=ag.lic))
    # Denying a later amendment leaves the access as it is.
    r = p.post(amend_path(p.org_id, p.relationship_id), {"capabilities": ALL, "ends_on": day(90)})
    assert r.status == 201
    assert deny(ag.sa, ag, r.body["id"]).status == 200
    assert rel_row(server, p.relationship_id)[0] == "active"
    assert add_subscriber(p, ag).status == 201


def test_who_may_ask_for_an_amendment(server):
    ag = customer(server)
    p = active_partner(server, ag)
    body = {"capabilities": ALL, "ends_on": day(30)}
    # Someone outside the organization, or another organization's relationship: not found.
    outsider = partner_user(server)
    assert_problem(outsider.post(amend_path(p.org_id, p.relationship_id), body), 404, "not_found")
    outsider_org = db_query(server, "SELECT org_id FROM partner_members WHERE email = ?", (outsider.email,))[0][0]
    assert_problem(outsider.post(amend_path(outsider_org, p.relationship_id), body), 404, "not_found")
    assert_problem(p.post(amend_path(p.org_id, 999999999), body), 404, "not_found")
    # A member the relationship does not name: refused; the organization's admin: allowed.
    db_write(server, "UPDATE partner_relationships SET people = 'named' WHERE id = ?", (p.relationship_id,))
    assert_problem(p.post(amend_path(p.org_id, p.relationship_id), body), 403, "partner_admin_required")
    admin = partner_user(server, org=p.org)
    partner_add(server, p.org, admin.email, admin=True)
    assert field_errors(admin.post(amend_path(p.org_id, p.relationship_id), {"capabilities": ["assign"]})) == {
        "capabilities": "read_required", "ends_on": "required"}
    r = admin.post(amend_path(p.org_id, p.relationship_id), body)
    assert r.status == 201, r
    assert deny(ag.sa, ag, r.body["id"]).status == 200
    # An ended relationship cannot be amended.
    assert ag.sa.delete(url(ag.lic, f"/partners/{p.relationship_id}")).status == 204
    assert_problem(admin.post(amend_path(p.org_id, p.relationship_id), body), 409, "relationship_ended")


# The first half of an agreement's advisory lock key (AGREEMENT_LOCK_NS in src/store/pg.c).
AGREEMENT_LOCK_NS = 1869837153


@pytest.mark.skipif(not PG_MODE, reason="SQLite has one writer: there is no lock of one agreement to see")
def test_an_amendment_request_locks_its_agreement_alone(server):
    """A partner's amendment request writes under its agreement's lock, not the whole
    store's: while another session holds that agreement's lock the request waits for it
    (PostgreSQL's lock table shows it waiting), and it completes once the lock is let go."""
    ag = customer(server)
    p = active_partner(server, ag)
    holder = pg_connect(server.pg_db)
    answers = []
    try:
        with holder.cursor() as cur:
            cur.execute("SELECT pg_advisory_lock(%s, %s)", (AGREEMENT_LOCK_NS, ag.id))
        t = threading.Thread(target=lambda: answers.append(
            p.post(amend_path(p.org_id, p.relationship_id), {"capabilities": ALL, "ends_on": day(60)})))
        t.start()
        waiting = []
        for _ in range(200):
            waiting = db_query(server, "SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND objsubid = 2"
                                       f" AND classid = {AGREEMENT_LOCK_NS} AND objid = ? AND NOT granted", (ag.id,))
            if waiting or answers:
                break
            time.sleep(0.05)
        assert waiting and not answers, "the request did not wait for its agreement's lock"
    finally:
        holder.close()   # lets the lock go
    t.join(30)
    assert answers and answers[0].status == 201, answers
