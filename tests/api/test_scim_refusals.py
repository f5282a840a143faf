"""People SCIM provisioning could not give a seat (docs/scim.md, "When the pool refuses"):
the provider still gets its 409 `tooMany` and nothing of its change is written, but each
refusal is kept — one row per person and level however often the provider retries — and the
lifecycle pass (`openseat lifecycle --today`, the same pass the server's housekeeping runs)
sends the order's address and every super admin one `scim_refusals` e-mail a day per
agreement, in their language, listing the people refused since the last one and why. None
when there are none; one agreement's refusals never reach another's people.

The server's own housekeeping may run the pass at the real time between a test's steps, so
what is checked is what must hold either way: one summary a day, with the right people."""
import datetime
import json
import time

import pytest

from support.accounts import addr, verified_user
from support.agreements import add_admin_in_db, agreement, url
from support.db import db_query, db_write
from support.scim import new_group, new_user, patch, provider

pytestmark = pytest.mark.usefixtures("server_alive")


def today():
    return datetime.datetime.now(datetime.timezone.utc).date()


def run(server, day=None):
    return server.cli("lifecycle", "--today", (day or today()).isoformat())


def summaries(server, who, lic):
    """(language, data) of the queued summaries to `who` about agreement lic."""
    rows = db_query(server, "SELECT language, data FROM outbox WHERE template = 'scim_refusals' AND recipient = ?"
                            " ORDER BY id", (who.lower(),))
    return [(lang, json.loads(d)) for lang, d in rows if json.loads(d)["license_number"] == lic]


def refusals(server, ag):
    return db_query(server, "SELECT u.user_name, r.level_code, r.reason, r.times FROM scim_refusals r"
                            " JOIN scim_users u ON u.id = r.scim_user_id WHERE r.agreement_id = ?"
                            " ORDER BY u.user_name", (ag.id,))


def super_admin_in_db(server, ag, language):
    sa = verified_user(server, addr("sa2"))
    assert db_write(server, "UPDATE users SET language = ? WHERE id = ?", (language, sa.user["id"])) == 1
    assert db_write(server, "INSERT INTO admin_roles (agreement_id, user_id, role, granted_at)"
                            " VALUES (?, ?, 'super_admin', ?)", (ag.id, sa.user["id"], int(time.time()))) == 1
    return sa


def one_seat_taken(server):
    """An agreement of one enterprise seat, given through a mapped group to its first person."""
    ag = agreement(server, {"enterprise": 1})
    idp = provider(server, ag)
    first = new_user(idp)
    g = new_group(idp, "Developers " + first["id"][:8], [first["id"]])
    r = ag.sa.put(url(ag.lic, "/provisioning/mappings"),
                  {"group": g["id"], "level": "enterprise", "language": "en", "country": "FR", "downloads": True})
    assert r.status == 200, r
    return ag, idp, g, first


def refuse(idp, g, user):
    r = patch(idp, f"/Groups/{g['id']}", {"op": "Add", "path": "members", "value": [{"value": user["id"]}]})
    assert r.status == 409 and r.body["scimType"] == "tooMany", r
    return r


def test_refusals_are_kept_once_per_person_and_summarised_once_a_day(server):
    ag, idp, g, first = one_seat_taken(server)
    fr_admin = super_admin_in_db(server, ag, "fr")
    plain_admin = add_admin_in_db(server, ag)
    second = new_user(idp, displayName="Grace Hopper")
    # The provider retries every cycle: one row, counted.
    refuse(idp, g, second)
    refuse(idp, g, second)
    assert refusals(server, ag) == [(second["userName"], "enterprise", "no_seats_left", 2)]
    assert run(server).returncode == 0

    for who, lang in ((ag.customer_email, "en"), (fr_admin.email, "fr")):
        [(got_lang, data)] = summaries(server, who, ag.lic)
        assert got_lang == lang, (who, got_lang)
        assert second["userName"] in data["list"] and "Grace Hopper" in data["list"], data
        assert first["userName"] not in data["list"], data
        assert g["displayName"] in data["list"], data
    assert summaries(server, plain_admin.email, ag.lic) == []        # super admins only
    # Each in their words: plural forms and the reason, the date written out.
    [(_, en)] = summaries(server, ag.customer_email, ag.lic)
    assert en["people"] == "1 person" and en["people_sentence"] == "This person has no seat yet:", en
    assert "no seat left at this level (2 refusals)" in en["list"], en
    m = server.wait_for_mail(fr_admin.email, subject_contains=ag.lic)
    assert m.subject == f"Contrat Open License {ag.lic}\u00a0: 1 personne sans abonnement malgré le provisionnement", m.subject
    assert "Cette personne n’a pas encore d’abonnement" in m.text and "plus aucune place libre" in m.text, m.text
    assert "(2 refus)" in m.text, m.text
    months = ("janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre", "octobre",
              "novembre", "décembre")
    assert any(f" {mo} " in m.text.split("\n\n")[1] for mo in months), m.text
    m = server.wait_for_mail(ag.customer_email, subject_contains="not given a seat")
    assert "1 person not given a seat" in m.subject and second["userName"] in m.text, m.subject
    audits = db_query(server, "SELECT details FROM audit_events WHERE agreement_id = ? AND action = ?",
                      (ag.id, "provisioning.refusals_summarized"))
    assert [json.loads(d)["people"] for (d,) in audits] == ["1"], audits

    # The same day: no second summary, however often the pass runs or people are refused.
    third = new_user(idp, displayName="Alan Turing")
    refuse(idp, g, third)
    assert run(server).returncode == 0
    assert len(summaries(server, ag.customer_email, ag.lic)) == 1

    # The next day: the people refused since the last summary, in the plural. The second
    # person's refusal is moved a little into the past, as it would be by then.
    assert db_write(server, "UPDATE scim_refusals SET last_at = last_at - 60 WHERE agreement_id = ?"
                            " AND scim_user_id = (SELECT id FROM scim_users WHERE uuid = ?)", (ag.id, second["id"])) == 1
    fourth = new_user(idp)
    refuse(idp, g, fourth)
    assert run(server, today() + datetime.timedelta(days=1)).returncode == 0
    got = summaries(server, ag.customer_email, ag.lic)
    assert len(got) == 2, got
    data = got[1][1]
    assert third["userName"] in data["list"] and fourth["userName"] in data["list"], data
    assert second["userName"] not in data["list"], data             # told the day before, not refused since
    assert data["people"] == "2 people" and data["people_sentence"] == "These 2 people have no seat yet:", data
    [(_, fr)] = summaries(server, fr_admin.email, ag.lic)[1:]
    assert fr["people"] == "2 personnes" and fr["people_sentence"].startswith("Ces 2 personnes n’ont"), fr


def test_a_person_given_the_seat_is_forgotten(server):
    ag, idp, g, first = one_seat_taken(server)
    second = new_user(idp)
    refuse(idp, g, second)
    assert len(refusals(server, ag)) == 1
    # A seat is bought: the retry passes, and the refusal is forgotten.
    assert db_write(server, "UPDATE pools SET purchased = 2 WHERE agreement_id = ?", (ag.id,)) == 1
    r = patch(idp, f"/Groups/{g['id']}", {"op": "Add", "path": "members", "value": [{"value": second["id"]}]})
    assert r.status == 200, r
    assert refusals(server, ag) == []
    assert run(server).returncode == 0
    assert summaries(server, ag.customer_email, ag.lic) == []


def test_no_refusals_no_mail_and_no_agreement_hears_of_anothers(server):
    quiet = agreement(server, {"enterprise": 5})
    a, a_idp, a_g, _ = one_seat_taken(server)
    b, b_idp, b_g, _ = one_seat_taken(server)
    a_person, b_person = new_user(a_idp), new_user(b_idp)
    refuse(a_idp, a_g, a_person)
    refuse(b_idp, b_g, b_person)
    assert run(server).returncode == 0
    assert summaries(server, quiet.customer_email, quiet.lic) == []
    [(_, to_a)] = summaries(server, a.customer_email, a.lic)
    [(_, to_b)] = summaries(server, b.customer_email, b.lic)
    assert a_person["userName"] in to_a["list"] and b_person["userName"] not in to_a["list"], to_a
    assert b_person["userName"] in to_b["list"] and a_person["userName"] not in to_b["list"], to_b
    # Nobody of one agreement gets a summary about the other.
    assert summaries(server, a.customer_email, b.lic) == [] and summaries(server, b.customer_email, a.lic) == []
