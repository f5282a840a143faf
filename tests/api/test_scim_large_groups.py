"""A group of the largest size SCIM takes here (SCIM_MEMBERS_MAX, 10,000 members) fits in one
request: providers that send a group whole (POST, or PUT with every member) are not cut off
by the ordinary 64 KiB limit of JSON bodies; SCIM bodies may be up to 1 MiB, and a larger one
gets 413 as a SCIM error."""
import json

import pytest

from support.agreements import agreement
from support.client import raw_http
from support.db import db_query
from support.scim import ERROR, provider, users_in_bulk

pytestmark = pytest.mark.usefixtures("server_alive")

MEMBERS_MAX = 10000


def test_a_group_with_every_member_it_may_have_fits_in_one_request(server):
    ag = agreement(server, {"enterprise": 5})
    idp = provider(server, ag)
    members = [{"value": uid} for uid in users_in_bulk(server, ag, MEMBERS_MAX)]
    body = {"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "displayName": "Everyone",
            "members": members}
    assert len(json.dumps(body)) > 64 * 1024
    idp.c.timeout = 120
    r = idp.post("/Groups", body)
    assert r.status == 201, r
    gid = db_query(server, "SELECT id FROM scim_groups WHERE uuid = ?", (r.body["id"],))[0][0]
    assert db_query(server, "SELECT COUNT(*) FROM scim_members WHERE group_id = ?", (gid,)) == [(MEMBERS_MAX,)]
    # The same, sent whole again with PUT: nothing to change.
    body["id"] = r.body["id"]
    again = idp.put(f"/Groups/{r.body['id']}", body)
    assert again.status == 200, again


def test_a_scim_body_over_a_mebibyte_is_refused_as_a_scim_error(server):
    ag = agreement(server, {"enterprise": 5})
    idp = provider(server, ag)
    body = json.dumps({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "displayName": "Too big",
                       "externalId": "x" * (1024 * 1024)}).encode()
    req = (f"POST {idp.base}/Groups HTTP/1.1\r\nHost: 127.0.0.1:{server.port}\r\n"
           f"Content-Type: application/scim+json\r\nAuthorization: Bearer {idp.secret}\r\n"
           f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n").encode() + body
    status, hdrs, raw = raw_http(server.port, req)
    assert status == 413, (status, raw[:300])
    b = json.loads(raw)
    assert b["schemas"] == [ERROR] and b["status"] == "413" and "1048576" in b["detail"], b
