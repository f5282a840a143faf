"""Signing in with an OpenID Connect provider from the tests' side: a real provider (the
`oidc-provider` package, tests/peers/oidc-provider.mjs) beside a server configured for it, the
flow driven by hand as a browser would follow its redirects, and what a sign-in's answer says."""
import contextlib
import http.client
import json
import subprocess
import time
import urllib.parse
from http.cookies import SimpleCookie

import pytest

from support import HOST
from support.client import Client
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


@contextlib.contextmanager
def sso_stack(d):
    """A provider and a server whose --sso-config routes sso.example to it ("Corp Login") and
    strict.example to it as required ("Strict Login"): (server, provider), stopped after."""
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


def sso_flow(srv, provider, email, forge=None, language=None):
    """(client, the callback's response, the callback's path) of one sign-in from the start
    (from a page in `language` when given)."""
    c = Client(srv)
    query = {"email": email, **({"language": language} if language else {})}
    r = c.get("/api/v1/sso/start?" + urllib.parse.urlencode(query))
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
