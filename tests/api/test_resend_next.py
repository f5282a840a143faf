"""The page someone was going to survives the other mails of signing up, as it survives the
first verification mail (test_signup_next.py): asking for the verification link again takes the
same optional `next` and the new link carries it; signing up with an address that already has
an account sends the "account exists" mail, whose sign-in link carries it. `next` is held to the
same rule everywhere: a path of this site, else a field error and no mail."""
import urllib.parse

import pytest

from support.accounts import DEFAULT_PASSWORD, addr, signup, verified_user
from support.checks import assert_problem
from support.client import Client
from support.db import db_count

pytestmark = pytest.mark.usefixtures("server_alive")

TARGET = "/agreements/12345678/partners?tab=all"


def link_query(m, path):
    link = next(l for l in m.links if f"{path}?" in l or l.endswith(path))
    return link, urllib.parse.parse_qs(urllib.parse.urlsplit(link).query)


def test_resent_verification_link_carries_next(server):
    email = addr("resender")
    c = Client(server)
    signup(c, email)
    server.wait_for_mail(email)   # the first link, without next
    r = c.post("/api/v1/verify/resend", {"email": email, "next": TARGET})
    assert r.status == 202, r
    link, q = link_query(server.wait_for_mail(email), "/verify")
    assert q["next"] == [TARGET], link
    assert c.post("/api/v1/verify", {"token": q["token"][0]}).status == 200


def test_resend_without_next_has_none(server):
    email = addr("resender")
    c = Client(server)
    signup(c, email)
    server.wait_for_mail(email)
    assert c.post("/api/v1/verify/resend", {"email": email}).status == 202
    link, q = link_query(server.wait_for_mail(email), "/verify")
    assert "next" not in q, link


@pytest.mark.parametrize("bad", ["https://evil.example/x", "//evil.example/x", "/\\evil.example", "/a b", 7,
                                 "/" + "a" * 600])
def test_resend_refuses_next_off_the_site(server, bad):
    email = addr("resender")
    c = Client(server)
    signup(c, email)
    server.wait_for_mail(email)
    before = db_count(server, "outbox", "recipient = ?", (email,))
    r = c.post("/api/v1/verify/resend", {"email": email, "next": bad})
    assert_problem(r, 422, "validation")
    assert [e["field"] for e in r.body["errors"]] == ["next"], r.body
    assert db_count(server, "outbox", "recipient = ?", (email,)) == before


def test_account_exists_mail_signs_in_towards_next(server):
    email = addr("twice")
    verified_user(server, email)
    r = Client(server).post("/api/v1/signup", {"name": "Again", "email": email, "password": DEFAULT_PASSWORD,
                                               "next": TARGET})
    assert r.status == 202, r
    m = server.wait_for_mail(email, subject_contains="tried to sign up")
    link, q = link_query(m, "/signin")
    assert q["next"] == [TARGET], link
    assert urllib.parse.urlsplit(link).path == "/signin", link


def test_account_exists_mail_without_next_has_none(server):
    email = addr("twice")
    verified_user(server, email)
    assert Client(server).post("/api/v1/signup", {"name": "Again", "email": email,
                                                  "password": DEFAULT_PASSWORD}).status == 202
    link, q = link_query(server.wait_for_mail(email, subject_contains="tried to sign up"), "/signin")
    assert q == {}, link
