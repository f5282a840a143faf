"""SCIM from an identity provider's side: a bearer client on one agreement's SCIM base URL,
and the users, groups and PatchOps the SCIM tests send."""
import time

from support.accounts import addr
from support.agreements import url
from support.db import db_query, db_write
from support.tokens import bearer, make_token

SCIM_CT = "application/scim+json"
ERROR = "urn:ietf:params:scim:api:messages:2.0:Error"
PATCH = "urn:ietf:params:scim:api:messages:2.0:PatchOp"


class Scim:
    """An identity provider: a bearer client on one agreement's SCIM base URL."""

    def __init__(self, server, ag, secret):
        self.c = bearer(server, secret)
        self.secret = secret
        self.base = url(ag.lic, "/scim/v2")

    def __getattr__(self, verb):
        def call(path, body=None, **kw):
            kw.setdefault("content_type", SCIM_CT)
            return self.c.request(verb.upper(), self.base + path, body, **kw)
        return call


def provider(server, ag):
    t = make_token(ag.sa, name="Entra ID", agreement=ag.lic, capabilities=["provisioning"])
    return Scim(server, ag, t["secret"])


def user_body(name=None, **kw):
    name = name or addr("scim", "contoso.example")
    b = {"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": name,
         "name": {"givenName": "Ada", "familyName": "Lovelace"},
         "emails": [{"value": name, "type": "work", "primary": True}], "active": True}
    b.update(kw)
    return b


def new_user(idp, **kw):
    r = idp.post("/Users", user_body(**kw))
    assert r.status == 201, r
    assert r.headers["Content-Type"].startswith(SCIM_CT), r.headers
    return r.body


def new_group(idp, name, members=()):
    r = idp.post("/Groups", {"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "displayName": name,
                             "members": [{"value": m} for m in members]})
    assert r.status == 201, r
    return r.body


def patch(idp, path, *ops):
    return idp.patch(path, {"schemas": [PATCH], "Operations": list(ops)})


def users_in_bulk(server, ag, n, group=None):
    """n active users of the agreement written straight into the tables (n SCIM requests would
    only test the provider's patience), in group (its SCIM id) when given; their SCIM ids."""
    now = int(time.time())
    ids = [f"{ag.id:08d}-0000-4000-8000-{i:012d}" for i in range(n)]
    values = ",".join(
        f"({ag.id}, '{uid}', 'p{i}.{ag.id}@contoso.example', 'p{i}.{ag.id}@contoso.example',"
        f" 'p{i}.{ag.id}@contoso.example', 'Person {i}', 1, '{{}}', {now}, {now})" for i, uid in enumerate(ids))
    db_write(server, "INSERT INTO scim_users (agreement_id, uuid, user_name, user_name_key, email, display_name,"
                     " active, resource, created_at, updated_at) VALUES " + values)
    if group:
        gid = db_query(server, "SELECT id FROM scim_groups WHERE uuid = ?", (group,))[0][0]
        db_write(server, "INSERT INTO scim_members (group_id, kind, member_id) SELECT ?, 'u', id FROM scim_users"
                         " WHERE agreement_id = ?", (gid, ag.id))
    return ids
