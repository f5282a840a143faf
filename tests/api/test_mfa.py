"""Two-step sign-in: enrolment (secret and otpauth URI, confirmed with a code, ten recovery
codes shown once), turning it off and renewing the codes; sign-in's second step with a code or
a recovery code (each once), replayed and wrong codes refused and throttled; an agreement that
requires strong authentication refuses password-only sessions (and tokens made from them), for
every role, on that agreement only. Codes come from Debian's oathtool, not from our code."""
import pytest

from support import DEFAULT_PASSWORD
from support.accounts import addr, verified_user
from support.agreements import agreement, url
from support.checks import assert_problem, field_errors
from support.client import Client
from support.db import db_query
from support.mfa import MFA, challenge, enrol, enrolled_user, mfa_sign_in, totp
from support.tokens import bearer, make_token

pytestmark = pytest.mark.usefixtures("server_alive")


# --------------------------------------------------------------------------------------
# Enrolment


def test_enrolment_needs_a_code_and_keeps_the_secret_sealed(server):
    c = verified_user(server, addr("mfa"))
    assert c.session()["mfa_enabled"] is False
    r = c.post(MFA)
    secret = r.body["secret"]
    # Not on until confirmed: sign-in still opens a session with the password.
    assert c.session()["mfa_enabled"] is False
    r = c.post(MFA + "/confirm", {"code": "000000" if totp(secret) != "000000" else "111111"})
    assert field_errors(r) == {"code": "wrong_code"}
    r = c.post(MFA + "/confirm", {"code": totp(secret)})
    assert r.status == 200, r
    s = c.session()
    assert s["mfa_enabled"] is True and s["recovery_codes_left"] == 10, s
    uid = s["user"]["id"]
    row = db_query(server, "SELECT secret_sealed, confirmed_at FROM user_mfa WHERE user_id = ?", (uid,))[0]
    assert secret not in row[0] and row[1], row
    hashes = [x[0] for x in db_query(server, "SELECT code_hash FROM mfa_recovery_codes WHERE user_id = ?", (uid,))]
    assert len(hashes) == 10 and not any(code.replace("-", "") in hashes for code in r.body["recovery_codes"])
    # On already: a second enrolment is refused, and so is confirming again.
    assert_problem(c.post(MFA), 409, "mfa_already_enabled")
    assert_problem(c.post(MFA + "/confirm", {"code": totp(secret, 1)}), 409, "mfa_not_pending")


def test_the_routes_are_session_only_and_need_csrf(server):
    e = enrolled_user(server)
    t = make_token(e.client)
    assert_problem(bearer(server, t["secret"]).delete(MFA, {"password": DEFAULT_PASSWORD, "code": "123456"}),
                   403, "session_required")
    assert_problem(bearer(server, t["secret"]).post(MFA), 403, "session_required")
    r = e.client.post(MFA + "/recovery-codes", {"code": totp(e.secret)}, csrf=False)
    assert r.status == 403, r


# --------------------------------------------------------------------------------------
# Sign-in


def test_sign_in_with_a_code_makes_an_mfa_session_and_the_code_is_not_accepted_twice(server):
    e = enrolled_user(server)
    c, ch = challenge(server, e.email)
    code = totp(e.secret, 1)
    r = c.post("/api/v1/session/mfa", {"challenge": ch, "code": code})
    assert r.status == 200 and r.body["user"]["email"] == e.email, r
    s = c.session()
    assert s["authenticated"] and s["auth_method"] == "mfa", s
    # The challenge is spent; and the same code again, on a new challenge, is refused.
    assert_problem(c.post("/api/v1/session/mfa", {"challenge": ch, "code": code}), 410, "mfa_challenge_invalid")
    c2, ch2 = challenge(server, e.email)
    assert_problem(c2.post("/api/v1/session/mfa", {"challenge": ch2, "code": code}), 401, "invalid_code")
    assert c2.session()["authenticated"] is False
    # The password-only session that enrolled says so.
    assert e.client.session()["auth_method"] == "password"


def test_each_recovery_code_works_once(server):
    e = enrolled_user(server)
    c, ch = challenge(server, e.email)
    r = c.post("/api/v1/session/mfa", {"challenge": ch, "recovery_code": e.codes[0].upper()})
    assert r.status == 200, r
    assert c.session()["recovery_codes_left"] == 9
    c2, ch2 = challenge(server, e.email)
    assert_problem(c2.post("/api/v1/session/mfa", {"challenge": ch2, "recovery_code": e.codes[0]}), 401,
                   "invalid_code")
    r = c2.post("/api/v1/session/mfa", {"challenge": ch2, "recovery_code": e.codes[1]})
    assert r.status == 200, r
    actions = [x[0] for x in db_query(server, "SELECT action FROM audit_events WHERE actor_email = ?", (e.email,))]
    assert actions.count("mfa.recovery_used") == 2 and "mfa.enabled" in actions
    assert "signin.mfa_failed" in actions


def test_wrong_codes_are_throttled(server):
    e = enrolled_user(server)
    c, ch = challenge(server, e.email)
    good = totp(e.secret, 1)
    wrong = "123456" if good != "123456" else "654321"
    statuses = [c.post("/api/v1/session/mfa", {"challenge": ch, "code": wrong}).status for _ in range(6)]
    assert statuses[:5] == [401] * 5 and statuses[5] == 429, statuses
    r = c.post("/api/v1/session/mfa", {"challenge": ch, "code": good})
    assert_problem(r, 429)
    assert int(r.headers["Retry-After"]) > 0


def test_a_challenge_is_the_accounts_own(server):
    a = enrolled_user(server)
    b = enrolled_user(server)
    c, ch = challenge(server, a.email)
    # B's code does not open A's session.
    assert_problem(c.post("/api/v1/session/mfa", {"challenge": ch, "code": totp(b.secret, 1)}), 401, "invalid_code")
    assert_problem(c.post("/api/v1/session/mfa", {"challenge": "x" * 43, "code": "123456"}), 410,
                   "mfa_challenge_invalid")
    r = c.post("/api/v1/session/mfa", {"challenge": ch})
    assert field_errors(r) == {"code": "required"}


# --------------------------------------------------------------------------------------
# Turning off, renewing


def test_turning_it_off_needs_the_password_and_a_code(server):
    e = enrolled_user(server)
    r = e.client.delete(MFA, {"password": "not the password", "code": totp(e.secret)})
    assert field_errors(r) == {"password": "wrong_password"}
    r = e.client.delete(MFA, {"password": DEFAULT_PASSWORD, "code": totp(e.secret)})
    assert r.status == 204, r
    assert e.client.session()["mfa_enabled"] is False
    assert Client(server).sign_in(e.email).status == 200
    assert_problem(e.client.delete(MFA, {"password": DEFAULT_PASSWORD, "code": "123456"}), 409, "mfa_not_enabled")


def test_renewed_recovery_codes_replace_the_old_ones(server):
    e = enrolled_user(server)
    r = e.client.post(MFA + "/recovery-codes", {"code": totp(e.secret)})
    assert r.status == 200 and len(r.body["recovery_codes"]) == 10, r
    c, ch = challenge(server, e.email)
    assert_problem(c.post("/api/v1/session/mfa", {"challenge": ch, "recovery_code": e.codes[2]}), 401, "invalid_code")
    assert c.post("/api/v1/session/mfa", {"challenge": ch, "recovery_code": r.body["recovery_codes"][0]}).status == 200


# --------------------------------------------------------------------------------------
# An agreement that requires strong authentication


def test_an_agreement_can_require_a_strong_session(server):
    ag = agreement(server, {"enterprise": 10})
    other = agreement(server, {"enterprise": 10}, seller=ag.seller)
    prefs = url(ag.lic, "/preferences")
    e = enrol(ag.sa)
    # From a password-only session it cannot be required: it would shut the asker out.
    assert field_errors(ag.sa.put(prefs, {"require_strong_auth": True})) == {"require_strong_auth": "strong_auth_needed"}
    strong = mfa_sign_in(server, e)
    password_token = make_token(ag.sa, agreement=ag.lic)
    strong_token = make_token(strong, agreement=ag.lic)
    r = strong.put(prefs, {"require_strong_auth": True})
    assert r.status == 200 and r.body["require_strong_auth"] is True, r
    # The password-only session is refused, saying how to get in; the strong one is not.
    r = ag.sa.get(url(ag.lic))
    b = assert_problem(r, 403, "strong_auth_required")
    assert b["how"] == ["enrol_mfa", "sso"], b
    assert strong.get(url(ag.lic)).status == 200
    # The partner too, on this agreement only.
    assert_problem(ag.seller.get(url(ag.lic, "/overview")), 403, "strong_auth_required")
    assert ag.seller.get(url(other.lic, "/overview")).status == 200
    # A token keeps the method of the session that made it.
    assert_problem(bearer(server, password_token["secret"]).get(url(ag.lic)), 403, "strong_auth_required")
    assert bearer(server, strong_token["secret"]).get(url(ag.lic)).status == 200
    # Off again: the password-only session is back in.
    assert strong.put(prefs, {"require_strong_auth": False}).status == 200
    assert ag.sa.get(url(ag.lic)).status == 200
