"""Subscribers of an agreement: a valid new-subscription body, adding one, the overview of the
pools, walking the keyset-paged list, and what the database holds behind them (pools, the
outbox, pool alerts) for tests that check what a request wrote or left alone."""
import urllib.parse

from support.accounts import addr
from support.agreements import AGREEMENTS
from support.db import db_count, db_query

PREFS = AGREEMENTS + "/{}/preferences"


def subs(lic, tail=""):
    return f"{AGREEMENTS}/{lic}/subscriptions{tail}"


def sub_body(**kw):
    """A valid new-subscription body; keyword arguments override fields (None removes one)."""
    b = {"name": "Grace Hopper", "sign_in_email": addr("dev"), "level": "enterprise", "country": "FR",
         "language": "en", "send_email": False}
    for k, v in kw.items():
        if v is None:
            b.pop(k, None)
        else:
            b[k] = v
    return b


def add(client, lic, expect=201, **kw):
    """POST a new subscription (sub_body with `kw`); asserts the status unless expect is None."""
    r = client.post(subs(lic), sub_body(**kw))
    if expect is not None:
        assert r.status == expect, f"add subscription: want {expect}, got {r}"
    return r


def overview(client, lic):
    """{level: (purchased, assigned, available)}, each level's numbers adding up."""
    r = client.get(f"{AGREEMENTS}/{lic}/overview")
    assert r.status == 200, r
    out = {}
    for lv in r.body["levels"]:
        assert lv["available"] == lv["purchased"] - lv["assigned"], lv
        out[lv["level"]] = (lv["purchased"], lv["assigned"], lv["available"])
    return out


def list_all(client, lic, limit=2, **params):
    """Every item of the list, walking next_cursor with `limit` per page."""
    items, cursor, pages, total = [], None, 0, None
    while True:
        q = dict(params, limit=limit)
        if cursor:
            q["cursor"] = cursor
        r = client.get(subs(lic) + "?" + urllib.parse.urlencode(q))
        assert r.status == 200, f"list {q}: {r}"
        assert len(r.body["items"]) <= limit, r.body
        if total is None:
            total = r.body["total"]
        assert r.body["total"] == total, f"total changed between pages: {r.body['total']} != {total}"
        items += r.body["items"]
        pages += 1
        assert pages <= 100, "pagination does not end"
        cursor = r.body["next_cursor"]
        if cursor is None:
            return items, total
        assert r.body["items"], f"empty page with a next_cursor: {r.body}"


# --------------------------------------------------------------------------------------
# What the database holds


def sub_count(server, ag):
    """The agreement's subscriptions in the database."""
    return db_count(server, "subscriptions", "agreement_id = ?", (ag.id,))


def pool_rows(server, ag):
    return dict(db_query(server, "SELECT l.code, p.assigned FROM pools p JOIN levels l ON l.id = p.level_id"
                                 " WHERE p.agreement_id = ?", (ag.id,)))


def snapshot(server, ag):
    """What a refused request must leave alone."""
    return (db_count(server, "subscriptions"), db_count(server, "outbox"), db_count(server, "audit_events"),
            pool_rows(server, ag), db_count(server, "seat_releases"),
            db_query(server, "SELECT uuid, name, sign_in_email, notification_email, version FROM subscriptions"
                             " WHERE agreement_id = ? ORDER BY id", (ag.id,)))


def outbox_rows(server, template, recipient):
    """The languages of the queued mails of `template` to `recipient`, oldest first."""
    return db_query(server, "SELECT language FROM outbox WHERE template = ? AND recipient = ? ORDER BY id",
                    (template, recipient.lower()))


def alerts(server, ag):
    """How many pool alerts the agreement's customer has been sent."""
    return len(outbox_rows(server, "pool_alert", ag.customer_email))
