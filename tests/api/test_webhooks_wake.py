"""A committed change's webhook deliveries leave at once: the write that fanned them out wakes
the delivery threads, so an event does not wait for the next look at the queue. The server
here looks at its queues only every ten minutes (--mail-poll-ms 600000); every delivery below
arrives long before that, or the wake is missing."""
import pytest

from support.accounts import addr
from support.agreements import agreement
from support.files import upload, with_defaults
from support.server import module_server
from support.subscriptions import add
from support.webhooks import create, hooks, receiver  # noqa: F401 (a fixture)

pytestmark = pytest.mark.usefixtures("server_alive")


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    yield from module_server(tmp_path_factory, "webhooks-wake",
                             extra_args=["--webhooks-allow-private", "--mail-poll-ms", "600000"])


def of_type(rs, type_):
    return [q for q in rs if q["payload"] and q["payload"]["type"] == type_]


def test_a_single_add_is_delivered_without_waiting_for_the_poll(server, receiver):
    ag = agreement(server, {"enterprise": 5})
    create(ag.sa, hooks(ag.lic), receiver.url)
    who = addr("wake")
    add(ag.sa, ag.lic, sign_in_email=who)
    got = receiver.wait_for(lambda rs: [q for q in of_type(rs, "subscription.added")
                                        if q["payload"]["data"]["subscription"]["sign_in_email"] == who],
                            timeout=30, what="subscription.added")
    assert got


def test_a_bulk_upload_is_delivered_without_waiting_for_the_poll(server, receiver):
    ag = with_defaults(agreement(server, {"enterprise": 20}))
    create(ag.sa, hooks(ag.lic), receiver.url)
    r = upload(ag.sa, ag.lic, "Name,Sign-in Email\n" + "".join(f"Ann Lee,{addr('bulkwake')}\n" for _ in range(3)),
               send_email="false")
    assert r.status in (200, 201, 202), r
    assert receiver.wait_for(lambda rs: of_type(rs, "bulk.applied") or of_type(rs, "job.finished"),
                             timeout=30, what="the bulk change's event")
