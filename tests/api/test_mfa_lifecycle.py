"""Turning two-step sign-in off ends what the factor proved: the person's other sessions end
(whatever proved them), the session that turned it off is a password session from then on,
and the API tokens and queued jobs made from a session proven with the factor keep working but
no longer count as strong — an agreement that requires strong sign-in refuses them. A wrong
code changes nothing, and another person's sessions are not touched."""
import json

import pytest

from support import DEFAULT_PASSWORD
from support.accounts import addr, verified_user
from support.agreements import agreement, url
from support.checks import assert_problem
from support.db import db_query
from support.files import people, start
from support.jobs import busy_worker, ended, state_of
from support.tokens import bearer, make_token
from support.mfa import MFA, challenge, enrol, totp

pytestmark = pytest.mark.usefixtures("server_alive")

# The server takes each 30-second step's code once, and only one step either side of now: the
# enrolment spends the previous step's, so the sessions here are proven with recovery codes
# (each its own) and the app's codes are kept for what needs one.


def mfa_sign_in(server, e, n):
    """A session proven with the factor: the password, then recovery code n."""
    c, ch = challenge(server, e.email)
    r = c.post("/api/v1/session/mfa", {"challenge": ch, "recovery_code": e.codes[n]})
    assert r.status == 200, r
    return c


def strong_agreement(server):
    """An agreement whose super admin has two-step sign-in on and requires strong sign-in:
    (agreement, enrolment, a session proven with the factor)."""
    ag = agreement(server, {"enterprise": 10})
    e = enrol(ag.sa)
    strong = mfa_sign_in(server, e, 9)
    r = strong.put(url(ag.lic, "/preferences"), {"require_strong_auth": True})
    assert r.status == 200, r
    return ag, e, strong


def test_turning_it_off_ends_the_other_sessions_and_downgrades_this_one(server):
    ag, e, strong = strong_agreement(server)
    other_strong = mfa_sign_in(server, e, 8)
    token = make_token(other_strong, agreement=ag.lic)
    every = make_token(other_strong)
    assert bearer(server, token["secret"]).get(url(ag.lic)).status == 200
    assert other_strong.get(url(ag.lic)).status == 200

    r = strong.delete(MFA, {"password": DEFAULT_PASSWORD, "code": totp(e.secret)})
    assert r.status == 204, r

    # Every other session of the person is gone: the one proven with the factor, and the
    # password-only one it was turned on from.
    for gone in (other_strong, ag.sa):
        assert gone.get("/api/v1/session").body["authenticated"] is False
        assert_problem(gone.get(url(ag.lic)), 401)
    # This one stays, proven by the password alone now: the agreement refuses it.
    s = strong.session()
    assert s["authenticated"] is True and s["auth_method"] == "password" and s["mfa_enabled"] is False, s
    assert_problem(strong.get(url(ag.lic)), 403, "strong_auth_required")
    # The tokens made from a strong session keep working, but are no longer strong.
    assert_problem(bearer(server, token["secret"]).get(url(ag.lic)), 403, "strong_auth_required")
    assert bearer(server, every["secret"]).get("/api/v1/agreements").status == 200
    methods = {m for (m,) in db_query(server, "SELECT method FROM api_tokens WHERE id IN (?, ?)",
                                      (token["id"], every["id"]))}
    assert methods == {"password"}, methods


def test_a_wrong_code_changes_nothing(server):
    ag, e, strong = strong_agreement(server)
    other_strong = mfa_sign_in(server, e, 8)
    r = strong.delete(MFA, {"password": DEFAULT_PASSWORD, "code": "000000" if totp(e.secret) != "000000" else "111111"})
    assert r.status == 422, r
    r = strong.delete(MFA, {"password": "not-the-password", "code": e.codes[0]})
    assert r.status == 422, r
    for c in (strong, other_strong):
        assert c.session()["auth_method"] == "mfa"
        assert c.get(url(ag.lic)).status == 200
    assert ag.sa.session()["authenticated"] is True


def test_another_persons_sessions_and_tokens_are_not_touched(server):
    ag, e, strong = strong_agreement(server)
    # Someone else on the same agreement, with the factor on and a strong session of their own.
    other = verified_user(server, addr("mfa-other", ag.domain))
    r = strong.post(url(ag.lic, "/admins"), {"name": "Ada Admin", "email": other.session()["user"]["email"]})
    assert r.status == 201, r
    oe = enrol(other)
    other_strong = mfa_sign_in(server, oe, 9)
    other_token = make_token(other_strong, agreement=ag.lic)
    assert other_strong.get(url(ag.lic)).status == 200

    assert strong.delete(MFA, {"password": DEFAULT_PASSWORD, "code": totp(e.secret)}).status == 204

    assert other_strong.session()["auth_method"] == "mfa"
    assert other_strong.get(url(ag.lic)).status == 200
    assert other.session()["authenticated"] is True
    assert bearer(server, other_token["secret"]).get(url(ag.lic)).status == 200


def test_renewing_the_recovery_codes_keeps_the_sessions(server):
    """Renewing the codes needs a code from the app: the factor stands, and so does what it
    proved."""
    ag, e, strong = strong_agreement(server)
    other_strong = mfa_sign_in(server, e, 8)
    r = strong.post(MFA + "/recovery-codes", {"code": totp(e.secret)})
    assert r.status == 200, r
    for c in (strong, other_strong):
        assert c.session()["auth_method"] == "mfa"
        assert c.get(url(ag.lic)).status == 200


def test_a_job_waiting_from_a_strong_session_stops_when_the_factor_goes(server):
    ag, e, strong = strong_agreement(server)
    r = strong.put(url(ag.lic, "/preferences"), {"default_level": "enterprise", "default_country": "FR",
                                                  "default_language": "en", "require_strong_auth": True})
    assert r.status == 200, r
    busy_worker(server)
    job = start(strong, ag.lic, people(ag, 3), send_email="false")
    assert state_of(server, job["id"]) == "queued", "the job must still wait for this test"
    assert strong.delete(MFA, {"password": DEFAULT_PASSWORD, "code": totp(e.secret)}).status == 204
    state, status, result, written = ended(server, job["id"])
    assert (state, status, written) == ("failed", 403, 0), result
    assert json.loads(result)["code"] == "strong_auth_required", result
    assert db_query(server, "SELECT COUNT(*) FROM subscriptions WHERE agreement_id = ?", (ag.id,)) == [(0,)]
