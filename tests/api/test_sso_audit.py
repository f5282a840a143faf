"""Refused sign-ins through an OpenID Connect provider go where refused password sign-ins go:
the audit trail, as `signin.failed` naming the address (with the reason), when the refusal
names an address the provider vouched for with a good signature (an address it has not
verified) or the address typed for a password on a domain that must use its provider. A token
whose signature or claims do not hold names nobody: it stays in the operator's log only."""
import json

import pytest

from support.accounts import verified_user
from support.checks import assert_problem
from support.client import Client
from support.db import db_query
from support.sso import assert_refused, sso_flow, sso_stack


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    with sso_stack(tmp_path_factory.mktemp("sso-audit")) as s:
        yield s


def failures(srv, email):
    """(reason, details) of the signin.failed rows naming the address, oldest first."""
    rows = db_query(srv, "SELECT target_type, details FROM audit_events WHERE action = 'signin.failed'"
                         " AND target_id = ? ORDER BY id", (email,))
    assert all(t == "email" for t, _ in rows), rows
    return [json.loads(d) for _, d in rows]


def test_an_unverified_address_for_an_existing_account_is_on_the_trail(stack):
    srv, provider = stack
    verified_user(srv, "known.unverified@sso.example")
    provider.person("sub-known-unverified", "Known.Unverified@sso.example", verified=False)
    c, r, _ = sso_flow(srv, provider, "known.unverified@sso.example")
    assert_refused(c, r, "sso_email_unverified")
    assert failures(srv, "known.unverified@sso.example") == [
        {"reason": "sso_email_unverified", "provider": "Corp Login"}]
    # Nothing was linked: the provider did not vouch for the address.
    assert db_query(srv, "SELECT COUNT(*) FROM sso_identities WHERE subject = ?", ("sub-known-unverified",)) == [(0,)]


def test_an_unverified_address_without_an_account_is_on_the_trail_too(stack):
    """As a password sign-in for an unknown address is: the trail does not tell which
    addresses have accounts either way."""
    srv, provider = stack
    provider.person("sub-nobody-unverified", "nobody.unverified@sso.example", verified=False)
    c, r, _ = sso_flow(srv, provider, "nobody.unverified@sso.example")
    assert_refused(c, r, "sso_email_unverified")
    assert failures(srv, "nobody.unverified@sso.example") == [
        {"reason": "sso_email_unverified", "provider": "Corp Login"}]


def test_a_password_on_a_domain_that_must_use_its_provider_is_on_the_trail(stack):
    srv, _ = stack
    r = Client(srv).sign_in("Someone.Strict@strict.example", "whatever-password")
    assert_problem(r, 403, "sso_required")
    assert failures(srv, "someone.strict@strict.example") == [{"reason": "sso_required", "provider": "Strict Login"}]


def test_a_forged_token_names_nobody_on_the_trail(stack):
    srv, provider = stack
    provider.person("sub-forger", "forger@sso.example")
    c, r, _ = sso_flow(srv, provider, "forger@sso.example", forge=("tamper", {"email": "victim@sso.example"}))
    assert_refused(c, r, "sso_failed")
    assert failures(srv, "victim@sso.example") == []
    assert failures(srv, "forger@sso.example") == []
