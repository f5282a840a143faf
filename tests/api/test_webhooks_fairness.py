"""One slow receiver holds up nobody else: while one customer's endpoint hangs on a try (the
receiver answers nothing until the server's timeout), another customer's deliveries are all
sent. A claim takes the due deliveries of one endpoint only, and an endpoint one thread holds
is left to it, so the hanging endpoint occupies one delivery thread and the others go on.
Observed from the receivers and the delivery log, never from durations."""
from support.agreements import agreement
from support.db import db_query
from support.webhooks import Receiver, create, hooks


def attempts_logged(srv, endpoint_id):
    return db_query(srv, "SELECT COUNT(*) FROM webhook_attempts t JOIN webhook_deliveries d ON d.id = t.delivery_id"
                         " WHERE d.endpoint_id = ?", (endpoint_id,))[0][0]


def test_a_hanging_endpoint_does_not_hold_up_another_customers_deliveries(server_factory, tmp_path):
    slow = Receiver(tmp_path / "slow").start()
    fast = Receiver(tmp_path / "fast").start()
    try:
        srv = server_factory(extra_args=["--webhooks-allow-private"])
        a = agreement(srv, {"enterprise": 5})
        b = agreement(srv, {"enterprise": 5})
        ha = create(a.sa, hooks(a.lic), slow.url)
        hb = create(b.sa, hooks(b.lic), fast.url)
        slow.secrets(ha["secret"])
        fast.secrets(hb["secret"])
        slow.mode("hang")
        # The slow endpoint's deliveries are the oldest due: a worker taking them in order
        # would send none of the other's before trying all of these.
        for _ in range(3):
            assert a.sa.post(hooks(a.lic, f"/{ha['id']}/ping")).status == 202
        slow.wait_for(lambda rs: len(rs) == 1, what="the first request the slow receiver holds")
        sent = [b.sa.post(hooks(b.lic, f"/{hb['id']}/ping")).body["id"] for _ in range(3)]
        got = fast.wait_for(lambda rs: len(rs) == 3, timeout=25, what="every delivery to the answering endpoint")
        assert {q["headers"]["webhook-id"] for q in got} == {f"msg_{d}" for d in sent}
        assert all(q["verified"] == [True] for q in got)
        # ... while the slow endpoint's first try is still in hand: one request received, no
        # try logged, every delivery still pending with no try counted.
        assert len(slow.received()) == 1
        assert attempts_logged(srv, ha["id"]) == 0
        assert db_query(srv, "SELECT status, attempts FROM webhook_deliveries WHERE endpoint_id = ? ORDER BY id",
                        (ha["id"],)) == [("pending", 0)] * 3
    finally:
        fast.stop()
        slow.stop()
