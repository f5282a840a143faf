"""A background job started with an API token acts as the request that started it: its owner
narrowed by the token, checked when the job starts and at its checkpoints — the token must
still be live then. Revoking the token before the job runs ends it `access_removed` with
nothing applied, as its owner's own loss of access would; what it writes names the token."""
import json

import pytest

from support.agreements import agreement
from support.db import db_query
from support.files import people, start, with_defaults
from support.jobs import busy_worker, ended, state_of
from support.subscriptions import sub_count
from support.tokens import TOKENS, bearer, make_token

pytestmark = pytest.mark.usefixtures("server_alive")


def test_a_queued_job_ends_when_its_token_is_revoked(server):
    ag = with_defaults(agreement(server, {"enterprise": 1000}))
    t = make_token(ag.sa, capabilities=["read", "bulk"], agreement=ag.lic)
    bot = bearer(server, t["secret"])
    _, blocker = busy_worker(server)
    job = start(bot, ag.lic, people(ag, 50), send_email="false")
    assert state_of(server, job["id"]) == "queued", "the job must still wait for this test"
    assert ag.sa.delete(f"{TOKENS}/{t['id']}").status == 204
    state, status, result, written = ended(server, job["id"])
    assert (state, status, json.loads(result)["code"], written) == ("failed", 403, "access_removed", 0), result
    assert sub_count(server, ag) == 0
    # The owner's own session was never the question: the blocker, theirs too, went on.
    assert ended(server, blocker["id"])[0] == "done"


def test_what_a_token_started_job_writes_names_the_token(server):
    ag = with_defaults(agreement(server, {"enterprise": 1000}))
    t = make_token(ag.sa, name="nightly import", capabilities=["read", "bulk"], agreement=ag.lic)
    job = start(bearer(server, t["secret"]), ag.lic, people(ag, 5), send_email="false")
    state, status, result, written = ended(server, job["id"])
    assert (state, written) == ("done", 5), result
    rows = db_query(server, "SELECT token_id FROM audit_events WHERE agreement_id = ? AND action = 'subscription.added'",
                    (ag.id,))
    assert len(rows) == 5 and {r[0] for r in rows} == {t["id"]}, rows
