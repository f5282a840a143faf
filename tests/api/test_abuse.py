"""Abuse of the public account routes and of the partner registration: e-mail floods at an
address nobody proved to own, throttles turned into a lock-out of someone else, and the
sign-in's timing as an oracle for which addresses have an account.

The module's server trusts X-Forwarded-For, so each request says which client address it
comes from (`ip()` hands out a fresh one): the per-address counts of one test never touch
another's, and a "distributed" attacker is a list of addresses."""
import itertools
import json
import re
import statistics
import time

import pytest

from support import DEFAULT_PASSWORD
from support.accounts import partner_add, signup_and_verify, uniq, unique_email
from support.agreements import REGISTRATIONS, assert_granted, import_agreement, reg_body
from support.checks import assert_problem
from support.client import Client
from support.db import db_count, db_query, db_write
from support.server import Server, SmtpSink, live_servers, poll, stop_stack

# The contract's numbers (docs/api-contract.md).
MAIL_PER_RECIPIENT = 3          # e-mails per hour to one address nobody proved to own
MAIL_PER_CLIENT = 10            # this module's --mail-per-address (default 30)
SIGNIN_PER_PAIR = 5             # failures per 15 min for one account from one client address
SIGNIN_PER_ACCOUNT = 50         # from all addresses together
REG_PER_PAIR = 20               # failed registrations per hour for one license from one address
REG_PER_LICENSE = 100           # from all addresses together

_ips = itertools.count(1)


def ip():
    """A client address no other request of this run has used."""
    n = next(_ips)
    return f"10.{(n >> 16) & 255}.{(n >> 8) & 255}.{n & 255}"


class From(Client):
    """A client whose every request comes from one client address (X-Forwarded-For)."""

    def __init__(self, server, address=None):
        super().__init__(server)
        self.address = address or ip()

    def request(self, method, path, json_body=None, body=None, headers=None, **kw):
        h = {"X-Forwarded-For": self.address}
        h.update(headers or {})
        return super().request(method, path, json_body, body=body, headers=h, **kw)


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    d = tmp_path_factory.mktemp("abuse")
    sink = SmtpSink(d / "smtp").start()
    srv = Server(d / "data", smtp_url=sink.url, mail=sink.maildir,
                 extra_args=["--trust-proxy", "--mail-per-address", str(MAIL_PER_CLIENT)])
    srv.sink = sink
    live_servers.append(srv)
    srv.start()
    yield srv
    stop_stack(srv)


def strip(resp):
    """What a caller sees of an answer, without what differs on every request."""
    body = resp.body if not isinstance(resp.body, dict) else {k: v for k, v in resp.body.items()
                                                               if k != "request_id"}
    return resp.status, resp.content_type, json.dumps(body, sort_keys=True)


def mails_to(server, address, settle=1.0):
    """Every message delivered to `address`, once the outbox has had time to send what it queued."""
    time.sleep(settle)
    poll(lambda: db_count(server, "outbox", "sent_at IS NULL") == 0, timeout=20, what="the outbox to drain")
    return server.mail.matching(address)


def audits(server, action, target=None):
    sql, params = "SELECT target_id, details, address FROM audit_events WHERE action = ?", [action]
    if target is not None:
        sql += " AND target_id = ?"
        params.append(target)
    return db_query(server, sql + " ORDER BY id", params)


def suppressed_metric(server, limit):
    text = Client(server).get("/metrics").body
    m = re.search(r'^openseat_mail_suppressed_total\{limit="%s"\} (\d+)$' % limit, text, re.M)
    assert m, f"no openseat_mail_suppressed_total{{limit={limit!r}}} in /metrics"
    return int(m.group(1))


# ---------------------------------------------------------------------------------------
# 1. E-mail to an address nobody proved to own: a few per hour, whoever asks


def test_signup_and_reset_flood_at_one_address(server):
    target = unique_email("flooded")
    before = suppressed_metric(server, "recipient")
    answers = {"signup": set(), "reset": set()}
    for i in range(30):
        # A distributed flood: every request from another address, so only the recipient's
        # own limit can stop it.
        r = From(server).post("/api/v1/signup", {"name": "Mallory", "email": target, "password": f"pw-{i}-long-enough"})
        answers["signup"].add(strip(r))
        r = From(server).post("/api/v1/password-reset", {"email": target})
        answers["reset"].add(strip(r))
    # The answer never says whether a mail went out.
    assert answers["signup"] == {(202, "application/json", json.dumps({"status": "verification_sent"}))}, answers
    assert answers["reset"] == {(202, "application/json", json.dumps({"status": "reset_sent"}))}, answers

    got = mails_to(server, target)
    assert len(got) == MAIL_PER_RECIPIENT, f"{len(got)} mails reached {target}: {[m.subject for m in got]}"
    # 60 requests, 3 mails: the other 57 would each have mailed the (now existing) account.
    rows = audits(server, "mail.suppressed", target)
    assert len(rows) == 60 - MAIL_PER_RECIPIENT, len(rows)
    details = [json.loads(d) for _, d, _ in rows]
    assert {d["limit"] for d in details} == {"recipient"}, details
    assert {d["template"] for d in details} == {"account_exists", "reset_password"}, details
    assert suppressed_metric(server, "recipient") - before == 60 - MAIL_PER_RECIPIENT

    # Someone else is served as usual.
    signup_and_verify(From(server), unique_email("bystander"), sign_in=False)


def test_the_flood_does_not_void_the_owners_reset_link(server):
    owner = unique_email("owner")
    signup_and_verify(From(server), owner, sign_in=False)        # mail 1 of the hour
    for _ in range(12):                                          # mails 2 and 3, then nothing
        assert From(server).post("/api/v1/password-reset", {"email": owner}).status == 202
    got = mails_to(server, owner)
    assert len(got) == MAIL_PER_RECIPIENT, [m.subject for m in got]
    links = [m.token("/reset") for m in got if m.token("/reset")]
    assert len(links) == 2
    # A suppressed request makes no new link, so it cannot replace the one last mailed.
    r = From(server).post("/api/v1/password-reset/confirm", {"token": links[-1], "password": "a new passphrase 1"})
    assert r.status == 200, r


def test_verification_resend_flood(server):
    target = unique_email("resend-flood")
    r = From(server).post("/api/v1/signup", {"name": "Ada", "email": target, "password": DEFAULT_PASSWORD})
    assert r.status == 202
    seen = set()
    for _ in range(30):
        seen.add(strip(From(server).post("/api/v1/verify/resend", {"email": target})))
    assert seen == {(202, "application/json", json.dumps({"status": "verification_sent"}))}, seen
    got = mails_to(server, target)
    assert len(got) == MAIL_PER_RECIPIENT, [m.subject for m in got]
    assert all(m.token("/verify") for m in got)
    assert len(audits(server, "mail.suppressed", target)) == 30 + 1 - MAIL_PER_RECIPIENT
    # The newest link mailed still verifies the address. The sink's order is not the order
    # they were queued in (the worker may deliver two at once), so each is tried, newest-looking
    # first: one of them must verify (an older one may have been replaced by a newer one).
    answers = [From(server).post("/api/v1/verify", {"token": m.token("/verify")}).status for m in reversed(got)]
    assert 200 in answers, answers


def test_one_client_address_mails_few_people(server):
    spammer = From(server)
    before = suppressed_metric(server, "client_address")
    # Requests that mail nobody count too: otherwise the count would tell the client which
    # addresses have an account.
    for _ in range(MAIL_PER_CLIENT // 2):
        assert spammer.post("/api/v1/password-reset", {"email": unique_email("nobody")}).status == 202
    served = [unique_email("served") for _ in range(MAIL_PER_CLIENT - MAIL_PER_CLIENT // 2)]
    refused = [unique_email("refused") for _ in range(3)]
    answers = set()
    for a in served + refused:
        answers.add(strip(spammer.post("/api/v1/signup", {"name": "Eve", "email": a, "password": DEFAULT_PASSWORD})))
    assert len(answers) == 1, answers
    for a in served:
        server.wait_for_mail(a, timeout=15)
    for a in refused:
        assert mails_to(server, a, settle=0.2) == [], f"mail reached {a} past the client address's limit"
        (_, d, addr), = audits(server, "mail.suppressed", a)
        assert json.loads(d) == {"template": "verify_email", "limit": "client_address"} and addr == spammer.address
    assert suppressed_metric(server, "client_address") - before == len(refused)
    # The accounts exist all the same; their owners can ask for the link from elsewhere.
    r = From(server).post("/api/v1/verify/resend", {"email": refused[0]})
    assert r.status == 202
    server.wait_for_mail(refused[0])
    # Another client address is not affected.
    other = unique_email("elsewhere")
    From(server).post("/api/v1/signup", {"name": "Bob", "email": other, "password": DEFAULT_PASSWORD})
    server.wait_for_mail(other)


# ---------------------------------------------------------------------------------------
# 2. Sign-in throttles that an attacker elsewhere cannot turn against the owner


def account(server):
    a = unique_email("owner")
    signup_and_verify(From(server), a, sign_in=False)
    return a


def test_wrong_passwords_from_elsewhere_do_not_lock_the_owner_out(server):
    a = account(server)
    attacker = From(server)
    for i in range(SIGNIN_PER_PAIR):
        assert_problem(attacker.sign_in(a, f"guess number {i}"), 401, "invalid_credentials")
    r = attacker.sign_in(a, DEFAULT_PASSWORD)
    assert_problem(r, 429, "throttled")
    assert 0 < int(r.headers["Retry-After"]) <= 15 * 60
    owner = From(server)
    r = owner.sign_in(a)
    assert r.status == 200, f"the owner was locked out by failures from another address: {r}"
    # The attacker's address stays throttled for this account.
    assert_problem(attacker.sign_in(a, "one more guess"), 429, "throttled")


def test_a_successful_sign_in_clears_that_address_only(server):
    a = account(server)
    me, other = From(server), From(server)
    for i in range(SIGNIN_PER_PAIR - 1):
        assert_problem(me.sign_in(a, f"typo {i}"), 401, "invalid_credentials")
        assert_problem(other.sign_in(a, f"guess {i}"), 401, "invalid_credentials")
    assert me.sign_in(a).status == 200
    # My count starts again; the other address's does not.
    for i in range(SIGNIN_PER_PAIR - 1):
        assert_problem(me.sign_in(a, f"typo again {i}"), 401, "invalid_credentials")
    assert_problem(other.sign_in(a, "guess 5"), 401, "invalid_credentials")
    assert_problem(other.sign_in(a, DEFAULT_PASSWORD), 429, "throttled")


def test_the_account_wide_ceiling_holds_against_a_distributed_attack(server):
    a = account(server)
    bots = [From(server) for _ in range(SIGNIN_PER_ACCOUNT // SIGNIN_PER_PAIR)]
    for bot in bots:
        for i in range(SIGNIN_PER_PAIR):
            assert_problem(bot.sign_in(a, f"botnet guess {i}"), 401, "invalid_credentials")
    # Every guess past the ceiling is refused, from anywhere, the owner's included.
    r = From(server).sign_in(a, DEFAULT_PASSWORD)
    assert_problem(r, 429, "throttled")
    assert db_count(server, "auth_failures", "scope = 'account' AND key = ?", (a,)) == SIGNIN_PER_ACCOUNT


def test_the_per_address_limit_still_counts_every_account(server):
    attacker = From(server)
    for i in range(20):
        assert_problem(attacker.sign_in(unique_email(f"spray{i}"), "password123!"), 401, "invalid_credentials")
    assert_problem(attacker.sign_in(account(server)), 429, "throttled")


# ---------------------------------------------------------------------------------------
# The partner registration: per (license, client address) first, then license-wide


def partner_from(server, address=None):
    e = unique_email("partner")
    partner_add(server, "Partner " + uniq("org"), e)
    c = From(server, address)
    signup_and_verify(c, e)
    c.user = c.session()["user"]
    return c


def test_failed_registrations_from_one_address_do_not_refuse_the_real_partner(server):
    ag = import_agreement(server, "Litware " + uniq("ab"))
    where = ip()
    for _ in range(REG_PER_PAIR // 5):
        p = partner_from(server, where)
        for k in range(5):
            r = p.post(REGISTRATIONS, reg_body(ag, customer_email=f"wrong{k}@adatum.example"))
            assert_problem(r, 422, "no_match")
    late = partner_from(server, where)
    assert_problem(late.post(REGISTRATIONS, reg_body(ag)), 429, "throttled")
    real = partner_from(server)
    assert_granted(real.post(REGISTRATIONS, reg_body(ag)), ag, 201)


def test_the_license_wide_ceiling(server):
    ag = import_agreement(server, "Litware " + uniq("ceil"))
    now = int(time.time())
    # Failures already recorded from many addresses within the hour (each under its own limit).
    for i in range(REG_PER_LICENSE - 1):
        db_write(server, "INSERT INTO auth_failures (scope, key, at, address) VALUES ('reg_license', ?, ?, ?)",
                 (ag.lic, now - 60, f"192.0.2.{i % 200}"))
    p = partner_from(server)
    assert_problem(p.post(REGISTRATIONS, reg_body(ag, customer_email="last@adatum.example")), 422, "no_match")
    r = partner_from(server).post(REGISTRATIONS, reg_body(ag))
    assert_problem(r, 429, "throttled")
    assert 15 * 60 < int(r.headers["Retry-After"]) <= 3600


# ---------------------------------------------------------------------------------------
# Password hashes: upgraded to the current cost, and no timing oracle on old ones


ARGON = re.compile(r"^\$argon2id\$v=19\$m=(\d+),t=(\d+),p=\d+\$")


def stored_cost(server, email_addr):
    (h,), = db_query(server, "SELECT password_hash FROM users WHERE email = ?", (email_addr,))
    m = ARGON.match(h)
    assert m, h
    return int(m.group(1)), int(m.group(2))


def restart_with(server, *args):
    server.stop()
    server.extra_args = ["--trust-proxy", *args]
    server.start()


def test_an_old_hash_is_upgraded_at_sign_in(server_factory):
    srv = server_factory(extra_args=["--trust-proxy"])
    a = unique_email("old-hash")
    signup_and_verify(From(srv), a, sign_in=False)
    assert stored_cost(srv, a) == (8, 1)
    restart_with(srv, "--argon2-ops", "2", "--argon2-mem-kib", "64")
    assert_problem(From(srv).sign_in(a, "not the password"), 401, "invalid_credentials")
    assert stored_cost(srv, a) == (8, 1), "a wrong password changed the stored hash"
    assert From(srv).sign_in(a).status == 200
    assert stored_cost(srv, a) == (64, 2)
    assert From(srv).sign_in(a).status == 200


def test_a_wrong_password_on_an_old_hash_costs_what_an_unknown_address_costs(server_factory):
    srv = server_factory(extra_args=["--trust-proxy"])
    a = unique_email("timing")
    signup_and_verify(From(srv), a, sign_in=False)
    # The current cost makes a verification take some tens of milliseconds, the old
    # hash's (8 KiB, one pass) well under one.
    restart_with(srv, "--argon2-ops", "2", "--argon2-mem-kib", "32768")

    def timed(addr):
        c = From(srv)
        c.refresh_csrf()
        t = time.perf_counter()
        assert_problem(c.sign_in(addr, "definitely wrong"), 401, "invalid_credentials")
        return time.perf_counter() - t

    timed(unique_email("warm-up"))
    known, unknown = [], []
    for _ in range(4):   # within the per-account limit from each address, alternating
        known.append(timed(a))
        unknown.append(timed(unique_email("ghost")))
    k, u = statistics.median(known), statistics.median(unknown)
    # A generous bound, for a loaded machine: before, the old hash answered ~50× faster.
    assert k >= u / 3, f"old-hash account answers in {k * 1000:.1f} ms, unknown address in {u * 1000:.1f} ms"
