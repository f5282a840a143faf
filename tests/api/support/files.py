"""Files in and out: uploads to the bulk routes, CSV written and read the way a spreadsheet
does (UTF-8 with a BOM, CRLF), the subscribers export, and uploads processed in the background
as jobs (started, then polled until they end)."""
import csv
import io
import urllib.parse

from support.server import poll
from support.subscriptions import PREFS, subs

CSV = "text/csv"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def upload(client, lic, data, content_type=CSV, **params):
    """POST a file to the bulk add (synchronously)."""
    q = "&".join(f"{k}={v}" for k, v in params.items())
    return client.request("POST", subs(lic, "/bulk") + ("?" + q if q else ""), body=data, content_type=content_type)


def with_defaults(ag, level="enterprise"):
    """Preferences that fill the level, country and language columns a file leaves out."""
    r = ag.sa.put(PREFS.format(ag.lic), {"default_level": level, "default_country": "FR", "default_language": "en"})
    assert r.status == 200, r
    return ag


def people(ag, n, start_at=0):
    """A CSV of n new subscribers (name and sign-in address only) unique to the agreement."""
    return "Name,Sign-in Email\n" + "".join(f"Person {i},p{i}.{ag.id}@contoso.example\n"
                                             for i in range(start_at, start_at + n))


def to_csv(header, rows):
    """A CSV file as a spreadsheet writes it; rows are dicts by column (missing: empty) or lists."""
    out = io.StringIO(newline="")
    w = csv.writer(out, lineterminator="\r\n")
    w.writerow(header)
    for row in rows:
        w.writerow([row.get(h, "") for h in header] if isinstance(row, dict) else row)
    return "\ufeff" + out.getvalue()


def read_csv(resp):
    """The rows of a CSV answer (200, text/csv, a UTF-8 BOM first)."""
    assert resp.status == 200, resp
    assert resp.content_type == "text/csv", resp.headers.get("Content-Type")
    raw = resp.raw
    assert raw.startswith(b"\xef\xbb\xbf"), f"CSV without a UTF-8 BOM: {raw[:20]!r}"
    return list(csv.reader(io.StringIO(raw[3:].decode("utf-8"), newline="")))


def export_rows(client, lic):
    """The CSV export (English headers for these users) as a header and a list of dicts."""
    r = client.get(subs(lic, "/export?format=csv"))
    assert r.status == 200, r
    text = r.raw.decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text, newline="")))
    return rows[0], [dict(zip(rows[0], row)) for row in rows[1:]]


# --------------------------------------------------------------------------------------
# Background jobs


def jobs(lic, tail=""):
    return f"/api/v1/agreements/{lic}/jobs{tail}"


def start(client, lic, data, kind="/bulk", **params):
    """Upload `data` to the bulk route `kind` with background=true: the job as first answered."""
    q = urllib.parse.urlencode({"background": "true", **params}, quote_via=urllib.parse.quote)
    ctype = XLSX if isinstance(data, bytes) and data[:2] == b"PK" else CSV
    r = client.request("POST", subs(lic, kind) + "?" + q, body=data, content_type=ctype)
    assert r.status == 202, r
    assert r.headers.get("Location") == jobs(lic, "/" + r.body["id"]), r.headers
    assert r.body["state"] in ("queued", "running", "done"), r.body
    return r.body


def finished(client, lic, job_id, timeout=60):
    """The job once it is done or failed (polled)."""
    def done():
        r = client.get(jobs(lic, "/" + job_id))
        assert r.status == 200, r
        return r.body if r.body["state"] in ("done", "failed") else None
    return poll(done, timeout=timeout, interval=0.05, what=f"job {job_id} to finish")


def report_of(r):
    """The report of an upload's answer: 200/201 carry it as the body, a refusal inside the problem."""
    if r.status == 422:
        assert r.body.get("code") == "bulk_rejected", r
        return r.body["report"]
    assert r.status in (200, 201), r
    return r.body
