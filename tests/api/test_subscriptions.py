"""Subscription administration on an agreement: the overview, adding subscribers (with
every validation error at once, the pool limit under concurrency, duplicates and the
90-day reassignment rule), editing with ETag/If-Match, the keyset-paged list with its
filters and sorts, removing and resending, and who may use these routes.

Agreements are created the way they are in production: a partner places an order (and
so gets partner access), the customer signs up with the order's e-mail and becomes the
super admin. There is no API to appoint administrators yet, so an admin is written into
admin_roles directly."""
import datetime
import re
import time
import urllib.parse
import uuid
from types import SimpleNamespace

import pytest

from support.accounts import addr, partner_user, uniq, verified_user
from support.agreements import AGREEMENTS, ORDERS, add_admin_in_db, agreement
from support.checks import assert_problem, field_errors
from support.client import Client
from support.concurrency import clones, parallel
from support.db import db_count, db_query, db_write
from support.subscriptions import add, list_all, outbox_rows, overview, pool_rows, snapshot, sub_body, sub_count, subs

UUID_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")
DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
SUB_KEYS = {"id", "name", "sign_in_email", "notification_email", "level", "assigned", "expires", "reference",
            "downloads", "country", "language", "version"}
EN_SUBJECT = "developer subscription"
FR_SUBJECT = "abonnement développeur"

# The tests share one server: when it has died, each says so instead of failing on refused connections.
pytestmark = pytest.mark.usefixtures("server_alive")


# ---------------------------------------------------------------------------------------
# Helpers


def level_error(r):
    """The field error on `level` of a 422 answer."""
    field_errors(r)
    return next(e for e in r.body["errors"] if e["field"] == "level")


def utc_day(t):
    return datetime.datetime.fromtimestamp(t, datetime.timezone.utc).strftime("%Y-%m-%d")


def audits(server, action, target_id):
    return db_query(server, "SELECT agreement_id, actor_user_id FROM audit_events WHERE action = ? AND target_id = ?"
                            " ORDER BY id", (action, target_id))


def etag(r):
    return r.headers.get("ETag")


@pytest.fixture(scope="module")
def seller(server):
    return partner_user(server)


# ---------------------------------------------------------------------------------------
# 1. Add


def test_add_success_counts_and_mail(server, seller):
    ag = agreement(server, {"enterprise": 3, "professional": 2}, seller=seller)
    assert overview(ag.sa, ag.lic) == {"enterprise": (3, 0, 3), "professional": (2, 0, 2)}
    who, notify = addr("grace"), addr("notify", "mail.example")
    r = ag.sa.post(subs(ag.lic), {"name": "  Grace Hopper ", "sign_in_email": who.upper(), "notification_email": notify,
                                  "level": "enterprise", "country": "US", "language": "en",
                                  "reference": "Team Compilers"})
    assert r.status == 201, r
    s = r.body
    assert set(s) == SUB_KEYS, s
    assert UUID_RE.match(s["id"]), s["id"]
    assert etag(r) == '"1"', r.headers
    assert r.headers.get("Location") == subs(ag.lic, "/" + s["id"]), r.headers.get("Location")
    assert s["name"] == "Grace Hopper" and s["sign_in_email"] == who and s["notification_email"] == notify
    assert (s["level"], s["country"], s["language"], s["reference"]) == ("enterprise", "US", "en", "Team Compilers")
    assert s["downloads"] is True and s["version"] == 1, s
    assert s["assigned"] == datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d"), s
    assert DATE_RE.match(s["expires"]) and s["expires"] == ag.end_date, (s, ag.end_date)
    # The Location can be read back, with the same ETag.
    g = ag.sa.get(r.headers["Location"])
    assert g.status == 200 and g.body == s and etag(g) == '"1"', g
    assert overview(ag.sa, ag.lic) == {"enterprise": (3, 1, 2), "professional": (2, 0, 2)}
    assert pool_rows(server, ag) == {"enterprise": 1, "professional": 0}
    # The assignment mail goes to the notification address, not the sign-in one.
    m = server.wait_for_mail(notify, subject_contains=EN_SUBJECT)
    assert "Grace Hopper" in m.text and ag.customer_name in m.text, m.text
    assert outbox_rows(server, "subscription_assigned", who) == []
    server.mail.assert_no_mail(who, wait=0.3)
    assert len(audits(server, "subscription.added", s["id"])) == 1


def test_add_mail_to_sign_in_address_and_language(server, seller):
    ag = agreement(server, {"enterprise": 5}, seller=seller)
    fr, en, de = addr("fr"), addr("en"), addr("de")
    add(ag.sa, ag.lic, sign_in_email=fr, language="fr", name="Jeanne Dupont", send_email=None)
    m = server.wait_for_mail(fr, subject_contains=FR_SUBJECT)
    assert "Bonjour Jeanne Dupont" in m.text, m.text
    assert EN_SUBJECT not in m.subject.lower()
    add(ag.sa, ag.lic, sign_in_email=en, language="en", send_email=True)
    m = server.wait_for_mail(en, subject_contains=EN_SUBJECT)
    assert "Hello" in m.text
    # Languages without their own template fall back to English.
    add(ag.sa, ag.lic, sign_in_email=de, language="de", send_email=None)
    server.wait_for_mail(de, subject_contains=EN_SUBJECT)


def test_add_send_email_false_queues_nothing(server, seller):
    ag = agreement(server, {"enterprise": 2}, seller=seller)
    who, notify = addr("quiet"), addr("quietnote")
    before = db_count(server, "outbox")
    add(ag.sa, ag.lic, sign_in_email=who, notification_email=notify, send_email=False)
    assert db_count(server, "outbox") == before
    server.mail.assert_no_mail(who, wait=0.5)
    server.mail.assert_no_mail(notify)
    assert overview(ag.sa, ag.lic)["enterprise"] == (2, 1, 1)


def test_add_lists_every_field_error_and_changes_nothing(server, seller):
    ag = agreement(server, {"enterprise": 2, "professional": 2}, seller=seller)
    add(ag.sa, ag.lic)   # something to leave untouched
    before = snapshot(server, ag)
    r = ag.sa.post(subs(ag.lic), {"sign_in_email": "not-an-address", "notification_email": "also@bad@x",
                                  "level": "platforms", "country": "fra", "language": "xx", "reference": "r" * 257,
                                  "downloads": "yes", "send_email": True})
    fe = field_errors(r)
    assert fe.get("name") == "required", fe
    assert fe.get("sign_in_email") == "invalid_email", fe
    assert fe.get("notification_email") == "invalid_email", fe
    assert fe.get("country") in ("too_long", "invalid_value"), fe
    assert fe.get("language") == "invalid_value", fe
    assert fe.get("reference") == "too_long", fe
    assert fe.get("downloads") in ("wrong_type", "invalid_value"), fe
    assert fe.get("level") == "invalid_value", fe   # platforms is not on this agreement
    assert snapshot(server, ag) == before
    # A second set: too long a name, a lower-case country, an unknown level code.
    r = ag.sa.post(subs(ag.lic), sub_body(name="n" * 101, country="fr", level="no_such_level"))
    fe = field_errors(r)
    assert fe == {"name": "too_long", "country": "invalid_value", "level": "invalid_value"}, fe
    # Only errors whose message carries values, or that name their list, have params.
    assert [e["field"] for e in r.body["errors"] if "params" in e] == ["country", "level"], r.body
    # Each required field alone.
    for f in ("name", "sign_in_email", "level", "country", "language"):
        fe = field_errors(ag.sa.post(subs(ag.lic), sub_body(**{f: None})))
        assert fe == {f: "required"}, (f, fe)
    # 100 characters and 256 characters are still fine (limits are inclusive).
    assert snapshot(server, ag) == before
    add(ag.sa, ag.lic, name="é" * 100, reference="x" * 256)


# ---------------------------------------------------------------------------------------
# 2. Pool limit


def test_pool_full_is_no_seats_left(server, seller):
    ag = agreement(server, {"enterprise": 2, "professional": 1}, seller=seller)
    add(ag.sa, ag.lic)
    add(ag.sa, ag.lic)
    before = snapshot(server, ag)
    r = add(ag.sa, ag.lic, expect=None)
    assert field_errors(r) == {"level": "no_seats_left"}, r.body
    err = level_error(r)
    assert "2" in err["message"], f"the message should say how many are purchased: {err['message']!r}"
    # The numbers again, as JSON numbers, for a UI that words them itself.
    assert err.get("params") == {"purchased": 2, "left": 0}, err
    assert all(type(v) is int for v in err["params"].values()), err
    assert snapshot(server, ag) == before
    assert overview(ag.sa, ag.lic) == {"enterprise": (2, 2, 0), "professional": (1, 0, 1)}
    add(ag.sa, ag.lic, level="professional")


def test_parallel_adds_never_overfill_a_pool(server, seller):
    ag = agreement(server, {"enterprise": 8}, seller=seller)
    for _ in range(3):
        add(ag.sa, ag.lic)

    cs = clones(ag.sa, 20)
    results = parallel(20, lambda i: cs[i].post(subs(ag.lic), sub_body(sign_in_email=addr(f"race{i}"))))
    statuses = sorted(r.status for r in results)
    assert statuses.count(201) == 5, statuses
    for r in results:
        if r.status != 201:
            assert field_errors(r) == {"level": "no_seats_left"}, r
    ids = {r.body["id"] for r in results if r.status == 201}
    assert len(ids) == 5
    purchased, assigned = db_query(server, "SELECT purchased, assigned FROM pools WHERE agreement_id = ?",
                                   (ag.id,))[0]
    assert (purchased, assigned) == (8, 8)
    assert sub_count(server, ag) == 8
    over = db_query(server, "SELECT COUNT(*) FROM usage_changes WHERE agreement_id = ? AND assigned_after > purchased",
                    (ag.id,))[0][0]
    assert over == 0
    assert overview(ag.sa, ag.lic) == {"enterprise": (8, 8, 0)}


# ---------------------------------------------------------------------------------------
# 3. Duplicates


def test_duplicate_address_on_the_same_level(server, seller):
    ag = agreement(server, {"enterprise": 5, "professional": 5}, seller=seller)
    who = addr("dup")
    add(ag.sa, ag.lic, sign_in_email=who)
    before = snapshot(server, ag)
    local, domain = who.split("@")
    for variant in (who, local.upper() + "@" + domain.upper(), " " + who + " "):
        r = add(ag.sa, ag.lic, expect=None, sign_in_email=variant, name="Someone Else")
        assert field_errors(r) == {"sign_in_email": "duplicate"}, (variant, r.body)
        assert snapshot(server, ag) == before, f"a refused duplicate ({variant!r}) changed something"
    assert overview(ag.sa, ag.lic)["enterprise"] == (5, 1, 4)
    r = add(ag.sa, ag.lic, sign_in_email=who.upper(), level="professional")
    assert r.body["sign_in_email"] == who
    assert overview(ag.sa, ag.lic) == {"enterprise": (5, 1, 4), "professional": (5, 1, 4)}


def test_duplicate_on_a_full_pool_is_still_a_duplicate(server, seller):
    """The address already holds the level: that is the error to report, even when the
    pool happens to be full."""
    ag = agreement(server, {"enterprise": 1}, seller=seller)
    who = addr("full")
    add(ag.sa, ag.lic, sign_in_email=who)
    before = snapshot(server, ag)
    fe = field_errors(add(ag.sa, ag.lic, expect=None, sign_in_email=who))
    assert fe.get("sign_in_email") == "duplicate", fe
    assert snapshot(server, ag) == before


# ---------------------------------------------------------------------------------------
# 4. The 90-day reassignment rule


def test_reassignment_waits_ninety_days(server, seller):
    ag = agreement(server, {"enterprise": 2}, seller=seller)
    first, second, other = addr("first"), addr("second"), addr("other")
    a = add(ag.sa, ag.lic, sign_in_email=first).body
    add(ag.sa, ag.lic, sign_in_email=second)
    assigned_at = db_query(server, "SELECT assigned_at FROM subscriptions WHERE uuid = ?", (a["id"],))[0][0]
    assert ag.sa.delete(subs(ag.lic, "/" + a["id"])).status == 204
    assert overview(ag.sa, ag.lic)["enterprise"] == (2, 1, 1)
    # Only the freed seat is left: a different person must wait.
    before = snapshot(server, ag)
    r = add(ag.sa, ag.lic, expect=None, sign_in_email=other)
    assert field_errors(r) == {"level": "reassignment_too_soon"}, r.body
    err = level_error(r)
    day = utc_day(assigned_at + 90 * 86400)
    assert day in err["message"], f"want the date {day} in {err['message']!r}"
    assert err.get("params") == {"available_from": day, "days": 90}, err
    assert type(err["params"]["days"]) is int, err
    assert snapshot(server, ag) == before
    assert overview(ag.sa, ag.lic)["enterprise"] == (2, 1, 1)
    # The same person may have the seat back at once (any capitals).
    b = add(ag.sa, ag.lic, sign_in_email=first.upper()).body
    assert overview(ag.sa, ag.lic)["enterprise"] == (2, 2, 0)
    assert ag.sa.delete(subs(ag.lic, "/" + b["id"])).status == 204
    r = add(ag.sa, ag.lic, expect=None, sign_in_email=other)
    assert field_errors(r) == {"level": "reassignment_too_soon"}, r.body
    # Once the seat's last assignment is more than 90 days old, anyone may have it.
    n = db_write(server, "UPDATE seat_releases SET assigned_at = assigned_at - 91*86400"
                         " WHERE agreement_id = ? AND reused_at IS NULL", (ag.id,))
    assert n == 1, "exactly one released seat should be free"
    add(ag.sa, ag.lic, sign_in_email=other)
    assert overview(ag.sa, ag.lic)["enterprise"] == (2, 2, 0)
    assert db_count(server, "seat_releases", "agreement_id = ? AND reused_at IS NULL", (ag.id,)) == 0


def test_reassignment_days_follow_the_agreements_program(server, seller):
    """The waiting time is the agreement's program's: a shorter one moves the date, a program
    without a row waits the default 90 days, and 0 turns the rule off. The program is one of
    this test's own, so no other agreement sees its rule."""
    ag = agreement(server, {"enterprise": 1}, seller=seller)
    program = "Program " + uniq("prog")
    assert db_write(server, "INSERT INTO programs (name, reassign_days, updated_at) VALUES (?, 10, 0)",
                    (program,)) == 1
    assert db_write(server, "UPDATE agreements SET program = ? WHERE id = ?", (program, ag.id)) == 1

    def free_seat_aged(days):
        """Makes the one freed seat's last assignment `days` days old; returns that time."""
        n = db_write(server, "UPDATE seat_releases SET assigned_at = ?"
                             " WHERE agreement_id = ? AND reused_at IS NULL", (int(time.time()) - days * 86400, ag.id))
        assert n == 1, "exactly one released seat should be free"
        return db_query(server, "SELECT assigned_at FROM seat_releases WHERE agreement_id = ? AND reused_at IS NULL",
                        (ag.id,))[0][0]

    a = add(ag.sa, ag.lic, sign_in_email=addr("first")).body
    assert ag.sa.delete(subs(ag.lic, "/" + a["id"])).status == 204
    # 5 days old, 10 days wanted: refused, with the program's numbers.
    at = free_seat_aged(5)
    before = snapshot(server, ag)
    r = add(ag.sa, ag.lic, expect=None, sign_in_email=addr("second"))
    err = level_error(r)
    assert err["code"] == "reassignment_too_soon", r.body
    assert err.get("params") == {"available_from": utc_day(at + 10 * 86400), "days": 10}, err
    assert "10 days" in err["message"], err
    assert snapshot(server, ag) == before
    # 11 days old: past this program's window, though well inside the default 90 days.
    free_seat_aged(11)
    b = add(ag.sa, ag.lic, sign_in_email=addr("second")).body
    assert overview(ag.sa, ag.lic)["enterprise"] == (1, 1, 0)
    assert ag.sa.delete(subs(ag.lic, "/" + b["id"])).status == 204
    # A program with no row in programs gets the default rule.
    assert db_write(server, "UPDATE agreements SET program = ? WHERE id = ?", (program + " (unlisted)", ag.id)) == 1
    at = free_seat_aged(11)
    err = level_error(add(ag.sa, ag.lic, expect=None, sign_in_email=addr("third")))
    assert err.get("params") == {"available_from": utc_day(at + 90 * 86400), "days": 90}, err
    # 0 days: the rule is off, a seat freed this very moment goes to anyone.
    assert db_write(server, "UPDATE agreements SET program = ? WHERE id = ?", (program, ag.id)) == 1
    assert db_write(server, "UPDATE programs SET reassign_days = 0 WHERE name = ?", (program,)) == 1
    free_seat_aged(0)
    add(ag.sa, ag.lic, sign_in_email=addr("third"))
    assert overview(ag.sa, ag.lic)["enterprise"] == (1, 1, 0)
    assert db_count(server, "seat_releases", "agreement_id = ? AND reused_at IS NULL", (ag.id,)) == 0


def test_program_set_command(server):
    """`openseat program set` creates or updates a program's days, and names the option it
    refuses without changing anything."""
    program = "Program " + uniq("cli")
    p = server.cli("program", "set", "--name", program, "--reassign-days", "30")
    assert program in p.stdout and "30" in p.stdout, p.stdout
    assert db_query(server, "SELECT reassign_days FROM programs WHERE name = ?", (program,)) == [(30,)]
    p = server.cli("program", "set", "--name", program, "--reassign-days", "0")
    assert db_query(server, "SELECT reassign_days FROM programs WHERE name = ?", (program,)) == [(0,)]
    assert db_count(server, "audit_events", "action = 'program.updated' AND target_id = ?", (program,)) == 2
    for args, option in ((["--name", program, "--reassign-days", "3651"], "--reassign-days"),
                         (["--name", program, "--reassign-days", "-1"], "--reassign-days"),
                         (["--name", program, "--reassign-days", "7d"], "--reassign-days"),
                         (["--name", "   ", "--reassign-days", "7"], "--name"),
                         (["--name", "x" * 101, "--reassign-days", "7"], "--name")):
        p = server.cli("program", "set", *args, check=False)
        assert p.returncode == 2 and option in p.stderr, (args, p.returncode, p.stderr)
    assert db_query(server, "SELECT reassign_days FROM programs WHERE name = ?", (program,)) == [(0,)]
    assert db_count(server, "programs", "name = ?", ("x" * 101,)) == 0


def test_never_assigned_seats_go_to_anyone(server, seller):
    ag = agreement(server, {"enterprise": 3}, seller=seller)
    a = add(ag.sa, ag.lic).body
    assert ag.sa.delete(subs(ag.lic, "/" + a["id"])).status == 204
    # Two never-assigned seats remain besides the freed one: a different person is fine,
    # twice; the third different person only finds the freed seat.
    add(ag.sa, ag.lic)
    add(ag.sa, ag.lic)
    r = add(ag.sa, ag.lic, expect=None)
    assert field_errors(r) == {"level": "reassignment_too_soon"}, r.body


def test_readding_the_same_person_keeps_never_assigned_seats_free(server, seller):
    """A is removed and added back while never-assigned seats are free: only one seat has
    ever been assigned (and A holds it again), so the last seat has never been assigned
    and a different person may have it."""
    ag = agreement(server, {"enterprise": 2}, seller=seller)
    a_addr = addr("again")
    a = add(ag.sa, ag.lic, sign_in_email=a_addr).body
    assert ag.sa.delete(subs(ag.lic, "/" + a["id"])).status == 204
    add(ag.sa, ag.lic, sign_in_email=a_addr)
    assert overview(ag.sa, ag.lic)["enterprise"] == (2, 1, 1)
    r = add(ag.sa, ag.lic, expect=None, sign_in_email=addr("newcomer"))
    assert r.status == 201, f"a never-assigned seat is free, want 201: {r}"


# ---------------------------------------------------------------------------------------
# 5. Edit


def test_edit_with_if_match(server, seller):
    ag = agreement(server, {"enterprise": 3, "professional": 3}, seller=seller)
    old = addr("old")
    s = add(ag.sa, ag.lic, sign_in_email=old, notification_email=addr("note"), reference="R1").body
    path = subs(ag.lic, "/" + s["id"])
    r = ag.sa.patch(path, {"name": "Grace B. Hopper", "downloads": False}, headers={"If-Match": '"1"'})
    assert r.status == 200, r
    assert etag(r) == '"2"' and r.body["version"] == 2, (r.headers, r.body)
    assert r.body["name"] == "Grace B. Hopper" and r.body["downloads"] is False
    assert r.body["reference"] == "R1" and r.body["sign_in_email"] == old, "untouched fields changed"
    assert len(audits(server, "subscription.updated", s["id"])) == 1
    # A stale version: 412 carrying the current ETag; nothing changes.
    before = snapshot(server, ag)
    r = ag.sa.patch(path, {"name": "Lost Update"}, headers={"If-Match": '"1"'})
    assert_problem(r, 412, "precondition_failed")
    assert etag(r) == '"2"', r.headers
    # No If-Match at all: 428.
    r = ag.sa.patch(path, {"name": "Blind Update"})
    assert_problem(r, 428, "precondition_required")
    # The level cannot change.
    r = ag.sa.patch(path, {"level": "professional"}, headers={"If-Match": '"2"'})
    assert field_errors(r) == {"level": "invalid_value"}, r.body
    # Invalid fields are refused too.
    r = ag.sa.patch(path, {"sign_in_email": "nope", "country": "fr", "name": "x" * 101}, headers={"If-Match": '"2"'})
    assert set(field_errors(r)) == {"sign_in_email", "country", "name"}, r.body
    assert snapshot(server, ag) == before
    g = ag.sa.get(path)
    assert g.body["name"] == "Grace B. Hopper" and etag(g) == '"2"'
    # notification_email "" clears it.
    r = ag.sa.patch(path, {"notification_email": ""}, headers={"If-Match": '"2"'})
    assert r.status == 200 and r.body["notification_email"] is None and etag(r) == '"3"', r
    assert db_query(server, "SELECT notification_email FROM subscriptions WHERE uuid = ?", (s["id"],)) == [(None,)]
    # A new notification address replaces the old one; the sign-in address in other
    # capitals is no change (no mail).
    note2 = addr("note2")
    r = ag.sa.patch(path, {"notification_email": note2.upper(), "sign_in_email": old.upper()},
                    headers={"If-Match": '"3"'})
    assert r.status == 200 and r.body["notification_email"] == note2 and r.body["sign_in_email"] == old, r
    assert outbox_rows(server, "sign_in_changed", old) == []
    # The same level is accepted (nothing to change).
    r = ag.sa.patch(path, {"level": "enterprise", "country": "DE"}, headers={"If-Match": '"4"'})
    assert r.status == 200 and r.body["country"] == "DE" and r.body["level"] == "enterprise", r


def test_edit_sign_in_address_tells_both(server, seller):
    ag = agreement(server, {"enterprise": 3}, seller=seller)
    old, new = addr("before"), addr("after")
    s = add(ag.sa, ag.lic, sign_in_email=old, name="Ada Byron", language="fr").body
    r = ag.sa.patch(subs(ag.lic, "/" + s["id"]), {"sign_in_email": new.upper()}, headers={"If-Match": '"1"'})
    assert r.status == 200 and r.body["sign_in_email"] == new, r
    for to in (old, new):
        m = server.wait_for_mail(to, subject_contains="adresse de connexion")
        assert old in m.text and new in m.text, m.text
    rows = audits(server, "subscription.updated", s["id"])
    assert rows and rows[0][0] == ag.id
    # The old address no longer holds the level: it can be added again.
    add(ag.sa, ag.lic, sign_in_email=old)
    # Moving onto an address that already holds the level is a duplicate.
    other = add(ag.sa, ag.lic).body
    r = ag.sa.patch(subs(ag.lic, "/" + other["id"]), {"sign_in_email": new}, headers={"If-Match": '"1"'})
    assert field_errors(r) == {"sign_in_email": "duplicate"}, r.body


# ---------------------------------------------------------------------------------------
# 6. List


@pytest.fixture(scope="module")
def listed(server, seller):
    ag = agreement(server, {"enterprise": 10, "professional": 10}, seller=seller)
    rows = [
        ("Zoe Zimmer", "zoe", "enterprise", "FR", True, "ACME labs"),
        ("alice Martin", "alice", "enterprise", "DE", False, ""),
        ("Bob Stone", "bob", "professional", "FR", True, "team acme"),
        ("Bob Stone", "bob2", "enterprise", "US", True, "other"),
        ("Chloé Petit", "chloe", "professional", "FR", False, ""),
        ("Dan Acmeson", "dan", "enterprise", "BE", True, ""),
        ("Eve Adams", "eve", "professional", "US", True, "x"),
    ]
    ag.items = []
    for name, local, level, country, dl, ref in rows:
        r = add(ag.sa, ag.lic, name=name, sign_in_email=addr(local), level=level, country=country, downloads=dl,
                reference=ref)
        ag.items.append(r.body)
    # One whose address (only) contains the search word.
    ag.items.append(add(ag.sa, ag.lic, name="Frank Ocean", sign_in_email=addr("frank", "acme.example")).body)
    # Spread the assignment times (some equal) so sort=assigned has ties and differences.
    for i, s in enumerate(ag.items):
        db_write(server, "UPDATE subscriptions SET assigned_at = assigned_at - ? WHERE uuid = ?",
                 ((i % 3) * 86400, s["id"]))
    return ag


def test_list_total_and_items(server, listed):
    r = listed.sa.get(subs(listed.lic))
    assert r.status == 200, r
    assert r.body["total"] == len(listed.items) and r.body["next_cursor"] is None, r.body
    assert {s["id"] for s in r.body["items"]} == {s["id"] for s in listed.items}
    for s in r.body["items"]:
        assert set(s) == SUB_KEYS, s
    # Default sort: name ascending.
    names = [s["name"] for s in r.body["items"]]
    assert names == sorted(names), names


@pytest.mark.parametrize("sort,order,key", [
    ("name", "asc", lambda s: s["name"]),
    ("name", "desc", lambda s: s["name"]),
    ("assigned", "asc", lambda s: s["assigned"]),
    ("assigned", "desc", lambda s: s["assigned"]),
    ("downloads", "asc", lambda s: s["downloads"]),
    ("downloads", "desc", lambda s: s["downloads"]),
    ("sign_in_email", "asc", lambda s: s["sign_in_email"]),
    ("country", "desc", lambda s: s["country"]),
    ("reference", "asc", lambda s: s["reference"]),
    ("language", "asc", lambda s: s["language"]),
    ("expires", "desc", lambda s: s["expires"]),
    ("level", "asc", lambda s: ["enterprise", "professional"].index(s["level"])),
])
def test_list_keyset_walks_every_row_once(server, listed, sort, order, key):
    items, total = list_all(listed.sa, listed.lic, limit=2, sort=sort, order=order)
    ids = [s["id"] for s in items]
    assert len(ids) == len(set(ids)), f"a row came twice: {ids}"
    assert set(ids) == {s["id"] for s in listed.items}, "a row was skipped"
    assert total == len(listed.items)
    keys = [key(s) for s in items]
    assert keys == sorted(keys, reverse=(order == "desc")), keys
    # Same order as one big page.
    r = listed.sa.get(subs(listed.lic) + f"?sort={sort}&order={order}&limit=500")
    assert [s["id"] for s in r.body["items"]] == ids


def ids_of(client, lic, **params):
    r = client.get(subs(lic) + "?" + urllib.parse.urlencode(params))
    assert r.status == 200, r
    assert r.body["total"] == len(r.body["items"]), r.body
    return {s["id"] for s in r.body["items"]}


def test_list_filters(server, listed):
    ag, it = listed, {s["sign_in_email"].split(".")[0]: s["id"] for s in listed.items}
    # "acme": in a reference (any capitals), in a name, in an address.
    want = {it["zoe"], it["bob"], it["dan"], it["frank"]}
    assert ids_of(ag.sa, ag.lic, q="acme") == want
    assert ids_of(ag.sa, ag.lic, q="ACME") == want
    assert ids_of(ag.sa, ag.lic, q="ALICE") == {it["alice"]}
    assert ids_of(ag.sa, ag.lic, q="bob") == {it["bob"], it["bob2"]}
    assert ids_of(ag.sa, ag.lic, q="no-such-text") == set()
    assert ids_of(ag.sa, ag.lic, level="professional") == {it["bob"], it["chloe"], it["eve"]}
    assert ids_of(ag.sa, ag.lic, country="US") == {it["bob2"], it["eve"]}
    assert ids_of(ag.sa, ag.lic, downloads="false") == {it["alice"], it["chloe"]}
    assert len(ids_of(ag.sa, ag.lic, downloads="true")) == len(ag.items) - 2
    assert ids_of(ag.sa, ag.lic, q="bob", level="enterprise") == {it["bob2"]}
    # Filters and pages together.
    items, total = list_all(ag.sa, ag.lic, limit=1, level="enterprise", sort="name", order="desc")
    assert total == 5 and len({s["id"] for s in items}) == 5
    assert all(s["level"] == "enterprise" for s in items)


def test_list_filter_words(server, listed):
    """Each word must start a word of the name, address or reference; case and accents
    do not matter; a word inside another word does not count."""
    ag, it = listed, {s["sign_in_email"].split(".")[0]: s["id"] for s in listed.items}
    acme = {it["zoe"], it["bob"], it["dan"], it["frank"]}
    assert ids_of(ag.sa, ag.lic, q="acm") == acme
    assert ids_of(ag.sa, ag.lic, q="cme") == set()
    assert ids_of(ag.sa, ag.lic, q="chloe") == {it["chloe"]}
    assert ids_of(ag.sa, ag.lic, q="CHLOÉ") == {it["chloe"]}
    assert ids_of(ag.sa, ag.lic, q="Petit chlo") == {it["chloe"]}
    assert ids_of(ag.sa, ag.lic, q="bob st") == {it["bob"], it["bob2"]}
    assert ids_of(ag.sa, ag.lic, q="bob   team") == {it["bob"]}
    assert ids_of(ag.sa, ag.lic, q="bob zz") == set()
    # A whole address: its parts are words.
    frank = next(s for s in ag.items if s["id"] == it["frank"])
    assert ids_of(ag.sa, ag.lic, q=frank["sign_in_email"]) == {it["frank"]}
    # Punctuation only: no word, no filter.
    assert ids_of(ag.sa, ag.lic, q="--- !") == {s["id"] for s in ag.items}
    # Sorted and paged by another column, the filter still holds.
    items, total = list_all(ag.sa, ag.lic, limit=1, q="acme", sort="country", order="desc")
    assert total == 4 and {s["id"] for s in items} == acme
    assert [s["country"] for s in items] == sorted((s["country"] for s in items), reverse=True)


def test_list_filter_follows_edits_and_removals(server, seller):
    ag = agreement(server, {"enterprise": 3}, seller=seller)
    s = add(ag.sa, ag.lic, name="Renée Marchand", sign_in_email=addr("rm")).body
    assert ids_of(ag.sa, ag.lic, q="marchand") == {s["id"]}
    r = ag.sa.patch(subs(ag.lic, "/" + s["id"]), {"name": "Renée Dufour"}, headers={"If-Match": f'"{s["version"]}"'})
    assert r.status == 200, r
    assert ids_of(ag.sa, ag.lic, q="marchand") == set()
    assert ids_of(ag.sa, ag.lic, q="dufour renee") == {s["id"]}
    row_id = db_query(server, "SELECT id FROM subscriptions WHERE uuid = ?", (s["id"],))[0][0]
    terms = db_query(server, "SELECT term FROM sub_terms WHERE sub_id = ? ORDER BY term", (row_id,))
    assert [t[0] for t in terms] == sorted({"renee", "dufour"} | set(re.split(r"[^a-z0-9]+", s["sign_in_email"]))), terms
    def kept(term):
        rows = db_query(server, "SELECT n FROM sub_term_counts WHERE agreement_id = ? AND term = ?", (ag.id, term))
        return rows[0][0] if rows else 0
    assert (kept("marchand"), kept("dufour"), kept("renee")) == (0, 1, 1)
    assert ag.sa.delete(subs(ag.lic, "/" + s["id"])).status == 204
    assert ids_of(ag.sa, ag.lic, q="dufour") == set()
    assert db_query(server, "SELECT COUNT(*) FROM sub_terms WHERE sub_id = ?", (row_id,))[0][0] == 0
    assert (kept("dufour"), kept("renee")) == (0, 0)


def test_list_filter_other_agreements_never_match(server, seller):
    a = agreement(server, {"enterprise": 2}, seller=seller)
    b = agreement(server, {"enterprise": 2}, seller=seller)
    add(a.sa, a.lic, name="Quimby Unique", sign_in_email=addr("qu"))
    r = b.sa.get(subs(b.lic) + "?q=quimby")
    assert r.status == 200 and r.body["items"] == [] and r.body["total"] == 0, r.body


def test_list_too_many_words(server, listed):
    fe = field_errors(listed.sa.get(subs(listed.lic) + "?" + urllib.parse.urlencode({"q": "a b c d e f g h i"})))
    assert fe.get("q") == "too_long", fe
    r = listed.sa.get(subs(listed.lic) + "?" + urllib.parse.urlencode({"q": "a b c d e f g h"}))
    assert r.status == 200, r


def test_list_total_stops_counting_past_a_thousand(server, seller):
    """Filtered totals are exact up to 1000, then "more than 1000"; the unfiltered total
    (and the level filter alone) stays exact, from the pools, and so does a single word
    that starts a single term, from the terms' counts."""
    ag = agreement(server, {"enterprise": 2000}, seller=seller)
    add(ag.sa, ag.lic, name="Only One", sign_in_email=addr("one"), country="FR")
    # 1100 rows written straight into the database, with the search terms the server
    # would store for them (one word each), and the pool's count to match.
    db_write(server,
             "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 1100)"
             " INSERT INTO subscriptions (uuid, agreement_id, level_id, name, sign_in_email, country, language,"
             " downloads, reference, assigned_at, expires_on, updated_at, search)"
             " SELECT '00000000-0000-4000-8000-' || substr(CAST(1000000000000 + ? * 10000 + i AS TEXT), 2), ?, l.id, 'Bulk', 'bulk' || i"
             " || '@contoso.example', 'JP', 'en', 1, '', 0, '2030-01-01', 0, ' bulkterm'"
             " FROM n, levels l WHERE l.code = 'enterprise'", (ag.id, ag.id))
    db_write(server, "INSERT INTO sub_terms (agreement_id, term, name, sub_id)"
                     " SELECT agreement_id, 'bulkterm', name, id FROM subscriptions WHERE agreement_id = ?"
                     " AND search = ' bulkterm'", (ag.id,))
    db_write(server, "INSERT INTO sub_term_counts (agreement_id, term, n) VALUES (?, 'bulkterm', 1100)", (ag.id,))
    db_write(server, "UPDATE pools SET assigned = assigned + 1100 WHERE agreement_id = ?", (ag.id,))
    def total(**params):
        r = ag.sa.get(subs(ag.lic) + "?" + urllib.parse.urlencode(params))
        assert r.status == 200, r
        return r.body["total"], r.body["total_exact"], len(r.body["items"])
    assert total() == (1101, True, 50)
    assert total(level="enterprise") == (1101, True, 50)
    assert total(country="JP") == (1000, False, 50)
    assert total(country="FR") == (1, True, 1)
    # One word starting one term: the kept count, exact.
    assert total(q="bulkterm") == (1100, True, 50)
    assert total(q="bulk") == (1100, True, 50)
    # Anything more: counted, up to 1000.
    assert total(q="bulkterm", country="JP") == (1000, False, 50)
    assert total(q="bulkterm", level="enterprise") == (1000, False, 50)
    assert total(q="bulkterm bulk") == (1000, False, 50)
    assert total(q="bulkterm", country="FR") == (0, True, 0)
    assert total(q="only") == (1, True, 1)
    # Every row still reachable page by page.
    items, _ = list_all(ag.sa, ag.lic, limit=500, q="bulkterm")
    assert len({s["id"] for s in items}) == 1100


@pytest.mark.parametrize("query,field", [
    ("sort=bogus", "sort"), ("sort=NAME", "sort"), ("order=up", "order"), ("limit=0", "limit"),
    ("limit=501", "limit"), ("limit=abc", "limit"), ("limit=", "limit"), ("cursor=%21%21%21", "cursor"),
    ("cursor=bm90LWEtY3Vyc29y", "cursor"), ("downloads=maybe", "downloads"),
    # A well-formed cursor whose key is not a number, on a number column ("abc", id 5).
    ("sort=downloads&cursor=YWJjHzU", "cursor"), ("sort=assigned&order=desc&cursor=YWJjHzU", "cursor"),
])
def test_list_bad_parameters(server, listed, query, field):
    fe = field_errors(listed.sa.get(subs(listed.lic) + "?" + query))
    assert field in fe, fe


def test_list_limit_bounds_accepted(server, listed):
    for lim in (1, 500):
        r = listed.sa.get(subs(listed.lic) + f"?limit={lim}")
        assert r.status == 200 and len(r.body["items"]) == min(lim, len(listed.items)), r


# ---------------------------------------------------------------------------------------
# 7. Remove many, delete one, resend


def test_remove_many_delete_one_and_resend(server, seller):
    ag = agreement(server, {"enterprise": 5}, seller=seller)
    s = [add(ag.sa, ag.lic, sign_in_email=addr(f"rm{i}")).body for i in range(4)]
    assert overview(ag.sa, ag.lic)["enterprise"] == (5, 4, 1)
    # One unknown id: 404 naming it, nothing removed.
    unknown = str(uuid.uuid4())
    before = snapshot(server, ag)
    r = ag.sa.post(subs(ag.lic, "/remove"), {"ids": [s[0]["id"], unknown]})
    b = assert_problem(r, 404, "not_found")
    assert unknown in b.get("detail", ""), b
    assert snapshot(server, ag) == before
    assert field_errors(ag.sa.post(subs(ag.lic, "/remove"), {"ids": []})).get("ids") == "invalid_value"
    assert "ids" in field_errors(ag.sa.post(subs(ag.lic, "/remove"), {}))
    assert snapshot(server, ag) == before
    r = ag.sa.post(subs(ag.lic, "/remove"), {"ids": [s[0]["id"], s[1]["id"]]})
    assert r.status == 200 and r.body == {"count": 2}, r
    assert overview(ag.sa, ag.lic)["enterprise"] == (5, 2, 3)
    assert sub_count(server, ag) == 2
    for x in s[:2]:
        assert_problem(ag.sa.get(subs(ag.lic, "/" + x["id"])), 404, "not_found")
        rows = audits(server, "subscription.removed", x["id"])
        assert len(rows) == 1 and rows[0][0] == ag.id, rows
    # DELETE one.
    r = ag.sa.delete(subs(ag.lic, "/" + s[2]["id"]))
    assert r.status == 204, r
    assert overview(ag.sa, ag.lic)["enterprise"] == (5, 1, 4)
    assert_problem(ag.sa.delete(subs(ag.lic, "/" + s[2]["id"])), 404, "not_found")
    assert_problem(ag.sa.delete(subs(ag.lic, "/" + unknown)), 404, "not_found")
    # Resend: the assignment mail again, queued for each id.
    r = ag.sa.post(subs(ag.lic, "/resend"), {"ids": [s[3]["id"]]})
    assert r.status == 200 and r.body == {"count": 1}, r
    assert len(outbox_rows(server, "subscription_assigned", s[3]["sign_in_email"])) == 1
    server.wait_for_mail(s[3]["sign_in_email"], subject_contains=EN_SUBJECT)
    before = snapshot(server, ag)
    assert_problem(ag.sa.post(subs(ag.lic, "/resend"), {"ids": [s[3]["id"], s[0]["id"]]}), 404, "not_found")
    assert snapshot(server, ag) == before


def test_remove_with_the_same_id_twice(server, seller):
    """A list that names one subscription twice removes it once (the seat is not given
    back twice)."""
    ag = agreement(server, {"enterprise": 3}, seller=seller)
    a = add(ag.sa, ag.lic).body
    add(ag.sa, ag.lic)
    r = ag.sa.post(subs(ag.lic, "/remove"), {"ids": [a["id"], a["id"]]})
    assert r.status in (200, 404, 422), r
    if r.status == 200:
        assert r.body["count"] in (1, 2)
        assert sub_count(server, ag) == 1
    assert pool_rows(server, ag)["enterprise"] == sub_count(server, ag), "the pool count drifted"


# ---------------------------------------------------------------------------------------
# 8. Authorization


@pytest.fixture(scope="module")
def tenants(server):
    t = SimpleNamespace()
    t.A = agreement(server, {"enterprise": 20, "professional": 5})
    t.B = agreement(server, {"enterprise": 5})
    t.b_sub = add(t.B.sa, t.B.lic, sign_in_email=addr("bsub")).body
    return t


def route_calls(lic, sid, body_ids):
    """(method, path, body, headers) of every subscription route of `lic`."""
    return [
        ("GET", f"{AGREEMENTS}/{lic}/overview", None, None),
        ("GET", subs(lic), None, None),
        ("POST", subs(lic), sub_body(), None),
        ("GET", subs(lic, "/" + sid), None, None),
        ("PATCH", subs(lic, "/" + sid), {"name": "Changed"}, {"If-Match": '"1"'}),
        ("POST", subs(lic, "/resend"), {"ids": body_ids}, None),
        ("POST", subs(lic, "/remove"), {"ids": body_ids}, None),
        ("DELETE", subs(lic, "/" + sid), None, None),
    ]


def b_state(server, t):
    return (snapshot(server, t.B), db_query(server, "SELECT * FROM subscriptions WHERE uuid = ?", (t.b_sub["id"],)))


@pytest.mark.parametrize("role", ["super_admin", "admin", "partner"])
def test_every_role_can_use_every_route(server, tenants, role):
    ag = tenants.A
    who = {"super_admin": lambda: ag.sa, "admin": lambda: add_admin_in_db(server, ag),
           "partner": lambda: ag.seller}[role]()
    r = who.get(f"{AGREEMENTS}/{ag.lic}")
    assert r.status == 200 and r.body["role"] == role, r
    assert overview(who, ag.lic)["enterprise"][0] == 20
    s = add(who, ag.lic, sign_in_email=addr(role)).body
    other = add(who, ag.lic, sign_in_email=addr(role + "2")).body
    assert rows_one(audits(server, "subscription.added", s["id"]))[0] == ag.id
    assert audits(server, "subscription.added", s["id"])[0][1] == who.user["id"]
    assert s["id"] in {x["id"] for x in who.get(subs(ag.lic) + "?limit=500").body["items"]}
    assert who.get(subs(ag.lic, "/" + s["id"])).status == 200
    r = who.patch(subs(ag.lic, "/" + s["id"]), {"reference": "by " + role}, headers={"If-Match": '"1"'})
    assert r.status == 200 and r.body["reference"] == "by " + role, r
    assert rows_one(audits(server, "subscription.updated", s["id"]))[0] == ag.id
    r = who.post(subs(ag.lic, "/resend"), {"ids": [s["id"]]})
    assert r.status == 200 and r.body == {"count": 1}, r
    assert who.delete(subs(ag.lic, "/" + s["id"])).status == 204
    assert rows_one(audits(server, "subscription.removed", s["id"]))[0] == ag.id
    r = who.post(subs(ag.lic, "/remove"), {"ids": [other["id"]]})
    assert r.status == 200 and r.body == {"count": 1}, r
    assert rows_one(audits(server, "subscription.removed", other["id"]))[0] == ag.id


def rows_one(rows):
    assert len(rows) == 1, rows
    return rows[0]


def test_other_tenant_gets_not_found(server, tenants):
    t = tenants
    nobody = verified_user(server, addr("norole"))
    before = b_state(server, t)
    for who in (t.A.seller, t.A.sa, nobody):
        for method, path, body, headers in route_calls(t.B.lic, t.b_sub["id"], [t.b_sub["id"]]):
            r = who.request(method, path, body, headers=headers)
            assert_problem(r, 404, "not_found")
    assert b_state(server, t) == before


def test_other_tenants_ids_through_own_url(server, tenants):
    t = tenants
    before = b_state(server, t)
    for who in (t.A.seller, t.A.sa):
        for method, path, body, headers in route_calls(t.A.lic, t.b_sub["id"], [t.b_sub["id"]]):
            if path.endswith("/overview") or path == subs(t.A.lic):
                continue
            r = who.request(method, path, body, headers=headers)
            assert_problem(r, 404, "not_found")
        r = who.get(subs(t.A.lic) + "?q=bsub")
        assert r.status == 200 and r.body["total"] == 0, r
    assert b_state(server, t) == before


def test_removed_partner_gets_not_found(server):
    ag = agreement(server, {"enterprise": 3})
    s = add(ag.seller, ag.lic).body
    rels = ag.sa.get(f"{AGREEMENTS}/{ag.lic}/partners").body["relationships"]
    gid = [g["id"] for g in rels if g["organization"]["name"] == ag.seller.org][0]
    assert ag.sa.delete(f"{AGREEMENTS}/{ag.lic}/partners/{gid}").status == 204
    before = snapshot(server, ag)
    for method, path, body, headers in route_calls(ag.lic, s["id"], [s["id"]]):
        assert_problem(ag.seller.request(method, path, body, headers=headers), 404, "not_found")
    assert snapshot(server, ag) == before


def test_anonymous_and_csrf(server, tenants):
    t = tenants
    before = b_state(server, t)
    anon = Client(server)
    for method, path, body, headers in route_calls(t.B.lic, t.b_sub["id"], [t.b_sub["id"]]):
        assert_problem(anon.request(method, path, body, headers=headers), 401, "unauthenticated")
    for method, path, body, headers in route_calls(t.B.lic, t.b_sub["id"], [t.b_sub["id"]]):
        if method == "GET":
            continue
        assert_problem(t.B.sa.request(method, path, body, headers=headers, csrf=False), 403, "csrf")
        assert_problem(t.B.sa.request(method, path, body, headers=headers, csrf="wrong-token"), 403, "csrf")
        h = dict(headers or {}, Origin="https://evil.example")
        assert_problem(t.B.sa.request(method, path, body, headers=h), 403, "csrf")
    assert b_state(server, t) == before
    assert t.B.sa.get(subs(t.B.lic, "/" + t.b_sub["id"])).status == 200


def test_country_codes_are_checked_against_the_standard(server, seller):
    """Two capital letters are not enough: the code must be an assigned ISO 3166-1 one."""
    ag = agreement(server, {"enterprise": 3}, seller=seller)
    fe = field_errors(add(ag.sa, ag.lic, expect=422, sign_in_email=addr("zz"), country="ZZ"))
    assert fe.get("country") == "invalid_value", fe
    assert add(ag.sa, ag.lic, sign_in_email=addr("ax"), country="AX").status == 201   # Åland: assigned
    fe = field_errors(ag.sa.put(f"{AGREEMENTS}/{ag.lic}/preferences", {"default_country": "UK"}))
    assert fe.get("default_country") == "invalid_value", fe
    r = seller.post(ORDERS, {"customer_name": "Nowhere " + uniq("co"), "customer_email": addr("nw"),
                             "customer_country": "XK", "lines": [{"level": "enterprise", "quantity": 1}]})
    assert field_errors(r).get("customer_country") == "invalid_value", r
