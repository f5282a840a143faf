"""Background jobs seen from the database: a job's state and its end, and a worker kept busy
so that jobs queued meanwhile wait (what a test does to them before they start)."""
from support.agreements import agreement
from support.db import db_query
from support.files import people, start, with_defaults
from support.server import poll


def ended(server, job_id, timeout=180):
    """The job's row (state, status, result, rows_written) once it has ended, read from the
    database: it does not depend on who may see the job."""
    def over():
        rows = db_query(server, "SELECT state, status, result, rows_written FROM jobs WHERE id = ?", (job_id,))
        return rows[0] if rows and rows[0][0] not in ("queued", "running") else None
    return poll(over, timeout=timeout, interval=0.05, what=f"job {job_id} to end")


def state_of(server, job_id):
    return db_query(server, "SELECT state FROM jobs WHERE id = ?", (job_id,))[0][0]


def busy_worker(server):
    """Keeps this process's one job worker busy for a few seconds (a large check-only file on
    an agreement of its own): jobs queued meanwhile wait in the queue."""
    ag = with_defaults(agreement(server, {"enterprise": 60000}))
    job = start(ag.sa, ag.lic, people(ag, 60000), check_only="true")
    poll(lambda: state_of(server, job["id"]) == "running", timeout=30, interval=0.01, what="the blocker to start")
    return ag, job
