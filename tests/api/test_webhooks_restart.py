"""A webhook delivery survives the death of the server sending it: killed (SIGKILL) while the
receiver holds the request, the restarted server sends it again once its lease has run out,
under the same webhook-id — at least once, nothing lost."""
import time

from support.agreements import agreement
from support.db import db_query
from support.server import poll
from support.webhooks import Receiver, create, hooks


def test_a_delivery_in_flight_when_the_server_is_killed_is_sent_after_the_restart(server_factory, tmp_path):
    rc = Receiver(tmp_path / "receiver").start()
    try:
        srv = server_factory(extra_args=["--webhooks-allow-private", "--webhook-lease", "2"])
        ag = agreement(srv, {"enterprise": 5})
        h = create(ag.sa, hooks(ag.lic), rc.url)
        rc.secrets(h["secret"])
        rc.mode("hang")
        did = ag.sa.post(hooks(ag.lic, f"/{h['id']}/ping")).body["id"]
        rc.wait_for(lambda rs: len(rs) == 1, what="the request the receiver holds")
        srv.proc.kill()
        srv.proc.wait()
        srv.proc = None
        srv._log.close()
        assert db_query(srv, "SELECT status, claimed_by IS NOT NULL FROM webhook_deliveries WHERE id = ?",
                        (did,)) == [("pending", 1)]
        rc.mode("ok")
        srv.start()
        got = rc.wait_for(lambda rs: len(rs) >= 2, timeout=30, what="the delivery sent again")
        assert {q["headers"]["webhook-id"] for q in got} == {f"msg_{did}"}, got
        assert got[-1]["verified"] == [True]
        poll(lambda: db_query(srv, "SELECT status FROM webhook_deliveries WHERE id = ?", (did,)) == [("delivered",)],
             timeout=20, what="the delivery recorded as delivered")
    finally:
        rc.stop()
