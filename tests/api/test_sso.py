"""Signing in with an OpenID Connect provider: a real provider (the `oidc-provider` package,
tests/peers/oidc-provider.mjs) beside the server, the flow driven by hand as a browser would
follow its redirects, and ID tokens the test has the provider's token endpoint replace with
forged ones."""
import pytest

from support.accounts import verified_user
from support.checks import assert_problem, field_errors
from support.client import Client
from support.db import db_query
from support.sso import CLIENT_ID, assert_refused, signed_in_as, sso_flow, sso_stack


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    with sso_stack(tmp_path_factory.mktemp("sso")) as s:
        yield s


def test_first_sign_in_creates_a_verified_account_and_a_later_one_finds_it(stack):
    srv, provider = stack
    provider.person("sub-new-1", "New.Person@sso.example")
    c, r, _ = sso_flow(srv, provider, "new.person@sso.example")
    user = signed_in_as(c, r)
    assert user["email"] == "new.person@sso.example"
    rows = db_query(srv, "SELECT u.email_verified_at IS NOT NULL FROM users u WHERE u.email = ?",
                    ("new.person@sso.example",))
    assert rows == [(1,)] or rows == [(True,)]
    acts = [a for (a,) in db_query(srv, "SELECT action FROM audit_events WHERE target_id = ? ORDER BY id",
                                   (str(user["id"]),))]
    assert acts[:3] == ["account.created", "sso.linked", "signin"], acts
    # Signing out ends the openseat session.
    assert c.delete("/api/v1/session").status == 204
    assert c.get("/api/v1/session").body["authenticated"] is False


def test_an_account_made_by_a_sign_in_from_a_french_page_speaks_french(stack):
    srv, provider = stack
    provider.person("sub-fr-1", "francoise@sso.example")
    c, r, _ = sso_flow(srv, provider, "francoise@sso.example", language="fr")
    assert signed_in_as(c, r)["language"] == "fr"
    # Only a new account takes the page's language: an existing one keeps its own.
    c, r, _ = sso_flow(srv, provider, "francoise@sso.example", language="en")
    assert signed_in_as(c, r)["language"] == "fr"
    provider.person("sub-en-1", "edith@sso.example")
    c, r, _ = sso_flow(srv, provider, "edith@sso.example")
    assert signed_in_as(c, r)["language"] == "en"


def test_a_start_from_a_page_in_another_language_is_refused_naming_the_field(stack):
    srv, _ = stack
    r = Client(srv).get("/api/v1/sso/start?email=someone@sso.example&language=de")
    assert_problem(r, 422, "validation")
    assert field_errors(r) == {"language": "invalid_value"}, r.body


def test_the_existing_account_with_that_verified_address_is_linked_once(stack):
    srv, provider = stack
    pw = verified_user(srv, "linked@sso.example")
    provider.person("sub-linked", "linked@sso.example")
    c, r, _ = sso_flow(srv, provider, "linked@sso.example")
    assert signed_in_as(c, r)["id"] == pw.user["id"]
    n = db_query(srv, "SELECT COUNT(*) FROM sso_identities WHERE subject = ?", ("sub-linked",))
    assert n == [(1,)]


def test_issuer_and_subject_keep_the_account_after_an_address_change_at_the_provider(stack):
    srv, provider = stack
    provider.person("sub-moves", "before@sso.example")
    c, r, _ = sso_flow(srv, provider, "before@sso.example")
    first = signed_in_as(c, r)
    provider.person("sub-moves", "after@sso.example")
    c, r, _ = sso_flow(srv, provider, "after@sso.example")
    assert signed_in_as(c, r)["id"] == first["id"]


def test_an_unverified_address_is_refused(stack):
    srv, provider = stack
    provider.person("sub-unverified", "unverified@sso.example", verified=False)
    c, r, _ = sso_flow(srv, provider, "unverified@sso.example")
    assert_refused(c, r, "sso_email_unverified")
    assert db_query(srv, "SELECT COUNT(*) FROM users WHERE email = ?", ("unverified@sso.example",)) == [(0,)]


@pytest.mark.parametrize("forge", [
    ("tamper", {"email": "victim@sso.example"}),
    ("foreign", None),
    ("none", None),
    ("resign", {"exp": 1000000000, "iat": 999999000}),
    ("resign", {"aud": "someone-else"}),
    ("resign", {"aud": ["someone-else", CLIENT_ID]}),
    ("resign", {"azp": "someone-else"}),
    ("resign", {"iss": "http://127.0.0.1:1"}),
    ("resign", {"nonce": "not-the-one-we-sent"}),
], ids=["tampered", "foreign-key", "alg-none", "expired", "audience", "audiences-without-azp", "azp", "issuer",
        "nonce"])
def test_forged_id_tokens_are_refused_with_no_session(stack, forge):
    srv, provider = stack
    provider.person("sub-forged", "forged@sso.example")
    c, r, _ = sso_flow(srv, provider, "forged@sso.example", forge=forge)
    assert_refused(c, r, "sso_failed")


def test_hs256_signed_with_the_public_key_is_refused(stack):
    srv, provider = stack
    provider.person("sub-hs", "hs@sso.example")
    c, r, _ = sso_flow(srv, provider, "hs@sso.example", forge=("hs256",))
    assert_refused(c, r, "sso_failed")


def test_a_callback_replayed_is_refused(stack):
    srv, provider = stack
    provider.person("sub-replay", "replay@sso.example")
    c, r, path = sso_flow(srv, provider, "replay@sso.example")
    signed_in_as(c, r)
    other = Client(srv)
    assert_refused(other, other.get(path), "sso_expired")


def test_an_unknown_state_is_refused(stack):
    srv, _ = stack
    c = Client(srv)
    assert_refused(c, c.get("/api/v1/sso/callback?state=made-up&code=x"), "sso_expired")
    assert_refused(c, c.get("/api/v1/sso/callback"), "sso_expired")


def test_a_required_domain_refuses_password_sign_in(stack):
    srv, provider = stack
    c = Client(srv)
    r = c.sign_in("someone@strict.example", "whatever-password")
    assert_problem(r, 403, "sso_required")
    assert "Strict Login" in r.body["detail"]
    # Other domains keep their passwords.
    assert verified_user(srv, "password.person@elsewhere.example").user


def test_which_provider_answers_for_an_address(stack):
    srv, _ = stack
    c = Client(srv)
    assert c.get("/api/v1/sso/provider?email=a@strict.example").body == {
        "provider": {"name": "Strict Login", "required": True}}
    assert c.get("/api/v1/sso/provider?email=a@else.example").body == {"provider": None}
    assert_problem(c.get("/api/v1/sso/provider"), 422)
    r = c.get("/api/v1/sso/start?email=a@else.example")
    assert_problem(r, 422)
    assert r.body["errors"][0]["field"] == "email" and r.body["errors"][0]["code"] == "sso_no_provider"
