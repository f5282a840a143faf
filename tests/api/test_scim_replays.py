"""Replays of the provisioning sequences identity providers document (tests/api/data/scim:
Microsoft Entra ID's user and group operations, Okta's requests, the PATCH and list examples
of RFC 7644; each file says where its sequence comes from). Each sequence is run against a
fresh agreement and every answer checked — the status, the schemas and the fields the
provider reads — together with the seats the group rules give. Then it is run a second time,
as providers do after a timeout or on their next cycle: look-ups now find what the first pass
made (so nothing is created twice), and the second pass must change nothing — no subscription,
audit row, event or SCIM resource written. The steps under "then" (removals, deactivation,
deletion) are replayed the same way: a member removed twice, a resource deleted twice (404)
leave everything as the first time did.

A step: the method and path, a body, `status`, `expect` ({dotted path: value}), `absent`
(paths that must not be there), `first` / `again` (expectations of one pass only),
`again_status`, `find` (save the first found resource's id) and `unless` (skip a create when
the look-up found it, or the provider already knows the id), `save`, `seats` ({e-mail: levels
held once the step first ran}); `{"admin": "map"}` steps are
the super admin's group rule, set once. Placeholders: {uniq}, {upn}, {upn2}, {group_name},
{base} and the ids saved."""
import json
import re
from pathlib import Path
from urllib.parse import quote

import pytest

from support.accounts import addr, uniq
from support.agreements import agreement, url
from support.db import db_query
from support.scim import SCIM_CT, provider

pytestmark = pytest.mark.usefixtures("server_alive")

DATA = Path(__file__).parent / "data" / "scim"
SEQUENCES = sorted(p.stem for p in DATA.glob("*.jsonc"))
METHODS = ("get", "post", "put", "patch", "delete")


def load(name):
    text = (DATA / f"{name}.jsonc").read_text(encoding="utf-8")
    return json.loads("\n".join(line for line in text.splitlines() if not line.lstrip().startswith("//")))


def fill(v, names):
    if isinstance(v, str):
        return re.sub(r"\{(\w+)\}", lambda m: str(names[m.group(1)]) if m.group(1) in names else m.group(0), v)
    if isinstance(v, list):
        return [fill(x, names) for x in v]
    if isinstance(v, dict):
        return {fill(k, names): fill(x, names) for k, x in v.items()}
    return v


MISSING = object()


def at(body, dotted):
    cur = body
    for part in dotted.split("."):
        if isinstance(cur, list) and part.isdigit() and int(part) < len(cur):
            cur = cur[int(part)]
        elif isinstance(cur, dict) and part in cur:
            cur = cur[part]
        else:
            return MISSING
    return cur


def query_path(path):
    """The path with its query values percent-encoded, as a provider sends them."""
    if "?" not in path:
        return path
    head, q = path.split("?", 1)
    parts = []
    for kv in q.split("&"):
        k, _, v = kv.partition("=")
        parts.append(f"{k}={quote(v, safe='')}")
    return head + "?" + "&".join(parts)


def state(server, ag):
    """What a replay must leave as it was: the agreement's subscriptions, its audit rows and
    events, and its SCIM users, groups and members as written."""
    q = lambda sql: db_query(server, sql, (ag.id,))
    return {
        "subs": q("SELECT uuid, sign_in_email, level_id, version FROM subscriptions WHERE agreement_id = ?"
                  " ORDER BY uuid"),
        "audit": q("SELECT COUNT(*) FROM audit_events WHERE agreement_id = ?"),
        "events": q("SELECT COUNT(*) FROM events WHERE agreement_id = ?"),
        "users": q("SELECT uuid, version, updated_at, active FROM scim_users WHERE agreement_id = ? ORDER BY uuid"),
        "groups": q("SELECT uuid, display_name, version, updated_at FROM scim_groups WHERE agreement_id = ?"
                    " ORDER BY uuid"),
        "members": q("SELECT m.group_id, m.kind, m.member_id FROM scim_members m JOIN scim_groups g"
                     " ON g.id = m.group_id WHERE g.agreement_id = ? ORDER BY 1, 2, 3"),
    }


def seats(server, ag, email):
    return sorted(r[0] for r in db_query(
        server, "SELECT l.code FROM subscriptions s JOIN levels l ON l.id = s.level_id"
                " WHERE s.agreement_id = ? AND s.sign_in_email = ?", (ag.id, email.lower())))


def run_steps(server, ag, idp, steps, names, again):
    for i, raw in enumerate(steps):
        step = fill(raw, names)
        where = f"step {i} ({'again' if again else 'first'}): {raw}"
        if "admin" in step:
            if not again:
                r = ag.sa.put(url(ag.lic, "/provisioning/mappings"),
                              {"group": step["group"], "level": step["level"], "language": "en", "country": "FR",
                               "downloads": True})
                assert r.status == 200, (where, r)
            continue
        if step.get("unless") and step["unless"] in names:
            continue
        method = next(m for m in METHODS if m in step)
        r = idp.request(method.upper(), idp.base + query_path(step[method]), step.get("body"),
                        content_type=SCIM_CT)
        want = step.get("again_status", step["status"]) if again else step["status"]
        assert r.status == want, (where, r)
        if r.status != 204:
            assert r.headers["Content-Type"].startswith(SCIM_CT), (where, r.headers)
        expect = dict(step.get("expect", {}))
        expect.update(step.get("again" if again else "first", {}))
        for path, value in expect.items():
            assert at(r.body, path) == value, (where, path, at(r.body, path), r.body)
        for path in step.get("absent", []):
            assert at(r.body, path) is MISSING, (where, path, r.body)
        if step.get("find"):
            found = at(r.body, "Resources.0.id")
            if found is not MISSING:
                names[step["find"]] = found
        if step.get("save") and r.status == 201:
            names[step["save"]] = r.body["id"]
            assert r.headers.get("Location") == f"{idp.base_url}/{step['post'].strip('/')}/{r.body['id']}", \
                (where, r.headers)
        # The seats a step gives are checked as it first runs; what the second pass must
        # leave (everything as it was) is checked on the whole.
        for email, levels in (step.get("seats", {}) if not again else {}).items():
            assert seats(server, ag, email) == sorted(levels), (where, email, seats(server, ag, email))


class Provider:
    """The SCIM client with its base URL, for requests written out as data."""

    def __init__(self, server, ag):
        self.scim = provider(server, ag)
        self.base = self.scim.base
        self.base_url = server.url + self.base

    def request(self, method, path, body=None, **kw):
        return self.scim.c.request(method, path, body, **kw)


@pytest.mark.parametrize("name", SEQUENCES)
def test_replay(server, name):
    seq = load(name)
    ag = agreement(server, {"enterprise": 5, "professional": 5})
    idp = Provider(server, ag)
    u = uniq("r")
    names = {"uniq": u, "upn": addr("kim", "contoso.example"), "upn2": addr("ari", "contoso.example"),
             "group_name": f"Replay {name} {u}", "base": idp.base_url}
    for part in ("steps", "then"):
        run_steps(server, ag, idp, seq[part], names, again=False)
        before = state(server, ag)
        run_steps(server, ag, idp, seq[part], names, again=True)
        after = state(server, ag)
        for k in before:
            assert after[k] == before[k], (name, part, k, before[k], after[k])


def test_every_sequence_cites_its_source():
    for name in SEQUENCES:
        head = (DATA / f"{name}.jsonc").read_text(encoding="utf-8").splitlines()[0]
        assert head.startswith("//"), name
