"""Mail queued by an operator command builds its links from the same public URL as the
server's: `openseat serve` records its --base-url in the database, and a command run without
--base-url (here `openseat lifecycle`) uses it; a --base-url given to the command wins."""
import datetime
import json

import pytest

from support.agreements import agreement
from support.db import db_query, db_write

pytestmark = pytest.mark.usefixtures("server_alive")


def expiring_links(server, lic):
    rows = db_query(server, "SELECT data FROM outbox WHERE template = 'agreement_expiring' ORDER BY id")
    return [json.loads(r[0])["link"] for r in rows if lic in r[0]]


def expiring_agreement(server, days):
    a = agreement(server, {"enterprise": 2})
    end = datetime.datetime.now(datetime.timezone.utc).date() + datetime.timedelta(days=days)
    assert db_write(server, "UPDATE agreements SET end_date = ? WHERE id = ?", (end.isoformat(), a.id)) == 1
    return a


def test_cli_links_use_the_servers_base_url(server):
    stored = db_query(server, "SELECT value FROM settings WHERE key = 'base_url'")
    assert stored == [(server.url,)], stored
    a = expiring_agreement(server, 47)
    server.cli("lifecycle")
    links = expiring_links(server, a.lic)
    assert links and all(l == f"{server.url}/agreements/{a.lic}" for l in links), links


def test_cli_base_url_flag_wins(server):
    a = expiring_agreement(server, 46)
    server.cli("lifecycle", "--base-url", "https://portal.example/")
    links = expiring_links(server, a.lic)
    assert links and all(l == f"https://portal.example/agreements/{a.lic}" for l in links), links
    # The command's own flag is not recorded: only serve says where the portal is.
    assert db_query(server, "SELECT value FROM settings WHERE key = 'base_url'") == [(server.url,)]
