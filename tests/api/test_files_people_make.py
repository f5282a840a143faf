"""Files as people make them, with LibreOffice or openpyxl rather than the portal: headers
named with the usual synonyms, extra columns, a near-miss header together with bad rows,
line breaks typed inside a Reference cell, a Windows-1252 CSV, a damaged workbook, and a
tab inside an exported cell."""
import io

import openpyxl

from support.accounts import addr
from support.agreements import agreement
from support.checks import assert_problem, field_errors
from support.db import db_query
from support.files import CSV, XLSX, finished, report_of, start, upload, with_defaults
from support.subscriptions import add, subs


def workbook(rows):
    """An .xlsx as openpyxl writes it: inline cells of the first sheet."""
    wb = openpyxl.Workbook()
    ws = wb.active
    for row in rows:
        ws.append(row)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def libreoffice_csv(rows, sep=","):
    """A CSV as LibreOffice writes it: no BOM, LF, a cell quoted only when it must be."""
    def cell(v):
        v = str(v)
        if any(c in v for c in (sep, '"', "\n", "\r")):
            return '"' + v.replace('"', '""') + '"'
        return v
    return "".join(sep.join(cell(v) for v in row) + "\n" for row in rows)


def test_synonym_headers_in_both_languages(server):
    ag = with_defaults(agreement(server, {"enterprise": 5}))
    a, b = addr("syn1"), addr("syn2")
    data = workbook([["Nom complet", "Courriel", "Identifiant d’abonnement", "Réf."],
                     ["Ada Lovelace", a, None, "R1"]])
    rep = report_of(upload(ag.sa, ag.lic, data, XLSX, check_only="true"))
    assert rep["error_count"] == 0 and rep["rows"] == 1, rep
    data = libreoffice_csv([["full NAME", "E-mail address", "N° d'abonnement", "Langue"], ["Bob", b, "", "fr"]])
    rep = report_of(upload(ag.sa, ag.lic, data, check_only="true"))
    assert rep["error_count"] == 0, rep
    data = libreoffice_csv([["Identifiant d'abonnement", "Nom", "Adresse e-mail"], ["", "Chloé", addr("syn3")]])
    rep = report_of(upload(ag.sa, ag.lic, data, check_only="true"))
    assert rep["error_count"] == 0, rep


def test_extra_column_ignored_with_a_warning(server):
    ag = with_defaults(agreement(server, {"enterprise": 5}))
    a = addr("extra")
    data = workbook([["Name", "Sign-in Email", "Added on"], ["Ada Lovelace", a, "2026-01-02"]])
    r = upload(ag.sa, ag.lic, data, XLSX)
    rep = report_of(r)
    assert r.status == 201 and rep["added"] == 1, rep
    assert rep["warnings"] == [{"column": "Added on", "code": "ignored_column",
                                "message": rep["warnings"][0]["message"]}], rep
    assert "Added on" in rep["warnings"][0]["message"]


def test_near_miss_header_suggests_and_rows_are_still_checked(server):
    ag = with_defaults(agreement(server, {"enterprise": 5}))
    data = libreoffice_csv([["Name", "Sign-in Email", "Refrence", "Country"],
                            ["Ada", addr("nm1"), "x", "FR"],
                            ["Bob", "not-an-address", "y", "ZZ"]])
    r = upload(ag.sa, ag.lic, data)
    rep = report_of(r)
    assert r.status == 422, r
    codes = {(e["row"], e.get("column"), e["code"]) for e in rep["errors"]}
    assert (1, "Refrence", "unknown_column") in codes, rep
    assert (3, "Sign-in Email", "invalid_email") in codes and (3, "Country", "invalid_value") in codes, rep
    unknown = [e for e in rep["errors"] if e["code"] == "unknown_column"][0]
    assert unknown["params"] == {"suggestion": "Reference"}, unknown
    # A known name plus a word is a near miss too, in French.
    data = libreoffice_csv([["Nom", "E-mail de connexion", "Pays client"], ["Ada", addr("nm2"), "FR"]])
    rep = report_of(upload(ag.sa, ag.lic, data))
    assert [(e["code"], e.get("params")) for e in rep["errors"]] == [("unknown_column", {"suggestion": "Pays"})], rep


def test_line_breaks_in_reference(server):
    ag = with_defaults(agreement(server, {"enterprise": 5}))
    a, b = addr("lb1"), addr("lb2")
    data = libreoffice_csv([["Name", "Sign-in Email", "Reference"], ["Ada", a, "Floor 2\nDesk 14"]])
    r = upload(ag.sa, ag.lic, data)
    assert r.status == 201, r
    data = workbook([["Name", "Sign-in Email", "Reference"], ["Bob", b, "Line 1\r\nLine 2\tend"]])
    r = upload(ag.sa, ag.lic, data, XLSX)
    assert r.status == 201, r
    refs = dict(db_query(server, "SELECT sign_in_email, reference FROM subscriptions WHERE agreement_id = ?",
                         (ag.id,)))
    assert refs[a] == "Floor 2\nDesk 14" and refs[b] == "Line 1\r\nLine 2\tend", refs
    # The single add too; a name keeps refusing control characters, in both.
    r = add(ag.sa, ag.lic, sign_in_email=addr("lb3"), reference="one\ntwo")
    assert r.body["reference"] == "one\ntwo", r
    r = add(ag.sa, ag.lic, expect=422, sign_in_email=addr("lb4"), name="Ada\nLovelace")
    assert field_errors(r) == {"name": "invalid_value"}, r
    data = libreoffice_csv([["Name", "Sign-in Email"], ["Ada\nLovelace", addr("lb5")]])
    rep = report_of(upload(ag.sa, ag.lic, data))
    assert [(e["column"], e["code"]) for e in rep["errors"]] == [("Name", "invalid_value")], rep
    # Exported (quoted, both formats) and read back unchanged.
    raw = ag.sa.get(subs(ag.lic, "/export?format=csv")).raw
    assert b'"Floor 2\nDesk 14"' in raw, raw
    xlsx = ag.sa.get(subs(ag.lic, "/export?format=xlsx")).raw
    # A carriage return is written _x000D_ (XML cannot carry it), which openpyxl leaves as is.
    values = [c.value.replace("_x000D_", "\r") for row in openpyxl.load_workbook(io.BytesIO(xlsx)).active.iter_rows()
              for c in row if c.value]
    assert "Floor 2\nDesk 14" in values and "Line 1\r\nLine 2\tend" in values, values
    r = ag.sa.request("POST", subs(ag.lic, "/bulk-edit?check_only=true"), body=xlsx, content_type=XLSX)
    rep = report_of(r)
    assert rep["error_count"] == 0 and rep["changed"] == 0, rep
    r = ag.sa.request("POST", subs(ag.lic, "/bulk-edit?check_only=true"), body=raw, content_type=CSV)
    rep = report_of(r)
    assert rep["error_count"] == 0 and rep["changed"] == 0, rep


def windows_1252_file(ag, n=16):
    rows = [["Name", "Sign-in Email"]] + [[f"Zoë Müller {i}", f"z{i}.{ag.id}@contoso.example"] for i in range(n)]
    rows.append(["Plain Ascii", f"plain.{ag.id}@contoso.example"])
    return libreoffice_csv(rows).replace("\n", "\r\n").encode("cp1252")


def test_windows_1252_is_named_and_can_be_read(server):
    ag = with_defaults(agreement(server, {"enterprise": 30}))
    data = windows_1252_file(ag)
    r = upload(ag.sa, ag.lic, data)
    assert_problem(r, 422, "unreadable_file")
    assert "Windows-1252" in r.body["detail"] and "16 rows" in r.body["detail"], r.body
    assert r.body["encoding"] == "windows-1252", r.body
    # As the upload dialog sends it: a background check that reads the names right.
    job = start(ag.sa, ag.lic, data, encoding="windows-1252", check_only="true", file_name="export.csv")
    job = finished(ag.sa, ag.lic, job["id"])
    assert job["status"] == 200 and job["result"]["error_count"] == 0, job
    r = upload(ag.sa, ag.lic, data, check_only="true", encoding="windows-1252")
    rep = report_of(r)
    assert r.status == 200 and rep["error_count"] == 0 and rep["rows"] == 17, rep
    r = upload(ag.sa, ag.lic, data, encoding="windows-1252")
    assert r.status == 201, r
    names = {n for (n,) in db_query(server, "SELECT name FROM subscriptions WHERE agreement_id = ?", (ag.id,))}
    assert "Zoë Müller 3" in names, names
    r = upload(ag.sa, ag.lic, data, check_only="true", encoding="latin-9")
    assert field_errors(r) == {"encoding": "invalid_value"}, r
    # UTF-8 stays the default and is accepted under its own name.
    r = upload(ag.sa, ag.lic, "Name,Sign-in Email\nAda," + addr("u8") + "\n", check_only="true", encoding="utf-8")
    assert r.status == 200, r


def test_a_workbook_that_is_not_a_zip(server):
    ag = with_defaults(agreement(server, {"enterprise": 5}))
    junk = bytes(range(256)) * 8
    r = upload(ag.sa, ag.lic, junk, XLSX)
    assert_problem(r, 422, "unreadable_file")
    assert "not an Excel file" in r.body["detail"], r.body
    # Told nothing, a file that is neither UTF-8 text nor a zip is not called a bad CSV either.
    r = upload(ag.sa, ag.lic, b"\x00\x01\x02binary\xff\xfe" * 40, "application/octet-stream")
    assert_problem(r, 422, "unreadable_file")
    assert "not an Excel file" in r.body["detail"] or "not a CSV" in r.body["detail"], r.body


def test_tab_inside_an_exported_cell_is_quoted(server):
    ag = with_defaults(agreement(server, {"enterprise": 5}))
    add(ag.sa, ag.lic, sign_in_email=addr("tab"), reference="Team\tBlue")
    raw = ag.sa.get(subs(ag.lic, "/export?format=csv")).raw
    assert b'"Team\tBlue"' in raw, raw


def test_a_wrong_level_country_or_language_names_what_is_allowed(server):
    """Each cell problem whose allowed values can be named says which field it is and, for a
    list, the values, so the French report can name them as the English message does."""
    ag = agreement(server, {"enterprise": 5, "professional": 5})
    rows = [["Name", "Sign-in Email", "Subscription Level", "Country", "Language", "Downloads"],
            ["Ada", addr("ada"), "Ultimate", "FR", "en", "Yes"],
            ["Grace", addr("grace"), "enterprise", "XX", "en", "Yes"],
            ["Alan", addr("alan"), "enterprise", "FR", "klingon", "Yes"],
            ["Edsger", addr("edsger"), "enterprise", "FR", "en", "Perhaps"]]
    r = upload(ag.sa, ag.lic, libreoffice_csv(rows).encode(), check_only="true")
    report = report_of(r)
    by_row = {e["row"]: e for e in report["errors"]}
    assert [by_row[n]["code"] for n in (2, 3, 4, 5)] == ["invalid_value"] * 4, report["errors"]
    assert by_row[2]["params"] == {"field": "level", "allowed": "enterprise, professional"}, by_row[2]
    assert by_row[3]["params"] == {"field": "country"}, by_row[3]
    assert by_row[4]["params"]["field"] == "language", by_row[4]
    assert by_row[4]["params"]["allowed"].split(", ")[:2] == ["en", "fr"], by_row[4]
    assert by_row[5]["params"] == {"field": "downloads"}, by_row[5]
