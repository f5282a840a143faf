"""Bulk add from uploaded files: every problem reported by row and column, all or nothing,
a check-only mode, English or French headers in any order, CSV (',' or ';', BOM or not)
and Excel. Bulk edit (an edited export) and bulk removal (a file or a plain list of
addresses and ids): a preview that applies nothing, then all or nothing."""
import io
import json
import os
import uuid

import pytest

from support.accounts import addr, partner_user, verified_user
from support.agreements import agreement
from support.checks import assert_problem
from support.db import db_count, db_query, db_write
from support.files import CSV, XLSX, export_rows, report_of, to_csv, upload, with_defaults
from support.subscriptions import PREFS, outbox_rows, overview, snapshot, sub_count, subs


def test_check_then_apply_french_headers_semicolons(server):
    ag = agreement(server, {"enterprise": 5, "professional": 5})
    r = ag.sa.put(f"/api/v1/agreements/{ag.lic}/preferences", {"default_country": "BE", "default_language": "fr"})
    assert r.status == 200, r
    a, b, c = addr("ba"), addr("bb"), addr("bc")
    text = ("\ufeffNom;E-mail de connexion;NIVEAU D’ABONNEMENT;Référence;Téléchargements;Pays;Langue\r\n"
            f"Élodie  Dupont;{a};enterprise;\"Ventes; Paris\";Oui;fr;FR\r\n"
            f"Bob Stone;{b};Professional;;non;US;en\r\n"
            f"\"Chloé \"\"CJ\"\" Petit\";{c};enterprise;;;;\r\n")
    r = upload(ag.sa, ag.lic, text, check_only="true")
    rep = report_of(r)
    assert r.status == 200 and rep["applied"] is False and rep["rows"] == 3 and rep["error_count"] == 0, rep
    assert sub_count(server, ag) == 0
    assert {(l["level"], l["rows"], l["available"]) for l in rep["levels"]} == {("enterprise", 2, 5),
                                                                             ("professional", 1, 5)}
    r = upload(ag.sa, ag.lic, text)
    rep = report_of(r)
    assert r.status == 201 and rep["applied"] is True and rep["added"] == 3, rep
    rows = {s[0]: s[1:] for s in db_query(
        server, "SELECT sign_in_email, name, reference, downloads, country, language FROM subscriptions"
                " WHERE agreement_id = ?", (ag.id,))}
    assert rows[a] == ("Élodie  Dupont", "Ventes; Paris", 1, "FR", "fr"), rows[a]   # spaces kept as typed
    assert rows[b][2:] == (0, "US", "en"), rows[b]
    assert rows[c][0] == 'Chloé "CJ" Petit' and rows[c][3:] == ("BE", "fr"), rows[c]   # the preferences' defaults
    for e in (a, b, c):
        assert len(outbox_rows(server, "subscription_assigned", e)) == 1
    assert db_count(server, "audit_events", "action = 'subscription.added' AND agreement_id = ?", (ag.id,)) == 3


def test_every_bad_row_is_reported_and_nothing_added(server):
    ag = with_defaults(agreement(server, {"enterprise": 200}))
    lines = ["Name,Sign-in Email"] + [f"Person {i},not-an-address-{i}" for i in range(100)]
    lines.insert(50, f"Good One,{addr('good')}")
    r = upload(ag.sa, ag.lic, "\n".join(lines) + "\n")
    rep = report_of(r)
    assert r.status == 422 and rep["applied"] is False and rep["error_count"] == 100, rep
    assert len(rep["errors"]) == 100
    bad_rows = [e["row"] for e in rep["errors"]]
    assert bad_rows == [i for i in range(2, 103) if i != 51], bad_rows   # row 51 is the good one
    e = rep["errors"][0]
    assert (e["column"], e["value"], e["code"]) == ("Sign-in Email", "not-an-address-0", "invalid_email"), e
    assert sub_count(server, ag) == 0


def test_header_problems(server):
    ag = agreement(server, {"enterprise": 5})
    r = upload(ag.sa, ag.lic, "Name,Colour,Name,Country\nA,red,B,FR\n")
    rep = report_of(r)
    codes = {(e["row"], e["column"], e["code"]) for e in rep["errors"]}
    assert codes == {(1, "Name", "duplicate_column"), (1, None, "missing_column")}, rep
    assert [(w["column"], w["code"]) for w in rep["warnings"]] == [("Colour", "ignored_column")], rep
    missing = [e["message"] for e in rep["errors"] if e["code"] == "missing_column"]
    assert any("Sign-in Email" in m for m in missing), missing
    # Level, country and language may be left out only when the preferences fill them.
    rep = report_of(upload(ag.sa, ag.lic, f"Name,Sign-in Email\nA,{addr('h')}\n"))
    assert sorted(e["message"].split('"')[1] for e in rep["errors"]) == ["Country", "Language", "Subscription Level"]
    with_defaults(ag)
    assert upload(ag.sa, ag.lic, f"Name,Sign-in Email\nA,{addr('h')}\n").status == 201
    assert sub_count(server, ag) == 1


def test_duplicates_seats_and_existing(server):
    ag = with_defaults(agreement(server, {"enterprise": 2, "professional": 5}))
    existing = addr("ex")
    assert upload(ag.sa, ag.lic, f"Name,Sign-in Email\nEx,{existing}\n").status == 201
    a, b, c = addr("da"), addr("db"), addr("dc")
    text = (f"Name,Sign-in Email,Subscription Level\n"
            f"A,{a},enterprise\nA again,{a.upper()},enterprise\nA pro,{a},professional\n"
            f"Ex,{existing},enterprise\nB,{b},enterprise\nC,{c},enterprise\n")
    rep = report_of(upload(ag.sa, ag.lic, text))
    by_row = {e["row"]: e for e in rep["errors"]}
    assert by_row[3]["code"] == "duplicate_in_file" and by_row[3]["params"] == {"row": 2}, by_row
    assert 4 not in by_row                                  # another level: fine
    assert by_row[5]["code"] == "duplicate", by_row          # already on the agreement
    seat_rows = sorted(r for r, e in by_row.items() if e["code"] == "no_seats_left")
    assert seat_rows == [6, 7], by_row                      # one seat was left: row 2 took it
    ent = next(l for l in rep["levels"] if l["level"] == "enterprise")
    assert ent["available"] == 1 and ent["rows"] == 4, rep["levels"]
    assert sub_count(server, ag) == 1


def test_ids_are_not_for_adding_and_notify_off(server):
    ag = with_defaults(agreement(server, {"enterprise": 3}))
    a = addr("nid")
    rep = report_of(upload(ag.sa, ag.lic, f"Name,Sign-in Email,Subscription Id\nA,{a},123\n"))
    assert [(e["row"], e["code"]) for e in rep["errors"]] == [(2, "not_allowed")], rep
    r = upload(ag.sa, ag.lic, f"Name,Sign-in Email,Subscription Id\nA,{a},\n", send_email="false")
    assert r.status == 201, r
    assert outbox_rows(server, "subscription_assigned", a) == []


def test_unreadable_files(server):
    ag = agreement(server, {"enterprise": 3})
    assert_problem(upload(ag.sa, ag.lic, b""), 422, "empty_file")
    rep = report_of(upload(ag.sa, ag.lic, "Name,Sign-in Email\n"))
    assert [e["code"] for e in rep["errors"]] == ["no_rows"], rep
    r = upload(ag.sa, ag.lic, os.urandom(4096) + b"\xff\xfe\x00", content_type="application/octet-stream")
    assert r.status == 422 and r.body["code"] in ("unreadable_file", "bulk_rejected"), r
    r = upload(ag.sa, ag.lic, b"PK\x03\x04 not really a zip", content_type=XLSX)
    assert_problem(r, 422, "unreadable_file")
    assert sub_count(server, ag) == 0


def test_bad_flags(server):
    ag = agreement(server, {"enterprise": 3})
    r = upload(ag.sa, ag.lic, "Name,Sign-in Email\nA,a@b.example\n", check_only="maybe")
    assert_problem(r, 422, "validation")
    assert sub_count(server, ag) == 0


def test_other_agreements_and_roles(server):
    ag = agreement(server, {"enterprise": 3})
    other = agreement(server, {"enterprise": 3})
    text = f"Name,Sign-in Email\nA,{addr('x')}\n"
    assert_problem(upload(other.sa, ag.lic, text), 404, "not_found")
    assert_problem(upload(partner_user(server), ag.lic, text), 404, "not_found")
    stranger = verified_user(server, addr("stranger"))
    assert_problem(upload(stranger, ag.lic, text), 404, "not_found")
    assert sub_count(server, ag) == 0


def test_cell_rules(server):
    """Each cell is checked like the same field of a single add, and named in the report."""
    ag = agreement(server, {"enterprise": 9})
    long_name = "N" * 101
    text = ("Name,Sign-in Email,Notification Email,Subscription Level,Downloads,Country,Language,Reference\n"
            f"{long_name},{addr('c1')},,enterprise,yes,FR,en,\n"
            f"Ok,{addr('c2')},not-mail,enterprise,yes,FR,en,\n"
            f"Ok,{addr('c3')},,platinum,yes,FR,en,\n"
            f"Ok,{addr('c4')},,enterprise,perhaps,FR,en,\n"
            f"Ok,{addr('c5')},,enterprise,yes,ZZ,en,\n"
            f"Ok,{addr('c6')},,enterprise,yes,FRA,en,\n"
            f"Ok,{addr('c7')},,enterprise,yes,FR,xx,\n"
            f"Ok,{addr('c8')},,enterprise,yes,FR,en,{'R' * 257}\n"
            f",{addr('c9')},,enterprise,yes,FR,en,\n")
    rep = report_of(upload(ag.sa, ag.lic, text))
    got = [(e["row"], e["column"], e["code"]) for e in rep["errors"]]
    assert got == [(2, "Name", "too_long"), (3, "Notification Email", "invalid_email"),
                   (4, "Subscription Level", "invalid_value"), (5, "Downloads", "invalid_value"),
                   (6, "Country", "invalid_value"), (7, "Country", "too_long"), (8, "Language", "invalid_value"),
                   (9, "Reference", "too_long"), (10, "Name", "required")], got
    level = next(e for e in rep["errors"] if e["row"] == 4)
    assert level["value"] == "platinum" and "enterprise" in level["message"], level
    assert len(next(e for e in rep["errors"] if e["row"] == 2)["value"]) == 101
    assert sub_count(server, ag) == 0


def test_a_file_over_the_upload_limit_is_refused_whole(server):
    """The server's --max-upload (32 MiB by default) bounds a file: refused from its declared
    length, before any of it is read, with a message a person understands."""
    import socket
    ag = agreement(server, {"enterprise": 3})
    ag.sa.refresh_csrf()
    head = (f"POST {subs(ag.lic, '/bulk')} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: text/csv\r\n"
            f"Content-Length: {33 * 1024 * 1024}\r\nCookie: {ag.sa.cookie_header()}\r\n"
            f"X-CSRF-Token: {ag.sa.csrf_token}\r\nAccept: application/json\r\n\r\n")
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        sock.sendall(head.encode() + b"Name,Sign-in Email\n")
        answer = b""
        while b"\r\n\r\n" not in answer or not answer.rstrip().endswith(b"}"):
            chunk = sock.recv(65536)
            if not chunk:
                break
            answer += chunk
    status_line, _, rest = answer.partition(b"\r\n")
    assert b" 413 " in status_line, answer[:300]
    body = json.loads(rest.partition(b"\r\n\r\n")[2])
    assert body["code"] == "too_large" and "32 MB" in body["detail"], body
    assert sub_count(server, ag) == 0


def test_excel_file(server):
    """An .xlsx written by openpyxl: numbers, booleans and empty cells read like CSV text."""
    from openpyxl import Workbook
    ag = with_defaults(agreement(server, {"enterprise": 5}))
    wb = Workbook()
    ws = wb.active
    ws.append(["E-mail de connexion", "Nom", "Référence", "Téléchargements", "Pays"])
    a, b = addr("xa"), addr("xb")
    ws.append([a, "Zoé Lambert", 4200, "Non", None])
    ws.append([b, "Yann Morel", None, "Oui", "be"])
    ws.append([None, None, None, None, None])          # an empty row in the middle
    ws.append(["bad@", "Broken", None, None, None])
    data = io.BytesIO()
    wb.save(data)
    rep = report_of(upload(ag.sa, ag.lic, data.getvalue(), content_type=XLSX, check_only="true"))
    assert [(e["row"], e["column"], e["value"]) for e in rep["errors"]] == [(5, "E-mail de connexion", "bad@")], rep
    ws.delete_rows(5)
    data = io.BytesIO()
    wb.save(data)
    r = upload(ag.sa, ag.lic, data.getvalue(), content_type=XLSX)
    assert r.status == 201 and r.body["added"] == 2, r
    rows = dict(db_query(server, "SELECT sign_in_email, reference || '/' || downloads || '/' || country"
                                 " FROM subscriptions WHERE agreement_id = ?", (ag.id,)))
    assert rows == {a: "4200/0/FR", b: "/1/BE"}, rows


# ---------------------------------------------------------------------------------------
# The set-based add: when every level's rows fit in seats never assigned, the rows are
# checked, then written a chunk of rows per statement. It must leave what adding them one
# by one would, but for one usage point per level (and one alert per crossing); otherwise the
# file is added row by row, where the reassignment rule decides each seat.


def word():
    """A word that folds into one search term no other row holds."""
    return "w" + uuid.uuid4().hex[:12]


def usage_points(server, ag):
    return db_query(server, "SELECT l.code, u.assigned_after FROM usage_changes u JOIN levels l ON l.id = u.level_id"
                            " WHERE u.agreement_id = ? ORDER BY u.id", (ag.id,))


def filtered(client, lic, q):
    r = client.get(subs(lic, f"?q={q}&limit=100"))
    assert r.status == 200, r
    return r.body["total"], r.body["total_exact"], {s["sign_in_email"] for s in r.body["items"]}


def assert_terms_kept(server, ag):
    """Each subscription's sub_terms entries are its `search` terms under its own id and name,
    and each term's count is how many entries hold it."""
    wrong = db_query(server, "SELECT COUNT(*) FROM sub_terms t LEFT JOIN subscriptions s ON s.id = t.sub_id"
                             " WHERE t.agreement_id = ? AND (s.id IS NULL OR s.name != t.name"
                             " OR replace(s.search || ' ', ' ' || t.term || ' ', '') = s.search || ' ')",
                     (ag.id,))[0][0]
    assert wrong == 0, wrong
    entries = db_query(server, "SELECT COUNT(*) FROM sub_terms WHERE agreement_id = ?", (ag.id,))[0][0]
    terms = db_query(server, "SELECT COALESCE(SUM(length(search) - length(replace(search, ' ', ''))), 0)"
                             " FROM subscriptions WHERE agreement_id = ?", (ag.id,))[0][0]
    assert entries == terms, (entries, terms)
    counted = dict(db_query(server, "SELECT term, n FROM sub_term_counts WHERE agreement_id = ? AND n > 0", (ag.id,)))
    held = dict(db_query(server, "SELECT term, COUNT(*) FROM sub_terms WHERE agreement_id = ? GROUP BY term", (ag.id,)))
    assert counted == held


def test_set_based_add_writes_what_single_adds_would(server):
    ag = agreement(server, {"enterprise": 10, "professional": 5})
    shared, own = word(), word()
    ent = [addr(f"se{i}", "contoso.example") for i in range(9)]
    pro = [addr(f"sp{i}", "contoso.example") for i in range(2)]
    note = addr("note")
    text = "\n".join(
        ["Name,Sign-in Email,Notification Email,Subscription Level,Country,Language,Reference,Downloads"]
        + [f"Ent {i} {shared},{a},,enterprise,FR,fr,Team {i},Yes" for i, a in enumerate(ent)]
        + [f"Pro {own},{pro[0]},{note},professional,BE,en,{shared},No", f"Pro Two,{pro[1]},,professional,DE,de,,"]) + "\n"
    before = snapshot(server, ag)
    rep = report_of(upload(ag.sa, ag.lic, text, check_only="true"))
    assert rep["applied"] is False and rep["rows"] == 11 and rep["error_count"] == 0, rep
    assert snapshot(server, ag) == before
    r = upload(ag.sa, ag.lic, text)
    rep = report_of(r)
    assert r.status == 201 and rep["applied"] is True and rep["added"] == 11, rep

    rows = {s[0]: s[1:] for s in db_query(
        server, "SELECT s.sign_in_email, s.name, l.code, s.notification_email, s.reference, s.downloads, s.country,"
                " s.language, s.expires_on, s.version, s.uuid FROM subscriptions s JOIN levels l ON l.id = s.level_id"
                " WHERE s.agreement_id = ?", (ag.id,))}
    assert set(rows) == set(ent) | set(pro), rows
    assert rows[ent[3]][:9] == (f"Ent 3 {shared}", "enterprise", None, "Team 3", 1, "FR", "fr", ag.end_date, 1)
    assert rows[pro[0]][:9] == (f"Pro {own}", "professional", note, shared, 0, "BE", "en", ag.end_date, 1)
    assert rows[pro[1]][:9] == ("Pro Two", "professional", None, "", 1, "DE", "de", ag.end_date, 1)
    assert len({v[-1] for v in rows.values()}) == 11 and all(len(v[-1]) == 36 for v in rows.values())
    # The filter box finds them, and a one-word filter's total is the kept count.
    assert filtered(ag.sa, ag.lic, own) == (1, True, {pro[0]})
    assert filtered(ag.sa, ag.lic, shared) == (10, True, set(ent) | {pro[0]})
    assert filtered(ag.sa, ag.lic, "team") == (9, True, set(ent))
    assert_terms_kept(server, ag)
    # Seats, one usage point per level, one audit entry and one e-mail per subscriber.
    assert overview(ag.sa, ag.lic) == {"enterprise": (10, 9, 1), "professional": (5, 2, 3)}
    assert sorted(usage_points(server, ag)) == [("enterprise", 9), ("professional", 2)]
    audited = db_query(server, "SELECT target_id, target_type, details, actor_user_id FROM audit_events"
                               " WHERE action = 'subscription.added' AND agreement_id = ?", (ag.id,))
    assert sorted(a[0] for a in audited) == sorted(v[-1] for v in rows.values()), audited
    by_uuid = {v[-1]: (email, v[1], v[0]) for email, v in rows.items()}
    for target, kind, details, actor in audited:
        assert kind == "subscription" and actor == ag.sa.user["id"], (kind, actor)
        assert json.loads(details) == {"email": by_uuid[target][0], "level": by_uuid[target][1],
                                       "name": by_uuid[target][2]}, details
    for a in ent:
        assert outbox_rows(server, "subscription_assigned", a) == [("fr",)], a
    assert outbox_rows(server, "subscription_assigned", note) == [("en",)]
    assert outbox_rows(server, "subscription_assigned", pro[0]) == []
    assert outbox_rows(server, "subscription_assigned", pro[1]) == [("de",)]
    # 9 of 10 Enterprise seats crosses the 90 % threshold: one alert, with the count after the
    # file; 2 of 5 Professional seats does not.
    alerts = db_query(server, "SELECT data FROM outbox WHERE template = 'pool_alert' AND recipient = ?",
                      (ag.customer_email.lower(),))
    assert len(alerts) == 1, alerts
    data = json.loads(alerts[0][0])
    assert (data["level_name"], data["assigned"], data["purchased"], data["threshold"]) == ("Enterprise", "9", "10", "90")

    # The last seat, without e-mail: no assignment e-mail, no second alert (already above).
    last = addr("last", "contoso.example")
    r = upload(ag.sa, ag.lic, f"Name,Sign-in Email,Subscription Level,Country,Language\nLast,{last},enterprise,FR,en\n",
               send_email="false")
    assert r.status == 201 and r.body["added"] == 1, r
    assert outbox_rows(server, "subscription_assigned", last) == []
    assert db_count(server, "outbox", "template = 'pool_alert' AND recipient = ?", (ag.customer_email.lower(),)) == 1
    assert sorted(usage_points(server, ag)) == [("enterprise", 9), ("enterprise", 10), ("professional", 2)]
    assert db_count(server, "audit_events", "action = 'subscription.added' AND agreement_id = ?", (ag.id,)) == 12


def test_set_based_add_across_chunks(server):
    """Hundreds of rows: several chunks, statements of every size, terms shared across chunks."""
    ag = agreement(server, {"enterprise": 500, "professional": 300})
    shared = word()
    people = [(f"Person {i} {shared}", addr(f"ck{i}"), "enterprise" if i % 3 else "professional") for i in range(700)]
    text = "Name,Sign-in Email,Subscription Level,Country,Language,Reference\n" + "".join(
        f"{n},{a},{lv},FR,en,Dept {i % 7}\n" for i, (n, a, lv) in enumerate(people))
    r = upload(ag.sa, ag.lic, text)
    assert r.status == 201 and r.body["added"] == 700, r
    levels = dict(db_query(server, "SELECT s.sign_in_email, l.code FROM subscriptions s JOIN levels l"
                                   " ON l.id = s.level_id WHERE s.agreement_id = ?", (ag.id,)))
    assert levels == {a: lv for _, a, lv in people}
    assert_terms_kept(server, ag)
    assert filtered(ag.sa, ag.lic, shared)[:2] == (700, True)
    assert filtered(ag.sa, ag.lic, "dept")[:2] == (700, True)
    assert filtered(ag.sa, ag.lic, "person")[:2] == (700, True)
    assert overview(ag.sa, ag.lic) == {"enterprise": (500, 466, 34), "professional": (300, 234, 66)}
    assert sorted(usage_points(server, ag)) == [("enterprise", 466), ("professional", 234)]
    assert db_count(server, "audit_events", "action = 'subscription.added' AND agreement_id = ?", (ag.id,)) == 700
    emails = [a for _, a, _ in people]
    mailed = db_query(server, "SELECT recipient, COUNT(*) FROM outbox WHERE template = 'subscription_assigned'"
                              f" AND recipient IN ({', '.join('?' * len(emails))}) GROUP BY recipient", emails)
    assert len(mailed) == 700 and all(n == 1 for _, n in mailed)


def test_set_based_add_reports_each_rows_problems(server):
    """The single add's checks, row by row, with its codes and messages: defaults from the
    preferences, addresses outside the customer's domains, an address already holding the
    level. Nothing is written."""
    ag = agreement(server, {"enterprise": 10, "professional": 10})
    r = ag.sa.put(PREFS.format(ag.lic), {"allow_outside_domains": False, "default_language": "en"})
    assert r.status == 200, r
    dom = "contoso.example"
    held = addr("held", dom)
    assert upload(ag.sa, ag.lic, f"Name,Sign-in Email,Subscription Level,Country\nH,{held},enterprise,FR\n").status == 201
    outside, outside2 = addr("out", "gmail.example"), addr("out2", "gmail.example")
    text = ("Name,Sign-in Email,Subscription Level,Country\n"
            f"Fine,{addr('fine', dom)},enterprise,FR\n"
            f"Held,{held.upper()},enterprise,FR\n"
            f"Held pro,{held},professional,FR\n"
            f"Out,{outside},enterprise,FR\n"
            f"No country,{addr('nc', dom)},enterprise,\n"
            f"Both,{outside2},professional,\n")
    before = snapshot(server, ag)
    points = usage_points(server, ag)
    r = upload(ag.sa, ag.lic, text)
    assert_problem(r, 422, "bulk_rejected")
    rep = r.body["report"]
    outside_msg = "This agreement only accepts addresses of the customer's own e-mail domains"
    got = [(e["row"], e["column"], e["value"], e["code"], e["message"]) for e in rep["errors"]]
    assert got == [
        (3, "Sign-in Email", held.upper(), "duplicate", "This address already holds a Enterprise subscription on this agreement"),
        (5, "Sign-in Email", outside, "outside_domain", outside_msg),
        (6, "Country", "", "required", "This field is required"),
        (7, "Country", "", "required", "This field is required"),
        (7, "Sign-in Email", outside2, "outside_domain", outside_msg),
    ], got
    assert rep["applied"] is False and rep["added"] == 0 and rep["error_count"] == 5, rep
    assert snapshot(server, ag) == before and usage_points(server, ag) == points
    # A preview reports the same.
    rep = report_of(upload(ag.sa, ag.lic, text, check_only="true"))
    assert [(e["row"], e["column"], e["value"], e["code"], e["message"]) for e in rep["errors"]] == got
    assert snapshot(server, ag) == before


def test_set_based_add_gives_freed_seats_back_to_their_own_address(server):
    ag = agreement(server, {"enterprise": 10})
    a, b = addr("own-a"), addr("own-b")
    ids = add_people(server, ag, [("A", a, "enterprise"), ("B", b, "enterprise")])
    r = ag.sa.post(subs(ag.lic, "/remove"), {"ids": [ids[(a, "enterprise")]]})
    assert r.status == 200, r
    assert db_count(server, "seat_releases", "agreement_id = ? AND reused_at IS NULL", (ag.id,)) == 1
    points = len(usage_points(server, ag))
    # 3 rows, 8 seats never assigned: set-based; A takes its own freed seat back.
    r = upload(ag.sa, ag.lic, "Name,Sign-in Email,Subscription Level,Country,Language\n"
                              f"A,{a},enterprise,FR,en\nC,{addr('own-c')},enterprise,FR,en\n"
                              f"D,{addr('own-d')},enterprise,FR,en\n", send_email="false")
    assert r.status == 201 and r.body["added"] == 3, r
    assert db_count(server, "seat_releases", "agreement_id = ? AND reused_at IS NULL", (ag.id,)) == 0
    assert db_count(server, "seat_releases", "agreement_id = ? AND reused_at IS NOT NULL", (ag.id,)) == 1
    assert overview(ag.sa, ag.lic) == {"enterprise": (10, 4, 6)}
    assert len(usage_points(server, ag)) == points + 1


def test_rows_that_may_need_a_freed_seat_are_added_row_by_row(server):
    """Freed seats from a removal under 90 days ago: a file needing more than the seats never
    assigned is added row by row, where the reassignment rule refuses a different person."""
    ag = agreement(server, {"enterprise": 5})
    a, b, c = addr("fa"), addr("fb"), addr("fc")
    ids = add_people(server, ag, [("A", a, "enterprise"), ("B", b, "enterprise"), ("C", c, "enterprise")])
    r = ag.sa.post(subs(ag.lic, "/remove"), {"ids": [ids[(a, "enterprise")], ids[(b, "enterprise")]]})
    assert r.status == 200, r
    # 1 assigned, 4 free of which 2 freed today: 2 never assigned.
    head = "Name,Sign-in Email,Subscription Level,Country,Language\n"
    new = [addr(f"fn{i}") for i in range(4)]
    before = snapshot(server, ag)
    rep = report_of(upload(ag.sa, ag.lic, head + "".join(f"N,{e},enterprise,FR,en\n" for e in new)))
    got = [(e["row"], e["column"], e["code"]) for e in rep["errors"]]
    assert got == [(4, "Subscription Level", "reassignment_too_soon"), (5, "Subscription Level", "reassignment_too_soon")], got
    assert rep["errors"][0]["message"].startswith("The free Enterprise seats were assigned less than 90 days ago"), rep
    assert rep["errors"][0]["params"]["days"] == 90, rep
    assert snapshot(server, ag) == before
    # A and B take their own freed seats back, a third person the last seat never assigned.
    points = len(usage_points(server, ag))
    r = upload(ag.sa, ag.lic, head + f"A,{a},enterprise,FR,en\nB,{b},enterprise,FR,en\nN,{new[0]},enterprise,FR,en\n")
    assert r.status == 201 and r.body["added"] == 3, r
    stored_now = db_query(server, "SELECT sign_in_email FROM subscriptions WHERE agreement_id = ?", (ag.id,))
    assert {x[0] for x in stored_now} == {a, b, c, new[0]}, stored_now
    assert overview(ag.sa, ag.lic) == {"enterprise": (5, 4, 1)}
    assert db_count(server, "seat_releases", "agreement_id = ? AND reused_at IS NULL", (ag.id,)) == 0
    assert len(usage_points(server, ag)) == points + 3          # row by row: a point per row
    assert db_count(server, "audit_events", "action = 'subscription.added' AND agreement_id = ?", (ag.id,)) == 6
    for e in (a, b, new[0]):
        assert len(outbox_rows(server, "subscription_assigned", e)) == 1, e
    assert outbox_rows(server, "pool_alert", ag.customer_email) == []      # 4 of 5: under 90 %
    assert_terms_kept(server, ag)
    assert filtered(ag.sa, ag.lic, new[0].split(".")[0])[:2] == (1, True)


# ---------------------------------------------------------------------------------------
# Bulk edit and bulk removal: a preview (check_only=true) that applies nothing, then all or
# nothing in one transaction.

def send(client, lic, route, data, content_type=CSV, **params):
    q = "&".join(f"{k}={v}" for k, v in params.items())
    return client.request("POST", subs(lic, route) + ("?" + q if q else ""), body=data, content_type=content_type)


def edit(client, lic, data, **params):
    return send(client, lic, "/bulk-edit", data, **params)


def remove(client, lic, data, content_type=CSV, **params):
    return send(client, lic, "/bulk-remove", data, content_type=content_type, **params)


def stored(server, ag):
    return {s[0]: s[1:] for s in db_query(
        server, "SELECT uuid, name, sign_in_email, notification_email, reference, downloads, country, language,"
                " version FROM subscriptions WHERE agreement_id = ?", (ag.id,))}


def addr_lower(s):
    return s.strip().lower()


def add_people(server, ag, rows):
    """Subscribers added through the bulk add (no e-mail): rows of (name, address, level)."""
    text = "Name,Sign-in Email,Subscription Level,Country,Language\n" + "".join(
        f"{n},{a},{lv},FR,en\n" for n, a, lv in rows)
    r = upload(ag.sa, ag.lic, text, send_email="false")
    assert r.status == 201, r
    return {a_lv: s for a_lv, s in ((tuple(x[1:]), x[0]) for x in db_query(
        server, "SELECT uuid, sign_in_email, l.code FROM subscriptions s JOIN levels l ON l.id = s.level_id"
                " WHERE agreement_id = ?", (ag.id,)))}


def test_edit_an_export_preview_then_apply(server):
    ag = agreement(server, {"enterprise": 5, "professional": 5})
    a, b, c, a2 = addr("ea"), addr("eb"), addr("ec"), addr("ea-new")
    ids = add_people(server, ag, [("Ann Lee", a, "enterprise"), ("Ben Roy", b, "professional"),
                                  ("Cy Dow", c, "enterprise")])
    header, rows = export_rows(ag.sa, ag.lic)
    assert "Assigned" in header and "Subscription Id" in header, header
    by_mail = {r["Sign-in Email"]: r for r in rows}
    by_mail[a].update({"Name": "Ann Lee-Smith", "Sign-in Email": a2.upper()})      # addresses read normalised
    by_mail[b].update({"Notification Email": addr("eb-notify"), "Downloads": "No", "Country": "be",
                       "Reference": "Team 7", "Assigned": "1999-01-01", "Expires": "2000-01-01"})   # dates ignored
    text = to_csv(header, rows)
    row_of = {r["Subscription Id"]: i + 2 for i, r in enumerate(rows)}
    before = stored(server, ag)

    r = edit(ag.sa, ag.lic, text, check_only="true")
    rep = report_of(r)
    assert r.status == 200 and rep["applied"] is False, rep
    assert (rep["rows"], rep["changed"], rep["unchanged"], rep["error_count"]) == (3, 2, 1, 0), rep
    changes = {ch["id"]: ch for ch in rep["changes"]}
    ia, ib = ids[(a, "enterprise")], ids[(b, "professional")]
    assert set(changes) == {ia, ib}, changes
    assert changes[ia] == {"row": row_of[ia], "id": ia, "name": "Ann Lee",
                           "fields": {"name": {"from": "Ann Lee", "to": "Ann Lee-Smith"},
                                      "sign_in_email": {"from": a, "to": a2}}}, changes[ia]
    assert changes[ib]["fields"] == {"notification_email": {"from": None, "to": addr_lower(by_mail[b]["Notification Email"])},
                                     "reference": {"from": "", "to": "Team 7"},
                                     "downloads": {"from": True, "to": False},
                                     "country": {"from": "FR", "to": "BE"}}, changes[ib]
    assert stored(server, ag) == before
    assert outbox_rows(server, "sign_in_changed", a) == [] and outbox_rows(server, "sign_in_changed", a2) == []

    r = edit(ag.sa, ag.lic, text)
    rep = report_of(r)
    assert r.status == 200 and rep["applied"] is True and rep["changed"] == 2, rep
    after = stored(server, ag)
    assert after[ia] == ("Ann Lee-Smith", a2, None, "", 1, "FR", "en", 2), after[ia]
    assert after[ib] == ("Ben Roy", b, addr_lower(by_mail[b]["Notification Email"]), "Team 7", 0, "BE", "en", 2), after[ib]
    ic = ids[(c, "enterprise")]
    assert after[ic] == before[ic], "an unchanged row is not written (its version stays)"
    # As a single edit: the old and the new sign-in address are both told, each change audited.
    assert len(outbox_rows(server, "sign_in_changed", a)) == 1 and len(outbox_rows(server, "sign_in_changed", a2)) == 1
    assert outbox_rows(server, "sign_in_changed", b) == []
    assert db_count(server, "audit_events", "action = 'subscription.updated' AND agreement_id = ?", (ag.id,)) == 2

    # The same file again changes nothing; a new export with the notification cell emptied clears it.
    rep = report_of(edit(ag.sa, ag.lic, text))
    assert (rep["changed"], rep["unchanged"]) == (0, 3), rep
    header, rows = export_rows(ag.sa, ag.lic)
    for row in rows:
        row["Notification Email"] = ""
    rep = report_of(edit(ag.sa, ag.lic, to_csv(header, rows)))
    assert rep["changed"] == 1 and rep["changes"][0]["fields"] == {
        "notification_email": {"from": addr_lower(by_mail[b]["Notification Email"]), "to": None}}, rep
    assert stored(server, ag)[ib][2] is None and stored(server, ag)[ib][-1] == 3


def test_edit_problems_are_reported_and_nothing_changes(server):
    ag = agreement(server, {"enterprise": 9, "professional": 5})
    other = agreement(server, {"enterprise": 2})
    a, b, c, d, e, f = (addr(x) for x in ("pa", "pb", "pc", "pd", "pe", "pf"))
    ids = add_people(server, ag, [("A", a, "enterprise"), ("B", b, "enterprise"), ("C", c, "professional"),
                                  ("D", d, "enterprise"), ("E", e, "enterprise"), ("F", f, "enterprise")])
    foreign = add_people(server, other, [("O", addr("po"), "enterprise")])
    same = addr("p-same")
    header = ["Subscription Id", "Name", "Sign-in Email", "Subscription Level", "Country"]
    rows = [
        [ids[(a, "enterprise")], "A renamed", a, "enterprise", "FR"],            # 2: fine on its own
        [str(uuid.uuid4()), "X", addr("px"), "enterprise", "FR"],              # 3: unknown id
        [next(iter(foreign.values())), "O", addr("po"), "enterprise", "FR"],      # 4: another agreement's
        [ids[(b, "enterprise")], "B", b, "professional", "FR"],                   # 5: level change
        [ids[(a, "enterprise")], "A again", a, "enterprise", "FR"],               # 6: id twice
        [ids[(d, "enterprise")], "D", b, "enterprise", "FR"],                      # 7: B's address, same level
        ["", "Nobody", addr("pn"), "enterprise", "FR"],                           # 8: no id
        ["not-an-id", "Nobody", addr("pn2"), "enterprise", "FR"],                 # 9: not an id
        [ids[(e, "enterprise")], "E", same, "enterprise", "FR"],                   # 10: a new address ...
        [ids[(f, "enterprise")], "F", same.upper(), "enterprise", "FR"],           # 11: ... given twice
        [ids[(c, "professional")], "C", b, "professional", "FR"],                  # 12: B's address, other level: fine
    ]
    text = to_csv(header, rows)
    before = snapshot(server, ag)
    rep = report_of(edit(ag.sa, ag.lic, text, check_only="true"))
    got = [(e_["row"], e_["column"], e_["code"]) for e_ in rep["errors"]]
    assert got == [(3, "Subscription Id", "unknown_id"), (4, "Subscription Id", "unknown_id"),
                   (5, "Subscription Level", "invalid_value"), (6, "Subscription Id", "duplicate_in_file"),
                   (7, "Sign-in Email", "duplicate"), (8, "Subscription Id", "required"),
                   (9, "Subscription Id", "unknown_id"), (11, "Sign-in Email", "duplicate_in_file")], rep["errors"]
    by_row = {e_["row"]: e_ for e_ in rep["errors"]}
    assert by_row[6]["params"] == {"row": 2} and by_row[11]["params"] == {"row": 10}, by_row
    assert by_row[3]["value"] == rows[1][0]
    # The preview still lists what the good rows would change.
    assert {ch["row"] for ch in rep["changes"]} == {2, 10, 12} and rep["changed"] == 3, rep["changes"]
    r = edit(ag.sa, ag.lic, text)
    assert_problem(r, 422, "bulk_rejected")
    assert r.body["report"]["applied"] is False and r.body["report"]["error_count"] == 8
    assert snapshot(server, ag) == before

    # Each cell is checked as in an add; the Subscription Id column is required.
    rep = report_of(edit(ag.sa, ag.lic, to_csv(["Subscription Id", "Name", "Sign-in Email", "Country", "Downloads"],
                                             [[ids[(d, "enterprise")], "", "d@", "ZZ", "maybe"]])))
    assert [(e_["column"], e_["code"]) for e_ in rep["errors"]] == [
        ("Name", "required"), ("Sign-in Email", "invalid_email"), ("Downloads", "invalid_value"),
        ("Country", "invalid_value")], rep
    rep = report_of(edit(ag.sa, ag.lic, to_csv(["Name", "Sign-in Email"], [["A", a]])))
    assert [(e_["code"], e_["column"]) for e_ in rep["errors"]] == [("missing_column", None)], rep
    assert "Subscription Id" in rep["errors"][0]["message"]
    assert snapshot(server, ag) == before


def test_remove_by_addresses_and_ids_preview_then_apply(server):
    ag = agreement(server, {"enterprise": 5, "professional": 5})
    a, b, c, keep = addr("ra"), addr("rb"), addr("rc"), addr("rkeep")
    ids = add_people(server, ag, [("A", a, "enterprise"), ("A", a, "professional"), ("B", b, "enterprise"),
                                  ("C", c, "professional"), ("K", keep, "enterprise")])
    seats = overview(ag.sa, ag.lic)
    assert seats == {"enterprise": (5, 3, 2), "professional": (5, 2, 3)}, seats
    # A list as typed in a text editor: a header, an address (both its levels) and an id.
    text = f"Sign-in Email\n{a.upper()}\n\n{ids[(b, 'enterprise')]}\n"
    before = snapshot(server, ag)
    r = remove(ag.sa, ag.lic, text, content_type="text/plain", check_only="true")
    rep = report_of(r)
    assert r.status == 200 and rep["applied"] is False and rep["count"] == 3 and rep["error_count"] == 0, rep
    assert rep["rows"] == 2
    assert [(s["row"], s["sign_in_email"], s["level"]) for s in rep["subscriptions"]] == [
        (2, a, "enterprise"), (2, a, "professional"), (4, b, "enterprise")], rep["subscriptions"]
    assert rep["subscriptions"][2]["id"] == ids[(b, "enterprise")] and rep["subscriptions"][2]["name"] == "B"
    assert snapshot(server, ag) == before

    r = remove(ag.sa, ag.lic, text, content_type="text/plain")
    rep = report_of(r)
    assert r.status == 200 and rep["applied"] is True and rep["count"] == 3, rep
    assert overview(ag.sa, ag.lic) == {"enterprise": (5, 1, 4), "professional": (5, 1, 4)}
    left = {s[0] for s in db_query(server, "SELECT sign_in_email FROM subscriptions WHERE agreement_id = ?", (ag.id,))}
    assert left == {c, keep}, left
    # As single removals: audited, the seats recorded as freed and the usage as changed.
    assert db_count(server, "audit_events", "action = 'subscription.removed' AND agreement_id = ?", (ag.id,)) == 3
    assert db_count(server, "seat_releases", "agreement_id = ? AND reused_at IS NULL", (ag.id,)) == 3
    # The add recorded one usage point per level (two), each removal its own.
    assert db_count(server, "usage_changes", "agreement_id = ?", (ag.id,)) == 2 + 3

    # An export read back: its Subscription Id column, not its first (the names).
    header, rows = export_rows(ag.sa, ag.lic)
    text = to_csv(header, [r_ for r_ in rows if r_["Sign-in Email"] == c])
    rep = report_of(remove(ag.sa, ag.lic, text))
    assert rep["applied"] is True and [s["sign_in_email"] for s in rep["subscriptions"]] == [c], rep
    assert sub_count(server, ag) == 1


def test_remove_problems_are_reported_and_nothing_is_removed(server):
    ag = agreement(server, {"enterprise": 5})
    other = agreement(server, {"enterprise": 2})
    a, b = addr("qa"), addr("qb")
    ids = add_people(server, ag, [("A", a, "enterprise"), ("B", b, "enterprise")])
    foreign = next(iter(add_people(server, other, [("O", addr("qo"), "enterprise")]).values()))
    unknown, nobody = str(uuid.uuid4()), addr("nobody")
    # No header: every row is a value, and problems name no column.
    lines = [a, nobody, unknown, foreign, "neither", a, ids[(a, "enterprise")], ids[(b, "enterprise")],
             b]
    before = snapshot(server, ag)
    r = remove(ag.sa, ag.lic, "\n".join(lines) + "\n", content_type="text/plain")
    assert_problem(r, 422, "bulk_rejected")
    rep = r.body["report"]
    got = [(e["row"], e["column"], e["value"], e["code"]) for e in rep["errors"]]
    assert got == [(2, None, nobody, "unknown_value"), (3, None, unknown, "unknown_value"),
                   (4, None, foreign, "unknown_value"), (5, None, "neither", "unknown_value"),
                   (6, None, a, "duplicate_in_file"), (7, None, ids[(a, "enterprise")], "duplicate_in_file"),
                   (9, None, b, "duplicate_in_file")], got
    assert [e["params"] for e in rep["errors"] if e["code"] == "duplicate_in_file"] == [
        {"row": 1}, {"row": 1}, {"row": 8}], rep["errors"]
    assert rep["applied"] is False and rep["count"] == 2 and rep["rows"] == 9, rep
    assert snapshot(server, ag) == before
    # A French header is recognised and skipped; an empty value in its column is required.
    text = f"E-mail de connexion;Nom\n{a};A\n;B\n"
    rep = report_of(remove(ag.sa, ag.lic, text, check_only="true"))
    assert [(e["row"], e["column"], e["code"]) for e in rep["errors"]] == [(3, "E-mail de connexion", "required")], rep
    assert rep["count"] == 1
    rep = report_of(remove(ag.sa, ag.lic, "Name,Reference\nA,x\n"))
    assert [e["code"] for e in rep["errors"]] == ["missing_column"], rep
    assert snapshot(server, ag) == before


def test_bulk_edit_and_remove_other_agreements_roles_and_read_only(server):
    ag = agreement(server, {"enterprise": 3})
    other = agreement(server, {"enterprise": 3})
    a = addr("ro")
    sid = next(iter(add_people(server, ag, [("A", a, "enterprise")]).values()))
    edit_text = f"Subscription Id,Name\n{sid},Renamed\n"
    outsiders = (other.sa, partner_user(server), verified_user(server, addr("stranger")))
    before = snapshot(server, ag)
    for client in outsiders:
        assert_problem(edit(client, ag.lic, edit_text), 404, "not_found")
        assert_problem(remove(client, ag.lic, a + "\n", content_type="text/plain"), 404, "not_found")
    assert_problem(edit(ag.sa, ag.lic, edit_text, check_only="maybe"), 422, "validation")
    assert_problem(remove(ag.sa, ag.lic, b"", content_type="text/plain"), 422, "empty_file")
    assert snapshot(server, ag) == before
    # The partner who placed the order may write like the customer's admins.
    r = edit(ag.seller, ag.lic, edit_text, check_only="true")
    assert r.status == 200 and r.body["changed"] == 1, r
    # Read-only (past the grace period): refused like every other write, previews included.
    db_write(server, "UPDATE agreements SET end_date = '2020-01-01' WHERE id = ?", (ag.id,))
    for check in ("true", "false"):
        assert_problem(edit(ag.sa, ag.lic, edit_text, check_only=check), 403, "read_only")
        assert_problem(remove(ag.sa, ag.lic, a + "\n", content_type="text/plain", check_only=check), 403, "read_only")
    assert snapshot(server, ag) == before


def _kill_during_large_upload(srv, at_work):
    """Adds a 100,000-row file, SIGKILLs the server once the check that at_work() returns (made
    before the upload starts) says it is writing the rows, or the answer came first; restarts
    it. Returns (ag, rows before, rows after, outcome)."""
    import threading
    import time
    ag = with_defaults(agreement(srv, {"enterprise": 100000}))
    rows = ["Name,Sign-in Email"] + [f"Person {i},p{i}.{ag.id}@contoso.example" for i in range(100000)]
    data = ("\n".join(rows) + "\n").encode()
    before = sub_count(srv, ag)
    outcome = {}

    def send():
        try:
            outcome["status"] = upload(ag.sa, ag.lic, data, send_email="false").status
        except OSError as e:          # the connection dies with the server
            outcome["error"] = e
    busy = at_work()
    t = threading.Thread(target=send)
    t.start()
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and "status" not in outcome:
        if busy():
            break
        time.sleep(0.02)
    srv.proc.kill()
    srv.proc.wait()
    t.join(30)
    srv.proc = None
    srv._log.close()
    srv.start()
    after = sub_count(srv, ag)
    assert after in (before, before + 100000), (before, after, outcome)
    # Killed while writing (the usual case; a machine fast enough to finish first still
    # checks the "all" half).
    assert "status" in outcome or after == before, (after, outcome)
    return ag, before, after, outcome


TERMS_SQL = "SELECT COUNT(*) FROM sub_terms WHERE agreement_id = ?"
POOL_SQL = ("SELECT assigned FROM pools p JOIN levels l ON l.id = p.level_id"
            " WHERE p.agreement_id = ? AND l.code = 'enterprise'")


@pytest.mark.sqlite_only
def test_killed_in_the_middle_of_a_large_upload_leaves_all_or_nothing(server_factory):
    """SIGKILL while a 100,000-row file is being added: after a restart the agreement has all
    of the rows or none, and SQLite finds the database intact."""
    import sqlite3
    srv = server_factory(extra_args=["--max-upload", str(64 * 1024 * 1024)])

    def wal_grows():
        # Kill once the server is at work on it: its log shows nothing yet for this request,
        # and the database's write-ahead log grows while the rows go in.
        wal = srv.db_path.with_name("openseat.db-wal")
        size0 = wal.stat().st_size if wal.exists() else 0
        return lambda: wal.exists() and wal.stat().st_size > size0 + 1024 * 1024

    ag, before, after, outcome = _kill_during_large_upload(srv, wal_grows)
    con = sqlite3.connect(str(srv.db_path))
    try:
        assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        terms = con.execute(TERMS_SQL, (ag.id,)).fetchone()[0]
        pool = con.execute(POOL_SQL, (ag.id,)).fetchone()[0]
    finally:
        con.close()
    assert pool == after, (pool, after)     # the seats follow the rows
    assert (terms == 0) == (after == 0), terms


@pytest.mark.pg_only
def test_killed_in_the_middle_of_a_large_upload_leaves_all_or_nothing_pg(server_factory):
    """The same on PostgreSQL: killed while its transaction writes the rows, the server
    leaves all of them or none, and the seats and search terms follow."""
    srv = server_factory(extra_args=["--max-upload", str(64 * 1024 * 1024)])

    def writing():
        # A transaction of the server's that has written something (it holds a
        # transaction id) on the server's database for a while (not a mail poll).
        sql = ("SELECT COUNT(*) FROM pg_stat_activity WHERE datname = current_database()"
               " AND pid <> pg_backend_pid() AND backend_xid IS NOT NULL"
               " AND now() - xact_start > interval '200 milliseconds'")
        return lambda: db_query(srv, sql)[0][0] > 0

    ag, before, after, outcome = _kill_during_large_upload(srv, writing)
    terms = db_query(srv, TERMS_SQL, (ag.id,))[0][0]
    pool = db_query(srv, POOL_SQL, (ag.id,))[0][0]
    assert pool == after, (pool, after)     # the seats follow the rows
    assert (terms == 0) == (after == 0), terms
