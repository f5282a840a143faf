"""The processes under test: an `openseat serve` with its data directory (and database),
an aiosmtpd sink writing a Maildir, the mailbox read back, and a stack of the two started
and stopped together."""
import email
import email.policy
import email.utils
import http.client
import mailbox
import os
import re
import signal
import subprocess
import threading
import socket
import time
import urllib.parse
from pathlib import Path

import pytest

from support import HOST, MAIL_POLL_MS, PYTHON, ROOT, SANITIZER_MARKERS
from support.client import Client
from support.db import PG_BASE, PG_MODE, db_query, pg_connect, pg_create_database, pg_databases, pg_drop_database, \
    pg_sql, pg_value


# --------------------------------------------------------------------------------------
# Processes and ports


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


def terminate(proc, timeout=5):
    """SIGTERM a helper process (not the server under test: its exit status matters, see
    Server.stop) and wait for it; killed when it has not gone after `timeout` seconds."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


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
        if self.proc:
            terminate(self.proc)
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
                    return [tuple(pg_value(v) for v in row) for row in cur.fetchall()]
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
        if self.owns_db and self.pg_db in pg_databases:
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
# A server and its SMTP sink, started and stopped together

# Every server running now: a failing test's report names their logs (conftest.py).
live_servers = []


def retire(srv):
    """Stops srv, checks that it stopped cleanly, and forgets and removes it whatever the check said."""
    try:
        srv.check_stopped_cleanly()
    finally:
        if srv in live_servers:
            live_servers.remove(srv)
        srv.destroy()


def retire_all(servers):
    """retire() for each of servers, every one retired even when one did not stop cleanly; the
    failures reported together."""
    errors = []
    for srv in servers:
        try:
            retire(srv)
        except AssertionError as e:
            errors.append(str(e))
    assert not errors, "\n".join(errors)


def twin_of(server, tmp_path_factory, extra_args=()):
    """A second instance on server's database (PostgreSQL), started: the same master key, so
    what one seals the other reads; without a relay both deliver into server's Maildir."""
    d = tmp_path_factory.mktemp("twin") / "data"
    d.mkdir(parents=True)
    (d / "secret.key").write_bytes((server.data / "secret.key").read_bytes())
    (d / "secret.key").chmod(0o600)
    if server.smtp_url is None:
        (server.data / "maildir").mkdir(exist_ok=True)
        (d / "maildir").symlink_to(server.data / "maildir")
    srv = Server(d, smtp_url=server.smtp_url, mail=server.mail, pg_db=server.pg_db, extra_args=list(extra_args))
    live_servers.append(srv)
    srv.start()
    return srv


def twin_server(server, tmp_path_factory):
    """For a module fixture (`yield from`): a second instance on server's database on
    PostgreSQL, retired at the end; on SQLite, where one writer is the rule, server itself."""
    if not PG_MODE:
        yield server
        return
    srv = twin_of(server, tmp_path_factory)
    yield srv
    retire(srv)


def module_server(tmp_path_factory, name, extra_args=()):
    """A server of one test module's own, its mail into its Maildir: started, then stopped
    cleanly and removed. Use as `yield from module_server(...)` in a module-scoped fixture."""
    srv = Server(tmp_path_factory.mktemp(name) / "data", extra_args=list(extra_args))
    srv.mail = Maildir(srv.data / "maildir")
    live_servers.append(srv)
    try:
        srv.start()
        yield srv
        srv.check_stopped_cleanly()
    finally:
        if srv in live_servers:
            live_servers.remove(srv)
        srv.destroy()


def start_stack(tmp_dir, with_smtp=True):
    sink = SmtpSink(Path(tmp_dir) / "smtp").start() if with_smtp else None
    srv = Server(Path(tmp_dir) / "data", smtp_url=sink.url if sink else None,
                 mail=sink.maildir if sink else None)
    if sink is None:
        srv.mail = Maildir(srv.data / "maildir")
    srv.sink = sink
    live_servers.append(srv)
    try:
        srv.start()
    except BaseException:
        if srv in live_servers:
            live_servers.remove(srv)
        try:
            srv.destroy()
        finally:
            if sink:
                sink.stop()
        raise
    return srv


def stop_stack(srv):
    try:
        srv.check_stopped_cleanly()
    finally:
        if srv in live_servers:
            live_servers.remove(srv)
        try:
            srv.destroy()
        finally:
            if getattr(srv, "sink", None):
                srv.sink.stop()

