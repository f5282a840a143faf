"""Scale-out: two `openseat serve` instances on one PostgreSQL database behind haproxy.

A scripted workload (sign-ups with e-mail verification and sign-ins, partner
registrations, more subscriber adds than the seed agreement's pool has seats) runs from
several threads through a round-robin haproxy; halfway through, one instance is killed
with SIGKILL and the workload finishes on the survivor. Afterwards:

  * every acknowledged write (2xx received by the client) is in the database; requests
    that died with the instance (connection errors, 5xx from haproxy) count as unknown;
  * no pool is over-allocated, each pool's `assigned` counter matches its subscriptions,
    and acknowledged <= subscriptions <= acknowledged + unknown adds;
  * every outbox row was delivered exactly once (matched on its Message-ID), except the
    rows the killed instance held claimed when it died (the relay may have accepted the
    message just before the kill): those once or twice;
  * `openseat lifecycle --today D` run by two processes at the same time queues each expiry
    reminder once, and it is delivered once.

Runs only when OPENSEAT_TEST_PG holds a PostgreSQL base URL (see tests/pg/cluster.sh).
Uses /usr/sbin/haproxy, psycopg2, pytest and the standard library.

The instances run with a short outbox lease (--mail-lease), so the rows the dead instance
had claimed pass to the survivor within seconds, as they would after the default two
minutes in a deployment.
"""
import collections
import datetime
import http.client
import os
import random
import re
import secrets
import signal
import subprocess
import threading
import time
import traceback
import urllib.parse
from pathlib import Path

import pytest

PG_URL = os.environ.get("OPENSEAT_TEST_PG", "").strip().rstrip("/")
if not PG_URL:
    pytest.skip("scale-out test: set OPENSEAT_TEST_PG to a PostgreSQL base URL "
                "(e.g. postgres://postgres@127.0.0.1:5432, see tests/pg/cluster.sh)", allow_module_level=True)

from support import HOST, SANITIZER_MARKERS
from support.accounts import unique_email
from support.agreements import new_authno, new_license, write_import_csv
from support.client import Client
from support.db import pg_connect, pg_create_database, pg_drop_database
from support.server import (Mail, SmtpSink, clean_env, free_port, healthy, poll, port_open, server_binary, tail,
                            terminate)
from support.subscriptions import sub_body

HAPROXY = "/usr/sbin/haproxy"
THREADS = 5
SEATS = 40                 # enterprise seats of the seed agreement
SUB_ATTEMPTS = 60          # subscriber adds in all (more than SEATS)
SIGNUPS = 20               # plain sign-up + verification + sign-in flows
PARTNERS = 8               # partner sign-up + registration on the seed agreement
KILL_AFTER = 0.45          # share of the workload done when an instance is killed
MAIL_LEASE_S = 3           # --mail-lease: how soon the survivor takes over the dead one's claimed mail
MAIL_WAIT = 25             # seconds a flow waits for its verification mail

HAPROXY_CFG = """\
global
    maxconn 512
    log stdout format raw local0

defaults
    mode http
    log global
    option httplog
    option forwardfor
    retries 0
    timeout connect 2s
    timeout client 10s
    timeout server 10s
    timeout check 1s

frontend fe
    bind {host}:{port}
    default_backend openseat

backend openseat
    balance roundrobin
    option httpchk GET /healthz
    # A refused connection marks a server down at once; the checks take over from there.
    default-server inter 200ms fastinter 100ms downinter 200ms fall 2 rise 2 observe layer4 error-limit 1 on-error mark-down
    server a {host}:{port_a} check
    server b {host}:{port_b} check
"""


# --------------------------------------------------------------------------------------
# Processes


class Instance:
    """One `openseat serve` process of the pair (started here, not with conftest.Server)."""

    def __init__(self, name, root, db_url, secret_key, smtp_url, base_url):
        self.name = name
        self.port = free_port()
        self.url = f"http://{HOST}:{self.port}"
        self.data = Path(root) / f"data-{name}"
        self.log_path = Path(root) / f"openseat-{name}.log"
        self.args = [str(server_binary()), "serve", "--port", str(self.port), "--bind", HOST,
                     "--base-url", base_url, "--data", str(self.data), "--database-url", db_url,
                     "--secret-key", secret_key, "--smtp-url", smtp_url, "--argon2-ops", "1",
                     "--argon2-mem-kib", "8", "--mail-poll-ms", "100", "--trust-proxy=true",
                     "--mail-lease", str(MAIL_LEASE_S), "--mail-per-address", "1000000"]
        self.proc = None
        self.mail = None            # set to the shared MailIndex: Client(instance) can wait for mail
        self.killed = False

    @property
    def pid(self):
        return self.proc.pid

    def start(self):
        self.data.mkdir(parents=True, exist_ok=True)
        self._log = open(self.log_path, "ab")
        self._log.write(("$ " + " ".join(self.args) + "\n").encode())
        self._log.flush()
        self.proc = subprocess.Popen(self.args, stdin=subprocess.DEVNULL, stdout=self._log,
                                     stderr=subprocess.STDOUT, env=clean_env())
        return self

    def healthy(self):
        if self.proc.poll() is not None:
            pytest.fail(f"openseat {self.name} exited ({self.proc.returncode}) during start-up; "
                        f"log {self.log_path}:\n{tail(self.log_path)}")
        return healthy(self.port)

    def wait_healthy(self, timeout=30):
        poll(self.healthy, timeout=timeout, interval=0.05, what=f"GET /healthz == 200 on openseat {self.name}")

    def kill(self):
        os.kill(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=10)
        self.killed = True

    def stop(self, timeout=20):
        """SIGTERM and wait; returns the exit status ('killed' when it had to be)."""
        if self.proc is None:
            return None
        rc = self.proc.poll()
        if rc is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                rc = self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                rc = "killed"
        self._log.close()
        return rc

    def sanitizer_lines(self):
        return [l for l in tail(self.log_path, 10 ** 6).splitlines() if any(m in l for m in SANITIZER_MARKERS)]

    def error_lines(self, n=12):
        """The last `n` lines the server logged at level error (e.g. "postgresql error")."""
        lines = [l for l in tail(self.log_path, 10 ** 6).splitlines() if '"level":"error"' in l]
        return "\n".join(lines[-n:]) or "(none)"

    def wait_for_mail(self, to, subject_contains=None, timeout=10):
        return self.mail.wait_for(to, timeout=timeout, subject_contains=subject_contains)


class Haproxy:
    def __init__(self, root, port, port_a, port_b):
        self.port = port
        self.url = f"http://{HOST}:{self.port}"
        self.cfg_path = Path(root) / "haproxy.cfg"
        self.log_path = Path(root) / "haproxy.log"
        self.cfg_path.write_text(HAPROXY_CFG.format(host=HOST, port=self.port, port_a=port_a, port_b=port_b))
        self.proc = None
        self.mail = None

    def start(self, timeout=10):
        chk = subprocess.run([HAPROXY, "-c", "-q", "-f", str(self.cfg_path)], capture_output=True, text=True,
                             timeout=30)
        assert chk.returncode == 0, f"haproxy rejects {self.cfg_path}:\n{chk.stdout}{chk.stderr}"
        self._log = open(self.log_path, "ab")
        self.proc = subprocess.Popen([HAPROXY, "-db", "-f", str(self.cfg_path)], stdin=subprocess.DEVNULL,
                                     stdout=self._log, stderr=subprocess.STDOUT)

        def up():
            if self.proc.poll() is not None:
                pytest.fail(f"haproxy exited ({self.proc.returncode}); log:\n{tail(self.log_path)}")
            return port_open(self.port)

        poll(up, timeout=timeout, what="haproxy to listen")
        return self

    def stop(self):
        if self.proc is None:
            return
        terminate(self.proc)
        self._log.close()
        self.proc = None

    def served_by(self):
        """{server name: requests logged} from the access log (backend openseat)."""
        n = collections.Counter()
        for m in re.finditer(r" openseat/(\w+) ", tail(self.log_path, 10 ** 6)):
            n[m.group(1)] += 1
        return n

    def wait_for_mail(self, to, subject_contains=None, timeout=10):
        return self.mail.wait_for(to, timeout=timeout, subject_contains=subject_contains)


# --------------------------------------------------------------------------------------
# Mail


def _mid(v):
    return (v or "").strip().strip("<>").strip().lower()


class MailIndex:
    """The sink's Maildir, parsed once per file, shared by the workload threads."""

    def __init__(self, path):
        self.path = Path(path)
        self.lock = threading.Lock()
        self.mails = {}            # file name -> Mail
        self.taken = set()

    def refresh(self):
        with self.lock:
            for sub in ("new", "cur"):
                d = self.path / sub
                if not d.is_dir():
                    continue
                for f in os.listdir(d):
                    if f in self.mails:
                        continue
                    try:
                        self.mails[f] = Mail(f"{sub}/{f}", (d / f).read_bytes())
                    except FileNotFoundError:
                        pass
            return list(self.mails.values())

    def wait_for(self, to, timeout=MAIL_WAIT, subject_contains=None, token_path=None):
        to = to.strip().lower()
        deadline = time.monotonic() + timeout
        while True:
            for m in self.refresh():
                if not m.addressed_to(to):
                    continue
                if subject_contains and subject_contains.lower() not in m.subject.lower():
                    continue
                if token_path and not m.token(token_path):
                    continue
                with self.lock:
                    if m.key in self.taken:
                        continue
                    self.taken.add(m.key)
                return m
            if time.monotonic() >= deadline:
                return None
            time.sleep(0.05)

    def by_message_id(self):
        return collections.Counter(_mid(m.msg.get("message-id")) for m in self.refresh())


# --------------------------------------------------------------------------------------
# Database


class Db:
    def __init__(self, name):
        self.name = name
        self.con = pg_connect(name)

    def rows(self, sql, params=()):
        with self.con.cursor() as cur:
            cur.execute(sql, tuple(params) if params else None)
            return cur.fetchall() if cur.description else cur.rowcount

    def one(self, sql, params=()):
        r = self.rows(sql, params)
        return r[0][0] if r else None

    def close(self):
        try:
            self.con.close()
        except Exception:
            pass


def _tcp_sockets():
    """{(local port, remote port, state)} of the IPv4 loopback TCP sockets with an owner."""
    out = set()
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        f = line.split()
        if len(f) < 10 or f[9] == "0":
            continue
        out.add((int(f[1].split(":")[1], 16), int(f[2].split(":")[1], 16), f[3]))
    return out


def orphan_backends(db, pg_port):
    """PostgreSQL backends of our database whose client socket is gone (a killed process)."""
    alive = {(lp, rp) for lp, rp, st in _tcp_sockets() if st == "01"}
    rows = db.rows("SELECT pid, client_port FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()"
                   " AND client_port IS NOT NULL AND client_port > 0", (db.name,))
    return [(pid, port) for pid, port in rows if (port, pg_port) not in alive]


# --------------------------------------------------------------------------------------
# Workload bookkeeping


class Ledger:
    """What the clients saw: acknowledged writes, unknown outcomes, refusals, errors."""

    def __init__(self):
        self.lock = threading.Lock()
        self.acked = collections.defaultdict(list)     # kind -> [details]
        self.unknown = collections.defaultdict(list)   # kind -> [why]
        self.refused = collections.Counter()
        self.errors = []                               # unexpected answers: test failures
        self.app_5xx = []                              # 5xx written by openseat itself
        self.done = 0

    def ack(self, kind, what):
        with self.lock:
            self.acked[kind].append(what)

    def lost(self, kind, why):
        with self.lock:
            self.unknown[kind].append(why)

    def error(self, msg):
        with self.lock:
            self.errors.append(msg)


class Unknown(Exception):
    """The request's outcome is unknown (connection error or 5xx)."""


def call(ledger, kind, fn):
    """Run one request; return the response, or raise Unknown (recorded) on a connection
    error or a 5xx. 5xx written by openseat itself (problem+json) are also kept apart."""
    t = time.monotonic()
    try:
        r = fn()
    except (OSError, http.client.HTTPException) as e:
        why = f"{kind}: {type(e).__name__}: {e}"
        ledger.lost(kind, why)
        raise Unknown(why)
    if r.status >= 500:
        why = f"{kind}: {r.status} {r.content_type} {str(r.body)[:300]!r}"
        if r.content_type == "application/problem+json":
            with ledger.lock:
                ledger.app_5xx.append(f"{why} (t={t:.3f}, request_id="
                                      f"{r.body.get('request_id') if isinstance(r.body, dict) else None})")
        ledger.lost(kind, why)
        raise Unknown(why)
    return r


def expect(ledger, kind, r, statuses):
    if r.status not in statuses:
        ledger.error(f"{kind}: want {statuses}, got {r}")
        raise Unknown(f"{kind}: unexpected {r.status}")


def anon_csrf(ledger, kind, c):
    r = call(ledger, kind + ".csrf", lambda: c.get("/api/v1/session"))
    expect(ledger, kind + ".csrf", r, (200,))


def account_flow(ledger, mails, lb, email, kind):
    """Sign up, follow the verification mail, sign in, read the session back. Returns the
    signed-in client."""
    c = Client(lb)
    anon_csrf(ledger, kind, c)
    r = call(ledger, kind + ".signup", lambda: c.post("/api/v1/signup", {
        "name": "Scale Out", "email": email, "password": "correct horse battery"}))
    expect(ledger, kind + ".signup", r, (202,))
    ledger.ack("signup", email)
    m = mails.wait_for(email, token_path="/verify")
    if m is None:
        ledger.error(f"{kind}: no verification mail to {email} within {MAIL_WAIT}s")
        raise Unknown("no mail")
    tok = m.token("/verify")
    r = call(ledger, kind + ".verify", lambda: c.post("/api/v1/verify", {"token": tok}))
    expect(ledger, kind + ".verify", r, (200,))
    ledger.ack("verify", email)
    r = call(ledger, kind + ".signin", lambda: c.sign_in(email))
    expect(ledger, kind + ".signin", r, (200,))
    ledger.ack("signin", email)
    r = call(ledger, kind + ".session", lambda: c.get("/api/v1/session"))
    expect(ledger, kind + ".session", r, (200,))
    if r.body.get("authenticated") is not True or r.body.get("user", {}).get("email") != email:
        ledger.error(f"{kind}: session of {email} not recognised on the next request: {r}")
    return c


def partner_flow(ledger, mails, lb, email, seed):
    c = account_flow(ledger, mails, lb, email, "partner")
    body = {"authorization_number": seed["authno"], "license_number": seed["lic"],
            "customer_email": seed["customer_email"], "attestation": True, "route": "new_license"}
    r = call(ledger, "partner.register", lambda: c.post("/api/v1/partner-registrations", body))
    expect(ledger, "partner.register", r, (201,))
    ledger.ack("partner_reg", email)


def sub_add(ledger, lb, admin, seed, email):
    c = Client(lb)
    c.cookies, c.csrf_token = dict(admin.cookies), admin.csrf_token
    r = call(ledger, "sub_add", lambda: c.post(f"/api/v1/agreements/{seed['lic']}/subscriptions",
                                               sub_body(sign_in_email=email, send_email=True, name="Scale Out")))
    if r.status == 201:
        ledger.ack("sub_add", (r.body["id"], email))
    elif r.status == 422 and isinstance(r.body, dict) and \
            any(e.get("field") == "level" and e.get("code") == "no_seats_left" for e in r.body.get("errors", [])):
        with ledger.lock:
            ledger.refused["sub_add"] += 1
    else:
        expect(ledger, "sub_add", r, (201, 422))


# --------------------------------------------------------------------------------------
# The cluster


def cli(db_url, data, secret_key, *args, timeout=60):
    cmd = [str(server_binary()), *args, "--data", str(data), "--database-url", db_url, "--secret-key", secret_key]
    return subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, env=clean_env())


def cli_ok(db_url, data, secret_key, *args, timeout=60):
    p = cli(db_url, data, secret_key, *args)
    out, err = p.communicate(timeout=timeout)
    assert p.returncode == 0, f"openseat {' '.join(args)} exited {p.returncode}\nstdout:\n{out}\nstderr:\n{err}"
    for m in SANITIZER_MARKERS:
        assert m not in err, f"openseat {' '.join(args)}: sanitizer report:\n{err}"
    return out


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    root = tmp_path_factory.mktemp("scale_out")
    dbname = pg_create_database("scale")
    db_url = f"{PG_URL}/{dbname}"
    secret_key = secrets.token_hex(32)
    st = {"root": root, "db_url": db_url, "secret_key": secret_key, "instances": [], "cli_data": root / "cli"}
    sink = haproxy = db = None
    try:
        db = Db(dbname)
        st["db"] = db
        sink = SmtpSink(root / "smtp").start()
        mails = MailIndex(sink.dir / "maildir")
        st["mails"] = mails

        # Seed: one agreement with a pool of SEATS whose customer admin we control; it ends
        # in 200 days, so the servers' own housekeeping (real today) queues no reminder.
        end = datetime.datetime.now(datetime.timezone.utc).date() + datetime.timedelta(days=200)
        seed = {"lic": new_license(), "authno": new_authno(),
                "customer_email": unique_email("cust").replace("@example.com", "@adatum.example"),
                "end": end, "partner": "Litware Seed " + secrets.token_hex(3)}
        cells = [seed["lic"], seed["authno"], "Adatum Scale-Out", "FR", seed["customer_email"], seed["partner"],
                 "2025-01-01", end.isoformat(), f'"enterprise:{SEATS};professional:5"']
        csv_path = write_import_csv(root / "agreements.csv", cells)
        st["cli_data"].mkdir()
        out = cli_ok(db_url, st["cli_data"], secret_key, "import", "agreements", str(csv_path))
        assert "imported 1" in out, out
        st["seed"] = seed

        # Partner organizations for the registrations (the CLI writes straight to the database).
        partners = [unique_email("partner") for _ in range(PARTNERS)]
        for i, e in enumerate(partners):
            cli_ok(db_url, st["cli_data"], secret_key, "partner", "add", "--org", f"Partner {i} {secrets.token_hex(3)}",
                   "--email", e, "--country", "FR")
        st["partners"] = partners

        lb_port = free_port()
        base_url = f"http://{HOST}:{lb_port}"
        a = Instance("a", root, db_url, secret_key, sink.url, base_url)
        b = Instance("b", root, db_url, secret_key, sink.url, base_url)
        st["instances"] = [a, b]
        for inst in (a, b):
            inst.mail = mails
            inst.start().wait_healthy()
        haproxy = Haproxy(root, lb_port, a.port, b.port)
        haproxy.mail = mails
        haproxy.start()
        st["haproxy"] = haproxy
        # Both back ends pass haproxy's health check before the workload starts.
        poll(lambda: all(Client(haproxy).get("/healthz").status == 200 for _ in range(4)), timeout=10,
             what="haproxy to route to healthy back ends")
        yield st
    finally:
        for inst in st["instances"]:
            try:
                if inst.proc is not None and inst.proc.poll() is None:
                    inst.proc.kill()
                    inst.proc.wait(timeout=10)
                if inst.proc is not None and not inst._log.closed:
                    inst._log.close()
            except Exception:
                pass
        if haproxy:
            haproxy.stop()
        if sink:
            sink.stop()
        if db:
            db.close()
        pg_drop_database(dbname)


# --------------------------------------------------------------------------------------
# The test


def test_two_instances_one_killed(cluster):
    t_start = time.monotonic()
    db, mails, seed = cluster["db"], cluster["mails"], cluster["seed"]
    a, b = cluster["instances"]
    lb = cluster["haproxy"]
    pg_port = urllib.parse.urlsplit(PG_URL).port or 5432
    ledger = Ledger()
    logs = "\n".join(f"openseat {i.name} log {i.log_path}" for i in (a, b)) + f"\nhaproxy log {lb.log_path}"

    # ---- The customer admin signs up and in through instance A directly; the session
    # cookie (sessions live in the database) works on instance B directly, for reads and
    # for a write (the first subscriber add, which counts as one of the attempts).
    admin = Client(a)
    anon_csrf(ledger, "admin", admin)
    r = admin.post("/api/v1/signup", {"name": "Camille Martin", "email": seed["customer_email"],
                                      "password": "correct horse battery"})
    assert r.status == 202, r
    m = mails.wait_for(seed["customer_email"], token_path="/verify")
    assert m, f"no verification mail to the customer admin\n{logs}"
    r = admin.post("/api/v1/verify", {"token": m.token("/verify")})
    assert r.status == 200, r
    r = admin.sign_in(seed["customer_email"])
    assert r.status == 200, r
    admin_user = r.body["user"]
    on_b = Client(b)
    on_b.cookies, on_b.csrf_token = dict(admin.cookies), admin.csrf_token
    s = on_b.session()
    assert s["authenticated"] is True and s["user"] == admin_user, \
        f"a session made on instance A is not recognised on instance B: {s}"
    r = on_b.get("/api/v1/agreements")
    assert r.status == 200 and (seed["lic"], "super_admin") in \
        [(g["license_number"], g["role"]) for g in r.body["agreements"]], r
    first = unique_email("sub")
    try:
        sub_add(ledger, b, admin, seed, first)
    except Unknown:
        pass
    assert [e for _, e in ledger.acked["sub_add"]] == [first], \
        f"subscriber add on B with A's session: {ledger.errors} {dict(ledger.unknown)}\n" \
        f"errors logged by openseat b:\n{b.error_lines()}"

    # ---- The workload, through haproxy, from THREADS threads.
    tasks = [("sub", unique_email("sub")) for _ in range(SUB_ATTEMPTS - 1)]
    flows = [("signup", unique_email("user")) for _ in range(SIGNUPS)] + [("partner", e) for e in cluster["partners"]]
    random.Random(7).shuffle(flows)
    # Flows spread evenly among the adds, so both kinds run before and after the kill.
    step = len(tasks) / len(flows)
    for i, f in enumerate(flows):
        tasks.insert(int(i * step) + i, f)
    total = len(tasks)
    queue = collections.deque(tasks)
    qlock = threading.Lock()

    def worker():
        while True:
            with qlock:
                if not queue:
                    return
                kind, email = queue.popleft()
            try:
                if kind == "sub":
                    sub_add(ledger, lb, admin, seed, email)
                elif kind == "signup":
                    account_flow(ledger, mails, lb, email, "signup")
                else:
                    partner_flow(ledger, mails, lb, email, seed)
            except Unknown:
                pass
            except Exception:
                ledger.error(f"{kind} {email}: {traceback.format_exc()}")
            with ledger.lock:
                ledger.done += 1

    threads = [threading.Thread(target=worker, name=f"load-{i}", daemon=True) for i in range(THREADS)]
    t_load = time.monotonic()
    for t in threads:
        t.start()

    # ---- Halfway: SIGKILL instance B.
    poll(lambda: ledger.done >= int(total * KILL_AFTER), timeout=40, interval=0.01,
         what=f"{int(total * KILL_AFTER)} of {total} workload tasks before the kill")
    served_before_kill = lb.served_by()
    b.kill()
    t_kill = time.monotonic()
    # Wait until PostgreSQL has ended the dead instance's sessions (anything they were
    # committing is then committed or rolled back), then read what it held claimed.
    orphans_at_kill = len(orphan_backends(db, pg_port))
    poll(lambda: not orphan_backends(db, pg_port), timeout=15, interval=0.02,
         what="PostgreSQL to close the killed instance's connections")
    pid_re = re.compile(r"-(\d+)-[0-9a-f]{8}$")
    claimed = db.rows("SELECT id, claimed_by FROM outbox WHERE sent_at IS NULL AND claimed_by IS NOT NULL")
    held = {i for i, who in claimed if (mm := pid_re.search(who)) and int(mm.group(1)) == b.pid}

    for t in threads:
        t.join(timeout=60)
    assert not any(t.is_alive() for t in threads), "the workload threads did not finish"
    t_done = time.monotonic()

    assert a.proc.poll() is None, f"the surviving instance died ({a.proc.returncode}):\n{tail(a.log_path)}"
    diag = f"\n{logs}\nerrors logged by a:\n{a.error_lines()}\nerrors logged by b:\n{b.error_lines()}"
    assert not ledger.errors, "unexpected answers during the workload:\n" + "\n".join(ledger.errors[:20]) + diag
    assert not ledger.app_5xx, "openseat answered 5xx itself:\n" + "\n".join(ledger.app_5xx[:20]) + diag
    assert served_before_kill.get("a") and served_before_kill.get("b"), \
        f"haproxy did not spread the load over both instances before the kill: {served_before_kill}"

    # ---- Every acknowledged write is in the database.
    def users(emails):
        if not emails:
            return {}
        return {e: (v, n) for e, v, n in db.rows(
            "SELECT u.email, u.email_verified_at, (SELECT COUNT(*) FROM sessions s WHERE s.user_id = u.id)"
            " FROM users u WHERE u.email = ANY(%s)", (list(emails),))}

    got = users(ledger.acked["signup"])
    missing = [e for e in ledger.acked["signup"] if e not in got]
    assert not missing, f"acknowledged sign-ups missing from users: {missing}"
    assert not [e for e in ledger.acked["verify"] if got[e][0] is None], "acknowledged verifications lost"
    assert not [e for e in ledger.acked["signin"] if got[e][1] < 1], "acknowledged sign-ins without a session row"
    # A registration acknowledged is a person covered by their organization's live relationship.
    regs = {e for (e,) in db.rows(
        "SELECT m.email FROM partner_relationships r JOIN agreements g ON g.id = r.agreement_id"
        " JOIN partner_members m ON m.org_id = r.partner_org_id WHERE g.license_number = %s"
        " AND r.status = 'active' AND (r.people = 'all' OR EXISTS (SELECT 1 FROM partner_relationship_people p"
        " WHERE p.relationship_id = r.id AND p.member_id = m.id))", (seed["lic"],))}
    missing = [e for e in ledger.acked["partner_reg"] if e not in regs]
    assert not missing, f"acknowledged partner registrations not covered by a relationship: {missing}"
    subs = dict(db.rows("SELECT s.uuid, s.sign_in_email FROM subscriptions s JOIN agreements g"
                        " ON g.id = s.agreement_id WHERE g.license_number = %s", (seed["lic"],)))
    missing = [(u, e) for u, e in ledger.acked["sub_add"] if subs.get(u) != e]
    assert not missing, f"acknowledged subscriber adds missing from subscriptions: {missing}"

    # ---- No pool over-allocated; counters agree with the subscriptions.
    pools = db.rows("SELECT p.agreement_id, l.code, p.purchased, p.assigned,"
                    " (SELECT COUNT(*) FROM subscriptions s WHERE s.agreement_id = p.agreement_id"
                    "  AND s.level_id = p.level_id)"
                    " FROM pools p JOIN levels l ON l.id = p.level_id ORDER BY 1, 2")
    for ag, level, purchased, assigned, count in pools:
        assert count <= purchased, f"pool {ag}/{level} over-allocated: {count} subscriptions for {purchased} seats"
        assert assigned == count, f"pool {ag}/{level}: assigned counter {assigned} != {count} subscriptions"
    over = db.one("SELECT COUNT(*) FROM usage_changes WHERE assigned_after > purchased")
    assert over == 0, f"{over} usage_changes rows above the purchased seats"
    seat_count = next(c for _, lv, _, _, c in pools if lv == "enterprise")
    acked_adds, unknown_adds = len(ledger.acked["sub_add"]), len(ledger.unknown["sub_add"])
    refused_adds = ledger.refused["sub_add"]
    assert acked_adds + unknown_adds + refused_adds == SUB_ATTEMPTS, \
        (acked_adds, unknown_adds, refused_adds, ledger.errors)
    assert acked_adds <= seat_count <= acked_adds + unknown_adds, \
        f"{seat_count} subscriptions for {acked_adds} acknowledged and {unknown_adds} unknown adds"
    assert refused_adds > 0 and seat_count == SEATS, \
        f"the pool did not run out: {seat_count}/{SEATS} seats, {refused_adds} refusals"

    # ---- Lifecycle: two processes at once, for a day that makes the seed's reminder due
    # (47 days left: the 60-day reminder, the 120-day one marked as passed).
    day = seed["end"] - datetime.timedelta(days=47)
    procs = [cli(cluster["db_url"], cluster["cli_data"], cluster["secret_key"], "lifecycle", "--today",
                 day.isoformat()) for _ in range(2)]
    outs = []
    for p in procs:
        out, err = p.communicate(timeout=60)
        assert p.returncode == 0, f"lifecycle exited {p.returncode}\nstdout:\n{out}\nstderr:\n{err}"
        assert not any(mk in err for mk in SANITIZER_MARKERS), f"lifecycle: sanitizer report:\n{err}"
        outs.append(out)
    queued = [int(re.search(r"(\d+) expiry reminder", o).group(1)) for o in outs]
    assert sorted(queued) == [0, 1], f"two lifecycle runs queued {queued} reminders (want 1 in all): {outs}"
    ag_id = db.one("SELECT id FROM agreements WHERE license_number = %s", (seed["lic"],))
    notices = sorted(d for (d,) in db.rows("SELECT days FROM expiry_notices WHERE agreement_id = %s", (ag_id,)))
    assert notices == [60, 120], notices
    reminders = [(rid, to, mid) for rid, to, mid, data in db.rows(
        "SELECT id, recipient, message_id, data FROM outbox WHERE template = 'agreement_expiring'")
        if seed["lic"] in data]
    assert [to for _, to, _ in reminders] == [seed["customer_email"]], reminders
    assert db.one("SELECT COUNT(*) FROM audit_events WHERE action = 'agreement.expiry_reminder'"
                  " AND agreement_id = %s", (ag_id,)) == 1

    # ---- Every queued e-mail is delivered: once, or (rows the dead instance held) at most twice.
    def pending():
        return db.one("SELECT COUNT(*) FROM outbox WHERE sent_at IS NULL")

    try:
        poll(lambda: pending() == 0, timeout=30, interval=0.1, what="the outbox to drain")
    except BaseException:
        print(db.rows("SELECT id, recipient, template, attempts, claimed_by, claimed_until, last_error"
                      " FROM outbox WHERE sent_at IS NULL"))
        raise
    rows = db.rows("SELECT id, message_id, recipient, template FROM outbox ORDER BY id")
    want = {_mid(mid) for _, mid, _, _ in rows}
    counts = poll(lambda: (lambda c: c if all(c[x] >= 1 for x in want) else None)(mails.by_message_id()),
                  timeout=10, what="every sent message in the maildir")
    bad = []
    for rid, mid, to, template in rows:
        n = counts[_mid(mid)]
        ok = (1 <= n <= 2) if rid in held else n == 1
        if not ok:
            bad.append(f"outbox {rid} ({template} to {to}, {mid}): delivered {n} times"
                       f"{' (held by the killed instance)' if rid in held else ''}")
    strays = [k for k in counts if k not in want]
    assert not bad, "\n".join(bad)
    assert not strays, f"messages with no outbox row: {strays}"
    for rid, _, mid in reminders:
        assert counts[_mid(mid)] == 1 or rid in held

    # ---- The survivor stops cleanly; no sanitizer report from either.
    rc = a.stop()
    assert rc == 0, f"surviving instance exit status {rc}:\n{tail(a.log_path)}"
    for inst in (a, b):
        assert not inst.sanitizer_lines(), f"sanitizer report in {inst.log_path}: {inst.sanitizer_lines()[:5]}"

    print(f"\nscale-out: {total + 1} tasks, setup {t_load - t_start:.1f}s, kill at {t_kill - t_load:.1f}s, "
          f"workload {t_done - t_load:.1f}s; acked {dict((k, len(v)) for k, v in ledger.acked.items())}, "
          f"unknown {dict((k, len(v)) for k, v in ledger.unknown.items())}, refused {dict(ledger.refused)}, "
          f"held by the killed instance {sorted(held)}, its PostgreSQL sessions still open right after the kill "
          f"{orphans_at_kill}, outbox rows {len(rows)}, "
          f"served before the kill {dict(served_before_kill)}")
