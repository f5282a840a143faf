"""Mail delivery: a relay that is down and comes back, and the Maildir fallback."""
import re
import time

from support import MAIL_POLL_MS
from support.accounts import signup, unique_email
from support.client import Client
from support.server import Maildir, free_port, poll, port_open


def outbox_listing(server, recipient):
    """Rows of `openseat outbox list` for `recipient`, as dicts with "attempts", "sent"
    (bool), "error" and the raw "line". The listing has a header line and then one row
    per message: id, recipient, template, language, attempts, next attempt, sent
    ("-" when not yet), last error (the rest of the line)."""
    p = server.cli("outbox", "list")
    lines = p.stdout.splitlines()
    assert lines and "attempts" in lines[0] and "error" in lines[0], f"no header:\n{p.stdout}"
    rows = []
    for l in lines[1:]:
        f = l.split(None, 7)
        if len(f) < 7 or f[1] != recipient:
            continue
        assert f[0].isdigit() and f[4].isdigit(), f"unreadable row: {l!r}"
        rows.append({"line": l, "attempts": int(f[4]), "sent": f[6] != "-",
                     "error": f[7].strip() if len(f) == 8 else ""})
    return rows, p.stdout


def outbox_depth(server):
    body = Client(server).get("/metrics").body
    vals = re.findall(r"^\w*outbox\w*(?:\{[^}]*\})?\s+(\S+)$", body, re.M)
    assert vals, f"no outbox gauge in /metrics:\n{body}"
    return float(vals[0])


def test_relay_down_then_back(server_factory, sink_factory):
    port = free_port()
    assert not port_open(port)
    srv = server_factory(smtp_url=f"smtp://127.0.0.1:{port}")
    addr = unique_email("relay")
    signup(Client(srv), addr)

    def failed_once():
        rows, out = outbox_listing(srv, addr)
        for r in rows:
            if r["attempts"] >= 1 and r["error"]:
                return rows
        return None

    try:
        rows = poll(failed_once, timeout=15, interval=0.2, what="a failed delivery attempt in `outbox list`")
    except BaseException:
        print("outbox list:\n" + outbox_listing(srv, addr)[1])
        raise
    assert len(rows) == 1, f"one queued message expected: {rows}"
    assert not rows[0]["sent"], rows

    # Nothing delivered anywhere (no silent fallback); the gauge counts the waiting message.
    assert not list((srv.data / "maildir").glob("*/*")), "mail went to the Maildir instead of the relay"
    assert outbox_depth(srv) >= 1, "the outbox gauge does not count the waiting mail"

    sink = sink_factory(port=port)
    srv.mail = sink.maildir
    srv.cli("outbox", "retry", "--all")
    mail = srv.wait_for_mail(addr, timeout=10)
    assert mail.token("/verify"), f"delivered mail is not the verification mail: {mail.text}"

    # Delivered exactly once, and the row is no longer pending.
    time.sleep(5 * MAIL_POLL_MS / 1000)
    assert sink.maildir.count(addr) == 1, f"mail delivered {sink.maildir.count(addr)} times"
    poll(lambda: outbox_depth(srv) == 0, timeout=5, what="the outbox gauge to drop to 0")
    rows, out = outbox_listing(srv, addr)
    assert len(rows) == 1 and rows[0]["sent"], f"the delivered mail is not marked sent:\n{out}"
    srv.cli("outbox", "retry", "--all")
    time.sleep(5 * MAIL_POLL_MS / 1000)
    assert sink.maildir.count(addr) == 1, "retry --all re-sent an already delivered mail"


def test_relay_down_does_not_block_requests(server_factory):
    port = free_port()
    srv = server_factory(smtp_url=f"smtp://127.0.0.1:{port}")
    c = Client(srv)
    t0 = time.monotonic()
    for i in range(3):
        signup(c, unique_email(f"nonblock{i}"))
    assert time.monotonic() - t0 < 5, "sign-up waited for the mail relay"
    assert c.get("/healthz").status == 200


def test_maildir_fallback(server_factory):
    srv = server_factory(smtp_url=None)
    addr = unique_email("maildir")
    signup(Client(srv), addr)
    md = Maildir(srv.data / "maildir")
    m = md.wait_for_mail(addr, timeout=10)
    assert m.key.startswith("new/"), m.key
    assert (srv.data / "maildir" / "new").is_dir()
    link = m.link("/verify")
    assert link and link.startswith(srv.url + "/verify?token="), m.links
    r = Client(srv).post("/api/v1/verify", {"token": m.token("/verify")})
    assert r.status == 200, r
    assert not list((srv.data / "maildir" / "tmp").iterdir()), "a message was left in maildir/tmp"
