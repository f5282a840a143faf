"""Two-step sign-in from the tests' side: enrolling an account (codes from Debian's oathtool,
not from our code) and signing in with the second step."""
import subprocess
import time

from support import DEFAULT_PASSWORD
from support.accounts import addr, verified_user
from support.client import Client

MFA = "/api/v1/account/mfa"


def totp(secret, steps=0):
    """The code of the 30-second step `steps` from now (the server accepts one either side)."""
    at = int(time.time()) + 30 * steps
    return subprocess.run(["oathtool", "--totp", "-b", "-N", f"@{at}", secret], check=True,
                          capture_output=True, text=True).stdout.strip()


class Enrolled:
    """A verified account with two-step sign-in on: its client, TOTP secret and recovery codes."""

    def __init__(self, client, secret, codes):
        self.client, self.secret, self.codes = client, secret, codes
        self.email = client.session()["user"]["email"]


def enrol(client):
    r = client.post(MFA)
    assert r.status == 200, r
    secret = r.body["secret"]
    assert r.body["uri"].startswith("otpauth://totp/openseat:") and f"secret={secret}" in r.body["uri"], r.body
    assert "issuer=openseat" in r.body["uri"], r.body
    assert r.body["secret_groups"].replace(" ", "") == secret, r.body
    r = client.post(MFA + "/confirm", {"code": totp(secret, -1)})
    assert r.status == 200, r
    assert r.body["enabled"] is True and len(set(r.body["recovery_codes"])) == 10, r.body
    e = Enrolled(client, secret, r.body["recovery_codes"])
    return e


def enrolled_user(server, **kw):
    return enrol(verified_user(server, addr("mfa"), **kw))


def challenge(server, email, password=DEFAULT_PASSWORD):
    c = Client(server)
    r = c.sign_in(email, password)
    assert r.status == 202 and r.body["mfa_required"] is True, r
    assert "os_session" not in (r.headers.get("Set-Cookie") or ""), r
    return c, r.body["challenge"]


def mfa_sign_in(server, e):
    c, ch = challenge(server, e.email)
    r = c.post("/api/v1/session/mfa", {"challenge": ch, "code": totp(e.secret, 1)})
    assert r.status == 200, r
    return c
