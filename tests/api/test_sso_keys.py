"""The provider's signing keys change: a token signed with a key id the server does not know
makes it read the provider's key set again — the first time at once, then at most once a
minute — so a rotation at the provider does not refuse the next sign-in, while a token under a
key id the provider never published (or one it has retired) is still refused, and a stream of
them does not make the server read the key set again and again. Each test has a server and a
provider of its own: what the server has read of the keys is the subject."""
import http.client
import json

import pytest

from support import HOST
from support.sso import assert_refused, signed_in_as, sso_flow, sso_stack


@pytest.fixture
def fresh(tmp_path):
    with sso_stack(tmp_path) as s:
        yield s


def jwks_fetches(provider):
    c = http.client.HTTPConnection(HOST, provider.port, timeout=10)
    c.request("GET", "/control/stats")
    n = json.loads(c.getresponse().read())["jwks_fetches"]
    c.close()
    return n


def sign_in(srv, provider, forge=None):
    provider.person("sub-keys", "keys@sso.example")
    return sso_flow(srv, provider, "keys@sso.example", forge=forge)


def test_a_rotated_key_is_fetched_and_the_next_sign_in_succeeds(fresh):
    srv, provider = fresh
    c, r, _ = sign_in(srv, provider)
    first = signed_in_as(c, r)
    assert jwks_fetches(provider) == 1
    provider.control("/control/rotate", {})
    c, r, _ = sign_in(srv, provider)
    assert signed_in_as(c, r)["id"] == first["id"]
    assert jwks_fetches(provider) == 2
    # Signed with the retired key, which the key set no longer lists: refused, and within the
    # minute the key set is not read again.
    c, r, _ = sign_in(srv, provider, forge=("retired",))
    assert_refused(c, r, "sso_failed")
    c, r, _ = sign_in(srv, provider, forge=("resign", {}, {"kid": "never-published"}))
    assert_refused(c, r, "sso_failed")
    assert jwks_fetches(provider) == 2
    # The rotated key keeps working.
    c, r, _ = sign_in(srv, provider)
    assert signed_in_as(c, r)["id"] == first["id"]


def test_a_key_id_never_published_is_refused_after_one_fresh_look(fresh):
    srv, provider = fresh
    c, r, _ = sign_in(srv, provider)
    signed_in_as(c, r)
    assert jwks_fetches(provider) == 1
    c, r, _ = sign_in(srv, provider, forge=("resign", {}, {"kid": "never-published"}))
    assert_refused(c, r, "sso_failed")
    assert jwks_fetches(provider) == 2
    # Another one at once: refused without reading the key set again.
    c, r, _ = sign_in(srv, provider, forge=("resign", {}, {"kid": "also-never-published"}))
    assert_refused(c, r, "sso_failed")
    assert jwks_fetches(provider) == 2
    # The real key still signs people in.
    c, r, _ = sign_in(srv, provider)
    signed_in_as(c, r)
