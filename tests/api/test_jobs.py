"""Uploads processed in the background: the same answer as the synchronous request, kept
with the job (and written in the change's own transaction); progress; the uploaded file
given back with its problems marked; a job only its owner sees, under its own agreement;
an interrupted job ends failed with nothing applied."""
import csv
import io
import time

import openpyxl

from support.accounts import addr
from support.agreements import agreement
from support.checks import assert_problem
from support.db import db_count, db_query, db_write
from support.files import XLSX, finished, jobs, people, start, upload, with_defaults
from support.server import poll
from support.subscriptions import outbox_rows, sub_count, subs


def test_background_add_gives_the_synchronous_answer_and_survives_in_the_list(server):
    ag = with_defaults(agreement(server, {"enterprise": 3000}))
    text = people(ag, 2500)
    job = start(ag.sa, ag.lic, text, check_only="true", file_name="team.csv")
    assert job["kind"] == "add" and job["check_only"] is True and job["file_name"] == "team.csv", job
    checked = finished(ag.sa, ag.lic, job["id"])
    assert checked["state"] == "done" and checked["status"] == 200, checked
    assert checked["result"]["applied"] is False and checked["result"]["error_count"] == 0, checked
    assert checked["rows"] == 2500 and checked["rows_checked"] == 2500, checked
    assert sub_count(server, ag) == 0

    job = start(ag.sa, ag.lic, text, send_email="false")
    done = finished(ag.sa, ag.lic, job["id"])
    assert done["state"] == "done" and done["status"] == 201, done
    assert done["result"]["applied"] is True and done["result"]["added"] == 2500, done
    assert done["rows_written"] == 2500 and done["phase"] == "finished" and done["finished_at"], done
    assert sub_count(server, ag) == 2500
    assert outbox_rows(server, "subscription_assigned", f"p1.{ag.id}@contoso.example") == []
    # The same file again, synchronously: every row is now a duplicate; the job's twin answer
    # is the refusal with its report.
    again = start(ag.sa, ag.lic, text)
    refused = finished(ag.sa, ag.lic, again["id"])
    sync = upload(ag.sa, ag.lic, text)
    assert refused["status"] == sync.status == 422, (refused, sync)
    assert refused["result"]["code"] == sync.body["code"] == "bulk_rejected"
    assert refused["result"]["report"]["errors"][:5] == sync.body["report"]["errors"][:5]

    listed = ag.sa.get(jobs(ag.lic))
    assert listed.status == 200, listed
    assert [j["id"] for j in listed.body["jobs"]][:3] == [again["id"], job["id"], checked["id"]], listed.body
    r = ag.sa.request("DELETE", jobs(ag.lic, "/" + job["id"]))
    assert r.status == 204, r
    assert_problem(ag.sa.get(jobs(ag.lic, "/" + job["id"])), 404)
    assert job["id"] not in [j["id"] for j in ag.sa.get(jobs(ag.lic)).body["jobs"]]
    assert db_count(server, "jobs", "id = ?", (job["id"],)) == 0
    assert db_count(server, "job_files", "job_id = ?", (job["id"],)) == 0     # the file went with it
    assert db_count(server, "job_files", "job_id = ?", (again["id"],)) == 1


def test_result_is_committed_with_the_change(server):
    """The applied job's row says done in the same transaction as the rows: there is no
    moment (nor crash) where the rows exist and the job still claims to be running."""
    ag = with_defaults(agreement(server, {"enterprise": 50}))
    job = start(ag.sa, ag.lic, people(ag, 40), send_email="false")
    done = finished(ag.sa, ag.lic, job["id"])
    assert done["status"] == 201
    rows = db_query(server, "SELECT state, status, CASE WHEN finished_at IS NULL THEN 0 ELSE 1 END FROM jobs WHERE id = ?", (job["id"],))
    assert rows == [("done", 201, 1)], rows
    assert db_count(server, "audit_events", "action = 'subscription.added' AND agreement_id = ?", (ag.id,)) == 40


def test_unreadable_and_empty_files(server):
    ag = with_defaults(agreement(server, {"enterprise": 5}))
    job = start(ag.sa, ag.lic, b"PK\x03\x04 not really a zip at all")
    done = finished(ag.sa, ag.lic, job["id"])
    assert done["state"] == "done" and done["status"] == 422, done
    assert done["result"]["code"] == "unreadable_file" and "cannot be read" in done["result"]["detail"], done
    assert done["result"]["instance"] == f"urn:openseat:job:{job['id']}"
    # An empty body never becomes a job.
    before = db_count(server, "jobs")
    r = ag.sa.request("POST", subs(ag.lic, "/bulk") + "?background=true", body=b"", content_type="text/csv")
    assert_problem(r, 422, "empty_file")
    assert db_count(server, "jobs") == before


def test_flags_are_validated(server):
    ag = with_defaults(agreement(server, {"enterprise": 5}))
    r = upload(ag.sa, ag.lic, people(ag, 1), background="maybe")
    assert_problem(r, 422, "validation")
    assert [e["field"] for e in r.body["errors"]] == ["background"], r.body
    r = upload(ag.sa, ag.lic, people(ag, 1), background="true", file_name="x" * 256)
    assert_problem(r, 422, "validation")
    assert r.body["errors"][0]["field"] == "file_name" and r.body["errors"][0]["code"] == "too_long", r.body
    r = upload(ag.sa, ag.lic, people(ag, 1), background="true", file_name="a%0Ab.csv")   # a line feed
    assert_problem(r, 422, "validation")
    assert r.body["errors"][0]["field"] == "file_name", r.body


def test_annotated_csv_marks_each_row(server):
    ag = with_defaults(agreement(server, {"enterprise": 10}))
    good = addr("ok")
    text = ("Name,Sign-in Email,Reference\n"
            f"Ann Able,{good},R1\n"
            "Bob Bad,not-an-address,R2\n"
            f",{addr('noname')},\"=1+2\"\n")
    job = start(ag.sa, ag.lic, text, file_name="my team.csv")
    done = finished(ag.sa, ag.lic, job["id"])
    assert done["status"] == 422 and done["result"]["report"]["error_count"] == 2, done
    r = ag.sa.get(jobs(ag.lic, f"/{job['id']}/annotated"))
    assert r.status == 200 and r.content_type == "text/csv", r
    assert "my team-problems.csv" in r.headers.get("Content-Disposition", ""), r.headers
    text_back = r.raw.decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text_back)))
    assert rows[0] == ["Problems", "Name", "Sign-in Email", "Reference"], rows
    assert rows[1] == ["", "Ann Able", good, "R1"], rows
    assert rows[2][0].startswith("Sign-in Email: ") and rows[2][1:] == ["Bob Bad", "not-an-address", "R2"], rows
    assert rows[3][0].startswith("Name: "), rows
    assert rows[3][3] != "=1+2" and rows[3][3].endswith("=1+2"), rows   # a formula is defused, not run
    assert sub_count(server, ag) == 0


def test_annotated_xlsx_in_french(server):
    ag = with_defaults(agreement(server, {"enterprise": 10}))
    r = ag.sa.request("PATCH", "/api/v1/account", {"language": "fr"})
    assert r.status == 200, r
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["Nom", "E-mail de connexion", "Pays client"])   # near "Pays": not ignored
    ws.append(["Ann Able", addr("x1"), "a"])
    ws.append(["Bob", addr("x1"), "b"])
    buf = io.BytesIO()
    wb.save(buf)
    job = start(ag.sa, ag.lic, buf.getvalue(), file_name="équipe.xlsx")
    done = finished(ag.sa, ag.lic, job["id"])
    assert done["status"] == 422, done
    r = ag.sa.get(jobs(ag.lic, f"/{job['id']}/annotated"))
    assert r.status == 200 and r.content_type == XLSX, r
    assert "problemes.xlsx" in r.headers.get("Content-Disposition", ""), r.headers
    sheet = openpyxl.load_workbook(io.BytesIO(r.raw)).active
    got = [[c if c is not None else "" for c in row] for row in sheet.iter_rows(values_only=True)]
    assert got[0] == ["Problèmes", "Nom", "E-mail de connexion", "Pays client"], got
    # The unknown column is the file's own problem: on a row of its own, in French.
    assert "Pays client" in got[1][0] and "modèle" in got[1][0], got
    r2 = ag.sa.request("PATCH", "/api/v1/account", {"language": "en"})
    assert r2.status == 200


def test_jobs_are_private_to_their_owner_and_agreement(server):
    ag = with_defaults(agreement(server, {"enterprise": 10}))
    other = with_defaults(agreement(server, {"enterprise": 10}))
    job = start(ag.sa, ag.lic, people(ag, 2), check_only="true")
    finished(ag.sa, ag.lic, job["id"])
    tail = "/" + job["id"]
    # The partner with access to the same agreement is another user: not their job.
    for who, lic in ((ag.seller, ag.lic), (other.sa, other.lic), (other.sa, ag.lic), (ag.sa, other.lic)):
        for path in (tail, tail + "/annotated"):
            r = who.get(jobs(lic, path))
            assert r.status in (403, 404), (lic, path, r)
        r = who.request("DELETE", jobs(lic, tail))
        assert r.status in (403, 404), r
    assert job["id"] not in [j["id"] for j in ag.seller.get(jobs(ag.lic)).body["jobs"]]
    assert ag.sa.get(jobs(ag.lic, tail)).status == 200       # still there for its owner
    for bad in ("/nothex" + "0" * 25, "/" + "A" * 32, "/" + "0" * 32, "/../x"):
        assert ag.sa.get(jobs(ag.lic, bad)).status == 404, bad
    # Dismissing is a change: it needs the CSRF token.
    r = ag.sa.request("DELETE", jobs(ag.lic, tail), csrf=False)
    assert_problem(r, 403, "csrf")


def test_a_running_job_cannot_be_dismissed_nor_downloaded(server):
    ag = with_defaults(agreement(server, {"enterprise": 10}))
    job_id = "ab" * 16
    far = int(time.time()) + 3600
    db_write(server, "INSERT INTO jobs (id, agreement_id, user_id, kind, check_only, send_email, state,"
                     " phase, claimed_by, claimed_until, created_at) VALUES (?, ?, ?, 'add', 0, 1, 'running',"
                     " 'checking', 'elsewhere', ?, ?)", (job_id, ag.id, ag.sa.user["id"], far, far - 3600))
    r = ag.sa.get(jobs(ag.lic, "/" + job_id))
    assert r.status == 200 and r.body["state"] == "running" and r.body["result"] is None, r
    assert_problem(ag.sa.request("DELETE", jobs(ag.lic, "/" + job_id)), 409, "job_running")
    assert_problem(ag.sa.get(jobs(ag.lic, f"/{job_id}/annotated")), 409, "job_running")
    db_write(server, "DELETE FROM jobs WHERE id = ?", (job_id,))


def test_background_edit_and_remove(server):
    ag = with_defaults(agreement(server, {"enterprise": 10}))
    a, b = addr("e1"), addr("e2")
    r = upload(ag.sa, ag.lic, f"Name,Sign-in Email\nAnn,{a}\nBen,{b}\n", send_email="false")
    assert r.status == 201, r
    ids = dict(db_query(server, "SELECT sign_in_email, uuid FROM subscriptions WHERE agreement_id = ?", (ag.id,)))
    edit = f"Subscription Id,Name\n{ids[a]},Ann Changed\n{ids[b]},Ben\n"
    preview = finished(ag.sa, ag.lic, start(ag.sa, ag.lic, edit, kind="/bulk-edit", check_only="true")["id"])
    assert preview["kind"] == "edit" and preview["status"] == 200, preview
    assert preview["result"]["changed"] == 1 and preview["result"]["applied"] is False, preview
    applied = finished(ag.sa, ag.lic, start(ag.sa, ag.lic, edit, kind="/bulk-edit")["id"])
    assert applied["result"]["applied"] is True and applied["rows_written"] == 1, applied
    assert db_query(server, "SELECT name FROM subscriptions WHERE uuid = ?", (ids[a],)) == [("Ann Changed",)]
    removed = finished(ag.sa, ag.lic, start(ag.sa, ag.lic, f"{a}\n", kind="/bulk-remove")["id"])
    assert removed["kind"] == "remove" and removed["result"]["count"] == 1 and removed["result"]["applied"], removed
    assert sub_count(server, ag) == 1


def test_interrupted_job_ends_failed_with_nothing_applied(server_factory):
    """SIGKILL while a large file is processed in the background: after a restart the job is
    marked failed (job_interrupted) once its lease runs out, and nothing of it was applied —
    unless the machine finished first, in which case it is done with every row."""
    srv = server_factory(extra_args=["--max-upload", str(64 * 1024 * 1024), "--job-lease", "3"])
    ag = with_defaults(agreement(srv, {"enterprise": 100000}))
    job = start(ag.sa, ag.lic, people(ag, 100000), send_email="false")

    def at_work():
        r = ag.sa.get(jobs(ag.lic, "/" + job["id"]))
        return r.body if r.body["state"] != "queued" and r.body["rows_checked"] > 0 else None
    poll(at_work, timeout=60, interval=0.01, what="the job at work")
    srv.proc.kill()
    srv.proc.wait()
    srv.proc = None
    srv._log.close()
    srv.start()
    end = finished(ag.sa, ag.lic, job["id"], timeout=30)
    if end["state"] == "failed":
        assert end["status"] == 500 and end["result"]["code"] == "job_interrupted", end
        assert sub_count(srv, ag) == 0
    else:
        assert end["status"] == 201 and sub_count(srv, ag) == 100000, end
