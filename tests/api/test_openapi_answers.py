"""docs/openapi.yaml says what the server answers: an integrator writes against it alone.

No JSON request or response of the document is a bare `{type: object}` (a schema that
says nothing); and the SCIM 2.0 and provisioning routes, driven the way an identity
provider and a super admin drive them, answer with a status the operation lists, in a
content type it lists, with a body its schema accepts — the bodies sent are checked
against the request schemas too, so a schema too strict for what the server takes fails
as well as one too loose. Validation is the `jsonschema` package's (JSON Schema 2020-12,
OpenAPI 3.1's dialect); `$ref`s resolve inside the document itself."""
import copy
import re
from urllib.parse import quote

import jsonschema
import pytest
import yaml

from support import ROOT
from support.agreements import agreement, url
from support.scim import PATCH, SCIM_CT, new_user, provider, user_body

JSON_TYPES = re.compile(r"^application/([a-z0-9.+-]+\+)?json$")
METHODS = ("get", "put", "post", "patch", "delete")


def document():
    return yaml.safe_load((ROOT / "docs" / "openapi.yaml").read_text())


def json_bodies(doc):
    """(where, schema) of every JSON request and response body of the document, in the
    operations and in the shared components they refer to."""
    def contents(where, content):
        for ctype, media in (content or {}).items():
            if JSON_TYPES.match(ctype):
                yield f"{where} {ctype}", media.get("schema")

    for path, ops in doc["paths"].items():
        for method in METHODS:
            op = ops.get(method)
            if not op:
                continue
            name = f"{method.upper()} {path}"
            yield from contents(f"{name} request", op.get("requestBody", {}).get("content"))
            for status, answer in op.get("responses", {}).items():
                yield from contents(f"{name} {status}", answer.get("content"))
    comps = doc.get("components", {})
    for name, answer in comps.get("responses", {}).items():
        yield from contents(f"components/responses/{name}", answer.get("content"))
    for name, body in comps.get("requestBodies", {}).items():
        yield from contents(f"components/requestBodies/{name}", body.get("content"))


def bare(schema):
    return schema == {"type": "object"}


def test_the_bare_object_check_sees_one():
    # The check below would pass on a walker that found nothing: show it finds each place.
    doc = {"paths": {"/x": {"post": {"requestBody": {"content": {"application/scim+json": {"schema": {"type": "object"}}}},
                                     "responses": {"200": {"content": {"application/json": {
                                         "schema": {"type": "object", "required": ["a"]}}}}}}}},
           "components": {"responses": {"R": {"content": {"application/problem+json": {"schema": {"type": "object"}}}}}}}
    found = [w for w, s in json_bodies(doc) if bare(s)]
    assert found == ["POST /x request application/scim+json", "components/responses/R application/problem+json"]


def test_a_value_that_may_be_null_says_so_as_openapi_3_1_does():
    """`nullable: true` is OpenAPI 3.0's spelling, which a 3.1 document's readers ignore: a
    value that may be null has "null" among its types."""
    text = (ROOT / "docs" / "openapi.yaml").read_text()
    assert text.startswith("openapi: 3.1"), text[:40]
    assert "nullable" not in text


def test_no_json_body_is_described_as_a_bare_object():
    doc = document()
    bodies = list(json_bodies(doc))
    assert len(bodies) > 200, "docs/openapi.yaml no longer reads as expected"
    assert all(s is not None for _, s in bodies), [w for w, s in bodies if s is None]
    vague = [w for w, s in bodies if bare(s)]
    assert not vague, "bodies described only as `{type: object}`:\n  " + "\n  ".join(vague)


# --------------------------------------------------------------------------------------
# The live answers


class Contract:
    """The document's operations, and a check of one exchange against its operation."""

    def __init__(self):
        self.doc = document()
        self.templates = []
        for path in self.doc["paths"]:
            rx = "^" + re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(path)) + "$"
            self.templates.append((path.count("{"), path, re.compile(rx)))
        self.templates.sort()   # a literal segment wins over a parameter: /mappings/preview
        self.checked = set()

    def operation(self, method, path):
        path = path.split("?")[0]
        for _, template, rx in self.templates:
            if rx.match(path) and method.lower() in self.doc["paths"][template]:
                return template, self.doc["paths"][template][method.lower()]
        raise AssertionError(f"{method} {path}: no operation of docs/openapi.yaml")

    def resolve(self, node):
        """A `$ref` to a shared response or request body, followed."""
        while isinstance(node, dict) and "$ref" in node:
            target = self.doc
            for part in node["$ref"].lstrip("#/").split("/"):
                target = target[part]
            node = target
        return node

    def validator(self, schema):
        # The schema is the root, the document's components beside it: `#/components/…`
        # then resolves with any jsonschema (RefResolver before 4.18, referencing after).
        root = dict(copy.deepcopy(schema), components=self.doc["components"])
        return jsonschema.Draft202012Validator(root, format_checker=jsonschema.FormatChecker())

    def valid(self, schema, value):
        return self.validator(schema).is_valid(value)

    def validate(self, schema, value, what):
        errors = sorted(self.validator(schema).iter_errors(value), key=lambda e: list(e.absolute_path))
        assert not errors, f"{what}: " + "\n".join(
            f"at {'/'.join(map(str, e.absolute_path)) or '(top)'}: {e.message}" for e in errors[:5])

    def check(self, method, path, resp, sent=None, sent_type="application/json", malformed=False):
        """resp answers `method path` (with the body sent, if any) as the document says.
        malformed: the body was sent to be refused, so the request schema must refuse it too."""
        template, op = self.operation(method, path)
        what = f"{method} {template}"
        if sent is not None:
            body = self.resolve(op.get("requestBody"))
            assert body and sent_type in body.get("content", {}), f"{what}: takes no {sent_type} body"
            schema = body["content"][sent_type]["schema"]
            if malformed:
                assert not self.valid(schema, sent), f"{what}: the document accepts {sent}, which the server refuses"
            else:
                self.validate(schema, sent, f"{what} (the body sent)")
        answer = op["responses"].get(str(resp.status))
        assert answer, f"{what} answered {resp.status}, which the document does not list: {resp!r}"
        answer = self.resolve(answer)
        content = answer.get("content")
        if not resp.raw:
            assert not content, f"{what} {resp.status}: the document promises a body, none came"
        else:
            assert content and resp.content_type in content, \
                f"{what} {resp.status}: {resp.content_type} is not among {sorted(content or {})}"
            self.validate(content[resp.content_type]["schema"], resp.body, f"{what} {resp.status}")
        self.checked.add((method.upper(), template, resp.status))
        return resp.body


@pytest.fixture(scope="module")
def contract():
    return Contract()


@pytest.fixture(scope="module")
def ag(server):
    return agreement(server, {"enterprise": 5, "professional": 1})


@pytest.fixture(scope="module")
def idp(server, ag):
    return provider(server, ag)


class Provider:
    """The provider's calls, each checked against the document."""

    def __init__(self, idp, contract):
        self.idp, self.contract = idp, contract

    def __getattr__(self, verb):
        def call(path, body=None, expect=None, malformed=False):
            r = getattr(self.idp, verb)(path, body)
            if expect is not None:
                assert r.status == expect, r
            self.contract.check(verb.upper(), self.idp.base + path, r, body, SCIM_CT, malformed)
            return r.body
        return call


class Admin:
    """The super admin's calls on the provisioning routes, each checked against the document."""

    def __init__(self, ag, contract):
        self.ag, self.contract = ag, contract

    def __getattr__(self, verb):
        def call(tail, body=None, expect=None, malformed=False):
            path = url(self.ag.lic, tail)
            r = getattr(self.ag.sa, verb)(path) if body is None else getattr(self.ag.sa, verb)(path, body)
            if expect is not None:
                assert r.status == expect, r
            self.contract.check(verb.upper(), path, r, body, malformed=malformed)
            return r.body
        return call


# The live tests share one server; the document checks above need none.
live = pytest.mark.usefixtures("server_alive")


@live
def test_scim_answers_are_what_the_document_says(server, ag, idp, contract):
    p = Provider(idp, contract)
    for doc in ("/ServiceProviderConfig", "/ResourceTypes", "/Schemas"):
        p.get(doc, expect=200)

    # Users: created (with an extension attribute the provider keeps), read, listed,
    # replaced, patched the way Entra ID and Okta patch.
    ada = p.post("/Users", user_body(externalId="e-ada", displayName="Ada Lovelace",
                                     **{"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":
                                        {"department": "Engines"}}), expect=201)
    grace = p.post("/Users", user_body(displayName=None, active="True"), expect=201)
    quiet = new_user(idp, active=False)
    # application/json is taken as well as application/scim+json; the answer is SCIM's.
    body = user_body()
    r = idp.post("/Users", body, content_type="application/json")
    assert r.status == 201 and r.content_type == SCIM_CT, r
    contract.check("POST", idp.base + "/Users", r, body, "application/json")
    p.get(f"/Users/{ada['id']}", expect=200)
    p.get("/Users", expect=200)
    listed = p.get("/Users?filter=" + quote(f'userName eq "{ada["userName"]}"'), expect=200)
    assert [u["id"] for u in listed["Resources"]] == [ada["id"]]
    p.get("/Users?startIndex=2&count=1", expect=200)
    p.put(f"/Users/{grace['id']}", user_body(grace["userName"], displayName="Grace Hopper"), expect=200)
    p.patch(f"/Users/{ada['id']}", {"schemas": [PATCH], "Operations": [
        {"op": "Replace", "path": "displayName", "value": "Ada King"},
        {"op": "replace", "value": {"name.givenName": "Augusta", "active": "True"}},
        {"op": "add", "path": "emails[type eq \"work\"].value", "value": ada["userName"]}]}, expect=200)

    # Groups: created with members, nested, read with and without their members, listed,
    # replaced, patched (Entra's member removal, Okta's rename without a path).
    inner = p.post("/Groups", {"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"],
                               "displayName": "Inner " + ada["id"][:8], "externalId": "g-inner",
                               "members": [{"value": quiet["id"]}]}, expect=201)
    team = p.post("/Groups", {"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"],
                              "displayName": "Team " + ada["id"][:8],
                              "members": [{"value": ada["id"]}, {"value": inner["id"]}]}, expect=201)
    assert {m["type"] for m in p.get(f"/Groups/{team['id']}", expect=200)["members"]} == {"User", "Group"}
    assert "members" not in p.get(f"/Groups/{team['id']}?excludedAttributes=members", expect=200)
    p.get("/Groups", expect=200)
    p.get("/Groups?excludedAttributes=members", expect=200)
    p.get("/Groups?filter=" + quote(f'displayName eq "{team["displayName"]}"'), expect=200)
    p.put(f"/Groups/{inner['id']}", {"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"],
                                     "displayName": inner["displayName"], "externalId": None,
                                     "members": [{"value": quiet["id"]}, {"value": grace["id"]}]}, expect=200)
    p.patch(f"/Groups/{team['id']}", {"schemas": [PATCH], "Operations": [
        {"op": "Remove", "path": "members", "value": [{"value": inner["id"]}]},
        {"op": "Add", "path": "members", "value": [{"value": grace["id"]}]}]}, expect=200)
    p.patch(f"/Groups/{inner['id']}", {"schemas": [PATCH], "Operations": [
        {"op": "replace", "value": {"id": inner["id"], "displayName": "Inner " + grace["id"][:8]}},
        {"op": "remove", "path": f"members[value eq \"{quiet['id']}\"]"}]}, expect=200)

    # Refusals are SCIM errors, as documented.
    p.post("/Users", user_body(ada["userName"]), expect=409)
    p.post("/Users", {"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": ""}, expect=400,
           malformed=True)
    p.get("/Users?filter=" + quote('title eq "x"'), expect=400)
    p.get("/Users/00000000-0000-4000-8000-000000000000", expect=404)
    p.patch(f"/Users/{ada['id']}", {"schemas": [PATCH], "Operations": [{"op": "remove"}]}, expect=400)
    p.patch(f"/Users/{ada['id']}", {"schemas": [PATCH], "Operations": [{"op": "delete", "path": "x"}]},
            expect=400, malformed=True)
    p.post("/Groups", {"members": [{"value": ada["id"]}]}, expect=400, malformed=True)
    p.post("/Groups", {"displayName": team["displayName"]}, expect=409)
    p.delete(f"/Users/{quiet['id']}", expect=204)
    assert ("DELETE", "/api/v1/agreements/{license}/scim/v2/Users/{id}", 204) in contract.checked


@live
def test_provisioning_answers_are_what_the_document_says(server, ag, idp, contract):
    p, a = Provider(idp, contract), Admin(ag, contract)
    one, two = new_user(idp), new_user(idp)
    few = p.post("/Groups", {"displayName": "Few " + one["id"][:8], "members": [{"value": one["id"]}]}, expect=201)
    many = p.post("/Groups", {"displayName": "Many " + one["id"][:8],
                              "members": [{"value": one["id"]}, {"value": two["id"]}]}, expect=201)
    summary = a.get("/provisioning/groups", expect=200)
    assert {g["id"] for g in summary["groups"]} >= {few["id"], many["id"]}
    a.get("/provisioning/mappings", expect=200)
    rule = {"group": many["id"], "level": "professional", "language": "fr", "country": "FR", "downloads": False}

    # A preview with a refusal (one professional seat, two people), then one that gives.
    refused = a.post("/provisioning/mappings/preview", rule, expect=200)
    assert refused["counts"]["refused"] == 1 and refused["refused"][0]["reason"] == "no_seats_left", refused
    a.put("/provisioning/mappings", rule, expect=409)
    good = a.post("/provisioning/mappings/preview", {**rule, "level": "enterprise"}, expect=200)
    assert good["counts"] == {"gains": 2, "losses": 0, "changes": 0, "refused": 0}, good
    # A plan another change made is refused whole; the preview's own is applied.
    a.put("/provisioning/mappings", {**rule, "level": "enterprise", "plan": refused["plan"]}, expect=409)
    set_ = a.put("/provisioning/mappings", {**rule, "level": "enterprise", "plan": good["plan"]}, expect=200)
    assert set_["applied"]["gains"] == 2
    other = a.put("/provisioning/mappings", {"group": few["id"], "level": "enterprise", "language": "en",
                                             "country": "US"}, expect=200)
    listed = a.get("/provisioning/mappings", expect=200)
    assert {m["id"] for m in listed["mappings"]} == {set_["id"], other["id"]}
    a.get("/provisioning/groups", expect=200)

    # A change of level lists the change; a removal the losses.
    a.post("/provisioning/mappings/preview", {**rule, "level": "professional", "group": few["id"]}, expect=200)
    gone = a.post("/provisioning/mappings/preview", {"remove": set_["id"]}, expect=200)
    assert gone["counts"]["losses"] == 1, gone   # one keeps enterprise through `few`
    a.delete(f"/provisioning/mappings/{set_['id']}?plan={good['plan']}", expect=409)
    a.delete(f"/provisioning/mappings/{set_['id']}?plan={gone['plan']}", expect=200)
    a.delete(f"/provisioning/mappings/{other['id']}", expect=204)

    # Bad bodies are problems naming the field.
    a.post("/provisioning/mappings/preview", {**rule, "group": "no-such-group"}, expect=422)
    a.post("/provisioning/mappings/preview", {"remove": 0}, expect=422, malformed=True)
    a.post("/provisioning/mappings/preview", {**rule, "remove": set_["id"]}, expect=422,
           malformed=True)
    a.put("/provisioning/mappings", {**rule, "country": "ZZ"}, expect=422)
    a.put("/provisioning/mappings", {**rule, "downloads": "yes"}, expect=422, malformed=True)
    a.put("/provisioning/mappings", {**rule, "plan": "not-a-plan"}, expect=422, malformed=True)
    a.delete(f"/provisioning/mappings/{other['id']}?plan=not-a-plan", expect=422)


@live
def test_a_preview_lists_a_seat_another_provisioned_user_holds_as_refused(server, ag, idp, contract):
    # Two provider users with one address: the second cannot take over the seat the first
    # holds. The preview names them (refused, `duplicate`) instead of failing whole.
    p, a = Provider(idp, contract), Admin(ag, contract)
    first = new_user(idp)
    twin = p.post("/Users", user_body(name="twin." + first["userName"],
                                      emails=[{"value": first["userName"], "type": "work"}]), expect=201)
    g1 = p.post("/Groups", {"displayName": "First " + first["id"][:8], "members": [{"value": first["id"]}]},
                expect=201)
    g2 = p.post("/Groups", {"displayName": "Twin " + first["id"][:8], "members": [{"value": twin["id"]}]},
                expect=201)
    a.put("/provisioning/mappings", {"group": g1["id"], "level": "enterprise", "language": "en", "country": "FR"},
          expect=200)
    rule = {"group": g2["id"], "level": "enterprise", "language": "en", "country": "FR"}
    out = a.post("/provisioning/mappings/preview", rule, expect=200)
    assert out["counts"] == {"gains": 0, "losses": 0, "changes": 0, "refused": 1}, out
    assert [(r["scim_id"], r["level"], r["reason"]) for r in out["refused"]] == [(twin["id"], "enterprise", "duplicate")]
    # Applied, it is refused whole, saying why.
    before = a.get("/provisioning/mappings", expect=200)
    r = ag.sa.put(url(ag.lic, "/provisioning/mappings"), rule)
    assert r.status == 409 and twin["userName"] in r.body["detail"], r
    contract.check("PUT", url(ag.lic, "/provisioning/mappings"), r, rule)
    assert a.get("/provisioning/mappings", expect=200) == before
