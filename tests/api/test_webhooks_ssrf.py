"""Webhooks on a server without --webhooks-allow-private, as in production: an endpoint's URL
must be https and must not name a user, a password or a non-public address (refused when it
is made, on `url`), and the delivery worker connects only to public addresses whatever the
name resolves to when it sends (a name that resolves to a loopback address is refused at
connect time: DNS cannot be used to get around the check made at creation)."""
import time

import pytest

from support.agreements import agreement
from support.checks import assert_problem, field_errors
from support.db import db_query, db_write
from support.server import module_server
from support.webhooks import Receiver, create, hooks

pytestmark = pytest.mark.usefixtures("server_alive")


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    yield from module_server(tmp_path_factory, "webhooks-ssrf")


REFUSED = {
    "http://example.com/hook": "url_not_https",
    "ftp://example.com/hook": "url_not_https",
    "https://127.0.0.1/hook": "url_private",
    "https://127.1.2.3:8443/hook": "url_private",
    "https://[::1]/hook": "url_private",
    "https://10.1.2.3/hook": "url_private",
    "https://172.16.0.9/hook": "url_private",
    "https://192.168.1.1/hook": "url_private",
    "https://169.254.169.254/latest/meta-data": "url_private",
    "https://0.0.0.0/hook": "url_private",
    "https://224.0.0.1/hook": "url_private",
    "https://[fd00::1]/hook": "url_private",
    "https://[fe80::1]/hook": "url_private",
    "https://[ff02::1]/hook": "url_private",
    "https://[::]/hook": "url_private",
    "https://[::ffff:192.168.0.1]/hook": "url_private",
    "https://[::ffff:127.0.0.1]/hook": "url_private",
    "https://localhost/hook": "url_private",
    "https://api.localhost/hook": "url_private",
    "https://user:secret@example.com/hook": "url_credentials",
    "https://user@example.com/hook": "url_credentials",
    "example.com/hook": "url_invalid",
    "https://": "url_invalid",
    "https://example.com/" + "a" * 2000: "too_long",
}


def test_what_delivery_would_refuse_is_refused_when_the_endpoint_is_made(server):
    ag = agreement(server, {"enterprise": 5})
    for target, code in REFUSED.items():
        r = ag.sa.post(hooks(ag.lic), {"url": target})
        assert_problem(r, 422, "validation")
        assert field_errors(r) == {"url": code}, (target, r.body)
    h = create(ag.sa, hooks(ag.lic), "https://example.com/hook")
    r = ag.sa.patch(hooks(ag.lic, f"/{h['id']}"), {"url": "https://[::1]/hook"})
    assert field_errors(r) == {"url": "url_private"}, r.body
    assert ag.sa.get(hooks(ag.lic, f"/{h['id']}")).body["url"] == "https://example.com/hook"
    create(ag.sa, hooks(ag.lic), "https://93.184.215.14:8443/hook")   # a public literal address


def test_a_name_resolving_to_a_private_address_is_refused_at_connect_time(server, tmp_path):
    rc = Receiver(tmp_path / "receiver").start()
    try:
        ag = agreement(server, {"enterprise": 5})
        h = create(ag.sa, hooks(ag.lic), "https://example.com/hook")
        # What creation cannot see: the name's addresses when the delivery is sent.
        for target in (f"https://localhost:{rc.port}/hook", f"http://127.0.0.1:{rc.port}/hook"):
            db_write(server, "UPDATE webhook_endpoints SET url = ? WHERE id = ?", (target, h["id"]))
            did = ag.sa.post(hooks(ag.lic, f"/{h['id']}/ping")).body["id"]
            deadline = time.monotonic() + 20
            while not db_query(server, "SELECT COUNT(*) FROM webhook_attempts WHERE delivery_id = ?", (did,))[0][0]:
                assert time.monotonic() < deadline
                time.sleep(0.05)
            b = ag.sa.get(hooks(ag.lic, f"/{h['id']}/deliveries/{did}")).body
            assert b["status"] == "pending" and b["attempt_log"][0]["http_status"] is None, b
            if target.startswith("https://localhost"):
                assert b["attempt_log"][0]["error"].startswith("address_refused"), b
            else:
                assert b["attempt_log"][0]["error"], b
        time.sleep(0.5)
        assert rc.received(path=None) == []
    finally:
        rc.stop()
