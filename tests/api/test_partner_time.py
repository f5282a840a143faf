"""Partner relationships over time, moved on by the lifecycle pass (`openseat lifecycle
--today`, the same pass the server's housekeeping runs): the end reminders 30 and 7 days
before (once each, to both sides, in each reader's language), the end itself (access
refused at once, then recorded and told), automatic renewal (by the period, or to the
agreement's end, never past it), and requests left unanswered until they lapse.

The tests set a relationship's end in the database around the day the pass is told it is
(noon UTC of today, as `--today` sets it), never far into the future: the server's own
housekeeping may run the pass at the real time in between, so what is checked is what must
hold either way (one reminder, one end, one renewal)."""
import calendar
import datetime
import json
import time

import pytest

from support.accounts import partner_user, template_subject, uniq
from support.agreements import REGISTRATIONS, agreement, import_agreement, reg_body, role_of, url
from support.db import BACKEND, db_query, db_write

DAY = 86400

# The tests share one server: when it has died, each says so instead of failing on refused connections.
pytestmark = pytest.mark.usefixtures("server_alive")


# ---------------------------------------------------------------------------------------
# Helpers


def today():
    return datetime.datetime.now(datetime.timezone.utc).date()


def noon(day=None):
    """The instant `lifecycle --today DAY` takes for now."""
    day = day or today()
    return calendar.timegm(day.timetuple()) + 12 * 3600


def past():
    """An instant already past for the server's clock and for `--today` today alike."""
    return min(int(time.time()), noon()) - 3600


def run(server, day=None):
    return server.cli("lifecycle", "--today", (day or today()).isoformat())


def relationship(server, ag):
    rows = db_query(server, "SELECT id FROM partner_relationships WHERE agreement_id = ? AND status = 'active'",
                    (ag.id,))
    assert len(rows) == 1, rows
    return rows[0][0]


def rel_row(server, rid):
    cols = ("status", "ends_at", "period_days", "auto_renew", "ended_at", "ended_by", "reminded_30_at",
            "reminded_7_at")
    row = db_query(server, f"SELECT {', '.join(cols)} FROM partner_relationships WHERE id = ?", (rid,))[0]
    return dict(zip(cols, row))


def set_rel(server, rid, **cols):
    sets = ", ".join(f"{k} = ?" for k in cols)
    assert db_write(server, f"UPDATE partner_relationships SET {sets} WHERE id = ?", (*cols.values(), rid)) == 1


def mails(server, template, who, lic):
    """(language, data) of the queued mails of that template to `who` about agreement lic."""
    rows = db_query(server, "SELECT language, data FROM outbox WHERE template = ? AND recipient = ? ORDER BY id",
                    (template, who.lower()))
    return [(lang, json.loads(data)) for lang, data in rows if json.loads(data).get("license_number") == lic]


def audits(server, ag, action):
    return db_query(server, "SELECT target_type, target_id, actor_user_id, details FROM audit_events"
                            " WHERE agreement_id = ? AND action = ? ORDER BY id", (ag.id, action))


def ordered(server, language=None, seller=None):
    """An agreement ordered by a partner (route "order": an active relationship, all its
    people), the customer signed up; the partner's reader language as given."""
    seller = seller or partner_user(server, language=language)
    return agreement(server, {"enterprise": 2}, seller=seller)


def last_day(ends_at):
    return datetime.datetime.fromtimestamp(ends_at - 1, datetime.timezone.utc).date().isoformat()


def can_read(client, lic):
    return client.get(url(lic, "/subscriptions")).status == 200


# ---------------------------------------------------------------------------------------
# Reminders


def test_reminders_30_and_7_days_before_the_end_once_each_to_both_sides(server):
    ag = ordered(server, language="fr")
    rid = relationship(server, ag)
    ends = noon() + 20 * DAY
    set_rel(server, rid, ends_at=ends)
    run(server)
    run(server)    # the same day again: nothing more
    for who, lang in ((ag.customer_email, "en"), (ag.seller.email, "fr")):
        got = mails(server, "partner_ending", who, ag.lic)
        assert len(got) == 1, (who, got)
        assert got[0][0] == lang, (who, got)
        assert got[0][1]["last_day"] == last_day(ends) and got[0][1]["partner_org"] == ag.seller.org, got
    r = rel_row(server, rid)
    assert r["reminded_30_at"] and r["reminded_7_at"] is None, r

    # Five days before the end: the last reminder, once.
    ends = noon() + 5 * DAY
    set_rel(server, rid, ends_at=ends)
    run(server)
    run(server)
    for who in (ag.customer_email, ag.seller.email):
        assert len(mails(server, "partner_ending", who, ag.lic)) == 2, who
    assert rel_row(server, rid)["reminded_7_at"]

    # Each side reads its own words, in its own language, with where to act.
    m = server.wait_for_mail(ag.seller.email, subject_contains="Accès partenaire")
    assert ag.lic in m.subject and "dernier jour" in m.subject, m.subject
    assert "votre organisation" in m.text and "n’est pas renouvelé automatiquement" in m.text, m.text
    assert any(l.endswith("/partner-organization") for l in m.links), m.links
    m = server.wait_for_mail(ag.customer_email, subject_contains="Partner access")
    assert ag.lic in m.subject and "last day" in m.subject, m.subject
    assert "your Open License agreement" in m.text and "does not renew automatically" in m.text, m.text
    assert ag.seller.org in m.text, m.text
    assert any(l.endswith(f"/agreements/{ag.lic}/partners") for l in m.links), m.links
    # The access itself is untouched by reminders.
    assert can_read(ag.seller, ag.lic)


def test_a_late_run_sends_only_the_last_reminder(server):
    ag = ordered(server)
    rid = relationship(server, ag)
    set_rel(server, rid, ends_at=noon() + 5 * DAY, auto_renew=1)
    run(server)
    run(server)
    for who in (ag.customer_email, ag.seller.email):
        got = mails(server, "partner_ending", who, ag.lic)
        assert len(got) == 1, (who, got)
    r = rel_row(server, rid)
    assert r["reminded_30_at"] and r["reminded_7_at"], r
    m = server.wait_for_mail(ag.customer_email, subject_contains="Partner access")
    assert "renews automatically" in m.text, m.text


def test_no_reminder_far_from_the_end(server):
    ag = ordered(server)
    rid = relationship(server, ag)
    set_rel(server, rid, ends_at=noon() + 31 * DAY)
    run(server)
    assert mails(server, "partner_ending", ag.customer_email, ag.lic) == []
    r = rel_row(server, rid)
    assert r["reminded_30_at"] is None and r["reminded_7_at"] is None, r


# ---------------------------------------------------------------------------------------
# The end


def test_access_stops_at_the_end_then_the_run_records_it(server):
    ag = ordered(server)
    rid = relationship(server, ag)
    assert can_read(ag.seller, ag.lic)
    # Another agreement of the same partner organization, whose relationship goes on.
    other = ordered(server, seller=ag.seller)
    other_rid = relationship(server, other)
    # An amendment waiting on the relationship goes with it.
    db_write(server, "INSERT INTO partner_requests (relationship_id, kind, capabilities, ends_at, created_at,"
                     " lapses_at) VALUES (?, 'amendment', 31, ?, ?, ?)",
             (rid, noon() + 90 * DAY, int(time.time()), int(time.time()) + 30 * DAY))
    ends = past()
    set_rel(server, rid, ends_at=ends)
    # Refused at once, before any run.
    r = ag.seller.get(url(ag.lic, "/subscriptions"))
    assert r.status == 404, r
    assert role_of(ag.seller, ag.lic) is None
    run(server)
    run(server)
    row = rel_row(server, rid)
    assert row["status"] == "ended" and row["ended_by"] is None and row["ended_at"], row
    assert row["ends_at"] == ends, row
    got = audits(server, ag, "partner.relationship_ended")
    assert len(got) == 1, got
    assert got[0][0] == "partner_relationship" and got[0][1] == str(rid) and got[0][2] is None, got
    assert json.loads(got[0][3])["last_day"] == last_day(ends), got
    assert db_query(server, "SELECT status FROM partner_requests WHERE relationship_id = ?", (rid,)) == [("lapsed",)]
    assert len(audits(server, ag, "partner.request_lapsed")) == 1
    for who in (ag.customer_email, ag.seller.email):
        assert len(mails(server, "partner_ended", who, ag.lic)) == 1, who
    m = server.wait_for_mail(ag.seller.email, subject_contains="has ended")
    assert ag.lic in m.subject and "Your organization's access" in m.text, m.text
    # The customer sees it in the activity log, by the system.
    ev = ag.sa.get(url(ag.lic, "/activity?action=partner.relationship_ended"))
    assert ev.status == 200 and [e["action"] for e in ev.body["events"]] == ["partner.relationship_ended"], ev
    assert ev.body["events"][0]["target_label"] == ag.seller.org, ev.body
    # Nothing else moved: the same organization's other relationship and access go on.
    assert rel_row(server, other_rid)["status"] == "active"
    assert can_read(ag.seller, other.lic)
    assert mails(server, "partner_ended", ag.seller.email, other.lic) == []
    assert not can_read(ag.seller, ag.lic)


# ---------------------------------------------------------------------------------------
# Renewal


def test_auto_renew_extends_by_the_period_and_access_goes_on(server):
    ag = ordered(server, language="fr")
    rid = relationship(server, ag)
    ends = past()
    set_rel(server, rid, ends_at=ends, auto_renew=1, period_days=30)
    assert not can_read(ag.seller, ag.lic)     # past its end, not renewed yet: refused
    run(server)
    run(server)
    row = rel_row(server, rid)
    assert row["status"] == "active" and row["ends_at"] == ends + 30 * DAY, row
    # The renewal mail gives the new last day: the 30-day reminder, already within reach, is passed.
    assert row["reminded_30_at"] and row["reminded_7_at"] is None, row
    assert can_read(ag.seller, ag.lic)
    got = audits(server, ag, "partner.relationship_renewed")
    assert len(got) == 1 and got[0][2] is None, got
    d = json.loads(got[0][3])
    assert d["last_day"] == last_day(ends + 30 * DAY) and d["previous_last_day"] == last_day(ends), d
    for who, lang in ((ag.customer_email, "en"), (ag.seller.email, "fr")):
        got = mails(server, "partner_renewed", who, ag.lic)
        assert len(got) == 1 and got[0][0] == lang, (who, got)
        assert got[0][1]["last_day"] == last_day(ends + 30 * DAY), got
        assert mails(server, "partner_ending", who, ag.lic) == [], who
        assert mails(server, "partner_ended", who, ag.lic) == [], who
    m = server.wait_for_mail(ag.seller.email, subject_contains="renouvelé")
    assert ag.lic in m.subject and "renouvelé automatiquement" in m.text, m
    m = server.wait_for_mail(ag.customer_email, subject_contains="renewed until")
    assert ag.lic in m.subject and "your Open License agreement" in m.text, m


def agreement_end(server, ag):
    end = db_query(server, "SELECT end_date FROM agreements WHERE id = ?", (ag.id,))[0][0]
    return calendar.timegm(datetime.date.fromisoformat(end).timetuple()) + DAY


def test_without_a_period_renews_to_the_agreement_end(server):
    ag = ordered(server)
    rid = relationship(server, ag)
    set_rel(server, rid, ends_at=past(), auto_renew=1, period_days=None)
    run(server)
    row = rel_row(server, rid)
    assert row["status"] == "active" and row["ends_at"] == agreement_end(server, ag), row
    assert row["reminded_30_at"] is None and row["reminded_7_at"] is None, row    # re-armed
    assert can_read(ag.seller, ag.lic)
    assert len(mails(server, "partner_renewed", ag.seller.email, ag.lic)) == 1


def test_renewal_never_goes_past_the_agreement_end(server):
    ag = ordered(server)
    rid = relationship(server, ag)
    end_date = today() + datetime.timedelta(days=100)
    db_write(server, "UPDATE agreements SET end_date = ? WHERE id = ?", (end_date.isoformat(), ag.id))
    set_rel(server, rid, ends_at=past(), auto_renew=1, period_days=365)
    run(server)
    row = rel_row(server, rid)
    assert row["status"] == "active" and row["ends_at"] == agreement_end(server, ag), row
    assert last_day(row["ends_at"]) == end_date.isoformat()


def test_no_renewal_once_the_agreement_has_ended(server):
    ag = ordered(server, language="fr")
    rid = relationship(server, ag)
    yesterday = today() - datetime.timedelta(days=1)
    db_write(server, "UPDATE agreements SET end_date = ? WHERE id = ?", (yesterday.isoformat(), ag.id))
    set_rel(server, rid, ends_at=past(), auto_renew=1, period_days=30)
    run(server)
    row = rel_row(server, rid)
    assert row["status"] == "ended", row
    assert audits(server, ag, "partner.relationship_renewed") == []
    assert len(audits(server, ag, "partner.relationship_ended")) == 1
    for who in (ag.customer_email, ag.seller.email):
        assert len(mails(server, "partner_ended", who, ag.lic)) == 1, who
        assert mails(server, "partner_renewed", who, ag.lic) == [], who
    m = server.wait_for_mail(ag.seller.email, subject_contains="a pris fin")
    assert ag.lic in m.subject and "L’accès de votre organisation" in m.text, m.text
    assert any(l.endswith("/partner-organization") for l in m.links), m.links


# ---------------------------------------------------------------------------------------
# Requests left unanswered


def pending_request(server):
    """An imported agreement and a partner whose registration asks for more time than the
    agreement's default: a pending relationship and its open access request."""
    org = "Litware " + uniq("t")
    ag = import_agreement(server, org)
    ag.id = db_query(server, "SELECT id FROM agreements WHERE license_number = ?", (ag.lic,))[0][0]
    p = partner_user(server, org=org)
    r = p.post(REGISTRATIONS, reg_body(ag, ends_on=(today() + datetime.timedelta(days=500)).isoformat()))
    assert r.status == 202 and r.body["status"] == "pending", r
    return ag, p, r.body["request_id"]


def test_unanswered_requests_lapse_with_their_relationship(server):
    ag, p, qid = pending_request(server)
    other, _, other_qid = pending_request(server)
    rid = db_query(server, "SELECT relationship_id FROM partner_requests WHERE id = ?", (qid,))[0][0]
    db_write(server, "UPDATE partner_requests SET lapses_at = ? WHERE id = ?", (past(), qid))
    run(server)
    run(server)
    assert db_query(server, "SELECT status, decided_by FROM partner_requests WHERE id = ?", (qid,)) == [("lapsed", None)]
    row = rel_row(server, rid)
    assert row["status"] == "lapsed" and row["ended_by"] is None and row["ended_at"], row
    got = audits(server, ag, "partner.request_lapsed")
    assert len(got) == 1 and got[0][:3] == ("partner_request", str(qid), None), got
    assert not can_read(p, ag.lic)
    # The other agreement's request, not yet at its lapse date, is still open.
    assert db_query(server, "SELECT status FROM partner_requests WHERE id = ?", (other_qid,)) == [("pending",)]
    assert audits(server, other, "partner.request_lapsed") == []
    # The person who asked is told, once, that nobody answered.
    m = server.wait_for_mail(p.email, subject_contains=template_subject("en", "partner_request_lapsed",
                                                                       license_number=ag.lic))
    assert "had no answer within 30 days" in m.text and p.org in m.text, m.text
    assert server.mail.count(p.email, "lapsed") == 1


# ---------------------------------------------------------------------------------------
# One failure does not stop the others


def fail_updates_of(server, rid):
    """Makes every UPDATE of that relationship fail in the database."""
    if BACKEND == "sqlite":
        db_write(server, f"CREATE TRIGGER fail_rel_{rid} BEFORE UPDATE ON partner_relationships"
                         f" WHEN OLD.id = {rid} BEGIN SELECT RAISE(ABORT, 'refused'); END")
        return lambda: db_write(server, f"DROP TRIGGER fail_rel_{rid}")
    db_write(server, f"CREATE FUNCTION fail_rel_{rid}() RETURNS trigger LANGUAGE plpgsql AS"
                     f" $$BEGIN IF OLD.id = {rid} THEN RAISE EXCEPTION 'refused'; END IF; RETURN NEW; END$$")
    db_write(server, f"CREATE TRIGGER fail_rel_{rid} BEFORE UPDATE ON partner_relationships"
                     f" FOR EACH ROW EXECUTE FUNCTION fail_rel_{rid}()")
    return lambda: (db_write(server, f"DROP TRIGGER fail_rel_{rid} ON partner_relationships"),
                    db_write(server, f"DROP FUNCTION fail_rel_{rid}()"))


def test_one_relationship_failing_does_not_stop_the_others(server):
    bad, good = ordered(server), ordered(server)
    bad_rid, good_rid = relationship(server, bad), relationship(server, good)
    # The failing one comes first (the pass takes the soonest end first).
    set_rel(server, bad_rid, ends_at=past() - 60)
    set_rel(server, good_rid, ends_at=past())
    undo = fail_updates_of(server, bad_rid)
    try:
        p = server.cli("lifecycle", "--today", today().isoformat(), check=False)
        assert p.returncode != 0, p     # the failure is reported ...
        assert rel_row(server, good_rid)["status"] == "ended"    # ... and the next one was done
        assert rel_row(server, bad_rid)["status"] == "active"    # left whole for the next run
        assert mails(server, "partner_ended", bad.seller.email, bad.lic) == []
        assert audits(server, bad, "partner.relationship_ended") == []
    finally:
        undo()
    run(server)
    assert rel_row(server, bad_rid)["status"] == "ended"
    assert len(mails(server, "partner_ended", bad.seller.email, bad.lic)) == 1
