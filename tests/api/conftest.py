"""Fixtures and helpers for the API tests.

Every test talks to a real `openseat serve` process on 127.0.0.1 with its own data
directory, and (unless a test says otherwise) to a real SMTP sink (aiosmtpd writing a
Maildir). Only the standard library, pytest and aiosmtpd are used (and psycopg2 when the
tests run on PostgreSQL).

Environment:
  OPENSEAT_BIN      the server binary (default: build/openseat-test in the repository root;
                    a relative path is taken relative to the repository root)
  OPENSEAT_TEST_PG  a PostgreSQL base URL without database name, e.g.
                    postgres://postgres@127.0.0.1:5432 (see tests/pg/cluster.sh). When set,
                    every server gets a database of its own there (created before it starts,
                    dropped at fixture teardown) instead of the SQLite file DATA/openseat.db;
                    db_query/db_write/db_count then run on it through psycopg2, and tests
                    marked sqlite_only are skipped (pg_only ones run).
"""
import decimal
import email
import email.policy
import email.utils
import http.client
import json
import mailbox
import os
import re
import signal
import socket
import subprocess
import threading
import time
import urllib.parse
from http.cookies import SimpleCookie
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
HOST = "127.0.0.1"
PYTHON = "/usr/bin/python3"
MAIL_POLL_MS = 100
DEFAULT_PASSWORD = "correct horse battery"
DEFAULT_NAME = "Ada Lovelace"

# Strings that a sanitizer (ASan, UBSan, LSan) writes to stderr when it finds something.
SANITIZER_MARKERS = (
    "ERROR: AddressSanitizer",
    "ERROR: LeakSanitizer",
    "runtime error:",
    "SUMMARY: UndefinedBehaviorSanitizer",
    "SUMMARY: AddressSanitizer",
)


# --------------------------------------------------------------------------------------
# Database backend: SQLite (default) or PostgreSQL (OPENSEAT_TEST_PG)

PG_BASE = os.environ.get("OPENSEAT_TEST_PG", "").strip().rstrip("/") or None
PG_MODE = PG_BASE is not None
BACKEND = "postgresql" if PG_MODE else "sqlite"

_pg_seq = [0]
_pg_lock = threading.Lock()
_pg_databases = set()          # created and not dropped yet (dropped at session end at the latest)


def pg_connect(dbname):
    import psycopg2
    con = psycopg2.connect(f"{PG_BASE}/{dbname}", connect_timeout=10)
    con.autocommit = True
    return con


def _pg_admin(sql):
    """One statement on the cluster's `postgres` database (creating, dropping databases)."""
    con = pg_connect("postgres")
    try:
        with con.cursor() as cur:
            cur.execute(sql)
    finally:
        con.close()


def pg_create_database(prefix="t"):
    """A new, empty database of a unique name on the test cluster; returns its name."""
    with _pg_lock:
        _pg_seq[0] += 1
        name = f"{prefix}_{os.getpid()}_{_pg_seq[0]}"
    _pg_admin(f'CREATE DATABASE "{name}"')
    _pg_databases.add(name)
    return name


def pg_drop_database(name):
    _pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    _pg_databases.discard(name)


def pg_sql(sql, params):
    """SQLite-style SQL (? placeholders) for psycopg2 (%s placeholders, % doubled when there
    are parameters). Numbered placeholders (?1) are SQLite-only: write plain ? instead."""
    out, quote, i = [], None, 0
    while i < len(sql):
        ch = sql[i]
        if quote:
            if ch == quote:
                quote = None
        elif ch in ("'", '"'):
            quote = ch
        elif ch == "?":
            if i + 1 < len(sql) and sql[i + 1].isdigit():
                raise ValueError(f"numbered placeholder in {sql!r}: not portable, use ?")
            out.append("%s")
            i += 1
            continue
        out.append("%%" if ch == "%" and params else ch)
        i += 1
    return "".join(out)


def _pg_value(v):
    """The value as Python's sqlite3 would give it for the same column."""
    if isinstance(v, memoryview):
        return v.tobytes()
    if isinstance(v, bool):
        return int(v)
    if isinstance(v, decimal.Decimal):
        return int(v) if v == v.to_integral_value() else float(v)
    return v


def server_binary():
    b = os.environ.get("OPENSEAT_BIN")
    if not b:
        return ROOT / "build" / "openseat-test"
    p = Path(b)
    return p if p.is_absolute() else ROOT / p


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def port_open(port):
    try:
        with socket.create_connection((HOST, port), timeout=0.2):
            return True
    except OSError:
        return False


def poll(fn, timeout=10.0, interval=0.05, what="condition"):
    """Call fn until it returns something truthy; return that, or fail after timeout."""
    deadline = time.monotonic() + timeout
    while True:
        v = fn()
        if v:
            return v
        if time.monotonic() >= deadline:
            pytest.fail(f"timed out after {timeout}s waiting for {what}")
        time.sleep(interval)


def clean_env():
    """This process's environment without OPENSEAT_* settings: a server or command under
    test is configured by its arguments only."""
    return {k: v for k, v in os.environ.items() if not k.startswith("OPENSEAT_")}


def healthy(port):
    """Whether GET /healthz on 127.0.0.1:port answers 200."""
    try:
        c = http.client.HTTPConnection(HOST, port, timeout=2)
        c.request("GET", "/healthz")
        r = c.getresponse()
        r.read()
        c.close()
        return r.status == 200
    except OSError:
        return False


def tail(path, n=60):
    try:
        lines = Path(path).read_text(errors="replace").splitlines()
    except OSError as e:
        return f"(cannot read {path}: {e})"
    return "\n".join(lines[-n:])


# --------------------------------------------------------------------------------------
# Mail


class Mail:
    """One received message, decoded."""

    LINK_RE = re.compile(r"https?://[^\s<>\"')\]]+")

    def __init__(self, key, raw):
        self.key = key
        self.raw = raw
        self.msg = email.message_from_bytes(raw, policy=email.policy.default)
        self.subject = str(self.msg.get("subject", ""))
        self.to = [a.lower() for _, a in email.utils.getaddresses(self.msg.get_all("to", []))]
        rcpt = self.msg.get("x-rcptto")
        self.envelope_to = [a.strip().lower() for a in str(rcpt).split(",")] if rcpt else []
        self.sender = str(self.msg.get("from", ""))
        self.text = self._part("plain")
        self.html = self._part("html")
        self.links = self.LINK_RE.findall(self.text or "")

    def _part(self, subtype):
        part = self.msg.get_body(preferencelist=(subtype,))
        if part is None or part.get_content_subtype() != subtype:
            return None
        return part.get_content()

    def raw_header(self, name):
        """The header as it is on the wire (not decoded), or None."""
        head = self.raw.split(b"\n\n", 1)[0].split(b"\r\n\r\n", 1)[0]
        lines = head.replace(b"\r\n", b"\n").split(b"\n")
        out, cur = [], None
        for line in lines:
            if line[:1] in (b" ", b"\t") and cur is not None:
                cur.append(line)
            else:
                cur = None
                if line.lower().startswith(name.lower().encode() + b":"):
                    cur = [line]
                    out.append(cur)
        return b"\n".join(out[0]) if out else None

    def link(self, path_prefix):
        """The first link whose path starts with path_prefix (e.g. "/verify")."""
        for l in self.links:
            if urllib.parse.urlsplit(l).path.startswith(path_prefix):
                return l
        return None

    def token(self, path_prefix):
        l = self.link(path_prefix)
        if not l:
            return None
        q = urllib.parse.parse_qs(urllib.parse.urlsplit(l).query)
        return q.get("token", [None])[0]

    def addressed_to(self, addr):
        addr = addr.strip().lower()
        return addr in self.to or addr in self.envelope_to

    def __repr__(self):
        return f"<Mail to={self.to} subject={self.subject!r}>"


class Maildir:
    """Reads a Maildir; remembers which messages wait_for_mail already handed out."""

    def __init__(self, path):
        self.path = Path(path)
        self.taken = set()

    def all(self):
        out = []
        for sub in ("new", "cur"):
            d = self.path / sub
            if not d.is_dir():
                continue
            for f in sorted(d.iterdir(), key=lambda p: (p.stat().st_mtime, p.name)):
                try:
                    out.append(Mail(f"{sub}/{f.name}", f.read_bytes()))
                except FileNotFoundError:
                    pass
        return out

    def matching(self, to=None, subject_contains=None):
        res = []
        for m in self.all():
            if to is not None and not m.addressed_to(to):
                continue
            if subject_contains is not None and subject_contains.lower() not in m.subject.lower():
                continue
            res.append(m)
        return res

    def count(self, to=None, subject_contains=None):
        return len(self.matching(to, subject_contains))

    def wait_for_mail(self, to, subject_contains=None, timeout=10):
        """The next not-yet-returned message to `to` (and with that subject part)."""

        def find():
            for m in self.matching(to, subject_contains):
                if m.key not in self.taken:
                    self.taken.add(m.key)
                    return m
            return None

        deadline = time.monotonic() + timeout
        while True:
            m = find()
            if m:
                return m
            if time.monotonic() >= deadline:
                have = [(m.to, m.subject) for m in self.all()]
                pytest.fail(f"no mail to {to!r} (subject containing {subject_contains!r}) "
                            f"within {timeout}s; maildir {self.path} holds {have}")
            time.sleep(0.05)

    def assert_no_mail(self, to, wait=0.0):
        """Fail if a not-yet-returned message to `to` is (or within `wait` s becomes) present."""
        deadline = time.monotonic() + wait
        while True:
            fresh = [m for m in self.matching(to) if m.key not in self.taken]
            assert not fresh, f"unexpected mail to {to}: {fresh}"
            if time.monotonic() >= deadline:
                return
            time.sleep(0.05)


class SmtpSink:
    """aiosmtpd writing every message it receives to a Maildir."""

    def __init__(self, directory, port=None):
        self.port = port or free_port()
        self.dir = Path(directory)
        self.maildir = Maildir(self.dir / "maildir")
        self.log_path = self.dir / "smtp.log"
        self.proc = None

    @property
    def url(self):
        return f"smtp://{HOST}:{self.port}"

    def start(self, timeout=15):
        self.dir.mkdir(parents=True, exist_ok=True)
        mailbox.Maildir(str(self.dir / "maildir"), create=True)
        self._log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(
            [PYTHON, "-m", "aiosmtpd", "-n", "-l", f"{HOST}:{self.port}",
             "-c", "aiosmtpd.handlers.Mailbox", str(self.dir / "maildir")],
            stdin=subprocess.DEVNULL, stdout=self._log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout
        while not port_open(self.port):
            if self.proc.poll() is not None:
                pytest.fail(f"SMTP sink exited ({self.proc.returncode}); log {self.log_path}:\n"
                            f"{tail(self.log_path)}")
            if time.monotonic() >= deadline:
                pytest.fail(f"SMTP sink did not listen on {self.port} within {timeout}s")
            time.sleep(0.05)
        return self

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.proc:
            self._log.close()
        self.proc = None

    def wait_for_mail(self, to, subject_contains=None, timeout=10):
        return self.maildir.wait_for_mail(to, subject_contains, timeout)


# --------------------------------------------------------------------------------------
# Server


class Server:
    def __init__(self, data_dir, smtp_url=None, mail=None, extra_args=(), port=None, pg_db=None):
        self.bin = server_binary()
        self.data = Path(data_dir)
        self.port = port or free_port()
        self.url = f"http://{HOST}:{self.port}"
        self.smtp_url = smtp_url
        self.mail = mail              # a Maildir (the sink's, or the server's own fallback)
        self.extra_args = list(extra_args)
        self.log_path = self.data.parent / (self.data.name + ".server.log")
        self.proc = None
        self.returncode = None
        # PostgreSQL mode: a database of this server's own, kept across stop/start (tests
        # restart servers on the same data) and dropped by destroy() at fixture teardown —
        # or the existing database pg_db (another server's, a copy's), which stays.
        self.owns_db = PG_MODE and pg_db is None
        self.pg_db = pg_create_database() if self.owns_db else pg_db
        self.database_url = f"{PG_BASE}/{self.pg_db}" if PG_MODE else None
        self._pg_con = None
        self._pg_con_lock = threading.Lock()

    @property
    def db_path(self):
        """The SQLite file (SQLite mode only: in PostgreSQL mode it never exists)."""
        return self.data / "openseat.db"

    def db_exists(self):
        """Whether the server's database has been created (its schema is there)."""
        if not PG_MODE:
            return self.db_path.exists()
        n = db_query(self, "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = 'public'")
        return n[0][0] > 0

    def db_args(self):
        """The options that select this server's database (after --data)."""
        return ["--database-url", self.database_url] if PG_MODE else []

    def common_args(self):
        # Every test client comes from 127.0.0.1, so the per-client-address limit on e-mail to
        # unproven addresses would soon silence a module's sign-ups: lifted here, tested in
        # test_abuse.py (which sets it again; a later flag wins).
        return ["--data", str(self.data), *self.db_args(), "--argon2-ops", "1", "--argon2-mem-kib", "8",
                "--mail-poll-ms", str(MAIL_POLL_MS), "--mail-per-address", "1000000"]

    def pg_execute(self, sql, params=(), fetch=True):
        """Run SQLite-style SQL on the PostgreSQL database: rows (fetch) or the row count."""
        with self._pg_con_lock:
            if self._pg_con is None or self._pg_con.closed:
                self._pg_con = pg_connect(self.pg_db)
            with self._pg_con.cursor() as cur:
                cur.execute(pg_sql(sql, params), tuple(params) if params else None)
                if fetch:
                    return [tuple(_pg_value(v) for v in row) for row in cur.fetchall()]
                return cur.rowcount

    def destroy(self):
        """Stop (if running) and drop the PostgreSQL database; the server is gone for good."""
        if self.proc is not None:
            self.stop()
        if self._pg_con is not None:
            try:
                self._pg_con.close()
            except Exception:
                pass
            self._pg_con = None
        if self.owns_db and self.pg_db in _pg_databases:
            pg_drop_database(self.pg_db)

    def start(self, timeout=30):
        if not self.bin.exists():
            pytest.fail(f"server binary {self.bin} does not exist (set OPENSEAT_BIN)")
        self.data.mkdir(parents=True, exist_ok=True)
        args = [str(self.bin), "serve", "--port", str(self.port), "--base-url", self.url]
        args += self.common_args()
        if self.smtp_url:
            args += ["--smtp-url", self.smtp_url]
        args += self.extra_args
        self._log = open(self.log_path, "ab")
        self._log.write(("$ " + " ".join(args) + "\n").encode())
        self._log.flush()
        self.proc = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=self._log,
                                     stderr=subprocess.STDOUT, env=clean_env())
        deadline = time.monotonic() + timeout
        while True:
            if self.proc.poll() is not None:
                pytest.fail(f"server exited with {self.proc.returncode} during start-up; "
                            f"log {self.log_path}:\n{tail(self.log_path)}")
            if healthy(self.port):
                break
            if time.monotonic() >= deadline:
                self.proc.kill()
                pytest.fail(f"server not healthy within {timeout}s; log {self.log_path}:\n"
                            f"{tail(self.log_path)}")
            time.sleep(0.05)
        return self

    def stop(self, timeout=20):
        """SIGTERM, wait, return the exit status (killed after `timeout`: returns 'killed')."""
        if self.proc is None:
            return self.returncode
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                self.returncode = "killed"
        if self.returncode is None:
            self.returncode = self.proc.returncode
        self._log.close()
        self.proc = None
        return self.returncode

    def sanitizer_report(self):
        text = tail(self.log_path, 100000)
        hits = [l for l in text.splitlines() if any(m in l for m in SANITIZER_MARKERS)]
        return hits

    def check_stopped_cleanly(self):
        rc = self.stop()
        hits = self.sanitizer_report()
        assert rc == 0 and not hits, (
            f"server exit status {rc} (want 0 after SIGTERM); sanitizer lines: {hits[:5]}; "
            f"log {self.log_path}:\n{tail(self.log_path)}")

    def cli(self, *args, timeout=30, check=True):
        """Run `BIN args... --data DATA [--database-url URL]` and return the CompletedProcess."""
        cmd = [str(self.bin), *args, "--data", str(self.data), *self.db_args()]
        p = subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=True, text=True,
                           timeout=timeout, env=clean_env())
        if check:
            assert p.returncode == 0, f"{cmd} exited {p.returncode}\nstdout:{p.stdout}\nstderr:{p.stderr}"
            for m in SANITIZER_MARKERS:
                assert m not in p.stderr, f"{cmd}: sanitizer report:\n{p.stderr}"
        return p

    def client(self):
        return Client(self)

    def wait_for_mail(self, to, subject_contains=None, timeout=10):
        assert self.mail is not None, "this server has no mailbox to read"
        return self.mail.wait_for_mail(to, subject_contains, timeout)


# --------------------------------------------------------------------------------------
# HTTP client


class Response:
    def __init__(self, status, headers, body, raw):
        self.status = status
        self.headers = headers      # http.client.HTTPMessage: .get() is case-insensitive
        self.body = body            # parsed JSON, or text
        self.raw = raw

    def __iter__(self):
        return iter((self.status, self.headers, self.body))

    @property
    def content_type(self):
        return (self.headers.get("Content-Type") or "").split(";")[0].strip().lower()

    def set_cookies(self):
        """{name: Morsel} of the Set-Cookie headers of this response."""
        out = {}
        for h in self.headers.get_all("Set-Cookie") or []:
            c = SimpleCookie()
            c.load(h)
            for k, m in c.items():
                out[k] = m
        return out

    def raw_set_cookie(self, name):
        for h in self.headers.get_all("Set-Cookie") or []:
            if h.split("=", 1)[0].strip() == name:
                return h
        return None

    def __repr__(self):
        b = self.body if not isinstance(self.body, (bytes, str)) else self.body[:300]
        return f"<Response {self.status} {self.content_type} {b!r}>"


def cookie_is_deletion(morsel):
    if morsel.value == "":
        return True
    ma = morsel.get("max-age")
    if ma not in (None, "") and int(ma) <= 0:
        return True
    exp = morsel.get("expires")
    if exp:
        try:
            t = email.utils.parsedate_to_datetime(exp).timestamp()
            if t < time.time():
                return True
        except (TypeError, ValueError):
            pass
    return False


UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}


class Client:
    """Cookie-aware JSON client. Unsafe methods carry X-CSRF-Token automatically."""

    def __init__(self, server, timeout=15):
        self.server = server
        self.port = server.port
        self.timeout = timeout
        self.cookies = {}
        self.csrf_token = None
        self.last = None

    # -- cookies
    def cookie_header(self):
        return "; ".join(f"{k}={v}" for k, v in self.cookies.items())

    def _store_cookies(self, resp):
        for name, m in resp.set_cookies().items():
            if cookie_is_deletion(m):
                self.cookies.pop(name, None)
            else:
                self.cookies[name] = m.value

    # -- CSRF
    def refresh_csrf(self):
        r = self.get("/api/v1/session")
        assert r.status == 200, f"GET /api/v1/session: {r}"
        assert isinstance(r.body, dict) and r.body.get("csrf_token"), f"no csrf_token in {r}"
        self.csrf_token = r.body["csrf_token"]
        return self.csrf_token

    def request(self, method, path, json_body=None, body=None, headers=None, csrf=True,
                content_type="application/json", cookies=True):
        """csrf: True = send the current token (fetched first if none), False = send none,
        a string = send exactly that. body: raw bytes/str instead of json_body."""
        method = method.upper()
        hdrs = {"Accept": "application/json"}
        if json_body is not None:
            body = json.dumps(json_body)
        if isinstance(body, str):
            body = body.encode()
        if body is not None and content_type is not None:
            hdrs["Content-Type"] = content_type
        if method in UNSAFE and csrf is not False:
            if csrf is True:
                if self.csrf_token is None:
                    self.refresh_csrf()
                hdrs["X-CSRF-Token"] = self.csrf_token
            else:
                hdrs["X-CSRF-Token"] = csrf
        if cookies and self.cookies:
            hdrs["Cookie"] = self.cookie_header()
        hdrs.update(headers or {})
        hdrs = {k: v for k, v in hdrs.items() if v is not None}
        conn = http.client.HTTPConnection(HOST, self.port, timeout=self.timeout)
        try:
            conn.request(method, path, body=body, headers=hdrs)
            r = conn.getresponse()
            raw = r.read()
        finally:
            conn.close()
        ctype = (r.headers.get("Content-Type") or "").split(";")[0].strip().lower()
        parsed = raw
        if ctype.endswith("json"):
            try:
                parsed = json.loads(raw) if raw else None
            except ValueError:
                parsed = raw.decode(errors="replace")
        elif raw and (ctype.startswith("text/") or ctype.endswith("yaml") or
                      ctype.endswith("javascript") or ctype == ""):
            parsed = raw.decode(errors="replace")
        resp = Response(r.status, r.headers, parsed, raw)
        if cookies:
            self._store_cookies(resp)
        if isinstance(parsed, dict) and isinstance(parsed.get("csrf_token"), str):
            self.csrf_token = parsed["csrf_token"]
        if method == "DELETE" and path == "/api/v1/session" and r.status == 204:
            self.csrf_token = None
        self.last = resp
        return resp

    def get(self, path, **kw):
        return self.request("GET", path, **kw)

    def post(self, path, json_body=None, **kw):
        return self.request("POST", path, json_body, **kw)

    def put(self, path, json_body=None, **kw):
        return self.request("PUT", path, json_body, **kw)

    def patch(self, path, json_body=None, **kw):
        return self.request("PATCH", path, json_body, **kw)

    def delete(self, path, json_body=None, **kw):
        return self.request("DELETE", path, json_body, **kw)

    # -- conveniences
    def sign_in(self, email_addr, password=DEFAULT_PASSWORD):
        return self.post("/api/v1/session", {"email": email_addr, "password": password})

    def session(self):
        r = self.get("/api/v1/session")
        assert r.status == 200, f"GET /api/v1/session: {r}"
        return r.body


def raw_http(port, data, timeout=15):
    """Send raw bytes (ignoring a peer that stops reading) and return
    (status, headers dict with lower-case names, body bytes)."""
    s = socket.create_connection((HOST, port), timeout=timeout)
    try:
        try:
            s.sendall(data)
        except (BrokenPipeError, ConnectionResetError):
            pass
        try:
            s.shutdown(socket.SHUT_WR)
        except OSError:
            pass
        chunks = []
        while True:
            try:
                b = s.recv(65536)
            except ConnectionResetError:
                break
            if not b:
                break
            chunks.append(b)
    finally:
        s.close()
    resp = b"".join(chunks)
    head, _, body = resp.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    if not lines or not lines[0].startswith("HTTP/"):
        return None, {}, resp
    status = int(lines[0].split()[1])
    hdrs = {}
    for l in lines[1:]:
        k, _, v = l.partition(":")
        hdrs.setdefault(k.strip().lower(), v.strip())
    if hdrs.get("transfer-encoding", "").lower() == "chunked":
        out, rest = b"", body
        while rest:
            size_line, _, rest = rest.partition(b"\r\n")
            n = int(size_line.split(b";")[0] or b"0", 16)
            if n == 0:
                break
            out, rest = out + rest[:n], rest[n + 2:]
        body = out
    return status, hdrs, body


# --------------------------------------------------------------------------------------
# Assertions and flows


def assert_problem(resp, status, code=None):
    """resp is an RFC 9457 problem with this status (and code)."""
    assert resp.status == status, f"want {status} {code}, got {resp}"
    assert resp.content_type == "application/problem+json", \
        f"want application/problem+json, got {resp.headers.get('Content-Type')!r} ({resp})"
    b = resp.body
    assert isinstance(b, dict), f"problem body is not a JSON object: {resp.raw[:300]!r}"
    assert b.get("status") == status, f"problem status field {b.get('status')!r} != {status}"
    for k in ("type", "title", "request_id", "code"):
        assert isinstance(b.get(k), str) and b[k], f"problem lacks {k!r}: {b}"
    if code is not None:
        assert b["code"] == code, f"want code {code!r}, got {b['code']!r}: {b}"
    return b


def field_errors(resp):
    """{field: code} of a 422 validation problem (every field listed once)."""
    b = assert_problem(resp, 422, "validation")
    errs = b.get("errors")
    assert isinstance(errs, list) and errs, f"validation problem without errors: {b}"
    out = {}
    for e in errs:
        assert isinstance(e, dict) and isinstance(e.get("field"), str) and e["field"], e
        assert isinstance(e.get("code"), str) and e["code"], e
        assert isinstance(e.get("message"), str) and e["message"], e
        out[e["field"]] = e["code"]
    return out


_seq = [0]


def unique_email(prefix="user"):
    _seq[0] += 1
    return f"{prefix}.{os.getpid()}.{_seq[0]}.{int(time.time() * 1000) % 100000}@example.com"


def signup(client, email_addr, password=DEFAULT_PASSWORD, name=DEFAULT_NAME, language=None):
    body = {"name": name, "email": email_addr, "password": password}
    if language is not None:
        body["language"] = language
    r = client.post("/api/v1/signup", body)
    assert r.status == 202, f"signup {email_addr}: {r}"
    return r


def signup_and_verify(client, email_addr, password=DEFAULT_PASSWORD, name=DEFAULT_NAME,
                      language=None, sign_in=True):
    """Sign up, follow the verification mail, and (by default) sign in. Returns the user
    object when signed in, else the verify response body."""
    signup(client, email_addr, password, name, language)
    m = client.server.wait_for_mail(email_addr.strip().lower())
    tok = m.token("/verify")
    assert tok, f"no /verify?token= link in the verification mail: {m.links}\n{m.text}"
    r = client.post("/api/v1/verify", {"token": tok})
    assert r.status == 200, f"verify: {r}"
    if not sign_in:
        return r.body
    r = client.sign_in(email_addr.strip().lower(), password)
    assert r.status == 200, f"sign in after verification: {r}"
    return r.body["user"]


# --------------------------------------------------------------------------------------
# Fixtures


_live_servers = []


def _start_stack(tmp_dir, with_smtp=True):
    sink = SmtpSink(Path(tmp_dir) / "smtp").start() if with_smtp else None
    srv = Server(Path(tmp_dir) / "data", smtp_url=sink.url if sink else None,
                 mail=sink.maildir if sink else None)
    if sink is None:
        srv.mail = Maildir(srv.data / "maildir")
    srv.sink = sink
    _live_servers.append(srv)
    try:
        srv.start()
    except BaseException:
        if srv in _live_servers:
            _live_servers.remove(srv)
        try:
            srv.destroy()
        finally:
            if sink:
                sink.stop()
        raise
    return srv


def _stop_stack(srv):
    try:
        srv.check_stopped_cleanly()
    finally:
        if srv in _live_servers:
            _live_servers.remove(srv)
        try:
            srv.destroy()
        finally:
            if getattr(srv, "sink", None):
                srv.sink.stop()


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """A server with an SMTP sink shared by the tests of one module."""
    srv = _start_stack(tmp_path_factory.mktemp("srv"))
    yield srv
    _stop_stack(srv)


@pytest.fixture
def wait_for_mail(server):
    """wait_for_mail(to, subject_contains=None, timeout=10) on the module's server."""
    return server.wait_for_mail


@pytest.fixture
def fresh_server(tmp_path_factory):
    """A server (and SMTP sink) of this test's own, for tests that need isolation."""
    srv = _start_stack(tmp_path_factory.mktemp("fresh"))
    yield srv
    _stop_stack(srv)


@pytest.fixture
def client(server):
    return Client(server)


@pytest.fixture
def server_factory(tmp_path_factory):
    """Start servers with custom arguments: factory(smtp_url=None, start=True, **kw)."""
    made = []

    def make(smtp_url=None, mail=None, extra_args=(), start=True):
        d = tmp_path_factory.mktemp("custom")
        srv = Server(d / "data", smtp_url=smtp_url, mail=mail, extra_args=extra_args)
        if srv.mail is None and smtp_url is None:
            srv.mail = Maildir(srv.data / "maildir")
        made.append(srv)
        _live_servers.append(srv)
        if start:
            srv.start()
        return srv

    yield make
    errors = []
    for srv in made:
        try:
            srv.check_stopped_cleanly()
        except AssertionError as e:
            errors.append(str(e))
        finally:
            if srv in _live_servers:
                _live_servers.remove(srv)
            srv.destroy()
    assert not errors, "\n".join(errors)


@pytest.fixture
def sink_factory(tmp_path_factory):
    made = []

    def make(port=None, start=True):
        s = SmtpSink(tmp_path_factory.mktemp("sink"), port=port)
        made.append(s)
        if start:
            s.start()
        return s

    yield make
    for s in made:
        s.stop()


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "sqlite_only: about SQLite itself (its files, PRAGMAs, backup format); "
                   "skipped when the tests run on PostgreSQL (OPENSEAT_TEST_PG)")
    config.addinivalue_line(
        "markers", "pg_only: about PostgreSQL itself; skipped unless the tests run on PostgreSQL")


def pytest_report_header(config):
    return f"openseat database backend: {BACKEND}" + (f" ({PG_BASE})" if PG_MODE else "")


def pytest_collection_modifyitems(config, items):
    for item in items:
        if PG_MODE and item.get_closest_marker("sqlite_only"):
            item.add_marker(pytest.mark.skip(reason="SQLite-only test: the database is PostgreSQL"))
        if not PG_MODE and item.get_closest_marker("pg_only"):
            item.add_marker(pytest.mark.skip(reason="PostgreSQL-only test: set OPENSEAT_TEST_PG"))


def pytest_sessionfinish(session, exitstatus):
    """Drop the databases that no fixture teardown dropped (a server whose start failed)."""
    for name in list(_pg_databases):
        try:
            pg_drop_database(name)
        except Exception:
            pass


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """On failure, name the log files of the servers that were running."""
    outcome = yield
    rep = outcome.get_result()
    if rep.failed and _live_servers:
        lines = []
        for srv in _live_servers:
            lines.append(f"server log: {srv.log_path}")
            lines.append(tail(srv.log_path, 25))
        rep.sections.append(("openseat", "\n".join(lines)))


# --------------------------------------------------------------------------------------
# Licensing service center helpers


def db_query(server, sql, params=()):
    """Rows (a list of tuples) of a read-only query on the server's database (works while it
    runs). SQL in SQLite style (? placeholders) that PostgreSQL accepts too."""
    if PG_MODE:
        return server.pg_execute(sql, params)
    import sqlite3
    con = sqlite3.connect(f"file:{server.db_path}?mode=ro", uri=True, timeout=10)
    try:
        con.execute("PRAGMA busy_timeout = 10000")
        return con.execute(sql, params).fetchall()
    finally:
        con.close()


def db_count(server, table, where="1=1", params=()):
    return db_query(server, f"SELECT COUNT(*) FROM {table} WHERE {where}", params)[0][0]


def partner_add(server, org, email_addr, country="FR", admin=False):
    """`openseat partner add` on the server's data directory (running or not)."""
    args = ["partner", "add", "--org", org, "--email", email_addr]
    if country:
        args += ["--country", country]
    if admin:
        args.append("--admin")
    return server.cli(*args)


def new_partner(server, org=None, country="FR", email_addr=None, language=None, name="Alex Morgan"):
    """A signed-in partner user of `org` (a new organization by default).
    Returns (client, email, org)."""
    org = org or "Partner " + unique_email("org").split("@")[0]
    email_addr = email_addr or unique_email("partner")
    partner_add(server, org, email_addr, country)
    c = Client(server)
    signup_and_verify(c, email_addr, name=name, language=language)
    return c, email_addr, org


# ---- helpers shared by the agreement test files ------------------------------------------------

def uniq(prefix):
    """A unique token for names and addresses."""
    return unique_email(prefix).split("@")[0]


def db_write(server, sql, params=()):
    """One write on the server's database (while it runs). Returns the changed row count."""
    if PG_MODE:
        return server.pg_execute(sql, params, fetch=False)
    import sqlite3
    con = sqlite3.connect(str(server.db_path), timeout=10)
    try:
        con.execute("PRAGMA busy_timeout = 10000")
        cur = con.execute(sql, params)
        con.commit()
        return cur.rowcount
    finally:
        con.close()


def wait_for_link_mail(server, to, path):
    """The next not-yet-taken mail to `to` carrying a {path}?token= link (other mails to
    the same address, e.g. a customer invitation, are left alone)."""
    md = server.mail

    def find():
        for m in md.matching(to):
            if m.key not in md.taken and m.token(path):
                md.taken.add(m.key)
                return m
        return None

    return poll(find, timeout=10, what=f"a mail with a {path} link to {to}")


def verified_user(server, email_addr, language=None, name=DEFAULT_NAME):
    """A signed-in client of a new verified account (works when other mails are pending
    for the address)."""
    c = Client(server)
    signup(c, email_addr, name=name, language=language)
    m = wait_for_link_mail(server, email_addr.lower(), "/verify")
    r = c.post("/api/v1/verify", {"token": m.token("/verify")})
    assert r.status == 200, f"verify {email_addr}: {r}"
    r = c.sign_in(email_addr.lower())
    assert r.status == 200, f"sign in {email_addr}: {r}"
    c.user = r.body["user"]
    c.email = email_addr.lower()
    return c


def partner_user(server, name="Alex Morgan"):
    """A signed-in member of a new partner organization."""
    c, e, o = new_partner(server, org="Partner " + uniq("org"), name=name)
    c.email, c.org = e, o
    c.user = c.session()["user"]
    return c


def addr(prefix="dev", domain="devs.example"):
    """A unique e-mail address in a domain of the test's choosing."""
    return uniq(prefix) + "@" + domain


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
