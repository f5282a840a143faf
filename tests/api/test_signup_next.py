"""A link that waited for its reader to sign up survives: sign-up takes an optional `next`
(a path on this site), and the verification mail's link carries it on to the verify page,
which hands it to sign-in. Anything that could lead off the site is refused with a field
error and never reaches a mail."""
import urllib.parse

import pytest

from support.accounts import DEFAULT_PASSWORD, addr
from support.checks import assert_problem
from support.client import Client
from support.db import db_count

pytestmark = pytest.mark.usefixtures("server_alive")


def body(email, **kw):
    return {"name": "Nora Next", "email": email, "password": DEFAULT_PASSWORD, **kw}


def test_next_rides_the_verification_link(server):
    email = addr("nexter")
    c = Client(server)
    target = "/agreements/12345678/partners?tab=all"
    r = c.post("/api/v1/signup", body(email, next=target))
    assert r.status == 202, r
    m = server.wait_for_mail(email)
    link = next(l for l in m.links if "/verify?" in l)
    q = urllib.parse.parse_qs(urllib.parse.urlsplit(link).query)
    assert q["next"] == [target], link
    assert urllib.parse.urlsplit(link).netloc == urllib.parse.urlsplit(server.url).netloc, link
    assert c.post("/api/v1/verify", {"token": q["token"][0]}).status == 200


def test_without_next_the_link_has_none(server):
    email = addr("plain")
    assert Client(server).post("/api/v1/signup", body(email)).status == 202
    m = server.wait_for_mail(email)
    link = next(l for l in m.links if "/verify?" in l)
    assert "next=" not in link, link


@pytest.mark.parametrize("bad", ["https://evil.example/x", "//evil.example/x", "/\\evil.example", "home",
                                 "javascript:alert(1)", "/a b", "/x\r\nSet-Cookie: a=b", "/" + "a" * 600, 7])
def test_next_off_the_site_is_refused(server, bad):
    email = addr("bad")
    r = Client(server).post("/api/v1/signup", body(email, next=bad))
    assert_problem(r, 422, "validation")
    assert [e["field"] for e in r.body["errors"]] == ["next"], r.body
    assert db_count(server, "outbox", "recipient = ?", (email,)) == 0
