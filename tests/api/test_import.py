"""`openseat import agreements FILE.csv`: agreements placed upstream, imported all or
nothing, then visible in the licensing center to the named partner's members."""
import re

from support import SANITIZER_MARKERS
from support.accounts import new_partner, partner_add, signup_and_verify, unique_email
from support.agreements import CSV_HEADER, lic_path, new_authno, new_license
from support.checks import assert_problem
from support.client import Client
from support.db import db_count

RELATIONSHIPS = "/api/v1/lsc/relationships"


def grouped(authno):
    a = re.sub(r"[\s.-]", "", authno).upper()
    return f"{a[:5]}-{a[5:9]}-{a[9:]}"


def quote(v, sep):
    v = str(v)
    if any(ch in v for ch in (sep, '"', "\n", "\r", ",", ";")):
        return '"' + v.replace('"', '""') + '"'
    return v


def write_csv(path, rows, header=CSV_HEADER, sep=";", bom=True, eol="\r\n"):
    """rows: dicts by column name (missing columns are empty), or lists taken as they are."""
    lines = [sep.join(quote(h, sep) for h in header)]
    for r in rows:
        cells = r if isinstance(r, list) else [r.get(h, "") for h in header]
        lines.append(sep.join(quote(c, sep) for c in cells))
    data = (eol.join(lines) + eol).encode("utf-8")
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + data)
    return path


def row(partner, **kw):
    r = {"license_number": new_license(), "authorization_number": new_authno(),
         "customer_name": "Adatum Corporation", "customer_country": "FR",
         "customer_email": unique_email("cust").replace("@example.com", "@adatum.example"),
         "partner_name": partner, "start_date": "2025-01-01", "end_date": "2027-12-31",
         "lines": "enterprise:10;platforms:3"}
    r.update(kw)
    return r


def run_import(server, path, expect_rc=0):
    p = server.cli("import", "agreements", str(path), check=False, timeout=60)
    for m in SANITIZER_MARKERS:
        assert m not in p.stderr, f"sanitizer report from import:\n{p.stderr}"
    assert p.returncode == expect_rc, \
        f"import exited {p.returncode}, want {expect_rc}\nstdout:\n{p.stdout}\nstderr:\n{p.stderr}"
    return p


def error_lines(stderr):
    """{(row, column)} of the `row N, column C: reason` lines."""
    return {(int(m.group(1)), m.group(2)) for m in re.finditer(r"^row (\d+), column ([a-z_]+): \S", stderr, re.M)}


def partner_name():
    return "Litware Reseller " + unique_email("p").split("@")[0]


# ---------------------------------------------------------------------------------------


def test_import_with_server_stopped_then_visible_to_partner(server_factory, tmp_path):
    srv = server_factory(start=False)
    pname = partner_name()
    r1 = row(pname, customer_name="Adatum, Inc.", authorization_number=grouped(new_authno()).lower(),
             customer_email="IT@Adatum.Example")
    r2 = row(pname, customer_name='Tailspin "Toys"; Europe', customer_country="BE",
             authorization_number=grouped(new_authno()).replace("-", " "),
             start_date="2020-03-01", end_date="2023-02-28", lines="professional:5;test_professional:2;professional:1")
    path = write_csv(tmp_path / "agreements.csv", [r1, r2])
    assert path.read_bytes().startswith(b"\xef\xbb\xbf")

    out = run_import(srv, path)
    assert "imported 2" in out.stdout, out.stdout
    assert db_count(srv, "agreements") == 2

    p_email = unique_email("litware")
    partner_add(srv, pname, p_email, "")
    srv.start()
    p = Client(srv)
    signup_and_verify(p, p_email)

    r = p.get(RELATIONSHIPS)
    assert r.status == 200, r
    got = {a["license_number"]: a for a in r.body["agreements"]}
    assert set(got) == {r1["license_number"], r2["license_number"]}, r.body
    assert all(a["relation"] == "partner" for a in got.values())
    assert got[r1["license_number"]]["status"] == "active"
    assert got[r2["license_number"]]["status"] == "expired"

    d = p.get(lic_path(r1["license_number"])).body
    assert d["authorization_number"] == grouped(r1["authorization_number"])
    assert d["customer"] == {"name": "Adatum, Inc.", "country": "FR"}
    assert d["customer_email"] == "it@adatum.example"
    assert d["partner"]["name"] == pname
    assert (d["start_date"], d["end_date"]) == ("2025-01-01", "2027-12-31")
    assert {x["level"]: x["purchased"] for x in d["pools"]} == {"enterprise": 10, "platforms": 3}
    assert d["program"] == "Open License"

    d = p.get(lic_path(r2["license_number"])).body
    assert d["authorization_number"] == grouped(r2["authorization_number"])
    assert d["customer"] == {"name": 'Tailspin "Toys"; Europe', "country": "BE"}
    assert {x["level"]: x["purchased"] for x in d["pools"]} == {"professional": 6, "test_professional": 2}
    assert d["status"] == "expired"

    # The customer of the first row becomes its super admin at first sign-in.
    c = Client(srv)
    signup_and_verify(c, "it@adatum.example")
    ag = c.get("/api/v1/agreements").body["agreements"]
    assert [(a["license_number"], a["role"]) for a in ag] == [(r1["license_number"], "super_admin")]
    assert c.get(lic_path(r1["license_number"])).body["authorization_number"] == grouped(r1["authorization_number"])

    # Another partner sees none of them.
    q, _, _ = new_partner(srv)
    assert q.get(RELATIONSHIPS).body == {"agreements": []}
    assert_problem(q.get(lic_path(r1["license_number"])), 404, "not_found")


def test_import_while_server_runs(server, tmp_path):
    pname = partner_name()
    p, _, _ = new_partner(server, org=pname, country="")
    r1, r2 = row(pname), row(pname, customer_name="Northwind Traders", customer_country="GB")
    path = write_csv(tmp_path / "comma.csv", [r1, r2], sep=",", bom=False, eol="\n")
    out = run_import(server, path)
    assert "imported 2" in out.stdout
    lics = {a["license_number"] for a in p.get(RELATIONSHIPS).body["agreements"]}
    assert lics == {r1["license_number"], r2["license_number"]}
    d = p.get(lic_path(r2["license_number"])).body
    assert d["authorization_number"] == grouped(r2["authorization_number"])
    assert d["customer"] == {"name": "Northwind Traders", "country": "GB"}


def test_bad_rows_import_nothing_and_are_all_reported(server, tmp_path):
    pname = partner_name()
    good = row(pname)
    rows = [
        good,                                                                   # row 2
        row(pname, license_number="1234567", authorization_number="ABCDE-FGHJ-KMNP0",
            customer_email="not-an-address"),                                   # row 3
        row(pname, start_date="2026-02-30", end_date="31/12/2027", lines="gold:3"),  # row 4
        row(pname, customer_country="fra", customer_name="", lines="enterprise:0"),  # row 5
        row(pname, license_number="4031827a", authorization_number="ABCDE-FGHJ-KMNPQR",
            start_date="2027-01-01", end_date="2026-01-01", lines="enterprise"),   # row 6
        row(pname, partner_name=" ", customer_email="", lines=""),              # row 7
    ]
    path = write_csv(tmp_path / "bad.csv", rows)
    before = db_count(server, "agreements")
    out = run_import(server, path, expect_rc=1)
    errs = error_lines(out.stderr)
    want = {
        (3, "license_number"), (3, "authorization_number"), (3, "customer_email"),
        (4, "start_date"), (4, "end_date"), (4, "lines"),
        (5, "customer_country"), (5, "customer_name"), (5, "lines"),
        (6, "license_number"), (6, "authorization_number"), (6, "end_date"), (6, "lines"),
        (7, "partner_name"), (7, "customer_email"), (7, "lines"),
    }
    missing = want - errs
    assert not missing, f"not reported: {sorted(missing)}\nstderr:\n{out.stderr}"
    assert not {e for e in errs if e[0] == 2}, f"the good row was reported:\n{out.stderr}"
    assert "nothing was imported" in out.stderr
    assert db_count(server, "agreements") == before
    assert db_count(server, "agreements", "license_number = ?", (good["license_number"],)) == 0
    assert db_count(server, "organizations", "name = ?", (pname,)) == 0


def test_one_bad_row_blocks_the_good_one(server, tmp_path):
    pname = partner_name()
    good, bad = row(pname), row(pname, customer_email="it@@adatum")
    before = db_count(server, "agreements")
    out = run_import(server, write_csv(tmp_path / "one.csv", [good, bad]), expect_rc=1)
    assert error_lines(out.stderr) == {(3, "customer_email")}, out.stderr
    assert db_count(server, "agreements") == before


def test_duplicate_license_numbers_are_reported(server, tmp_path):
    pname = partner_name()
    existing = row(pname)
    run_import(server, write_csv(tmp_path / "first.csv", [existing]))
    fresh = new_license(server)
    rows = [
        row(pname, license_number=existing["license_number"]),    # row 2: already imported
        row(pname, license_number=fresh),                          # row 3
        row(pname, license_number=f" {fresh} "),                   # row 4: repeats row 3
    ]
    before = db_count(server, "agreements")
    out = run_import(server, write_csv(tmp_path / "dups.csv", rows), expect_rc=1)
    errs = error_lines(out.stderr)
    assert (2, "license_number") in errs, out.stderr
    assert (4, "license_number") in errs, out.stderr
    assert (3, "license_number") not in errs, out.stderr
    assert "row 3" in out.stderr.split("row 4, column license_number", 1)[1].splitlines()[0], \
        f"the repeat should name the row it repeats:\n{out.stderr}"
    assert db_count(server, "agreements") == before
    assert db_count(server, "agreements", "license_number = ?", (fresh,)) == 0


def test_duplicate_authorization_numbers_are_reported(server, tmp_path):
    pname = partner_name()
    existing = row(pname)
    run_import(server, write_csv(tmp_path / "first.csv", [existing]))
    shared = new_authno()
    rows = [
        row(pname, authorization_number=existing["authorization_number"].lower()),  # row 2: already used
        row(pname, authorization_number=shared),                                     # row 3
        row(pname, authorization_number=grouped(shared)),                            # row 4: repeats row 3
    ]
    before = db_count(server, "agreements")
    out = run_import(server, write_csv(tmp_path / "dupauth.csv", rows), expect_rc=1)
    errs = error_lines(out.stderr)
    assert db_count(server, "agreements") == before
    assert {(2, "authorization_number"), (4, "authorization_number")} <= errs, \
        f"duplicate authorization numbers must be reported by row and column:\n{out.stderr}"


def test_missing_column_is_named(server, tmp_path):
    pname = partner_name()
    for col in ("end_date", "authorization_number", "lines"):
        header = [h for h in CSV_HEADER if h != col]
        r = row(pname)
        path = write_csv(tmp_path / f"no_{col}.csv", [[r[h] for h in header]], header=header)
        before = db_count(server, "agreements")
        out = run_import(server, path, expect_rc=1)
        assert col in out.stderr, f"missing column {col} not named:\n{out.stderr}"
        assert db_count(server, "agreements") == before


def test_header_names_are_matched_loosely(server, tmp_path):
    """Header names in any case, with spaces around, in any order."""
    pname = partner_name()
    p, _, _ = new_partner(server, org=pname, country="")
    header = list(reversed(CSV_HEADER))
    r = row(pname)
    path = write_csv(tmp_path / "loose.csv", [[r[h] for h in header]],
                     header=[f" {h.upper()} " for h in header])
    out = run_import(server, path)
    assert "imported 1" in out.stdout
    d = p.get(lic_path(r["license_number"])).body
    assert d["authorization_number"] == grouped(r["authorization_number"])


def test_unreadable_or_empty_files(server, tmp_path):
    before = db_count(server, "agreements")
    run_import(server, tmp_path / "does-not-exist.csv", expect_rc=1)
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    run_import(server, empty, expect_rc=1)
    bom_only = tmp_path / "bom.csv"
    bom_only.write_bytes(b"\xef\xbb\xbf")
    run_import(server, bom_only, expect_rc=1)
    bad_quote = tmp_path / "quote.csv"
    bad_quote.write_bytes((";".join(CSV_HEADER) + "\n12345678;\"unterminated\n").encode())
    out = run_import(server, bad_quote, expect_rc=1)
    assert "row" in out.stderr
    assert db_count(server, "agreements") == before
