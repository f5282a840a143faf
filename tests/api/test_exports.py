"""Files to download: the subscribers list exported as CSV or XLSX (with the list's own
filters and sort, every row exactly once, cells that a spreadsheet would run as formulas
defused in CSV), and the bulk-add templates (a header row; in XLSX, drop-downs fed by a
second sheet of allowed values). Both in the signed-in user's language.

The XLSX files are read back with openpyxl and, when LibreOffice is installed, converted to
CSV by it, and compared with the CSV export cell by cell."""
import contextlib
import csv
import datetime
import io
import json
import os
import shutil
import subprocess
import urllib.parse

import openpyxl
import pytest
from openpyxl.utils.escape import unescape

from support.accounts import addr, partner_user
from support.agreements import add_admin_in_db, agreement
from support.checks import assert_problem, field_errors
from support.client import Client
from support.db import db_query, db_write
from support.files import XLSX
from support.subscriptions import add, list_all, subs

BOM = b"\xef\xbb\xbf"
HEAD_EN = ["Name", "Sign-in Email", "Notification Email", "Subscription Level", "Reference", "Downloads",
           "Country", "Language", "Assigned", "Expires", "Subscription Id"]
HEAD_FR = ["Nom", "E-mail de connexion", "E-mail de notification", "Niveau d'abonnement", "Référence",
           "Téléchargements", "Pays", "Langue", "Attribué", "Expire", "ID d'abonnement"]
TEMPLATE_EN = [h for h in HEAD_EN if h not in ("Assigned", "Expires")]
TEMPLATE_FR = [h for h in HEAD_FR if h not in ("Attribué", "Expire")]
LANGUAGES = ["en", "fr", "de", "es", "it", "nl", "pt", "ja", "zh"]   # what a subscription may have


# ---------------------------------------------------------------------------------------
# Helpers


def today():
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d")


def export(client, lic, fmt="csv", expect=200, **params):
    r = client.get(subs(lic, "/export?" + urllib.parse.urlencode(dict(params, format=fmt))))
    if expect is not None:
        assert r.status == expect, f"export {fmt} {params}: want {expect}, got {r}"
    return r


def template(client, lic, fmt="csv", expect=200):
    r = client.get(subs(lic, f"/template?format={fmt}"))
    if expect is not None:
        assert r.status == expect, f"template {fmt}: want {expect}, got {r}"
    return r


def csv_rows(r, sep):
    """The rows of a CSV reply: UTF-8 after a byte-order mark, CRLF line ends, sep between fields."""
    assert r.content_type == "text/csv", r.headers.get("Content-Type")
    raw = r.raw
    assert raw.startswith(BOM), raw[:20]
    text = raw[len(BOM):].decode("utf-8")
    assert text.endswith("\r\n"), repr(text[-20:])
    return list(csv.reader(io.StringIO(text, newline=""), delimiter=sep, strict=True))


def workbook(r):
    assert r.content_type == XLSX, r.headers.get("Content-Type")
    assert r.raw[:2] == b"PK", r.raw[:20]
    return openpyxl.load_workbook(io.BytesIO(r.raw))


def sheet_rows(ws):
    """Cell values, blanks as "" (CSV has no blank/empty distinction); every value a string.
    XLSX writes control characters other than tab and line feed as _xHHHH_; openpyxl decodes
    them in shared strings but not in the inline strings of a constant-memory file."""
    out = []
    for row in ws.iter_rows(values_only=True):
        for v in row:
            assert v is None or isinstance(v, str), f"a cell that is not a string: {v!r} in {row}"
        out.append(["" if v is None else unescape(v) for v in row])
    return out


def defuse(s):
    """What the CSV export writes for a text: a leading apostrophe before a formula-like start."""
    return "'" + s if s[:1] in ("=", "+", "-", "@", "\t", "\r") and s else s


def expected_row(item, lang="en"):
    yes, no = ("Oui", "Non") if lang == "fr" else ("Yes", "No")
    return [item["name"], item["sign_in_email"], item["notification_email"] or "", item["level"],
            item["reference"] or "", yes if item["downloads"] else no, item["country"], item["language"],
            item["assigned"], item["expires"], item["id"]]


def disposition_name(r):
    cd = r.headers.get("Content-Disposition") or ""
    assert cd.startswith("attachment;"), cd
    plain = cd.split('filename="', 1)[1].split('"', 1)[0]
    star = urllib.parse.unquote(cd.split("filename*=UTF-8''", 1)[1].split(";", 1)[0])
    assert plain == star, cd
    return plain


def set_language(client, lang):
    r = client.patch("/api/v1/account", {"language": lang})
    assert r.status == 200 and r.body["user"]["language"] == lang, r


@contextlib.contextmanager
def in_french(server, ag):
    """The agreement's super admin, for a while a French user (a client on their session)."""
    fr = Client(server)
    fr.cookies = dict(ag.sa.cookies)
    set_language(fr, "fr")
    try:
        yield fr
    finally:
        set_language(fr, "en")


def exports_audited(server, ag):
    rows = db_query(server, "SELECT actor_user_id, details FROM audit_events WHERE action = 'subscriptions.exported'"
                            " AND agreement_id = ? ORDER BY id", (ag.id,))
    return [(uid, json.loads(d)) for uid, d in rows]


@pytest.fixture(scope="module")
def tricky(server):
    """An agreement whose subscribers hold what CSV must quote or defuse, and what a
    spreadsheet must keep as typed."""
    ag = agreement(server, {"enterprise": 20, "professional": 10})
    people = [
        dict(name='Comma, "Quoted" Name', reference="a,b;c"),
        dict(name="=HYPERLINK(\"http://evil.example\",\"x\")", reference="+1 555 0100"),
        dict(name="-Minus Sign", reference="@handle", downloads=False),
        dict(name="Line Break", reference="set below", level="professional"),
        dict(name="Zoë Ångström; Semi", reference="00123", notification_email=addr("notify", "mail.example")),
        dict(name="Plain Person", reference="", country="US", language="fr"),
        dict(name="Tabbed", reference="set below"),
        dict(name="Carriage", reference="set below"),
    ]
    ag.items = [add(ag.sa, ag.lic, sign_in_email=addr("t"), **p).body for p in people]
    # A leading tab or carriage return cannot come through the API (it trims), only from
    # elsewhere (an older import, the database), and must be quoted and defused all the same.
    for item, ref in ((ag.items[3], "first line\nsecond line"), (ag.items[6], "\tTabbed ref"),
                      (ag.items[7], "\rCR ref")):
        db_write(server, "UPDATE subscriptions SET reference = ? WHERE uuid = ?", (ref, item["id"]))
        item["reference"] = ref
    return ag


# ---------------------------------------------------------------------------------------
# CSV


def test_csv_export_english(server, tricky):
    ag = tricky
    r = export(ag.sa, ag.lic)
    assert disposition_name(r) == f"subscribers-{ag.lic}-{today()}.csv"
    assert r.headers.get("X-Content-Type-Options") == "nosniff"
    assert "default-src 'none'" in (r.headers.get("Content-Security-Policy") or "")
    assert r.headers.get("Cache-Control") == "no-store"
    assert int(r.headers.get("Content-Length")) == len(r.raw)
    rows = csv_rows(r, ",")
    assert rows[0] == HEAD_EN
    items, _ = list_all(ag.sa, ag.lic, limit=500)
    assert rows[1:] == [[defuse(c) for c in expected_row(s)] for s in items]
    # On the wire: RFC 4180 quoting, the formula-like cells behind an apostrophe.
    text = r.raw[len(BOM):].decode()
    assert '"Comma, ""Quoted"" Name",' in text
    assert '"\'=HYPERLINK(""http://evil.example"",""x"")"' in text
    assert "'-Minus Sign," in text and ",'@handle," in text and ",'+1 555 0100," in text
    assert '"first line\nsecond line"' in text
    assert ",\"'\tTabbed ref\"," in text and "\"'\rCR ref\"" in text
    assert "\r\nZoë Ångström; Semi," in text and ",00123," in text   # ";" needs no quotes with ","
    assert text.count("\r\n") == len(items) + 1                 # the header and a line per row


def test_csv_export_french(server, tricky):
    ag = tricky
    with in_french(server, ag) as fr:
        r = export(fr, ag.lic)
    rows = csv_rows(r, ";")
    assert rows[0] == HEAD_FR
    items, _ = list_all(ag.sa, ag.lic, limit=500)
    assert rows[1:] == [[defuse(c) for c in expected_row(s, "fr")] for s in items]
    text = r.raw[len(BOM):].decode()
    assert '"Zoë Ångström; Semi";' in text and ";\"a,b;c\";" in text
    assert "Comma, \"\"Quoted\"\" Name" in text and text.splitlines()[0].count(";") == len(HEAD_FR) - 1


@pytest.mark.parametrize("params", [
    {"level": "professional"},
    {"country": "US"},
    {"downloads": "false"},
    {"q": "semi"},
    {"sort": "sign_in_email", "order": "desc"},
    {"sort": "reference"},
    {"sort": "downloads", "order": "desc", "level": "enterprise"},
])
def test_export_honours_filters_and_sort(server, tricky, params):
    ag = tricky
    items, _ = list_all(ag.sa, ag.lic, limit=500, **params)
    assert items or params.get("q"), params
    rows = csv_rows(export(ag.sa, ag.lic, **params), ",")
    assert [row[-1] for row in rows[1:]] == [s["id"] for s in items], params


def test_export_bad_parameters(server, tricky):
    ag = tricky
    for query, field, code in [("format=pdf", "format", "invalid_value"), ("format=CSV", "format", "invalid_value"),
                               ("", "format", "required"), ("format=", "format", "required"),
                               ("format=csv&sort=bogus", "sort", "invalid_value"),
                               ("format=xlsx&order=up", "order", "invalid_value"),
                               ("format=csv&downloads=maybe", "downloads", "invalid_value")]:
        fe = field_errors(ag.sa.get(subs(ag.lic, "/export?" + query)))
        assert fe.get(field) == code, (query, fe)
    fe = field_errors(ag.sa.get(subs(ag.lic, "/template?format=pdf")))
    assert fe == {"format": "invalid_value"}, fe
    fe = field_errors(ag.sa.get(subs(ag.lic, "/template")))
    assert fe == {"format": "required"}, fe
    # Nothing exported, nothing recorded.
    assert all(d["format"] in ("csv", "xlsx") for _, d in exports_audited(server, ag))


def test_every_row_exactly_once(server):
    """1,200 rows: three pages of the walk, with names all equal so that the pages' seams
    fall inside runs of ties; and in reverse order."""
    ag = agreement(server, {"enterprise": 2000})
    db_write(server,
             "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 1200)"
             " INSERT INTO subscriptions (uuid, agreement_id, level_id, name, sign_in_email, country, language,"
             " downloads, reference, assigned_at, expires_on, updated_at, search)"
             " SELECT '00000000-0000-4000-8000-' || substr(CAST(1000000000000 + ? * 10000 + i AS TEXT), 2), ?, l.id, 'Bulk', 'bulk' || i"
             " || '@contoso.example', 'JP', 'en', i % 2, 'ref ' || (i % 7), 0, '2030-01-01', 0, ' bulk'"
             " FROM n, levels l WHERE l.code = 'enterprise'", (ag.id, ag.id))
    db_write(server, "UPDATE pools SET assigned = assigned + 1200 WHERE agreement_id = ?", (ag.id,))
    want = {r[0] for r in db_query(server, "SELECT uuid FROM subscriptions WHERE agreement_id = ?", (ag.id,))}
    assert len(want) == 1200
    for params in ({}, {"order": "desc"}, {"sort": "reference"}, {"sort": "downloads", "order": "desc"}):
        rows = csv_rows(export(ag.sa, ag.lic, **params), ",")
        ids = [row[-1] for row in rows[1:]]
        assert len(ids) == 1200 and set(ids) == want, (params, len(ids), len(set(ids)))
        items, _ = list_all(ag.sa, ag.lic, limit=500, **params)
        assert ids == [s["id"] for s in items], params
    # The same rows in the workbook.
    ws = workbook(export(ag.sa, ag.lic, "xlsx")).worksheets[0]
    assert ws.max_row == 1201
    assert {row[-1] for row in sheet_rows(ws)[1:]} == want
    details = [d for _, d in exports_audited(server, ag)]
    assert details == [{"rows": 1200, "format": "csv"}] * 4 + [{"rows": 1200, "format": "xlsx"}], details


# ---------------------------------------------------------------------------------------
# XLSX


def test_xlsx_export_matches_csv(server, tricky):
    ag = tricky
    r = export(ag.sa, ag.lic, "xlsx")
    assert disposition_name(r) == f"subscribers-{ag.lic}-{today()}.xlsx"
    assert r.headers.get("X-Content-Type-Options") == "nosniff"
    wb = workbook(r)
    assert wb.sheetnames == ["Subscribers"]
    ws = wb.worksheets[0]
    rows = sheet_rows(ws)
    assert rows[0] == HEAD_EN
    assert all(c.font.b for c in ws[1]), "the header row is bold"
    assert ws.freeze_panes == "A2"
    assert all((ws.column_dimensions[openpyxl.utils.get_column_letter(i + 1)].width or 0) >= 8
               for i in range(len(HEAD_EN)))
    # Cell by cell: what the CSV holds, without its formula guards (a string cell is never run).
    csv_text = csv_rows(export(ag.sa, ag.lic), ",")
    assert len(rows) == len(csv_text)
    for x_row, c_row in zip(rows, csv_text):
        assert [defuse(c) for c in x_row] == c_row
    # Strings stay strings: no number from "00123", no formula from "=…".
    by_name = {row[0]: row for row in rows}
    assert by_name["Zoë Ångström; Semi"][4] == "00123"
    assert by_name['=HYPERLINK("http://evil.example","x")'][0].startswith("=")
    assert all(c.data_type == "s" for row in ws.iter_rows(min_row=2) for c in row if c.value is not None)


def test_xlsx_export_french(server, tricky):
    ag = tricky
    with in_french(server, ag) as fr:
        wb = workbook(export(fr, ag.lic, "xlsx", sort="name", order="desc"))
        csv_fr = csv_rows(export(fr, ag.lic, sort="name", order="desc"), ";")
    assert wb.sheetnames == ["Abonnés"]
    rows = sheet_rows(wb.worksheets[0])
    assert rows[0] == HEAD_FR
    assert [[defuse(c) for c in row] for row in rows] == csv_fr
    assert {row[5] for row in rows[1:]} == {"Oui", "Non"}


def test_libreoffice_reads_the_xlsx_export_as_the_csv_export(server, tricky, tmp_path):
    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    if not soffice:
        pytest.skip("LibreOffice (soffice) is not installed: the check of the XLSX export by a second reader is skipped")
    ag = tricky
    src = tmp_path / "subscribers.xlsx"
    src.write_bytes(export(ag.sa, ag.lic, "xlsx").raw)
    want = csv_rows(export(ag.sa, ag.lic), ",")
    home = tmp_path / "home"
    home.mkdir()
    out = tmp_path / "out"
    env = dict(os.environ, HOME=str(home))
    # 44: ',' between fields; 34: '"' around text; 76: UTF-8.
    p = subprocess.run([soffice, "--headless", "--norestore", f"-env:UserInstallation=file://{home}/lo",
                        "--convert-to", "csv:Text - txt - csv (StarCalc):44,34,76", "--outdir", str(out), str(src)],
                       capture_output=True, text=True, timeout=300, env=env)
    conv = out / "subscribers.csv"
    assert p.returncode == 0 and conv.exists(), f"soffice exited {p.returncode}: {p.stdout}\n{p.stderr}"
    text = conv.read_bytes().decode("utf-8").removeprefix("\ufeff")
    got = list(csv.reader(io.StringIO(text, newline="")))
    assert len(got) == len(want), (len(got), len(want))
    for g, w in zip(got, want):
        assert [defuse(c) for c in g] == w


# ---------------------------------------------------------------------------------------
# Templates


def test_csv_templates(server, tricky):
    ag = tricky
    r = template(ag.sa, ag.lic)
    assert disposition_name(r) == f"subscribers-template-{ag.lic}.csv"
    assert csv_rows(r, ",") == [TEMPLATE_EN]
    with in_french(server, ag) as fr:
        r = template(fr, ag.lic)
    assert csv_rows(r, ";") == [TEMPLATE_FR]
    assert r.raw == BOM + (";".join(TEMPLATE_FR) + "\r\n").encode()
    # Downloading a template is not an export of anyone's data.
    assert not [d for _, d in exports_audited(server, ag) if d["rows"] == 0]


def validations(ws):
    """{sqref: formula1} of the sheet's list validations."""
    out = {}
    for dv in ws.data_validations.dataValidation:
        assert dv.type == "list", dv
        out[str(dv.sqref)] = dv.formula1
    return out


def range_values(wb, formula):
    """The values of a "'Sheet'!$A$2:$A$9" range."""
    sheet, cells = formula.lstrip("=").split("!")
    ws = wb[sheet.strip("'")]
    return [c.value for row in ws[cells.replace("$", "")] for c in row]


@pytest.mark.parametrize("lang", ["en", "fr"])
def test_xlsx_template(server, lang):
    ag = agreement(server, {"professional": 5, "enterprise": 3})
    if lang == "fr":
        set_language(ag.sa, "fr")
    r = template(ag.sa, ag.lic, "xlsx")
    assert disposition_name(r) == f"subscribers-template-{ag.lic}.xlsx"
    wb = workbook(r)
    main, lists = ("Abonnés", "Listes") if lang == "fr" else ("Subscribers", "Lists")
    assert wb.sheetnames == [main, lists]
    ws = wb[main]
    head = TEMPLATE_FR if lang == "fr" else TEMPLATE_EN
    assert sheet_rows(ws) == [head]
    assert all(c.font.b for c in ws[1]) and ws.freeze_panes == "A2"
    # A drop-down under each of level, downloads, country and language, down to the last row.
    v = validations(ws)
    col = {name: openpyxl.utils.get_column_letter(head.index(name) + 1) for name in head}
    level, downloads, country, language = head[3], head[5], head[6], head[7]
    assert set(v) == {f"{col[h]}2:{col[h]}1048576" for h in (level, downloads, country, language)}, v
    got = {h: range_values(wb, v[f"{col[h]}2:{col[h]}1048576"]) for h in (level, downloads, country, language)}
    levels = [r[0] for r in db_query(server, "SELECT l.code FROM pools p JOIN levels l ON l.id = p.level_id"
                                             " WHERE p.agreement_id = ? ORDER BY l.sort", (ag.id,))]
    assert got[level] == levels and sorted(levels) == ["enterprise", "professional"]
    assert got[downloads] == (["Oui", "Non"] if lang == "fr" else ["Yes", "No"])
    assert got[language] == LANGUAGES
    countries = got[country]
    assert len(countries) == 249 and len(set(countries)) == 249 and countries == sorted(countries)
    assert {"FR", "US", "DE", "JP", "AX", "SS", "ZW"} <= set(countries) and "XK" not in countries
    assert all(len(c) == 2 and c.isupper() for c in countries)
    # The lists sheet names its columns.
    assert [c.value for c in wb[lists][1]] == [level, downloads, country, language]


def test_template_offers_only_the_agreements_levels(server):
    ag = agreement(server, {"professional": 1})
    wb = workbook(template(ag.sa, ag.lic, "xlsx"))
    ws = wb.worksheets[0]
    (formula,) = [f for ref, f in validations(ws).items() if ref.startswith("D2:")]
    assert range_values(wb, formula) == ["professional"]


# ---------------------------------------------------------------------------------------
# Who may download


def test_roles_and_read_only_agreements(server):
    ag = agreement(server, {"enterprise": 3})
    add(ag.sa, ag.lic, name="Only One")
    admin = add_admin_in_db(server, ag)
    for who in (ag.sa, admin, ag.seller):
        rows = csv_rows(export(who, ag.lic), ",")
        assert [row[0] for row in rows[1:]] == ["Only One"]
        workbook(template(who, ag.lic, "xlsx"))
    # Past its grace period an agreement can no longer be changed, but still be exported.
    db_write(server, "UPDATE agreements SET end_date = '2020-01-01' WHERE id = ?", (ag.id,))
    assert len(csv_rows(export(ag.sa, ag.lic), ",")) == 2
    assert len(sheet_rows(workbook(export(ag.seller, ag.lic, "xlsx")).worksheets[0])) == 2
    template(admin, ag.lic)
    audited = exports_audited(server, ag)
    assert [uid for uid, _ in audited] == [ag.sa.user["id"], admin.user["id"], ag.seller.user["id"],
                                          ag.sa.user["id"], ag.seller.user["id"]], audited
    assert [d for _, d in audited] == [{"rows": 1, "format": "csv"}] * 4 + [{"rows": 1, "format": "xlsx"}]


def test_export_audit_row(server, tricky):
    ag = tricky
    before = len(exports_audited(server, ag))
    r = export(ag.sa, ag.lic, "xlsx", level="professional")
    rows = db_query(server, "SELECT actor_user_id, actor_email, target_type, request_id, details FROM audit_events"
                            " WHERE action = 'subscriptions.exported' AND agreement_id = ? ORDER BY id", (ag.id,))
    assert len(rows) == before + 1
    uid, email_addr, target_type, request_id, details = rows[-1]
    assert (uid, email_addr, target_type) == (ag.sa.user["id"], ag.sa.email, "agreement")
    assert request_id == r.headers.get("X-Request-Id")
    assert json.loads(details) == {"rows": 1, "format": "xlsx"}


def test_other_agreements_anonymous_and_unknown(server, tricky):
    ag = tricky
    other = agreement(server, {"enterprise": 1})
    for path in ("/export?format=csv", "/export?format=xlsx", "/template?format=xlsx"):
        assert_problem(other.sa.get(subs(ag.lic, path)), 404)
        assert_problem(partner_user(server).get(subs(ag.lic, path)), 404)
        assert_problem(Client(server).get(subs(ag.lic, path)), 401, "unauthenticated")
        assert_problem(ag.sa.get(subs("99999999", path)), 404)
    # Only GET (and HEAD).
    r = ag.sa.post(subs(ag.lic, "/export?format=csv"), {})
    assert r.status in (404, 405), r
    assert not [u for u, _ in exports_audited(server, ag) if u == other.sa.user["id"]]


def test_head_gives_the_headers_only(server, tricky):
    ag = tricky
    r = ag.sa.request("HEAD", subs(ag.lic, "/template?format=xlsx"))
    assert r.status == 200 and r.raw == b"", r
    assert r.content_type == XLSX
    assert int(r.headers.get("Content-Length")) > 0
    assert disposition_name(r) == f"subscribers-template-{ag.lic}.xlsx"
    # The length of the export it would send, and no export recorded: nothing left the server.
    before = len(exports_audited(server, ag))
    r = ag.sa.request("HEAD", subs(ag.lic, "/export?format=csv"))
    assert r.status == 200 and r.raw == b"", r
    assert int(r.headers.get("Content-Length")) == len(export(ag.sa, ag.lic).raw)
    assert len(exports_audited(server, ag)) == before + 1   # the GET only
