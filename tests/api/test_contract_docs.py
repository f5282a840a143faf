"""The documents say what the code does.

An integrator reads docs/openapi.yaml and docs/api-contract.md, a person reads the UI's
messages in English or French: these tests read the C sources (the one route table, every
place a problem or field code is written) and check each route is described and each code
has a message in both catalogues and a line in the contract. They need no server."""
import json
import re

import pytest
import yaml

from support import ROOT

SRC = ROOT / "src"


def route_table():
    """[(METHOD, path)] of src/api/routes.c, pages and static files left out."""
    text = (SRC / "api" / "routes.c").read_text()
    rows = re.findall(r'RS?\(\s*"([A-Z]+)",\s*"([^"]+)"', text)
    assert len(rows) > 40, "routes.c no longer reads as expected"
    return [(m, p) for m, p in rows if p.startswith("/api/") or p in ("/healthz", "/metrics")]


def openapi():
    return yaml.safe_load((ROOT / "docs" / "openapi.yaml").read_text())


def test_every_route_is_in_openapi_and_nothing_else():
    doc = openapi()
    documented = {(m.upper(), p) for p, ops in doc["paths"].items() for m in ops
                  if m in ("get", "post", "put", "patch", "delete")}
    code = set(route_table())
    assert not code - documented, f"routes missing from docs/openapi.yaml: {sorted(code - documented)}"
    assert not documented - code, f"docs/openapi.yaml describes routes the server lacks: {sorted(documented - code)}"


def test_every_openapi_operation_says_its_answers():
    for path, ops in openapi()["paths"].items():
        for method, op in ops.items():
            if method not in ("get", "post", "put", "patch", "delete"):
                continue
            assert op.get("responses"), f"{method.upper()} {path} has no responses"
            assert op.get("operationId"), f"{method.upper()} {path} has no operationId"


def c_sources():
    return {p: p.read_text() for p in sorted(SRC.rglob("*.c"))}


def call_args(text, start):
    """The top-level arguments of the call whose '(' is at text[start]."""
    depth, args, cur, i, quote = 0, [], [], start, None
    while i < len(text):
        ch = text[i]
        if quote:
            cur.append(ch)
            if ch == "\\":
                cur.append(text[i + 1])
                i += 1
            elif ch == quote:
                quote = None
        elif ch in "\"'":
            quote = ch
            cur.append(ch)
        elif ch in "([{":
            depth += 1
            if depth > 1:
                cur.append(ch)
        elif ch in ")]}":
            depth -= 1
            if depth == 0:
                args.append("".join(cur).strip())
                return args
            cur.append(ch)
        elif ch == "," and depth == 1:
            args.append("".join(cur).strip())
            cur = []
        else:
            cur.append(ch)
        i += 1
    return args


def literal_args(fn, index):
    """Every string literal passed as argument `index` of calls to fn in src/."""
    found = {}
    for path, text in c_sources().items():
        for m in re.finditer(r"\b" + fn + r"\s*\(", text):
            if text[max(0, m.start() - 12):m.start()].rstrip().endswith(("os_err", "void", "bool", "static")):
                continue   # the definition, not a call
            args = call_args(text, m.end() - 1)
            if len(args) > index and re.fullmatch(r'"[a-z_]+"', args[index]):
                found.setdefault(args[index].strip('"'), path.relative_to(ROOT))
    return found


def problem_codes():
    codes = {}
    codes.update(literal_args("problem_reply_status", 2))
    codes.update(literal_args("problem_members", 3))
    for path, text in c_sources().items():
        rel = path.relative_to(ROOT)
        for c in re.findall(r'problem_code\s*=\s*"([a-z_]+)"', text):
            codes.setdefault(c, rel)
        for c in re.findall(r'\\"code\\":\s*\\"([a-z_]+)\\"', text):   # problems written as JSON text
            codes.setdefault(c, rel)
    table = (SRC / "http" / "problem.c").read_text()
    for c in re.findall(r'\{OS_ERR_\w+,\s*\d+,\s*"([a-z_]+)"', table):
        codes.setdefault(c, "src/http/problem.c")
    return codes


def field_codes():
    codes = {}
    codes.update(literal_args("fe_add", 2))
    codes.update(literal_args("fe_add_params", 2))
    codes.update(literal_args("report", 4))          # bulk-file reports: row, column, code
    return codes


def catalogue(lang):
    return json.loads((ROOT / "web" / "i18n" / f"{lang}.json").read_text())


def test_code_scanner_finds_what_it_should():
    # The scanner itself must see codes known to exist, or the tests below prove nothing.
    p, f = problem_codes(), field_codes()
    for c in ("validation", "csrf", "throttled", "bad_query", "last_super_admin", "job_interrupted", "bulk_rejected"):
        assert c in p, f"problem code {c} not found by the scanner"
    for c in ("required", "no_seats_left", "reassignment_too_soon", "duplicate_in_file", "outside_domain"):
        assert c in f, f"field code {c} not found by the scanner"


@pytest.mark.parametrize("kind", ["problem", "field"])
def test_every_code_has_an_english_and_a_french_message(kind):
    codes = problem_codes() if kind == "problem" else field_codes()
    missing = [f"{lang}: {kind}.{code} (from {where})" for lang in ("en", "fr")
               for code, where in sorted(codes.items()) if f"{kind}.{code}" not in catalogue(lang)]
    assert not missing, "\n".join(missing)


def test_every_code_is_in_the_api_contract():
    contract = (ROOT / "docs" / "api-contract.md").read_text()
    missing = [f"{kind} {c}" for kind, codes in (("problem", problem_codes()), ("field", field_codes()))
               for c in sorted(codes) if f"`{c}`" not in contract]
    assert not missing, f"docs/api-contract.md does not name: {missing}"


def test_every_problem_code_is_in_the_openapi_problem_schema():
    enum = openapi()["components"]["schemas"]["Problem"]["properties"]["code"]["enum"]
    missing = sorted(set(problem_codes()) - set(enum))
    assert not missing, f"docs/openapi.yaml's Problem.code enum lacks {missing}"


def audit_actions():
    """Every audit action the C writes: the string literals of audit()'s and audit_many()'s
    action argument (a conditional names two)."""
    found = {}
    for path, text in c_sources().items():
        for fn in ("audit", "audit_many"):
            for m in re.finditer(r"\b" + fn + r"\s*\(", text):
                if text[max(0, m.start() - 12):m.start()].rstrip().endswith(("os_err", "void", "static")):
                    continue
                args = call_args(text, m.end() - 1)
                if len(args) > 1:
                    for action in re.findall(r'"([a-z_.]+)"', args[1]):
                        found.setdefault(action, path.relative_to(ROOT))
    return found


def test_every_audit_action_is_documented():
    actions = audit_actions()
    for known in ("subscription.added", "admin.invited", "admin.added", "job.access_removed", "signin"):
        assert known in actions, f"the scanner no longer sees {known}"
    contract = (ROOT / "docs" / "api-contract.md").read_text()
    table = contract[contract.index("## Audit actions"):]
    listed = set(re.findall(r"^\| `([a-z_.]+)` \|", table, re.M))
    missing = sorted(set(actions) - listed)
    assert not missing, f"audit actions missing from docs/api-contract.md's table: {missing}"
    stale = sorted(listed - set(actions))
    assert not stale, f"docs/api-contract.md lists audit actions the server never writes: {stale}"
    examples = openapi_text_examples("action")
    assert set(examples) <= set(actions), f"openapi.yaml's action examples name unknown actions: {examples}"


def openapi_text_examples(prop):
    """The examples of every schema property named prop in docs/openapi.yaml."""
    out = []

    def walk(node):
        if isinstance(node, dict):
            for k, v in node.items():
                if k == prop and isinstance(v, dict):
                    out.extend(v.get("examples") or [])
                walk(v)
        elif isinstance(node, list):
            for v in node:
                walk(v)
    walk(openapi())
    return out


def test_catalogues_have_the_same_keys():
    en, fr = catalogue("en"), catalogue("fr")
    assert sorted(set(en) - set(fr)) == [], "in en.json only"
    assert sorted(set(fr) - set(en)) == [], "in fr.json only"


def event_types():
    """The integration event types, as src/domain/events.c lists them."""
    text = (SRC / "domain" / "events.c").read_text()
    table = text[text.index("TYPES[] = {"):text.index("};", text.index("TYPES[] = {"))]
    types = re.findall(r'\{"([a-z_]+\.[a-z_]+)",', table)
    assert len(types) > 10, "events.c no longer reads as expected"
    return types


def test_every_event_type_is_described_for_integrators():
    """Each type has its message in openapi.yaml's `webhooks` (with the ping) and its section in
    docs/webhooks.md; neither describes a type the server does not send."""
    types = set(event_types())
    assert set(openapi()["webhooks"]) == types | {"webhook.ping"}
    guide = (ROOT / "docs" / "webhooks.md").read_text()
    headed = set(re.findall(r"`([a-z_]+\.[a-z_]+)`", "\n".join(l for l in guide.splitlines() if l.startswith("### "))))
    assert headed == types, f"docs/webhooks.md sections: missing {sorted(types - headed)}, extra {sorted(headed - types)}"
