"""The partner organization's own page: its people (added by its admins, removed by them, the
last admin kept) and who acts under each of its relationships (all its people, or named ones).
Every change takes effect on the person's next request; an organization is visible to its
members only (others get 404, as if it did not exist), and changed by its admins only."""
import json

import pytest

from support.accounts import addr, partner_add, template_subject, uniq, verified_user
from support.agreements import agreement, url
from support.checks import assert_problem, field_errors
from support.client import Client
from support.db import db_query
from support.files import people, start, with_defaults
from support.server import poll

ORGS = "/api/v1/partner-organizations"

pytestmark = pytest.mark.usefixtures("server_alive")


# ---------------------------------------------------------------------------------------
# Helpers


def org_person(server, org, admin=False, name="Alex Morgan", language=None):
    """A signed-in person of partner organization `org` (created if new), added by the operator."""
    email = addr("staff", "fabrikam-partner.example")
    partner_add(server, org, email, admin=admin)
    c = verified_user(server, email, name=name, language=language)
    c.org_name = org
    return c


def org_id(client):
    """The id of the client's organization, from its own list."""
    r = client.get(ORGS)
    assert r.status == 200, r
    ids = [o["id"] for o in r.body["organizations"] if o["name"] == client.org_name]
    assert len(ids) == 1, r.body
    return ids[0]


def world(server):
    """An agreement ordered by a member of a new organization (relationship route "order",
    covering all its people), that organization's admin, and the ids of both."""
    org = "Partner " + uniq("org")
    seller = org_person(server, org, name="Sam Seller")
    ag = agreement(server, {"enterprise": 20}, seller=seller)
    admin = org_person(server, org, admin=True, name="Ada Admin")
    oid = org_id(admin)
    rels = admin.get(f"{ORGS}/{oid}").body["relationships"]
    rel = [x for x in rels if x["agreement"]["license_number"] == ag.lic]
    assert len(rel) == 1, rels
    return ag, admin, seller, oid, rel[0]["id"]


def page(client, oid):
    r = client.get(f"{ORGS}/{oid}")
    assert r.status == 200, r
    return r.body


def person_id(client, oid, email):
    ids = [p["id"] for p in page(client, oid)["people"] if p["email"] == email]
    assert len(ids) == 1, (email, page(client, oid)["people"])
    return ids[0]


def acts(client, lic):
    """The status the client's next request on the agreement's subscribers gets."""
    return client.get(url(lic, "/subscriptions")).status


def audits(server, action, since=0):
    return db_query(server, "SELECT agreement_id, relationship_id, target_type, target_id, details FROM audit_events"
                            " WHERE action = ? AND id > ? ORDER BY id", (action, since))


def last_audit(server):
    return db_query(server, "SELECT COALESCE(MAX(id), 0) FROM audit_events")[0][0]


# ---------------------------------------------------------------------------------------
# Listing and the page


def test_a_person_lists_their_organizations_with_their_role(server):
    org_a, org_b = "Partner " + uniq("a"), "Partner " + uniq("b")
    admin = org_person(server, org_a, admin=True)
    partner_add(server, org_b, admin.email)                   # also a plain member of B
    r = admin.get(ORGS)
    assert r.status == 200, r
    mine = {o["name"]: o["role"] for o in r.body["organizations"]}
    assert mine == {org_a: "admin", org_b: "member"}, r.body
    assert all(isinstance(o["id"], int) for o in r.body["organizations"])
    # Someone in no organization has none; someone signed out is refused.
    loner = verified_user(server, addr("loner"))
    assert loner.get(ORGS).body == {"organizations": []}
    assert_problem(Client(server).get(ORGS), 401)


def test_the_page_shows_people_relationships_and_requests(server):
    ag, admin, seller, oid, rel_id = world(server)
    invited = addr("invited", "fabrikam-partner.example")
    assert admin.post(f"{ORGS}/{oid}/people", {"email": invited, "role": "member"}).status == 201
    body = page(seller, oid)                                  # a plain member sees it too
    assert body["id"] == oid and body["name"] == admin.org_name and body["role"] == "member"
    people_ = {p["email"]: p for p in body["people"]}
    assert people_[admin.email]["role"] == "admin" and people_[admin.email]["name"] == "Ada Admin"
    assert people_[admin.email]["has_account"] is True
    assert people_[invited] == {"id": people_[invited]["id"], "name": None, "email": invited, "role": "member",
                                "has_account": False}
    assert page(admin, oid)["role"] == "admin"
    (rel,) = [x for x in body["relationships"] if x["id"] == rel_id]
    assert rel["agreement"] == {"license_number": ag.lic, "customer_name": ag.customer_name}
    assert rel["organization"] == {"id": oid, "name": admin.org_name}
    assert rel["status"] == "active" and rel["people"] == "all" and rel["named_people"] == []
    assert "read" in rel["capabilities"] and rel["pending_request"] is None
    assert body["requests"] == []


# ---------------------------------------------------------------------------------------
# Isolation


def test_another_organization_is_not_found(server):
    ag, admin, seller, oid, rel_id = world(server)
    other_ag, other_admin, other_seller, other_oid, other_rel = world(server)
    other_member = person_id(other_admin, other_oid, other_seller.email)
    for who in (admin, seller):
        assert_problem(who.get(f"{ORGS}/{other_oid}"), 404)
        assert_problem(who.post(f"{ORGS}/{other_oid}/people", {"email": addr("x"), "role": "member"}), 404)
        assert_problem(who.delete(f"{ORGS}/{other_oid}/people/{other_member}"), 404)
        assert_problem(who.put(f"{ORGS}/{other_oid}/relationships/{other_rel}/people", {"people": "all"}), 404)
    # Their own organization with the other's ids: no such person, no such relationship.
    assert_problem(admin.delete(f"{ORGS}/{oid}/people/{other_member}"), 404)
    assert_problem(admin.put(f"{ORGS}/{oid}/relationships/{other_rel}/people", {"people": "all"}), 404)
    assert_problem(admin.put(f"{ORGS}/{oid}/relationships/{rel_id}/people",
                             {"people": "named", "member_ids": [other_member]}), 422)
    for bad in ("999999999", "abc", "0"):
        assert_problem(admin.get(f"{ORGS}/{bad}"), 404)
    # Nothing of the other organization changed.
    assert person_id(other_admin, other_oid, other_seller.email) == other_member
    assert acts(other_seller, other_ag.lic) == 200
    assert [x["people"] for x in page(other_admin, other_oid)["relationships"]] == ["all"]


def test_a_plain_member_cannot_change_people(server):
    ag, admin, seller, oid, rel_id = world(server)
    admin_member = person_id(admin, oid, admin.email)
    before = last_audit(server)
    for r in (seller.post(f"{ORGS}/{oid}/people", {"email": addr("x"), "role": "member"}),
              seller.delete(f"{ORGS}/{oid}/people/{admin_member}"),
              seller.put(f"{ORGS}/{oid}/relationships/{rel_id}/people", {"people": "named",
                                                                        "member_ids": [admin_member]})):
        assert_problem(r, 403, "partner_admin_required")
    assert audits(server, "partner.member_added", before) == []
    assert len(page(admin, oid)["people"]) == 2
    assert acts(seller, ag.lic) == 200


# ---------------------------------------------------------------------------------------
# People


def test_an_invited_person_signs_up_and_acts_under_an_all_relationship(server):
    ag, admin, seller, oid, rel_id = world(server)
    newcomer = addr("newcomer", "fabrikam-partner.example")
    before = last_audit(server)
    r = admin.post(f"{ORGS}/{oid}/people", {"email": newcomer.upper(), "role": "member", "language": "fr"})
    assert r.status == 201, r
    assert r.body == {"id": r.body["id"], "name": None, "email": newcomer, "role": "member", "has_account": False}
    m = server.wait_for_mail(newcomer, subject_contains=template_subject("fr", "partner_member_invited",
                                                                         organization=admin.org_name))
    link = m.link("/signup")
    assert link and link.endswith("/signup?next=/partner-organization"), m.links
    assert "Ada Admin" in m.text and admin.org_name in m.text
    ((agreement_id, relationship_id, ttype, tid, details),) = audits(server, "partner.member_added", before)
    assert (agreement_id, relationship_id, ttype, tid) == (None, None, "organization", str(oid))
    assert json.loads(details) == {"email": newcomer, "role": "member"}
    # Already a member: refused, nothing changed.
    assert_problem(admin.post(f"{ORGS}/{oid}/people", {"email": newcomer, "role": "admin"}), 409, "already_member")
    assert [p["role"] for p in page(admin, oid)["people"] if p["email"] == newcomer] == ["member"]
    # They sign up and act under the organization's relationship at once.
    c = verified_user(server, newcomer, name="Nora Newcomer")
    assert acts(c, ag.lic) == 200
    mine = c.get(ORGS).body["organizations"]
    assert mine == [{"id": oid, "name": admin.org_name, "role": "member"}]
    assert [p["has_account"] for p in page(admin, oid)["people"] if p["email"] == newcomer] == [True]


def test_an_existing_account_is_sent_to_sign_in(server):
    ag, admin, seller, oid, rel_id = world(server)
    existing = verified_user(server, addr("existing", "elsewhere.example"), language="en")
    r = admin.post(f"{ORGS}/{oid}/people", {"email": existing.email, "role": "admin"})
    assert r.status == 201 and r.body["has_account"] is True and r.body["role"] == "admin", r
    m = server.wait_for_mail(existing.email, subject_contains=template_subject("en", "partner_member_invited",
                                                                               organization=admin.org_name))
    assert m.link("/signin") and not m.link("/signup"), m.links
    assert acts(existing, ag.lic) == 200
    assert page(existing, oid)["role"] == "admin"


def test_adding_checks_its_input(server):
    ag, admin, seller, oid, rel_id = world(server)
    r = admin.post(f"{ORGS}/{oid}/people", {"email": "not an address", "role": "owner", "language": "de"})
    assert_problem(r, 422, "validation")
    assert field_errors(r) == {"email": "invalid_email", "role": "invalid_value", "language": "invalid_value"}
    r = admin.post(f"{ORGS}/{oid}/people", {})
    assert field_errors(r) == {"email": "required", "role": "required"}
    assert len(page(admin, oid)["people"]) == 2


def test_staff_removal_ends_access_on_the_next_request(server):
    ag, admin, seller, oid, rel_id = world(server)
    member = person_id(admin, oid, seller.email)
    assert acts(seller, ag.lic) == 200
    before = last_audit(server)
    r = admin.delete(f"{ORGS}/{oid}/people/{member}")
    assert r.status == 204, r
    assert_problem(seller.get(url(ag.lic, "/subscriptions")), 404)
    assert_problem(seller.get(f"{ORGS}/{oid}"), 404)
    assert seller.get(ORGS).body == {"organizations": []}
    ((agreement_id, _, ttype, tid, details),) = audits(server, "partner.member_removed", before)
    assert (agreement_id, ttype, tid) == (None, "organization", str(oid))
    assert json.loads(details) == {"email": seller.email, "role": "member"}
    assert_problem(admin.delete(f"{ORGS}/{oid}/people/{member}"), 404)     # gone already


def test_a_removed_persons_queued_job_stops_at_its_next_checkpoint(server):
    ag, admin, seller, oid, rel_id = world(server)
    ag = with_defaults(ag)
    # Keep the one job worker busy so the seller's job waits in the queue.
    blocker_ag = with_defaults(agreement(server, {"enterprise": 60000}))
    blocker = start(blocker_ag.sa, blocker_ag.lic, people(blocker_ag, 60000), check_only="true")
    state = lambda j: db_query(server, "SELECT state, status, result FROM jobs WHERE id = ?", (j,))[0]
    poll(lambda: state(blocker["id"])[0] == "running", timeout=30, interval=0.01, what="the blocker to start")
    job = start(seller, ag.lic, people(ag, 5), send_email="false")
    assert state(job["id"])[0] == "queued", "the job must still wait for this test"
    assert admin.delete(f"{ORGS}/{oid}/people/{person_id(admin, oid, seller.email)}").status == 204
    ended = poll(lambda: state(job["id"]) if state(job["id"])[0] not in ("queued", "running") else None,
                 timeout=180, interval=0.05, what="the job to end")
    assert (ended[0], ended[1], json.loads(ended[2])["code"]) == ("failed", 403, "access_removed"), ended
    assert db_query(server, "SELECT COUNT(*) FROM subscriptions WHERE agreement_id = ?", (ag.id,))[0][0] == 0


def test_the_last_admin_stays(server):
    ag, admin, seller, oid, rel_id = world(server)
    me = person_id(admin, oid, admin.email)
    assert_problem(admin.delete(f"{ORGS}/{oid}/people/{me}"), 409, "last_partner_admin")
    assert page(admin, oid)["role"] == "admin"
    second = org_person(server, admin.org_name, admin=True, name="Bea Second")
    assert admin.delete(f"{ORGS}/{oid}/people/{me}").status == 204
    assert_problem(admin.get(f"{ORGS}/{oid}"), 404)
    assert_problem(second.delete(f"{ORGS}/{oid}/people/{person_id(second, oid, second.email)}"), 409,
                   "last_partner_admin")


# ---------------------------------------------------------------------------------------
# Who acts under a relationship


def test_named_people_act_and_the_others_stop_on_their_next_request(server):
    ag, admin, seller, oid, rel_id = world(server)
    colleague = org_person(server, admin.org_name, name="Cole League")
    assert acts(colleague, ag.lic) == 200 and acts(seller, ag.lic) == 200
    named = person_id(admin, oid, colleague.email)
    before = last_audit(server)
    r = admin.put(f"{ORGS}/{oid}/relationships/{rel_id}/people", {"people": "named", "member_ids": [named]})
    assert r.status == 200, r
    assert r.body["id"] == rel_id and r.body["people"] == "named"
    assert r.body["named_people"] == [{"id": named, "name": "Cole League", "email": colleague.email}]
    assert r.body["agreement"]["license_number"] == ag.lic
    assert acts(colleague, ag.lic) == 200
    assert_problem(seller.get(url(ag.lic, "/subscriptions")), 404)
    assert acts(admin, ag.lic) == 404                         # admins too act only when named
    ((agreement_id, relationship_id, ttype, tid, details),) = audits(server, "partner.people_changed", before)
    assert (agreement_id, relationship_id, ttype, tid) == (ag.id, rel_id, "partner_relationship", str(rel_id))
    assert json.loads(details)["people"] == "named" and colleague.email in json.loads(details)["named"]
    # The customer's activity log shows it.
    events = ag.sa.get(url(ag.lic, "/activity?action=partner.people_changed")).body["events"]
    assert [e["action"] for e in events] == ["partner.people_changed"]
    # Back to everyone: the seller acts again.
    r = admin.put(f"{ORGS}/{oid}/relationships/{rel_id}/people", {"people": "all"})
    assert r.status == 200 and r.body["people"] == "all" and r.body["named_people"] == [], r
    assert acts(seller, ag.lic) == 200


def test_changing_people_checks_its_input(server):
    ag, admin, seller, oid, rel_id = world(server)
    path = f"{ORGS}/{oid}/relationships/{rel_id}/people"
    r = admin.put(path, {"people": "named", "member_ids": []})
    assert field_errors(r) == {"member_ids": "required"}
    r = admin.put(path, {"people": "named"})
    assert field_errors(r) == {"member_ids": "required"}
    r = admin.put(path, {"people": "some", "member_ids": "x"})
    assert field_errors(r) == {"people": "invalid_value", "member_ids": "wrong_type"}
    r = admin.put(path, {"people": "named", "member_ids": [999999999]})
    assert field_errors(r) == {"member_ids": "not_member"}
    assert acts(seller, ag.lic) == 200
    assert [x["people"] for x in page(admin, oid)["relationships"]] == ["all"]
