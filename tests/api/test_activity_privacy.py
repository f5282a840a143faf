"""The activity log's client addresses are personal data of everyone acting on an agreement —
the customer's staff, each reseller's: only the agreement's super admins see them, in the
JSON pages and in the CSV. Admins and partners of the same agreement read the same events
without them (no member, no column)."""
import pytest

from support.accounts import addr, verified_user
from support.agreements import add_admin, agreement, role_of, url
from support.files import read_csv
from support.subscriptions import add


@pytest.fixture(scope="module")
def three(server):
    """One agreement with its super admin, an admin and the partner who ordered it, each of
    whom has acted on it (so each one's address is in the log)."""
    a = agreement(server, {"enterprise": 10})
    a.admin = verified_user(server, addr("admin"), name="Ada Admin")
    add_admin(a.sa, a.lic, a.admin.email)
    assert role_of(a.admin, a.lic) == "admin"
    add(a.sa, a.lic)
    add(a.admin, a.lic)
    add(a.seller, a.lic)
    return a


def page(client, lic):
    r = client.get(url(lic, "/activity?limit=500"))
    assert r.status == 200, r
    return r.body["events"]


def test_super_admin_sees_every_address(three):
    evs = page(three.sa, three.lic)
    actors = {e["actor"] for e in evs if e["action"] == "subscription.added"}
    assert actors >= {three.sa.email, three.admin.email, three.seller.email}, actors
    assert all("address" in e for e in evs), evs[0]
    assert all(e["address"] == "127.0.0.1" for e in evs if e["action"] == "subscription.added"), evs
    rows = read_csv(three.sa.get(url(three.lic, "/activity.csv")))
    assert rows[0] == ["time", "actor", "action", "target type", "target", "address", "actor name", "action label",
                       "target label", "token id", "token name", "details"], rows[0]
    assert all(r[5] == "127.0.0.1" for r in rows[1:] if r[2] == "subscription.added"), rows


@pytest.mark.parametrize("who", ["admin", "seller"])
def test_admins_and_partners_see_no_address(three, who):
    c = getattr(three, who)
    evs = page(c, three.lic)
    assert len(evs) == len(page(three.sa, three.lic)), "the same events, addresses aside"
    assert evs and all("address" not in e for e in evs), evs[0]
    for e in evs:
        assert "127.0.0.1" not in str(e), e
    r = c.get(url(three.lic, "/activity.csv"))
    rows = read_csv(r)
    assert rows[0] == ["time", "actor", "action", "target type", "target", "actor name", "action label",
                       "target label", "token id", "token name", "details"], rows[0]
    assert all(len(row) == 11 for row in rows), rows[:3]
    assert b"127.0.0.1" not in r.raw
    # Filters and pages work the same without the column.
    rows = read_csv(c.get(url(three.lic, "/activity.csv?action=subscription.added")))
    assert len(rows) == 1 + 3 and all(row[2] == "subscription.added" for row in rows[1:]), rows
