"""The pages a signed-in person opens most cost a fixed, small number of exchanges with the
database, whoever asks and whatever the agreement holds.

Counted by the test build (--fault-injection): every reply says how many database
operations its request ran (`X-Openseat-Ops`). An operation is one exchange — a statement,
or a batch of statements sent together (`db_batch`, which the PostgreSQL driver sends as one
pipeline: one round trip). The counts are exact: one more is a round trip more per page on
PostgreSQL.

- An agreement request reads the session, its user, the agreement and the user's role on it
  in one statement; the subscribers page then reads its rows and its total in one batch;
  the overview its pools. Two in all.
- The agreement picker and GET /api/v1/session: the session, then their own read. Two.
- The access rule read that way still refuses: a person with no role on the agreement, an
  unknown license number, another customer's agreement (404 after one exchange), a partner
  without the capability (403), a session that ended (401).
"""
import pytest

from support.accounts import verified_user, addr
from support.agreements import AGREEMENTS, agreement
from support.db import db_query, db_write
from support.server import module_server
from support.subscriptions import add, subs


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """A server of this module's own, with fault injection on (its operations are counted)."""
    yield from module_server(tmp_path_factory, "round_trips", ["--fault-injection"])


@pytest.fixture(scope="module")
def world(server):
    ag = agreement(server, {"enterprise": 100, "professional": 100})
    for i in range(3):
        add(ag.sa, ag.lic, name=f"Round Trip {i}", sign_in_email=addr(f"rt{i}", ag.domain), level="enterprise")
    other = agreement(server, {"enterprise": 10})
    return ag, other


def ops(r):
    n = r.headers.get("X-Openseat-Ops")
    assert n is not None, f"no X-Openseat-Ops header: {r}"
    return int(n)


def test_subscribers_page_is_two_exchanges(world):
    ag, _ = world
    for who in (ag.sa, ag.seller):   # super admin; partner under the order's relationship
        r = who.get(subs(ag.lic, "?limit=2"))
        assert r.status == 200 and len(r.body["items"]) == 2 and r.body["total"] == 3, r
        assert ops(r) == 2, f"{who.email}: {ops(r)} exchanges"
        r = who.get(subs(ag.lic, f"?limit=2&cursor={r.body['next_cursor']}"))
        assert r.status == 200 and len(r.body["items"]) == 1, r
        assert ops(r) == 2, f"{who.email}, next page: {ops(r)} exchanges"
    r = ag.sa.get(subs(ag.lic, "?level=enterprise&sort=country&order=desc"))
    assert r.status == 200 and r.body["total"] == 3 and r.body["total_exact"] is True, r
    assert ops(r) == 2, r


def test_overview_picker_and_session_are_two_exchanges(world):
    ag, _ = world
    r = ag.sa.get(f"{AGREEMENTS}/{ag.lic}/overview")
    assert r.status == 200 and {p["level"]: p["assigned"] for p in r.body["levels"]} == \
        {"enterprise": 3, "professional": 0}, r
    assert ops(r) == 2, r
    r = ag.sa.get(AGREEMENTS)
    assert r.status == 200 and ag.lic in [a["license_number"] for a in r.body["agreements"]], r
    assert ops(r) == 2, r
    r = ag.sa.get("/api/v1/session")
    assert r.status == 200 and r.body["authenticated"] is True, r
    assert ops(r) == 2, r


def test_overview_names_levels_in_the_readers_language(server, world):
    ag, _ = world
    r = ag.sa.patch("/api/v1/account", {"language": "fr"})
    assert r.status == 200, r
    try:
        r = ag.sa.get(f"{AGREEMENTS}/{ag.lic}/overview")
        assert r.status == 200, r
        names = db_query(server, "SELECT code, name_fr FROM levels WHERE code IN ('enterprise', 'professional')")
        assert {p["level"]: p["name"] for p in r.body["levels"]} == dict(names), r
    finally:
        assert ag.sa.patch("/api/v1/account", {"language": "en"}).status == 200


def test_refusals_read_the_same_way(server, world):
    ag, other = world
    stranger = verified_user(server, addr("stranger", "elsewhere.example"))
    for who, lic in ((stranger, ag.lic), (ag.sa, other.lic), (ag.sa, "00000000")):
        r = who.get(subs(lic))
        assert r.status == 404, f"{who.email} on {lic}: {r}"
        assert ops(r) == 1, f"{who.email} on {lic}: {ops(r)} exchanges"
    # A partner whose relationship lacks the capability the route needs.
    db_write(server, "UPDATE partner_relationships SET capabilities = 1 WHERE agreement_id = ?", (ag.id,))
    try:
        r = ag.seller.get(f"{AGREEMENTS}/{ag.lic}/usage")
        assert r.status == 403 and r.body["code"] == "capability_usage_missing", r
        assert ops(r) == 1, r
    finally:
        db_write(server, "UPDATE partner_relationships SET capabilities = 31 WHERE agreement_id = ?", (ag.id,))
    # A session that has ended is no session: 401 without reading the agreement.
    gone = verified_user(server, addr("gone", ag.domain))
    db_write(server, "DELETE FROM sessions WHERE user_id = (SELECT id FROM users WHERE email = ?)", (gone.email,))
    r = gone.get(subs(ag.lic))
    assert r.status == 401, r
