"""The server's SCIM PATCH compared with the scim-patch npm package (tests/peers/scim-patch.mjs)
on a set of PatchOp documents applied to one user: the resources must come out the same (the
server's id and meta aside)."""
import json
import subprocess
from pathlib import Path

import pytest

from support.agreements import agreement
from support.scim import new_user, patch, provider, user_body

pytestmark = pytest.mark.usefixtures("server_alive")



@pytest.fixture(scope="module")
def idp(server):
    return provider(server, agreement(server, {"professional": 5}))


PEERS = Path(__file__).resolve().parents[2] / "tests" / "peers"

DOCS = [
    [{"op": "replace", "path": "displayName", "value": "Ada L."}],
    [{"op": "replace", "path": "name.givenName", "value": "Augusta"}],
    [{"op": "remove", "path": "name.givenName"}],
    [{"op": "add", "path": "name", "value": {"middleName": "King"}}],
    [{"op": "replace", "value": {"displayName": "Q", "active": False}}],
    [{"op": "Replace", "path": "active", "value": False}],
    [{"op": "replace", "path": 'emails[type eq "work"].value', "value": "new@contoso.example"}],
    [{"op": "add", "path": "emails", "value": [{"value": "home@example.org", "type": "home"}]}],
    [{"op": "remove", "path": 'emails[type eq "home"]'}],
    [{"op": "add", "path": "externalId", "value": "ext-9"}, {"op": "replace", "path": "externalId", "value": "ext-10"}],
    [{"op": "add", "path": "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber",
      "value": "701984"}],
]


def peer(cases):
    if not (PEERS / "node_modules" / "scim-patch").is_dir():
        pytest.fail("tests/peers has no node_modules/scim-patch: run scripts/install-deps.sh")
    out = subprocess.run(["node", str(PEERS / "scim-patch.mjs")], input=json.dumps(cases), capture_output=True,
                         text=True, check=True, timeout=30)
    return json.loads(out.stdout)


def bare(resource):
    r = {k: v for k, v in resource.items() if k not in ("id", "meta")}
    return r


@pytest.mark.parametrize("ops", DOCS, ids=[json.dumps(d)[:60] for d in DOCS])
def test_patch_matches_scim_patch(idp, ops):
    u = new_user(idp)
    # A user with a work and a home address, as providers keep them.
    start = idp.put(f"/Users/{u['id']}", user_body(u["userName"], emails=[
        {"value": u["userName"], "type": "work", "primary": True},
        {"value": "home@example.org", "type": "home"}])).body
    expected = peer([{"resource": bare(start), "operations": ops}])[0]
    assert "error" not in expected, expected
    r = patch(idp, f"/Users/{u['id']}", *ops)
    assert r.status == 200, r
    assert bare(r.body) == expected, (ops, bare(r.body), expected)
