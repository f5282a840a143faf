"""Bulk add from uploaded files: every problem reported by row and column, all or nothing,
a check-only mode, English or French headers in any order, CSV (',' or ';', BOM or not)
and Excel."""
import io
import json
import os

from conftest import addr, assert_problem, db_count, db_query, partner_user, verified_user
from test_subscriptions import agreement, outbox_rows, subs

CSV = "text/csv"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def upload(client, lic, data, content_type=CSV, **params):
    q = "&".join(f"{k}={v}" for k, v in params.items())
    return client.request("POST", subs(lic, "/bulk") + ("?" + q if q else ""), body=data, content_type=content_type)


def with_defaults(ag, level="enterprise"):
    """Preferences that fill the level, country and language columns a file leaves out."""
    r = ag.sa.put(f"/api/v1/agreements/{ag.lic}/preferences",
                  {"default_level": level, "default_country": "FR", "default_language": "en"})
    assert r.status == 200, r
    return ag


def count(server, ag):
    return db_count(server, "subscriptions", "agreement_id = ?", (ag.id,))


def report_of(r):
    """The report of an answer: 200/201 carry it as the body, a refusal inside the problem."""
    if r.status == 422:
        assert r.body.get("code") == "bulk_rejected", r
        return r.body["report"]
    assert r.status in (200, 201), r
    return r.body


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
    assert count(server, ag) == 0
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
    assert count(server, ag) == 0


def test_header_problems(server):
    ag = agreement(server, {"enterprise": 5})
    r = upload(ag.sa, ag.lic, f"Name,Colour,Name,Country\nA,red,B,FR\n")
    rep = report_of(r)
    codes = {(e["row"], e["column"], e["code"]) for e in rep["errors"]}
    assert codes == {(1, "Colour", "unknown_column"), (1, "Name", "duplicate_column"),
                     (1, None, "missing_column")}, rep
    missing = next(e for e in rep["errors"] if e["code"] == "missing_column")
    assert "Sign-in Email" in missing["message"]
    # Level, country and language may be left out only when the preferences fill them.
    rep = report_of(upload(ag.sa, ag.lic, f"Name,Sign-in Email\nA,{addr('h')}\n"))
    assert sorted(e["message"].split('"')[1] for e in rep["errors"]) == ["Country", "Language", "Subscription Level"]
    with_defaults(ag)
    assert upload(ag.sa, ag.lic, f"Name,Sign-in Email\nA,{addr('h')}\n").status == 201
    assert count(server, ag) == 1


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
    assert count(server, ag) == 1


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
    assert count(server, ag) == 0


def test_bad_flags(server):
    ag = agreement(server, {"enterprise": 3})
    r = upload(ag.sa, ag.lic, "Name,Sign-in Email\nA,a@b.example\n", check_only="maybe")
    assert_problem(r, 422, "validation")
    assert count(server, ag) == 0


def test_other_agreements_and_roles(server):
    ag = agreement(server, {"enterprise": 3})
    other = agreement(server, {"enterprise": 3})
    text = f"Name,Sign-in Email\nA,{addr('x')}\n"
    assert_problem(upload(other.sa, ag.lic, text), 404, "not_found")
    assert_problem(upload(partner_user(server), ag.lic, text), 404, "not_found")
    stranger = verified_user(server, addr("stranger"))
    assert_problem(upload(stranger, ag.lic, text), 404, "not_found")
    assert count(server, ag) == 0


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
    assert count(server, ag) == 0


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
    assert count(server, ag) == 0


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
