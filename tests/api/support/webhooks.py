"""Webhooks: the receiver the tests start on 127.0.0.1 (tests/peers/webhook-receiver.mjs, which
verifies every request with the standardwebhooks npm package), endpoints made through the API,
and the deliveries as the database holds them."""
import json
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest

from support import HOST, ROOT
from support.agreements import url
from support.db import db_query, db_write
from support.server import free_port, poll, port_open, tail, terminate

PEERS = ROOT / "tests" / "peers"


class Receiver:
    """The webhook receiver: start(), stop() (down), mode(...), secrets(...), received()."""

    def __init__(self, directory, port=None):
        self.dir = Path(directory)
        self.dir.mkdir(parents=True, exist_ok=True)
        self.port = port or free_port()
        self.records = self.dir / "received.jsonl"
        self.log_path = self.dir / "receiver.log"
        self.proc = None
        self._secrets = []
        self._mode = {"mode": "ok"}

    @property
    def url(self):
        return f"http://{HOST}:{self.port}/hook"

    def start(self, timeout=15):
        assert (PEERS / "node_modules" / "standardwebhooks").is_dir(), \
            "tests/peers has no node_modules: run scripts/install-deps.sh"
        self._log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(["node", str(PEERS / "webhook-receiver.mjs"), str(self.port), str(self.records)],
                                     stdin=subprocess.DEVNULL, stdout=self._log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout
        while not port_open(self.port):
            assert self.proc.poll() is None, f"receiver exited: {tail(self.log_path)}"
            assert time.monotonic() < deadline, "receiver did not listen"
            time.sleep(0.05)
        # A restarted receiver is told again what it was told before.
        self._control({"secrets": self._secrets, **self._mode})
        return self

    def stop(self):
        if self.proc:
            terminate(self.proc)
            self._log.close()
        self.proc = None

    def _control(self, body):
        if self.proc is None:
            return   # told at the next start
        req = urllib.request.Request(f"http://{HOST}:{self.port}/_control", data=json.dumps(body).encode(),
                                     method="POST", headers={"Content-Type": "application/json"})
        urllib.request.urlopen(req, timeout=5).read()

    def secrets(self, *secrets):
        self._secrets = list(secrets)
        self._control({"secrets": self._secrets})

    def mode(self, mode, status=None):
        self._mode = {"mode": mode, **({"status": status} if status else {})}
        self._control(self._mode)

    def received(self, path="/hook"):
        if not self.records.exists():
            return []
        out = [json.loads(line) for line in self.records.read_text().splitlines() if line.strip()]
        return [r for r in out if path is None or r["path"] == path]

    def wait_for(self, pred, timeout=20, what="a matching request"):
        """The requests received once pred(requests) holds."""
        got = []

        def check():
            got[:] = self.received()
            return pred(got)

        poll(check, timeout=timeout, what=what)
        return got


@pytest.fixture
def receiver(tmp_path):
    """A receiver of the test's own (import it into a test module as a fixture), stopped after
    the test."""
    rc = Receiver(tmp_path / "receiver").start()
    yield rc
    rc.stop()


def hooks(lic, tail=""):
    return url(lic, "/webhooks" + tail)


def org_hooks(org_id, tail=""):
    return f"/api/v1/partner-organizations/{org_id}/webhooks{tail}"


def create(client, base, target, **body):
    body.setdefault("url", target)
    r = client.post(base, body)
    assert r.status == 201, r
    return r.body


def deliveries_in_db(server, endpoint_id):
    return db_query(server, "SELECT id, type, status, attempts, next_attempt_at, event_id FROM webhook_deliveries"
                            " WHERE endpoint_id = ? ORDER BY id", (endpoint_id,))


def make_due(server, endpoint_id=None):
    """Moves time for the retries: every pending delivery (of the endpoint) due now."""
    if endpoint_id is None:
        db_write(server, "UPDATE webhook_deliveries SET next_attempt_at = 0 WHERE status = 'pending'")
    else:
        db_write(server, "UPDATE webhook_deliveries SET next_attempt_at = 0 WHERE status = 'pending'"
                         " AND endpoint_id = ?", (endpoint_id,))
