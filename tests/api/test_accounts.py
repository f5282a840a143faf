"""The account life: sign-up, verification, sign-in, sign-out, password reset and change,
account settings, and their failure paths."""

import pytest

from support import DEFAULT_NAME, DEFAULT_PASSWORD
from support.accounts import signup, signup_and_verify, template_subject, unique_email
from support.checks import assert_problem, field_errors
from support.client import Client, cookie_is_deletion
from support.concurrency import parallel
from support.db import db_query, db_write

NEW_PASSWORD = "a brand new passphrase"
FRENCH_WORDS = ("votre", "vous", "adresse", "compte", "bonjour", "confirmez", "vérifi",
                "lien", "cliquez", "mot de passe", "réinitialis", "bienvenue", "ignorez")
ENGLISH_WORDS = ("your", "verify", "confirm", "account", "address", "link", "password", "hello",
                 "welcome", "ignore")


def looks_french(text):
    t = text.lower()
    return sum(w in t for w in FRENCH_WORDS) >= 2


def looks_english(text):
    t = text.lower()
    return sum(w in t for w in ENGLISH_WORDS) >= 2


def session_cookie(resp):
    m = resp.set_cookies().get("os_session")
    return None if m is None or cookie_is_deletion(m) else m


def expire_tokens(server, where="1=1"):
    """Make stored e-mail tokens expired, directly in the database."""
    n = db_write(server, f"UPDATE email_tokens SET expires_at = 0 WHERE {where}")
    assert n >= 1, "no e-mail token rows were updated"


# ---------------------------------------------------------------------------------------
# The happy path, end to end


def test_account_life(server):
    c = Client(server)
    addr = unique_email("life")

    r = c.post("/api/v1/signup", {"name": DEFAULT_NAME, "email": addr, "password": DEFAULT_PASSWORD})
    assert r.status == 202, r
    assert r.body == {"status": "verification_sent"}
    assert session_cookie(r) is None, "sign-up must not sign the user in"

    m = server.wait_for_mail(addr)
    assert looks_english(m.subject + " " + (m.text or "")), f"expected an English mail: {m.subject!r}\n{m.text}"
    for h in ("From", "Date", "Message-ID"):
        assert m.msg.get(h), f"verification mail lacks a {h} header"
    assert "{{" not in m.subject + (m.text or ""), f"unfilled template placeholder:\n{m.text}"
    link = m.link("/verify")
    assert link, f"no verification link in: {m.text}"
    assert link.startswith(server.url + "/verify?token="), f"link must use --base-url: {link}"
    token = m.token("/verify")
    assert token and len(token) >= 16, f"weak or missing token: {token!r}"

    # Not verified yet: correct password is refused with 403 and no session.
    r = c.sign_in(addr)
    assert_problem(r, 403, "unverified")
    assert session_cookie(r) is None

    r = c.post("/api/v1/verify", {"token": token})
    assert r.status == 200, r
    assert r.body == {"status": "verified", "email": addr}

    r = c.sign_in(addr)
    assert r.status == 200, r
    user = r.body["user"]
    assert isinstance(user.get("id"), int)
    assert user["name"] == DEFAULT_NAME
    assert user["email"] == addr
    assert user["language"] == "en"
    assert user["verified"] is True
    assert isinstance(r.body.get("csrf_token"), str) and len(r.body["csrf_token"]) >= 16
    sess = session_cookie(r)
    assert sess is not None, f"sign-in set no os_session cookie: {r.headers.get_all('Set-Cookie')}"
    token_at_signin = r.body["csrf_token"]

    s = c.session()
    assert s["authenticated"] is True
    assert s["user"] == user
    assert s["csrf_token"] == token_at_signin

    old_cookie = c.cookies["os_session"]
    r = c.delete("/api/v1/session")
    assert r.status == 204, r
    assert r.raw == b""
    m_out = r.set_cookies().get("os_session")
    assert m_out is not None and cookie_is_deletion(m_out), \
        f"sign-out must clear os_session: {r.headers.get_all('Set-Cookie')}"
    s = c.session()
    assert s["authenticated"] is False and "user" not in s

    # The old cookie must be dead on the server, not only forgotten by the browser.
    replay = Client(server)
    replay.cookies["os_session"] = old_cookie
    s = replay.session()
    assert s["authenticated"] is False, "a signed-out session cookie still authenticates"


def test_password_reset_life_ends_sessions(server):
    addr = unique_email("reset")
    a = Client(server)
    signup_and_verify(a, addr)
    assert a.session()["authenticated"] is True

    b = Client(server)
    r = b.post("/api/v1/password-reset", {"email": addr})
    assert r.status == 202, r
    assert r.body == {"status": "reset_sent"}
    m = server.wait_for_mail(addr)
    link = m.link("/reset")
    assert link and link.startswith(server.url + "/reset?token="), f"bad reset link in {m.links}"
    token = m.token("/reset")
    assert token
    assert m.subject == template_subject("en", "reset_password"), m.subject

    r = b.post("/api/v1/password-reset/confirm", {"token": token, "password": NEW_PASSWORD})
    assert r.status == 200, r
    assert r.body == {"status": "password_changed"}

    # Every session of that user ended.
    assert a.session()["authenticated"] is False, "password reset left an existing session alive"

    # Single use.
    r = b.post("/api/v1/password-reset/confirm", {"token": token, "password": "yet another passphrase"})
    assert_problem(r, 410, "link_invalid")

    c = Client(server)
    assert_problem(c.sign_in(addr, DEFAULT_PASSWORD), 401, "invalid_credentials")
    r = c.sign_in(addr, NEW_PASSWORD)
    assert r.status == 200, r


def test_reset_request_for_unknown_address_sends_nothing(server):
    c = Client(server)
    unknown = unique_email("nobody")
    known = unique_email("known")
    signup_and_verify(Client(server), known, sign_in=False)

    r1 = c.post("/api/v1/password-reset", {"email": unknown})
    r2 = c.post("/api/v1/password-reset", {"email": known})
    assert r1.status == r2.status == 202
    assert r1.body == r2.body == {"status": "reset_sent"}
    server.wait_for_mail(known)          # the queue has been worked past the unknown address
    server.mail.assert_no_mail(unknown, wait=0.3)


def test_reset_verifies_the_address(server):
    addr = unique_email("resetverify")
    c = Client(server)
    signup(c, addr)
    server.wait_for_mail(addr)           # the verification mail, not followed
    c.post("/api/v1/password-reset", {"email": addr})
    m = server.wait_for_mail(addr)
    tok = m.token("/reset")
    assert tok, f"no reset link in {m.links}"
    r = c.post("/api/v1/password-reset/confirm", {"token": tok, "password": NEW_PASSWORD})
    assert r.status == 200, r
    r = c.sign_in(addr, NEW_PASSWORD)
    assert r.status == 200, f"reset must also verify the address: {r}"
    assert r.body["user"]["verified"] is True


def test_french_mail(server):
    c = Client(server)
    en_addr, fr_addr = unique_email("en"), unique_email("fr")
    signup(c, en_addr)
    signup(c, fr_addr, language="fr")
    en = server.wait_for_mail(en_addr)
    fr = server.wait_for_mail(fr_addr)

    raw_subject = fr.raw_header("Subject")
    assert raw_subject is not None
    assert all(b < 128 for b in raw_subject), f"raw Subject header is not ASCII: {raw_subject!r}"
    assert "=?" not in fr.subject, f"subject was not decodable: {fr.subject!r}"
    assert "Ã" not in fr.subject and "\ufffd" not in fr.subject, f"mojibake in subject: {fr.subject!r}"
    assert fr.subject != en.subject, f"French subject equals the English one: {fr.subject!r}"
    want_fr, want_en = template_subject("fr", "verify_email"), template_subject("en", "verify_email")
    assert fr.subject == want_fr, f"decoded subject {fr.subject!r} != template {want_fr!r}"
    assert en.subject == want_en, f"decoded subject {en.subject!r} != template {want_en!r}"
    assert looks_french(fr.subject + " " + fr.text), f"not French: {fr.subject!r}\n{fr.text}"
    assert "Ã" not in fr.text and "\ufffd" not in fr.text, f"mojibake in body: {fr.text!r}"
    assert fr.token("/verify"), "French verification mail has no link"

    r = c.post("/api/v1/verify", {"token": fr.token("/verify")})
    assert r.status == 200, r
    r = c.sign_in(fr_addr)
    assert r.status == 200, r
    assert r.body["user"]["language"] == "fr"


def test_verify_resend(server):
    c = Client(server)
    addr = unique_email("resend")
    signup(c, addr)
    server.wait_for_mail(addr)
    r = c.post("/api/v1/verify/resend", {"email": addr})
    assert r.status == 202, r
    second = server.wait_for_mail(addr)
    tok = second.token("/verify")
    assert tok, f"resent mail has no verification link: {second.text}"
    r = c.post("/api/v1/verify", {"token": tok})
    assert r.status == 200, r

    unknown = unique_email("resend-unknown")
    r = c.post("/api/v1/verify/resend", {"email": unknown})
    assert r.status == 202, r
    known2 = unique_email("resend-known")
    signup(c, known2)
    server.wait_for_mail(known2)
    server.mail.assert_no_mail(unknown, wait=0.2)


# ---------------------------------------------------------------------------------------
# Sign-in failures


def test_wrong_password_and_unknown_email_look_identical(fresh_server):
    c = Client(fresh_server)
    addr = unique_email("same")
    signup_and_verify(c, addr, sign_in=False)

    wrong = c.sign_in(addr, "not the password at all")
    unknown = c.sign_in(unique_email("ghost"), "not the password at all")
    b1 = assert_problem(wrong, 401, "invalid_credentials")
    b2 = assert_problem(unknown, 401, "invalid_credentials")
    assert wrong.headers.get("Content-Type") == unknown.headers.get("Content-Type")
    strip = lambda b: {k: v for k, v in b.items() if k != "request_id"}
    assert strip(b1) == strip(b2), f"the two failures differ:\n{b1}\n{b2}"
    assert session_cookie(wrong) is None and session_cookie(unknown) is None


def test_unverified_wrong_password_is_plain_invalid_credentials(server):
    c = Client(server)
    addr = unique_email("unv")
    signup(c, addr)
    server.wait_for_mail(addr)
    assert_problem(c.sign_in(addr, "wrong password here"), 401, "invalid_credentials")
    r = c.sign_in(addr)
    assert_problem(r, 403, "unverified")
    assert session_cookie(r) is None, "unverified sign-in set a session cookie"
    assert "os_session" not in c.cookies
    assert c.session()["authenticated"] is False


def test_signin_throttled_per_account(fresh_server):
    c = Client(fresh_server)
    addr = unique_email("throttle")
    other = unique_email("bystander")
    signup_and_verify(c, addr, sign_in=False)
    signup_and_verify(c, other, sign_in=False)

    for i in range(5):
        # the limit is per account, whatever the spelling of its address
        r = c.sign_in(addr.upper() if i % 2 else f"  {addr} ", f"wrong password {i}")
        assert_problem(r, 401, "invalid_credentials")
    r = c.sign_in(addr, DEFAULT_PASSWORD)
    b = assert_problem(r, 429, "throttled")
    ra = r.headers.get("Retry-After")
    assert ra is not None and ra.isdigit() and int(ra) > 0, f"Retry-After: {ra!r}"
    assert isinstance(b.get("retry_after"), int) and b["retry_after"] > 0, b
    assert abs(b["retry_after"] - int(ra)) <= 1, f"header {ra} vs body {b['retry_after']}"
    assert int(ra) <= 15 * 60 + 1
    assert session_cookie(r) is None
    # The limit is per account: another account from the same address still signs in.
    r = Client(fresh_server).sign_in(other)
    assert r.status == 200, f"throttling one account blocked another: {r}"


def test_signin_throttled_per_address(fresh_server):
    c = Client(fresh_server)
    addr = unique_email("addr-throttle")
    signup_and_verify(c, addr, sign_in=False)
    for i in range(20):
        r = c.sign_in(unique_email(f"ghost{i}"), "some wrong password")
        assert_problem(r, 401, "invalid_credentials")
    r = c.sign_in(addr)
    assert_problem(r, 429, "throttled")
    assert r.headers.get("Retry-After", "").isdigit(), r.headers.get("Retry-After")


def test_signin_missing_fields(server):
    c = Client(server)
    errs = field_errors(c.post("/api/v1/session", {}))
    assert errs.get("email") == "required" and errs.get("password") == "required", errs


# ---------------------------------------------------------------------------------------
# Links


def test_verification_link_reused_and_unknown(server):
    c = Client(server)
    addr = unique_email("reuse")
    signup(c, addr)
    tok = server.wait_for_mail(addr).token("/verify")
    assert c.post("/api/v1/verify", {"token": tok}).status == 200
    assert_problem(c.post("/api/v1/verify", {"token": tok}), 410, "link_invalid")
    assert_problem(c.post("/api/v1/verify", {"token": "A" * 43}), 410, "link_invalid")
    assert_problem(c.post("/api/v1/verify", {"token": "x"}), 410, "link_invalid")


def test_expired_verification_link(fresh_server):
    c = Client(fresh_server)
    addr = unique_email("expired")
    signup(c, addr)
    tok = fresh_server.wait_for_mail(addr).token("/verify")
    expire_tokens(fresh_server)
    assert_problem(c.post("/api/v1/verify", {"token": tok}), 410, "link_invalid")
    assert_problem(c.sign_in(addr), 403, "unverified")


def test_expired_reset_link(fresh_server):
    c = Client(fresh_server)
    addr = unique_email("expreset")
    signup_and_verify(c, addr, sign_in=False)
    c.post("/api/v1/password-reset", {"email": addr})
    tok = fresh_server.wait_for_mail(addr).token("/reset")
    assert tok
    expire_tokens(fresh_server)
    r = c.post("/api/v1/password-reset/confirm", {"token": tok, "password": NEW_PASSWORD})
    assert_problem(r, 410, "link_invalid")
    assert c.sign_in(addr, DEFAULT_PASSWORD).status == 200, "expired reset changed the password"


def test_verification_token_is_not_a_reset_token(server):
    c = Client(server)
    addr = unique_email("crosstoken")
    signup(c, addr)
    tok = server.wait_for_mail(addr).token("/verify")
    r = c.post("/api/v1/password-reset/confirm", {"token": tok, "password": NEW_PASSWORD})
    assert_problem(r, 410, "link_invalid")


# ---------------------------------------------------------------------------------------
# Sign-up details


def test_signup_existing_address(server):
    c = Client(server)
    addr = unique_email("exists")
    signup_and_verify(c, addr, sign_in=False)

    r = c.post("/api/v1/signup", {"name": "Someone Else", "email": addr,
                                  "password": "an attacker password"})
    assert r.status == 202, r
    assert r.body == {"status": "verification_sent"}, "the answer must not reveal the account"
    m = server.wait_for_mail(addr)
    assert m.token("/verify") is None, f"known address got a verification link: {m.text}"
    assert m.subject == template_subject("en", "account_exists"), f"expected the account-exists mail, got {m.subject!r}"
    server.mail.assert_no_mail(addr, wait=0.5)
    assert Client(server).sign_in(addr, "an attacker password").status == 401
    r = Client(server).sign_in(addr, DEFAULT_PASSWORD)
    assert r.status == 200 and r.body["user"]["name"] == DEFAULT_NAME, r


def test_signup_existing_unverified_address(server):
    c = Client(server)
    addr = unique_email("exists-unv")
    signup(c, addr)
    server.wait_for_mail(addr)
    signup(c, addr, password="different passphrase")
    m = server.wait_for_mail(addr)
    assert m.token("/verify") is None, "a second sign-up sent a second verification mail"


def test_email_normalisation(server):
    c = Client(server)
    base = unique_email("Ada")
    local, domain = base.split("@")
    messy = f"  {local.capitalize()}@{domain.upper()} "
    norm = base.lower()
    signup(c, messy)
    m = server.wait_for_mail(norm)
    assert norm in m.to, f"mail not addressed to the normalised address: {m.to}"
    r = c.post("/api/v1/verify", {"token": m.token("/verify")})
    assert r.status == 200 and r.body["email"] == norm, r
    r = c.sign_in(norm)
    assert r.status == 200, r
    assert r.body["user"]["email"] == norm
    assert Client(server).sign_in(f"{local.upper()}@{domain}").status == 200
    signup(Client(server), norm)
    assert server.wait_for_mail(norm).token("/verify") is None, \
        "the normalised address was treated as a new account"


def test_signup_validation_all_fields_at_once(server):
    c = Client(server)
    errs = field_errors(c.post("/api/v1/signup", {}))
    assert errs == {"name": "required", "email": "required", "password": "required"}, errs

    r = c.post("/api/v1/signup", {"email": "not-an-email", "password": "short"})
    errs = field_errors(r)
    assert errs == {"name": "required", "email": "invalid_email",
                    "password": "password_too_short"}, errs


@pytest.mark.parametrize("body,field,codes", [
    ({"email": "a@"}, "email", {"invalid_email"}),
    ({"email": "@example.com"}, "email", {"invalid_email"}),
    ({"email": "two@@example.com"}, "email", {"invalid_email"}),
    ({"email": "sp ace@example.com"}, "email", {"invalid_email"}),
    ({"email": "x" * 250 + "@example.com"}, "email", {"too_long", "invalid_email"}),
    ({"password": "123456789"}, "password", {"password_too_short"}),
    ({"password": "p" * 257}, "password", {"password_too_long"}),
    ({"name": "n" * 201}, "name", {"too_long"}),
    ({"name": ""}, "name", {"required", "too_short"}),
    ({"name": 5}, "name", {"wrong_type"}),
    ({"email": ["a@b.c"]}, "email", {"wrong_type"}),
    ({"password": None}, "password", {"required", "wrong_type"}),
    ({"language": "de"}, "language", {"invalid_value"}),
    ({"language": 1}, "language", {"wrong_type", "invalid_value"}),
])
def test_signup_field_validation(server, body, field, codes):
    good = {"name": DEFAULT_NAME, "email": unique_email("val"), "password": DEFAULT_PASSWORD}
    good.update(body)
    errs = field_errors(Client(server).post("/api/v1/signup", good))
    assert set(errs) == {field}, f"expected only {field} to be flagged: {errs}"
    assert errs[field] in codes, errs


def test_password_length_bounds_accepted(server):
    c = Client(server)
    for pw in ("p" * 10, "p" * 256):
        addr = unique_email("bounds")
        signup(c, addr, password=pw)
        tok = server.wait_for_mail(addr).token("/verify")
        assert c.post("/api/v1/verify", {"token": tok}).status == 200
        assert Client(server).sign_in(addr, pw).status == 200


def test_verify_and_reset_validation(server):
    c = Client(server)
    assert field_errors(c.post("/api/v1/verify", {})) == {"token": "required"}
    errs = field_errors(c.post("/api/v1/password-reset/confirm", {}))
    assert set(errs) == {"token", "password"}, errs
    errs = field_errors(c.post("/api/v1/password-reset/confirm", {"token": "abc", "password": "short"}))
    assert errs.get("password") == "password_too_short", errs
    assert field_errors(c.post("/api/v1/password-reset", {})) == {"email": "required"}


# ---------------------------------------------------------------------------------------
# Signed-in account changes


def test_change_password(server):
    addr = unique_email("chpw")
    a, other = Client(server), Client(server)
    signup_and_verify(a, addr)
    assert other.sign_in(addr).status == 200

    r = a.put("/api/v1/account/password", {"current_password": "not my password",
                                           "new_password": NEW_PASSWORD})
    assert field_errors(r) == {"current_password": "wrong_password"}

    r = a.put("/api/v1/account/password", {"current_password": DEFAULT_PASSWORD,
                                           "new_password": "short"})
    assert field_errors(r).get("new_password") == "password_too_short"

    r = a.put("/api/v1/account/password", {"current_password": DEFAULT_PASSWORD,
                                           "new_password": NEW_PASSWORD})
    assert r.status == 204, r
    assert a.session()["authenticated"] is True, "changing the password ended the own session"
    assert other.session()["authenticated"] is False, "other sessions must end"

    assert_problem(Client(server).sign_in(addr, DEFAULT_PASSWORD), 401, "invalid_credentials")
    assert Client(server).sign_in(addr, NEW_PASSWORD).status == 200


def test_change_password_needs_sign_in(server):
    r = Client(server).put("/api/v1/account/password",
                           {"current_password": DEFAULT_PASSWORD, "new_password": NEW_PASSWORD})
    assert_problem(r, 401, "unauthenticated")


def test_patch_account(server):
    addr = unique_email("patch")
    c = Client(server)
    user = signup_and_verify(c, addr)

    r = c.patch("/api/v1/account", {"language": "fr"})
    assert r.status == 200, r
    assert r.body["user"] == dict(user, language="fr")
    assert c.session()["user"]["language"] == "fr"

    r = c.patch("/api/v1/account", {"name": "Augusta Ada King"})
    assert r.status == 200, r
    assert r.body["user"]["name"] == "Augusta Ada King"
    assert r.body["user"]["language"] == "fr"

    assert field_errors(c.patch("/api/v1/account", {"language": "de"})) == {"language": "invalid_value"}
    assert set(field_errors(c.patch("/api/v1/account", {"name": "n" * 201}))) == {"name"}
    assert c.session()["user"]["language"] == "fr", "a rejected PATCH changed the account"

    # The language is used for later mail.
    Client(server).post("/api/v1/password-reset", {"email": addr})
    m = server.wait_for_mail(addr)
    assert looks_french(m.subject + " " + m.text), f"reset mail not French: {m.subject!r}\n{m.text}"


def test_patch_account_needs_sign_in(server):
    assert_problem(Client(server).patch("/api/v1/account", {"language": "fr"}), 401, "unauthenticated")


def test_session_cookie_attributes(server):
    addr = unique_email("cookie")
    c = Client(server)
    signup_and_verify(c, addr, sign_in=False)
    r = c.sign_in(addr)
    raw = r.raw_set_cookie("os_session")
    assert raw, r.headers.get_all("Set-Cookie")
    attrs = [a.strip().lower() for a in raw.split(";")[1:]]
    assert "httponly" in attrs, raw
    assert "samesite=lax" in attrs, raw
    assert "path=/" in attrs, raw


# ---------------------------------------------------------------------------------------
# Limits stated in the contract, checked precisely


def test_token_lifetimes(server):
    """Verification links live 48 h, reset links 1 h."""
    addr = unique_email("ttl")
    c = Client(server)
    signup(c, addr)
    server.wait_for_mail(addr)
    c.post("/api/v1/password-reset", {"email": addr})
    server.wait_for_mail(addr)
    rows = db_query(server, "SELECT t.purpose, t.expires_at - t.created_at FROM email_tokens t"
                            " JOIN users u ON u.id = t.user_id WHERE u.email = ? AND t.used_at IS NULL", (addr,))
    ttl = dict(rows)
    assert ttl == {"verify": 48 * 3600, "reset": 3600}, ttl


@pytest.mark.parametrize("password,ok", [
    ("é" * 9, False),          # 9 characters (18 bytes): too short
    ("é" * 10, True),          # 10 characters
    ("é" * 256, True),         # 256 characters (512 bytes): allowed
    ("é" * 257, False),        # 257 characters: too long
], ids=["9-chars", "10-chars", "256-chars", "257-chars"])
def test_password_length_counts_characters(server, password, ok):
    """The contract's 10–256 is in characters, not bytes."""
    c = Client(server)
    r = c.post("/api/v1/signup", {"name": DEFAULT_NAME, "email": unique_email("chars"), "password": password})
    if ok:
        assert r.status == 202, f"{len(password)} characters must be accepted: {r}"
    else:
        errs = field_errors(r)
        want = "password_too_short" if len(password) < 10 else "password_too_long"
        assert errs == {"password": want}, f"{len(password)} characters: {errs}"


# ---------------------------------------------------------------------------------------
# Concurrency: the rules hold when requests race


def test_concurrent_signup_same_address(fresh_server):
    addr = unique_email("race")
    clients = [Client(fresh_server) for _ in range(8)]
    for cl in clients:
        cl.refresh_csrf()
    results = parallel(8, lambda i: clients[i].post(
        "/api/v1/signup", {"name": DEFAULT_NAME, "email": addr, "password": f"{DEFAULT_PASSWORD} {i}"}))
    assert [r.status for r in results] == [202] * 8, [(r.status, r.body) for r in results]
    # One account; one verification mail, and "account exists" mails up to the address's
    # hourly limit of mails (3, test_abuse.py).
    mails = [fresh_server.wait_for_mail(addr) for _ in range(3)]
    verify = [m for m in mails if m.token("/verify")]
    assert len(verify) == 1, f"{len(verify)} verification mails for one address"
    assert db_query(fresh_server, "SELECT COUNT(*) FROM users WHERE email = ?", (addr,)) == [(1,)]


def test_concurrent_use_of_one_reset_token(fresh_server):
    addr = unique_email("race-token")
    signup_and_verify(Client(fresh_server), addr, sign_in=False)
    Client(fresh_server).post("/api/v1/password-reset", {"email": addr})
    tok = fresh_server.wait_for_mail(addr).token("/reset")
    clients = [Client(fresh_server) for _ in range(8)]
    for cl in clients:
        cl.refresh_csrf()
    results = parallel(8, lambda i: clients[i].post(
        "/api/v1/password-reset/confirm", {"token": tok, "password": f"{NEW_PASSWORD} {i}"}))
    statuses = sorted(r.status for r in results)
    assert statuses == [200] + [410] * 7, statuses


def test_signin_throttle_holds_under_parallel_guessing(server_factory):
    # A password hash that costs a few milliseconds, as real settings do (64 MiB costs far
    # more): the limit must hold however long checking a password takes.
    srv = server_factory(extra_args=["--argon2-mem-kib", "16384"])
    addr = unique_email("race-throttle")
    signup_and_verify(Client(srv), addr, sign_in=False)
    clients = [Client(srv) for _ in range(8)]
    for cl in clients:
        cl.refresh_csrf()
    results = parallel(8, lambda i: clients[i].sign_in(addr, f"guess number {i}"))
    statuses = [r.status for r in results]
    assert set(statuses) <= {401, 429}, statuses
    assert statuses.count(401) <= 5, \
        f"{statuses.count(401)} parallel password guesses were checked; the limit is 5: {sorted(statuses)}"
    assert_problem(Client(srv).sign_in(addr), 429, "throttled")
