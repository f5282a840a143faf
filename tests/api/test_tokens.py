"""Personal API tokens: made, listed and revoked by their owner in a signed-in session; the
secret shown once and kept only as its SHA-256; `Authorization: Bearer` on the API instead of
a session (no CSRF token, cookies not read), refused once revoked or expired; session-only
routes refuse a token; the activity log names the token behind a change; each token's rate
limit answers 429 with Retry-After on a server of this module's own."""
import datetime
import hashlib

import pytest

from support.accounts import addr, verified_user
from support.agreements import agreement, url
from support.checks import assert_problem, field_errors
from support.db import db_query, db_write
from support.server import module_server
from support.subscriptions import add, sub_body
from support.tokens import TOKENS, bearer, make_token

pytestmark = pytest.mark.usefixtures("server_alive")

ALL = ["read", "assign", "bulk", "usage", "activity", "manage"]


def today():
    return datetime.datetime.now(datetime.timezone.utc).date()




@pytest.fixture(scope="module")
def ag(server):
    return agreement(server, {"enterprise": 50})


# --------------------------------------------------------------------------------------
# Made, listed, revoked


def test_a_token_is_made_listed_and_its_secret_shown_once(server, ag):
    t = make_token(ag.sa, name="Nightly export", agreement=ag.lic, capabilities=["read", "assign"])
    assert t["secret"].startswith("ost_") and len(t["secret"]) == 80, t
    assert t["prefix"] == t["secret"][:16], t
    assert t["agreement"] == ag.lic and t["capabilities"] == ["read", "assign"], t
    assert t["status"] == "active" and t["revoked_at"] is None and t["last_used_at"] is None, t
    assert t["owner"] == {"email": ag.sa.email, "name": ag.sa.user["name"]}, t
    assert t["expires_at"] == f"{today() + datetime.timedelta(days=91)}T00:00:00Z", t
    listed = ag.sa.get(TOKENS)
    assert listed.status == 200, listed
    mine = [x for x in listed.body["items"] if x["id"] == t["id"]]
    assert mine and "secret" not in mine[0], mine
    assert t["secret"] not in listed.raw.decode()
    # Stored as its SHA-256 only: the secret itself is nowhere in the row.
    row = db_query(server, "SELECT secret_hash, prefix, capabilities, agreement_id FROM api_tokens WHERE id = ?",
                   (t["id"],))[0]
    assert row[0] == hashlib.sha256(t["secret"].encode()).hexdigest(), row
    assert t["secret"] not in [str(v) for v in row], row
    assert (row[1], row[2], row[3]) == (t["prefix"], 3, ag.id), row
    # Newest first.
    t2 = make_token(ag.sa, name="Second")
    ids = [x["id"] for x in ag.sa.get(TOKENS).body["items"]]
    assert ids.index(t2["id"]) < ids.index(t["id"]), ids


def test_each_person_lists_only_their_own_and_revokes_only_their_own(server, ag):
    t = make_token(ag.sa, name="Mine")
    other = verified_user(server, addr("other"))
    assert t["id"] not in [x["id"] for x in other.get(TOKENS).body["items"]]
    assert_problem(other.delete(f"{TOKENS}/{t['id']}"), 404, "not_found")
    assert_problem(ag.sa.delete(f"{TOKENS}/999999999"), 404, "not_found")
    assert ag.sa.delete(f"{TOKENS}/{t['id']}").status == 204
    again = [x for x in ag.sa.get(TOKENS).body["items"] if x["id"] == t["id"]][0]
    assert again["status"] == "revoked" and again["revoked_at"], again
    assert ag.sa.delete(f"{TOKENS}/{t['id']}").status == 204, "revoking twice changes nothing"
    audits = db_query(server, "SELECT action FROM audit_events WHERE target_type = 'token' AND target_id = ?",
                      (str(t["id"]),))
    assert sorted(a[0] for a in audits) == ["token.created", "token.revoked"], audits


def test_bad_input_names_every_field(server, ag):
    errs = field_errors(ag.sa.post(TOKENS, {}))
    assert errs == {"name": "required", "capabilities": "required"}, errs
    errs = field_errors(ag.sa.post(TOKENS, {"name": "x" * 101, "capabilities": [], "expires_on": "tomorrow",
                                            "agreement": 12}))
    assert errs == {"name": "too_long", "capabilities": "required", "expires_on": "invalid_format",
                    "agreement": "wrong_type"}, errs
    errs = field_errors(ag.sa.post(TOKENS, {"name": "n", "capabilities": ["read", "everything"]}))
    assert errs == {"capabilities": "invalid_value"}, errs
    assert field_errors(ag.sa.post(TOKENS, {"name": "n", "capabilities": "read"})) == {"capabilities": "wrong_type"}
    for day, ok in ((today() - datetime.timedelta(days=1), False), (today(), True),
                    (today() + datetime.timedelta(days=365), True), (today() + datetime.timedelta(days=366), False)):
        r = ag.sa.post(TOKENS, {"name": "bounds", "capabilities": ["read"], "expires_on": day.isoformat()})
        if ok:
            assert r.status == 201 and r.body["expires_at"] == f"{day + datetime.timedelta(days=1)}T00:00:00Z", r
        else:
            assert field_errors(r) == {"expires_on": "out_of_range"}, r


def test_an_agreement_the_person_holds_no_role_on_reads_as_unknown(server, ag):
    other = agreement(server, {"enterprise": 5})
    for lic in (other.lic, "99999999", "not-a-number"):
        errs = field_errors(ag.sa.post(TOKENS, {"name": "n", "capabilities": ["read"], "agreement": lic}))
        assert errs == {"agreement": "unknown_agreement"}, (lic, errs)


def test_a_capability_not_held_on_the_agreement_is_refused(server, ag):
    # The partner holds the capabilities of its relationship, and no `manage`.
    r = ag.seller.post(TOKENS, {"name": "n", "capabilities": ["read", "manage"], "agreement": ag.lic})
    assert field_errors(r) == {"capabilities": "capability_not_held"}, r
    # The super admin holds all of them.
    assert make_token(ag.sa, capabilities=ALL, agreement=ag.lic)["capabilities"] == ALL


def test_too_many_live_tokens(server):
    c = verified_user(server, addr("many"))
    for i in range(50):
        make_token(c, name=f"t{i}")
    assert_problem(c.post(TOKENS, {"name": "one more", "capabilities": ["read"]}), 409, "too_many_tokens")
    first = c.get(TOKENS).body["items"][-1]
    assert c.delete(f"{TOKENS}/{first['id']}").status == 204
    make_token(c, name="after a revocation")


# --------------------------------------------------------------------------------------
# Bearer requests


def test_a_bearer_request_needs_no_csrf_and_records_its_use(server, ag):
    t = make_token(ag.sa, agreement=ag.lic, capabilities=["read", "assign"])
    b = bearer(server, t["secret"])
    r = b.get(url(ag.lic, "/subscriptions"))
    assert r.status == 200, r
    r = add(b, ag.lic)
    row = db_query(server, "SELECT last_used_at, last_used_address FROM api_tokens WHERE id = ?", (t["id"],))[0]
    assert row[0] and row[1] == "127.0.0.1", row
    listed = [x for x in ag.sa.get(TOKENS).body["items"] if x["id"] == t["id"]][0]
    assert listed["last_used_at"] and listed["last_used_address"] == "127.0.0.1", listed
    # The change is the owner's, and the activity log names the token.
    evs = ag.sa.get(url(ag.lic, "/activity?action=subscription.added")).body["events"]
    mine = [e for e in evs if e["target"] == r.body["id"]]
    assert mine and mine[0]["actor"] == ag.sa.email, mine
    assert mine[0]["token"] == {"id": t["id"], "name": t["name"]}, mine[0]
    assert all(e["token"] is None for e in evs if e["target"] != r.body["id"]), evs
    csv_rows = ag.sa.get(url(ag.lic, "/activity.csv?action=subscription.added")).raw.decode("utf-8-sig")
    assert f",{t['id']},{t['name']}," in csv_rows, csv_rows[:500]


def test_cookies_are_not_read_when_a_bearer_is_sent(server, ag):
    t = make_token(ag.sa, agreement=ag.lic, capabilities=["read"])
    # A good session with a bad token: refused, with the bearer challenge.
    for bad in ("ost_" + "0" * 76, "nonsense", ""):
        r = ag.sa.get(url(ag.lic, "/subscriptions"), headers={"Authorization": f"Bearer {bad}"})
        assert_problem(r, 401, "token_invalid")
        assert r.headers.get("WWW-Authenticate") == 'Bearer error="invalid_token"', r.headers
    # A wrong secret with a real prefix is refused just the same.
    forged = t["secret"][:16] + ("0" if t["secret"][16] != "0" else "1") + t["secret"][17:]
    assert_problem(bearer(server, forged).get(url(ag.lic, "/subscriptions")), 401, "token_invalid")
    # A good read-only token with the session of a super admin: the token's capabilities.
    r = ag.sa.post(url(ag.lic, "/subscriptions"), sub_body(), headers={"Authorization": f"Bearer {t['secret']}"},
                   csrf=False)
    assert_problem(r, 403, "capability_assign_missing")


def test_revoked_and_expired_tokens_are_refused(server, ag):
    t = make_token(ag.sa, agreement=ag.lic)
    b = bearer(server, t["secret"])
    assert b.get(url(ag.lic, "/overview")).status == 200
    assert ag.sa.delete(f"{TOKENS}/{t['id']}").status == 204
    assert_problem(b.get(url(ag.lic, "/overview")), 401, "token_invalid")
    t = make_token(ag.sa, agreement=ag.lic)
    b = bearer(server, t["secret"])
    assert b.get(url(ag.lic, "/overview")).status == 200
    assert db_write(server, "UPDATE api_tokens SET expires_at = ? WHERE id = ?", (1, t["id"])) == 1
    assert_problem(b.get(url(ag.lic, "/overview")), 401, "token_invalid")
    assert [x["status"] for x in ag.sa.get(TOKENS).body["items"] if x["id"] == t["id"]] == ["expired"]


@pytest.mark.parametrize("method,path,body", [
    ("GET", "/api/v1/tokens", None),
    ("POST", "/api/v1/tokens", {"name": "more", "capabilities": ["read"]}),
    ("DELETE", "/api/v1/tokens/1", None),
    ("GET", "/api/v1/session", None),
    ("DELETE", "/api/v1/session", None),
    ("PUT", "/api/v1/account/password", {"current_password": "x", "new_password": "y" * 12}),
    ("PATCH", "/api/v1/account", {"name": "Someone Else"}),
])
def test_session_only_routes_refuse_a_token(server, ag, method, path, body):
    t = make_token(ag.sa, capabilities=ALL)
    r = bearer(server, t["secret"]).request(method, path, body)
    assert_problem(r, 403, "session_required")
    assert len([x for x in ag.sa.get(TOKENS).body["items"] if x["name"] == "more"]) == 0


def test_user_routes_work_and_the_picker_lists_what_the_token_reaches(server, ag):
    second = agreement(server, {"enterprise": 5}, seller=ag.seller)
    t_all = make_token(ag.seller, capabilities=["read"])
    t_one = make_token(ag.seller, capabilities=["read"], agreement=second.lic)
    mine = {g["license_number"] for g in ag.seller.get("/api/v1/agreements").body["agreements"]}
    assert {ag.lic, second.lic} <= mine, mine
    r = bearer(server, t_all["secret"]).get("/api/v1/agreements")
    assert r.status == 200 and {g["license_number"] for g in r.body["agreements"]} == mine, r
    r = bearer(server, t_one["secret"]).get("/api/v1/agreements")
    assert r.status == 200 and [g["license_number"] for g in r.body["agreements"]] == [second.lic], r


# --------------------------------------------------------------------------------------
# The rate limit


@pytest.fixture(scope="module")
def slow_server(tmp_path_factory):
    yield from module_server(tmp_path_factory, "token_rate", ["--token-rate", "3"])


def test_a_token_over_its_rate_gets_429_with_retry_after(slow_server):
    c = verified_user(slow_server, addr("rate"))
    t = make_token(c)
    other = make_token(c, name="other")
    b = bearer(slow_server, t["secret"])
    for _ in range(3):
        assert b.get("/api/v1/levels").status == 200
    r = b.get("/api/v1/levels")
    body = assert_problem(r, 429, "token_rate_limited")
    assert int(r.headers.get("Retry-After")) >= 1 and body["retry_after"] >= 1, (r.headers, body)
    # Each token has its own bucket, and the session is not limited.
    assert bearer(slow_server, other["secret"]).get("/api/v1/levels").status == 200
    assert c.get("/api/v1/levels").status == 200
