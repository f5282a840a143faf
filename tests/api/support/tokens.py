"""API tokens from the tests' side: making one through the API, and a client that sends it
as `Authorization: Bearer` and nothing else."""
from support.client import Client

TOKENS = "/api/v1/tokens"


def make_token(client, **body):
    """A token of client's person (POST /api/v1/tokens; name and capabilities defaulted):
    the answer, `secret` included."""
    body.setdefault("name", "CI script")
    body.setdefault("capabilities", ["read"])
    r = client.post(TOKENS, body)
    assert r.status == 201, r
    return r.body


def bearer(server, secret):
    """A client that sends the token and nothing else: no cookie, no CSRF token."""
    c = Client(server)
    orig = c.request

    def request(method, path, json_body=None, headers=None, **kw):
        h = {"Authorization": f"Bearer {secret}"}
        h.update(headers or {})
        kw.setdefault("csrf", False)
        return orig(method, path, json_body, headers=h, **kw)
    c.request = request
    return c
