"""The HTTP pipeline: CSRF, body limits and parsing, routing errors, headers, cookies,
health, metrics, the OpenAPI document and the web pages."""
import json
import re
import uuid

import pytest

from support import DEFAULT_PASSWORD
from support.accounts import signup_and_verify, unique_email
from support.checks import assert_problem
from support.client import Client, raw_http

# A request every anonymous client may make that succeeds (202) once CSRF passes.
SAFE_POST = ("/api/v1/password-reset", {"email": "nobody-at-all@example.com"})

CONTRACT_ROUTES = [
    ("get", "/api/v1/session"),
    ("post", "/api/v1/session"),
    ("delete", "/api/v1/session"),
    ("post", "/api/v1/signup"),
    ("post", "/api/v1/verify"),
    ("post", "/api/v1/verify/resend"),
    ("post", "/api/v1/password-reset"),
    ("post", "/api/v1/password-reset/confirm"),
    ("put", "/api/v1/account/password"),
    ("patch", "/api/v1/account"),
]


@pytest.fixture(scope="module")
def user(server):
    """A verified account: (email, password)."""
    addr = unique_email("http")
    signup_and_verify(Client(server), addr, sign_in=False)
    return addr, DEFAULT_PASSWORD


# ---------------------------------------------------------------------------------------
# CSRF


def test_csrf_positive_control(client):
    r = client.post(*SAFE_POST)
    assert r.status == 202, r


@pytest.mark.parametrize("method,path,body", [
    ("POST", "/api/v1/signup", {"name": "X", "email": "x@example.com", "password": DEFAULT_PASSWORD}),
    ("POST", "/api/v1/password-reset", {"email": "x@example.com"}),
    ("POST", "/api/v1/session", {"email": "x@example.com", "password": DEFAULT_PASSWORD}),
    ("DELETE", "/api/v1/session", None),
    ("PUT", "/api/v1/account/password", {"current_password": "a" * 10, "new_password": "b" * 10}),
    ("PATCH", "/api/v1/account", {"language": "fr"}),
])
def test_missing_csrf_token(client, method, path, body):
    client.refresh_csrf()            # the cookie is there; only the header is missing
    r = client.request(method, path, body, csrf=False)
    assert_problem(r, 403, "csrf")


def test_wrong_csrf_token(client):
    client.refresh_csrf()
    assert_problem(client.post(*SAFE_POST, csrf="0" * 43), 403, "csrf")
    assert_problem(client.post(*SAFE_POST, csrf=""), 403, "csrf")
    assert_problem(client.post(*SAFE_POST, csrf=client.csrf_token + "x"), 403, "csrf")
    assert client.post(*SAFE_POST).status == 202


def test_anonymous_token_needs_its_cookie(server):
    a = Client(server)
    token = a.refresh_csrf()
    assert "os_csrf" in a.cookies and a.cookies["os_csrf"] == token, \
        f"os_csrf cookie must hold the token: {a.cookies}"
    b = Client(server)               # no cookie at all
    assert_problem(b.post(*SAFE_POST, csrf=token), 403, "csrf")
    c = Client(server)               # a cookie of its own, someone else's token
    c.refresh_csrf()
    assert c.csrf_token != token, "two anonymous clients got the same CSRF token"
    assert_problem(c.post(*SAFE_POST, csrf=token), 403, "csrf")
    assert a.post(*SAFE_POST).status == 202


@pytest.mark.parametrize("cookie", ["os_session=garbage", "os_session=" + "A" * 43,
                                    "os_csrf=short", "os_session=; os_csrf="])
def test_session_is_always_200(client, cookie):
    r = client.get("/api/v1/session", headers={"Cookie": cookie}, cookies=False)
    assert r.status == 200, r
    assert r.body["authenticated"] is False and r.body.get("csrf_token"), r.body
    m = r.set_cookies().get("os_csrf")
    assert m is not None and m.value == r.body["csrf_token"], \
        f"a bad os_csrf cookie must be replaced: {r.headers.get_all('Set-Cookie')}"


def test_csrf_cookie_attributes(server):
    r = Client(server).get("/api/v1/session")
    raw = r.raw_set_cookie("os_csrf")
    assert raw, f"anonymous GET /api/v1/session set no os_csrf: {r.headers.get_all('Set-Cookie')}"
    attrs = [x.strip().lower() for x in raw.split(";")[1:]]
    assert "httponly" in attrs and "samesite=strict" in attrs, raw


def test_signed_in_token_from_another_session(server, user):
    a, b = Client(server), Client(server)
    assert a.sign_in(*user).status == 200
    assert b.sign_in(*user).status == 200
    assert a.csrf_token != b.csrf_token, "two sessions share a CSRF token"
    assert_problem(a.patch("/api/v1/account", {"language": "en"}, csrf=b.csrf_token), 403, "csrf")
    assert a.patch("/api/v1/account", {"language": "en"}).status == 200
    assert_problem(a.delete("/api/v1/session", csrf=False), 403, "csrf")
    assert a.session()["authenticated"] is True


def test_signed_in_session_token_matches_sign_in(server, user):
    a = Client(server)
    r = a.sign_in(*user)
    assert a.session()["csrf_token"] == r.body["csrf_token"]


@pytest.mark.parametrize("origin", ["http://evil.example", "https://127.0.0.1.evil.example"])
def test_cross_origin_request_refused(client, origin):
    client.refresh_csrf()
    r = client.post(*SAFE_POST, headers={"Origin": origin})
    assert_problem(r, 403, "csrf")


def test_same_origin_request_allowed(client, server):
    r = client.post(*SAFE_POST, headers={"Origin": server.url})
    assert r.status == 202, r


# ---------------------------------------------------------------------------------------
# Bodies


def big_json(n):
    pad = n - len('{"email":"a@example.com","x":""}')
    return ('{"email":"a@example.com","x":"' + "a" * pad + '"}').encode()


def test_body_at_limit_is_parsed(client):
    body = big_json(64 * 1024)
    assert len(body) == 65536
    r = client.post("/api/v1/password-reset", body=body)
    assert r.status in (202, 422), f"a 64 KiB body must be accepted for parsing: {r}"


def test_oversized_body(client, server):
    token = client.refresh_csrf()
    body = big_json(64 * 1024 + 1)
    req = (f"POST /api/v1/password-reset HTTP/1.1\r\nHost: 127.0.0.1:{server.port}\r\n"
           f"Content-Type: application/json\r\nX-CSRF-Token: {token}\r\n"
           f"Cookie: {client.cookie_header()}\r\nContent-Length: {len(body)}\r\n"
           f"Connection: close\r\n\r\n").encode() + body
    status, hdrs, raw = raw_http(server.port, req)
    assert status == 413, f"got {status} {raw[:300]!r}"
    assert hdrs.get("content-type", "").startswith("application/problem+json"), hdrs
    b = json.loads(raw)
    assert b["code"] == "too_large" and b["status"] == 413, b
    assert hdrs.get("x-request-id") == b["request_id"], hdrs


def test_oversized_body_chunked(client, server):
    token = client.refresh_csrf()
    body = big_json(200 * 1024)
    chunks = b""
    for i in range(0, len(body), 8192):
        part = body[i:i + 8192]
        chunks += b"%x\r\n" % len(part) + part + b"\r\n"
    chunks += b"0\r\n\r\n"
    req = (f"POST /api/v1/password-reset HTTP/1.1\r\nHost: 127.0.0.1:{server.port}\r\n"
           f"Content-Type: application/json\r\nX-CSRF-Token: {token}\r\n"
           f"Cookie: {client.cookie_header()}\r\nTransfer-Encoding: chunked\r\n"
           f"Connection: close\r\n\r\n").encode() + chunks
    status, hdrs, raw = raw_http(server.port, req)
    assert status == 413, f"chunked body past the limit: got {status} {raw[:300]!r}"
    assert json.loads(raw)["code"] == "too_large"


def test_malformed_json_names_the_problem(client):
    body = '{\n  "email": "a@example.com",\n  "password": \n}'
    r = client.post("/api/v1/session", body=body)
    b = assert_problem(r, 400, "malformed_json")
    detail = b.get("detail", "")
    m = re.search(r"line\D{0,3}(\d+)", detail, re.I)
    assert m and re.search(r"col(umn)?\D{0,3}\d+", detail, re.I), \
        f"detail must say where the JSON is broken: {detail!r}"
    assert m.group(1) == "4", f"the error is on line 4: {detail!r}"


@pytest.mark.parametrize("body", ['{"email": "a@example.com"', "{'email': 1}", "", "nul",
                                  '{"email": "a\x01b"}', '{"a":1} trailing', b'{"email": "\xff"}'])
def test_malformed_json_variants(client, body):
    r = client.post("/api/v1/password-reset", body=body)
    b = assert_problem(r, 400, "malformed_json")
    assert b.get("detail"), b


def test_deep_json(client):
    body = "[" * 5000 + "]" * 5000
    r = client.post("/api/v1/password-reset", body=body)
    assert r.status in (400, 422), r
    assert r.content_type == "application/problem+json"


def test_duplicate_keys_do_not_crash(client):
    r = client.post("/api/v1/password-reset", body='{"email":"a@example.com","email":"b@example.com"}')
    assert r.status in (202, 400, 422), r


@pytest.mark.parametrize("body", ["[1, 2]", '"text"', "42", "null", "true"])
def test_json_not_an_object(client, body):
    r = client.post("/api/v1/password-reset", body=body)
    assert r.status in (400, 422), r
    assert r.content_type == "application/problem+json", r


@pytest.mark.parametrize("ctype", ["text/plain", "application/x-www-form-urlencoded",
                                   "multipart/form-data; boundary=x", "application/jsonx", None])
def test_wrong_content_type(client, ctype):
    r = client.post(*SAFE_POST, content_type=ctype)
    assert_problem(r, 415, "unsupported_media_type")


def test_json_content_type_with_charset(client):
    r = client.post(*SAFE_POST, content_type="application/json; charset=utf-8")
    assert r.status == 202, r


# ---------------------------------------------------------------------------------------
# Routing


@pytest.mark.parametrize("path", ["/api/v1/nope", "/api/nope", "/api/v2/session", "/api/v1/session/x",
                                  "/api/v1/nope?x=1"])
def test_unknown_api_route(client, path):
    r = client.get(path)
    b = assert_problem(r, 404, "not_found")
    assert b["request_id"] == r.headers.get("X-Request-Id"), \
        f"body request_id {b['request_id']!r} != header {r.headers.get('X-Request-Id')!r}"


@pytest.mark.parametrize("method,path,allowed", [
    ("GET", "/api/v1/signup", {"POST"}),
    ("GET", "/api/v1/verify", {"POST"}),
    ("GET", "/api/v1/account/password", {"PUT"}),
    ("GET", "/api/v1/account", {"PATCH"}),
    ("PUT", "/api/v1/session", {"GET", "POST", "DELETE"}),
    ("DELETE", "/api/v1/signup", {"POST"}),
])
def test_wrong_method(client, method, path, allowed):
    r = client.request(method, path, {} if method != "GET" else None)
    assert_problem(r, 405, "method_not_allowed")
    allow = {m.strip().upper() for m in (r.headers.get("Allow") or "").split(",") if m.strip()}
    assert allowed <= allow, f"Allow {r.headers.get('Allow')!r} lacks {allowed}"
    assert not (allow - allowed - {"HEAD", "OPTIONS", "GET" if "GET" in allowed else ""}), \
        f"Allow {r.headers.get('Allow')!r} names methods the route does not have"


# ---------------------------------------------------------------------------------------
# Headers


def csp_directives(value):
    out = {}
    for part in value.split(";"):
        words = part.split()
        if words:
            out[words[0].lower()] = [w.lower() for w in words[1:]]
    return out


@pytest.mark.parametrize("path", ["/", "/signin", "/api/v1/session", "/api/v1/nope", "/healthz"])
def test_security_headers(client, path):
    r = client.get(path)
    csp = r.headers.get("Content-Security-Policy")
    assert csp, f"{path}: no Content-Security-Policy"
    d = csp_directives(csp)
    assert d.get("frame-ancestors") == ["'none'"], f"{path}: CSP {csp!r}"
    script = d.get("script-src", d.get("default-src"))
    assert script is not None, f"{path}: CSP restricts no scripts: {csp!r}"
    assert "'unsafe-inline'" not in script, f"{path}: {csp!r}"
    assert (r.headers.get("X-Content-Type-Options") or "").lower() == "nosniff", path
    rp = (r.headers.get("Referrer-Policy") or "").lower()
    assert rp in ("no-referrer", "same-origin", "strict-origin", "strict-origin-when-cross-origin"), \
        f"{path}: Referrer-Policy {rp!r}"


def test_request_id_on_every_response(client, server):
    seen = set()
    client.refresh_csrf()
    responses = [
        client.get("/"), client.get("/signin"), client.get("/healthz"), client.get("/metrics"),
        client.get("/api/v1/session"), client.get("/api/v1/openapi.yaml"), client.get("/api/v1/nope"),
        client.get("/api/v1/signup"), client.post(*SAFE_POST, csrf=False),
        client.post("/api/v1/signup", body="{"), client.post(*SAFE_POST, content_type="text/plain"),
        client.post(*SAFE_POST), client.post("/api/v1/signup", {}),
    ]
    for r in responses:
        rid = r.headers.get("X-Request-Id")
        assert rid and re.fullmatch(r"[A-Za-z0-9._:-]{8,128}", rid), f"X-Request-Id {rid!r} on {r}"
        assert rid not in seen, f"request id {rid} repeated"
        seen.add(rid)


def test_session_cookie_flags(server, user):
    c = Client(server)
    r = c.sign_in(*user)
    assert r.status == 200, r
    raw = r.raw_set_cookie("os_session")
    assert raw, r.headers.get_all("Set-Cookie")
    attrs = [x.strip().lower() for x in raw.split(";")[1:]]
    assert "httponly" in attrs and "samesite=lax" in attrs and "path=/" in attrs, raw


# ---------------------------------------------------------------------------------------
# Operations endpoints


def test_healthz(client):
    r = client.get("/healthz")
    assert r.status == 200 and isinstance(r.body, dict) and r.body.get("status") == "ok", r
    assert r.content_type == "application/json", r.headers.get("Content-Type")


def parse_metrics(text):
    types, samples = {}, []
    for line in text.splitlines():
        if line.startswith("# TYPE "):
            _, _, name, kind = line.split(None, 3)
            types[name] = kind.strip()
        elif line and not line.startswith("#"):
            m = re.fullmatch(r"([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})?\s+(\S+)(\s+\d+)?", line)
            assert m, f"not a Prometheus sample line: {line!r}"
            labels = dict(re.findall(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"', m.group(3) or ""))
            samples.append((m.group(1), labels, float(m.group(4))))
    return types, samples


def route_counter(types, samples, route):
    """(name, value) of a counter sample with a label naming `route`, summed over other labels."""
    for name, kind in types.items():
        if kind != "counter":
            continue
        vals = [v for n, l, v in samples
                if n in (name, name + "_total")
                and any(v == route or v.endswith(" " + route) for v in l.values())]
        if vals:
            return name, sum(vals)
    return None, 0


def test_metrics(client):
    for _ in range(3):
        client.get("/api/v1/session")
    r0 = client.get("/metrics")
    assert r0.status == 200, r0
    assert r0.content_type == "text/plain", r0.headers.get("Content-Type")
    types, samples = parse_metrics(r0.body)

    name, before = route_counter(types, samples, "/api/v1/session")
    assert name, f"no counter labelled with the route /api/v1/session:\n{r0.body[:2000]}"
    for _ in range(4):
        client.get("/api/v1/session")
    _, after = route_counter(*parse_metrics(client.get("/metrics").body), "/api/v1/session")
    assert after - before >= 4, f"{name}: {before} -> {after} after 4 requests"

    hist = [n for n, k in types.items() if k == "histogram"]
    assert hist, "no histogram"
    h = hist[0]
    buckets = [(l, v) for n, l, v in samples if n == h + "_bucket"]
    assert buckets and all("le" in l for l, _ in buckets), f"{h} has no _bucket{{le=...}}"
    assert any(l["le"] == "+Inf" for l, _ in buckets), f"{h} has no +Inf bucket"
    assert any(n == h + "_sum" for n, _, _ in samples) and any(n == h + "_count" for n, _, _ in samples)

    gauges = [n for n, k in types.items() if k == "gauge" and "outbox" in n]
    assert gauges, f"no outbox gauge among {types}"
    assert any(n == gauges[0] for n, _, _ in samples), f"gauge {gauges[0]} has no sample"


def test_metrics_do_not_grow_with_unknown_paths(client):
    junk = "/api/v1/" + uuid.uuid4().hex
    client.get(junk)
    client.get("/" + uuid.uuid4().hex + ".js")
    text = client.get("/metrics").body
    assert junk not in text and junk[8:] not in text, "unknown paths became metric labels"


def openapi_paths(text):
    """{path: {methods}} from the `paths:` block of an OpenAPI YAML document."""
    lines = text.splitlines()
    out, cur, cur_indent, in_paths = {}, None, None, False
    for line in lines:
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        indent = len(line) - len(line.lstrip())
        stripped = line.strip()
        if re.fullmatch(r"paths:\s*", stripped) and indent == 0:
            in_paths = True
            continue
        if in_paths and indent == 0:
            in_paths = False
        if not in_paths:
            continue
        m = re.fullmatch(r"['\"]?(/[^'\":]*)['\"]?:\s*", stripped)
        if m and (cur_indent is None or indent <= cur_indent):
            cur, cur_indent = m.group(1), indent
            out[cur] = set()
            continue
        m = re.fullmatch(r"(get|post|put|patch|delete|head|options):.*", stripped)
        if m and cur is not None and indent > cur_indent:
            out[cur].add(m.group(1))
    return out


def test_openapi_document(client):
    r = client.get("/api/v1/openapi.yaml")
    assert r.status == 200, r
    assert "yaml" in r.content_type or r.content_type == "text/plain", r.headers.get("Content-Type")
    text = r.body if isinstance(r.body, str) else r.raw.decode()
    assert re.search(r"^openapi:\s*['\"]?3\.", text, re.M), "not an OpenAPI 3 document"
    paths = openapi_paths(text)
    prefix = ""
    if "/api/v1/session" not in paths and re.search(r"url:\s*['\"]?\S*/api/v1", text):
        prefix = "/api/v1"
    missing = []
    for method, path in CONTRACT_ROUTES:
        p = path[len(prefix):] if prefix else path
        if method not in paths.get(p, set()):
            missing.append(f"{method.upper()} {path}")
    assert not missing, f"openapi.yaml lacks: {missing}; has {paths}"


# ---------------------------------------------------------------------------------------
# Web pages


@pytest.mark.parametrize("path", ["/", "/signin", "/signup", "/verify?token=abc", "/reset",
                                  "/reset?token=abc", "/home", "/account", "/account/tokens",
                                  "/agreements/12345678/tokens", "/agreements/12345678/webhooks"])
def test_pages_are_the_module_app(client, path):
    r = client.get(path, headers={"Accept": "text/html"})
    if path.startswith(("/home", "/account", "/agreements/")) and r.status in (302, 303, 307):
        # an anonymous visitor may be sent to the sign-in page instead
        loc = r.headers.get("Location", "")
        assert loc.split("?")[0].endswith("/signin"), f"{path} redirects to {loc!r}"
        r = client.get("/signin", headers={"Accept": "text/html"})
    assert r.status == 200, r
    assert r.content_type == "text/html", r.headers.get("Content-Type")
    assert '<script type="module"' in r.body, r.body[:500]


def test_page_scripts_load(client):
    html = client.get("/").body
    srcs = re.findall(r'<script[^>]*type="module"[^>]*src="([^"]+)"', html) + \
        re.findall(r'<script[^>]*src="([^"]+)"[^>]*type="module"', html)
    assert srcs, "no module script with a src"
    for src in srcs:
        assert src.startswith("/"), src
        r = client.get(src)
        assert r.status == 200, f"{src}: {r}"
        assert r.content_type in ("text/javascript", "application/javascript"), \
            f"{src}: {r.headers.get('Content-Type')}"
        assert (r.headers.get("X-Content-Type-Options") or "").lower() == "nosniff"


def test_static_path_traversal(server):
    for p in ("/js/../../../../etc/passwd", "/js/%2e%2e/%2e%2e/%2e%2e/etc/passwd",
              "/css/..%2f..%2f..%2fetc%2fpasswd"):
        req = f"GET {p} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n".encode()
        status, _, body = raw_http(server.port, req)
        assert b"root:" not in body, f"{p} leaked a file"
        assert status in (400, 403, 404) or (status == 200 and b"<script" in body), f"{p}: {status}"


@pytest.mark.parametrize("path,ctype", [
    ("/i18n/en.json", "application/json"),
    ("/i18n/fr.json", "application/json"),
    ("/css/app.css", "text/css"),
    ("/img/favicon.svg", "image/svg+xml"),
])
def test_static_files(fresh_server, path, ctype):
    """The UI's own files are served with their type, and serving them harms nothing."""
    c = Client(fresh_server)
    r = c.get(path)
    assert r.status == 200, r
    assert r.content_type == ctype, r.headers.get("Content-Type")
    if ctype == "application/json":
        assert isinstance(r.body, dict), f"{path} is not a JSON object: {r.raw[:200]!r}"
    assert c.get("/healthz").status == 200, "the server stopped answering after serving a static file"
