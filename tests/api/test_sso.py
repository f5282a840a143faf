"""Signing in with an OpenID Connect provider: a real provider (the `oidc-provider` package,
tests/peers/oidc-provider.mjs) beside the server, the flow driven by hand as a browser would
follow its redirects, and ID tokens the test has the provider's token endpoint replace with
forged ones."""
import http.client
import json
import subprocess
import time
import urllib.parse
from http.cookies import SimpleCookie

import pytest

from support import HOST
from support.accounts import verified_user
from support.checks import assert_problem
from support.client import Client
from support.db import db_query
from support.server import Maildir, Server, free_port, live_servers, port_open, terminate
from support.webhooks import PEERS

CLIENT_ID, CLIENT_SECRET = "openseat", "openseat-test-secret"


class Provider:
    def __init__(self, directory, redirect_uri):
        self.port = free_port()
        self.issuer = f"http://{HOST}:{self.port}"
        self.log_path = directory / "provider.log"
        self._log = open(self.log_path, "ab")
        assert (PEERS / "node_modules" / "oidc-provider").is_dir(), \
            "tests/peers has no node_modules: run scripts/install-deps.sh"
        self.proc = subprocess.Popen(["node", str(PEERS / "oidc-provider.mjs"), str(self.port), CLIENT_ID,
                                      CLIENT_SECRET, redirect_uri],
                                     stdin=subprocess.DEVNULL, stdout=self._log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 20
        while not port_open(self.port):
            assert self.proc.poll() is None, f"provider exited: {self.log_path.read_text()[-2000:]}"
            assert time.monotonic() < deadline, "provider did not listen"
            time.sleep(0.05)

    def control(self, path, body):
        c = http.client.HTTPConnection(HOST, self.port, timeout=10)
        c.request("POST", path, body=json.dumps(body), headers={"Content-Type": "application/json"})
        assert c.getresponse().status == 204
        c.close()

    def person(self, sub, email, verified=True, name="Sam Person"):
        self.control("/control/account", {"sub": sub, "email": email, "email_verified": verified, "name": name})

    def forge(self, mode, claims=None, header=None):
        self.control("/control/forge", {"mode": mode, "claims": claims or {}, "header": header or {}})

    def stop(self):
        terminate(self.proc)
        self._log.close()


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    d = tmp_path_factory.mktemp("sso")
    port = free_port()
    provider = Provider(d, f"http://{HOST}:{port}/api/v1/sso/callback")
    cfg = d / "sso.json"
    cfg.write_text(json.dumps({"providers": [
        {"name": "Corp Login", "issuer": provider.issuer, "client_id": CLIENT_ID, "client_secret": CLIENT_SECRET,
         "domains": ["sso.example"]},
        {"name": "Strict Login", "issuer": provider.issuer, "client_id": CLIENT_ID, "client_secret": CLIENT_SECRET,
         "domains": ["strict.example"], "required": True},
    ]}))
    srv = Server(d / "data", port=port, extra_args=["--sso-config", str(cfg), "--sso-allow-private"])
    srv.mail = Maildir(srv.data / "maildir")
    live_servers.append(srv)
    try:
        srv.start()
        yield srv, provider
        srv.check_stopped_cleanly()
    finally:
        if srv in live_servers:
            live_servers.remove(srv)
        srv.destroy()
        provider.stop()


def browse_provider(url, jar):
    """Follows the provider's redirects with its cookies until one leads back to openseat;
    returns that URL."""
    for _ in range(10):
        u = urllib.parse.urlsplit(url)
        c = http.client.HTTPConnection(u.hostname, u.port, timeout=15)
        c.request("GET", u.path + ("?" + u.query if u.query else ""),
                  headers={"Cookie": "; ".join(f"{k}={v}" for k, v in jar.items())})
        r = c.getresponse()
        r.read()
        for h in r.headers.get_all("Set-Cookie") or []:
            sc = SimpleCookie()
            sc.load(h)
            for k, m in sc.items():
                jar[k] = m.value
        c.close()
        assert r.status in (302, 303), f"provider answered {r.status} at {url}"
        url = urllib.parse.urljoin(url, r.headers["Location"])
        if "/api/v1/sso/callback" in url:
            return url
    pytest.fail("the provider never sent the browser back")


def sso_flow(srv, provider, email, forge=None):
    """(client, the callback's response, the callback's path) of one sign-in from the start."""
    c = Client(srv)
    r = c.get("/api/v1/sso/start?" + urllib.parse.urlencode({"email": email}))
    assert r.status == 302, r
    authz = r.headers["Location"]
    q = urllib.parse.parse_qs(urllib.parse.urlsplit(authz).query)
    assert authz.startswith(provider.issuer)
    assert q["code_challenge_method"] == ["S256"] and q["state"][0] and q["nonce"][0]
    if forge:
        provider.forge(*forge)
    back = browse_provider(authz, {})
    path = back[back.index("/api/v1/sso/callback"):]
    return c, c.get(path), path


def assert_refused(c, r, reason):
    assert r.status == 302, r
    assert r.headers["Location"] == f"/signin?sso_error={reason}", r.headers["Location"]
    assert "os_session" not in c.cookies
    assert c.get("/api/v1/session").body["authenticated"] is False


def signed_in_as(c, r):
    assert r.status == 302 and r.headers["Location"] == "/home", r
    s = c.get("/api/v1/session").body
    assert s["authenticated"] is True, s
    return s["user"]


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
