"""Background jobs act only while their owner may still do what they do — the request's own
access rule, checked when a job starts, at its checkpoints and inside its write transaction
— and until a super admin (or their owner) cancels them. Super admins see every job of their
agreement; nobody else sees another person's, nor any agreement's jobs but their own."""

import pytest

from support.agreements import add_admin_in_db, agreement
from support.checks import assert_problem
from support.db import db_count, db_query
from support.files import jobs, people, start, upload, with_defaults
from support.jobs import busy_worker, ended, state_of
from support.server import poll
from support.subscriptions import sub_count




def code_of(result):
    import json
    return json.loads(result)["code"] if result else None



def partner_id(ag):
    r = ag.sa.get(f"/api/v1/agreements/{ag.lic}/partners")
    assert r.status == 200, r
    return [p["id"] for p in r.body["relationships"]
            if p["organization"]["name"] == ag.seller.org and p["status"] == "active"][0]


def remove_partner(ag, _who):
    r = ag.sa.request("DELETE", f"/api/v1/agreements/{ag.lic}/partners/{partner_id(ag)}")
    assert r.status == 204, r


def remove_admin(ag, who):
    r = ag.sa.request("DELETE", f"/api/v1/agreements/{ag.lic}/admins/{who.user['id']}")
    assert r.status == 204, r


def last_audit(server):
    return db_query(server, "SELECT COALESCE(MAX(id), 0) FROM audit_events")[0][0]


def audit_after(server, ag, since, action):
    """Entries of `action` on the agreement written after the entry numbered `since`."""
    return db_count(server, "audit_events", "agreement_id = ? AND action = ? AND id > ?", (ag.id, action, since))


@pytest.mark.parametrize("role", ["partner", "admin"])
def test_queued_jobs_of_a_removed_person_end_access_removed(server, role):
    ag = with_defaults(agreement(server, {"enterprise": 30000}))
    who = ag.seller if role == "partner" else add_admin_in_db(server, ag)
    kept = people(ag, 10, start_at=900000)
    assert upload(ag.sa, ag.lic, kept, send_email="false").status == 201
    _, blocker = busy_worker(server)
    big = start(who, ag.lic, people(ag, 20000), send_email="false")
    small = start(who, ag.lic, people(ag, 50, start_at=500000), send_email="false")
    removal = start(who, ag.lic, "".join(f"p{i}.{ag.id}@contoso.example\n" for i in range(900000, 900010)),
                    kind="/bulk-remove")
    queued = [big["id"], small["id"], removal["id"]]
    assert [state_of(server, j) for j in queued] == ["queued"] * 3, "the jobs must still wait for this test"
    removed_at = last_audit(server)
    (remove_partner if role == "partner" else remove_admin)(ag, who)
    for job_id in queued:
        state, status, result, written = ended(server, job_id)
        assert (state, status, code_of(result), written) == ("failed", 403, "access_removed", 0), (job_id, result)
    assert sub_count(server, ag) == 10                        # nothing added, nothing removed
    for action in ("subscription.added", "subscription.removed"):
        assert audit_after(server, ag, removed_at, action) == 0, action
    assert audit_after(server, ag, removed_at, "job.access_removed") == 3
    rows = db_query(server, "SELECT actor_email, target_id FROM audit_events WHERE action = 'job.access_removed'"
                            " AND agreement_id = ?", (ag.id,))
    assert sorted(t for _, t in rows) == sorted(queued) and {a for a, _ in rows} == {None}, rows
    # The super admin sees them, with who asked and why they stopped.
    listed = {j["id"]: j for j in ag.sa.get(jobs(ag.lic)).body["jobs"]}
    assert listed[big["id"]]["user"]["email"] == who.email if role == "partner" else True
    assert listed[big["id"]]["state"] == "failed" and listed[big["id"]]["result"]["code"] == "access_removed"
    assert ended(server, blocker["id"])[0] == "done"


def test_a_removal_committed_while_the_job_checks_its_rows_applies_nothing(server_factory):
    srv = server_factory(extra_args=["--max-upload", str(64 * 1024 * 1024)])
    ag = with_defaults(agreement(srv, {"enterprise": 100000}))
    text = "Name,Sign-in Email,Reference\n" + "".join(
        f"Person {i},p{i}.{ag.id}@contoso.example,{'reference ' * 20}{i}\n" for i in range(100000))
    job = start(ag.seller, ag.lic, text, send_email="false")

    def checking():
        r = ag.sa.get(jobs(ag.lic, "/" + job["id"]))      # a super admin follows anyone's job
        assert r.status == 200, r
        b = r.body
        return b if b["phase"] == "checking" and 0 < b["rows_checked"] < b["rows"] // 2 else None
    poll(checking, timeout=60, interval=0.005, what="the job checking its rows' cells")
    removed_at = last_audit(srv)
    remove_partner(ag, ag.seller)
    state, status, result, written = ended(srv, job["id"])
    assert (state, status, code_of(result), written) == ("failed", 403, "access_removed", 0), result
    assert sub_count(srv, ag) == 0
    assert audit_after(srv, ag, removed_at, "subscription.added") == 0


def test_super_admin_lists_and_cancels_anyones_jobs(server):
    ag = with_defaults(agreement(server, {"enterprise": 100000}))
    _, blocker = busy_worker(server)
    waiting = start(ag.seller, ag.lic, people(ag, 30, start_at=700000), send_email="false", file_name="team.csv")
    after = start(ag.seller, ag.lic, people(ag, 5, start_at=800000), send_email="false")
    mine = start(ag.sa, ag.lic, people(ag, 1, start_at=600000), check_only="true")
    # Everyone's jobs for the super admin, newest first, with who asked; one's own for others.
    listed = ag.sa.get(jobs(ag.lic)).body["jobs"]
    assert [j["id"] for j in listed][:3] == [mine["id"], after["id"], waiting["id"]], listed
    assert listed[2]["user"] == {"id": ag.seller.user["id"], "name": ag.seller.user["name"],
                                 "email": ag.seller.email}, listed[2]
    assert listed[2]["file_name"] == "team.csv" and listed[2]["state"] == "queued", listed[2]
    assert [j["id"] for j in ag.seller.get(jobs(ag.lic)).body["jobs"]] == [after["id"], waiting["id"]]

    assert state_of(server, waiting["id"]) == "queued", "the job must still wait for this test"
    r = ag.sa.request("POST", jobs(ag.lic, f"/{waiting['id']}/cancel"))
    assert r.status == 200, r
    assert r.body["state"] == "cancelled" and r.body["cancel_requested"] is True, r.body
    assert r.body["cancelled_by"]["email"] == ag.sa.user["email"], r.body
    assert r.body["result"]["code"] == "job_cancelled" and r.body["status"] == 409, r.body
    # It never starts: the job queued after it runs, it stays as it was.
    assert ended(server, after["id"])[0] == "done"
    assert db_query(server, "SELECT state, rows_checked FROM jobs WHERE id = ?", (waiting["id"],)) == [("cancelled", 0)]
    assert sub_count(server, ag) == 5
    # A finished job has nothing to cancel.
    assert_problem(ag.sa.request("POST", jobs(ag.lic, f"/{after['id']}/cancel")), 409, "job_finished")
    assert_problem(ag.sa.request("POST", jobs(ag.lic, f"/{waiting['id']}/cancel")), 409, "job_finished")

    # A running one stops at its next checkpoint, its transaction rolled back.
    assert ended(server, blocker["id"])[0] == "done"
    big = start(ag.seller, ag.lic, people(ag, 90000), send_email="false")

    def writing():
        b = ag.sa.get(jobs(ag.lic, "/" + big["id"])).body
        return b if b["phase"] == "writing" and b["rows_written"] > 0 else None
    poll(writing, timeout=60, interval=0.01, what="the job writing rows")
    r = ag.sa.request("POST", jobs(ag.lic, f"/{big['id']}/cancel"))
    assert r.status == 202 and r.body["cancel_requested"] is True, r
    state, status, result, written = ended(server, big["id"])
    assert (state, status, code_of(result), written) == ("cancelled", 409, "job_cancelled", 0), result
    assert sub_count(server, ag) == 5
    got = ag.seller.get(jobs(ag.lic, "/" + big["id"])).body          # its owner sees who cancelled it
    assert got["state"] == "cancelled" and got["cancelled_by"]["email"] == ag.sa.user["email"], got
    rows = db_query(server, "SELECT actor_email, target_id FROM audit_events WHERE action = 'job.cancelled'"
                            " AND agreement_id = ? ORDER BY id", (ag.id,))
    assert rows == [(ag.sa.user["email"], waiting["id"]), (ag.sa.user["email"], big["id"])], rows
    # Dismissing stays its owner's; a cancelled job can be dismissed.
    assert_problem(ag.sa.request("DELETE", jobs(ag.lic, "/" + big["id"])), 404)
    assert ag.seller.request("DELETE", jobs(ag.lic, "/" + big["id"])).status == 204


def test_others_cannot_see_or_cancel_a_job(server):
    ag = with_defaults(agreement(server, {"enterprise": 20}))
    other = with_defaults(agreement(server, {"enterprise": 20}))
    adm = add_admin_in_db(server, ag)
    _, blocker = busy_worker(server)
    sa_job = start(ag.sa, ag.lic, people(ag, 2), check_only="true")
    partner_job = start(ag.seller, ag.lic, people(ag, 2, start_at=10), check_only="true")
    theirs = start(other.sa, other.lic, people(other, 2), check_only="true")
    tail = lambda j: "/" + j["id"]
    # An admin and a partner see and cancel only their own; another agreement's people nothing.
    for who, lic, job in ((adm, ag.lic, sa_job), (adm, ag.lic, partner_job), (ag.seller, ag.lic, sa_job),
                          (other.sa, other.lic, sa_job), (other.sa, ag.lic, sa_job), (ag.sa, other.lic, theirs),
                          (ag.sa, ag.lic, theirs), (ag.seller, other.lic, theirs)):
        assert_problem(who.get(jobs(lic, tail(job))), 404)
        assert_problem(who.request("POST", jobs(lic, tail(job) + "/cancel")), 404)
        assert job["id"] not in [j["id"] for j in (who.get(jobs(lic)).body or {}).get("jobs", [])]
    assert {j["id"] for j in adm.get(jobs(ag.lic)).body["jobs"]} == set()
    # Cancelling is a change: it needs the CSRF token.
    assert_problem(ag.sa.request("POST", jobs(ag.lic, tail(partner_job) + "/cancel"), csrf=False), 403, "csrf")
    assert [state_of(server, j["id"]) for j in (sa_job, partner_job, theirs)] == ["queued"] * 3
    # Its owner may cancel their own.
    r = ag.seller.request("POST", jobs(ag.lic, tail(partner_job) + "/cancel"))
    assert r.status == 200 and r.body["state"] == "cancelled", r
    for j in (sa_job, theirs):
        assert ended(server, j["id"])[0] == "done"
    assert ended(server, blocker["id"])[0] == "done"
