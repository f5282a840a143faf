"""HTTP from the tests: a cookie-aware JSON client that sends the CSRF token on unsafe
methods by itself, and raw bytes on a socket for what a well-behaved client never sends."""
import copy
import email.utils
import http.client
import json
import socket
import time
from http.cookies import SimpleCookie

from support import DEFAULT_PASSWORD, HOST



class Response:
    def __init__(self, status, headers, body, raw):
        self.status = status
        self.headers = headers      # http.client.HTTPMessage: .get() is case-insensitive
        self.body = body            # parsed JSON, or text
        self.raw = raw

    def __iter__(self):
        return iter((self.status, self.headers, self.body))

    @property
    def content_type(self):
        return (self.headers.get("Content-Type") or "").split(";")[0].strip().lower()

    def set_cookies(self):
        """{name: Morsel} of the Set-Cookie headers of this response."""
        out = {}
        for h in self.headers.get_all("Set-Cookie") or []:
            c = SimpleCookie()
            c.load(h)
            for k, m in c.items():
                out[k] = m
        return out

    def raw_set_cookie(self, name):
        for h in self.headers.get_all("Set-Cookie") or []:
            if h.split("=", 1)[0].strip() == name:
                return h
        return None

    def __repr__(self):
        b = self.body if not isinstance(self.body, (bytes, str)) else self.body[:300]
        return f"<Response {self.status} {self.content_type} {b!r}>"


def cookie_is_deletion(morsel):
    if morsel.value == "":
        return True
    ma = morsel.get("max-age")
    if ma not in (None, "") and int(ma) <= 0:
        return True
    exp = morsel.get("expires")
    if exp:
        try:
            t = email.utils.parsedate_to_datetime(exp).timestamp()
            if t < time.time():
                return True
        except (TypeError, ValueError):
            pass
    return False


UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}


class Client:
    """Cookie-aware JSON client. Unsafe methods carry X-CSRF-Token automatically."""

    def __init__(self, server, timeout=15):
        self.server = server
        self.port = server.port
        self.timeout = timeout
        self.cookies = {}
        self.csrf_token = None
        self.last = None

    # -- cookies
    def cookie_header(self):
        return "; ".join(f"{k}={v}" for k, v in self.cookies.items())

    def _store_cookies(self, resp):
        for name, m in resp.set_cookies().items():
            if cookie_is_deletion(m):
                self.cookies.pop(name, None)
            else:
                self.cookies[name] = m.value

    # -- CSRF
    def refresh_csrf(self):
        r = self.get("/api/v1/session")
        assert r.status == 200, f"GET /api/v1/session: {r}"
        assert isinstance(r.body, dict) and r.body.get("csrf_token"), f"no csrf_token in {r}"
        self.csrf_token = r.body["csrf_token"]
        return self.csrf_token

    def request(self, method, path, json_body=None, body=None, headers=None, csrf=True,
                content_type="application/json", cookies=True):
        """csrf: True = send the current token (fetched first if none), False = send none,
        a string = send exactly that. body: raw bytes/str instead of json_body."""
        method = method.upper()
        hdrs = {"Accept": "application/json"}
        if json_body is not None:
            body = json.dumps(json_body)
        if isinstance(body, str):
            body = body.encode()
        if body is not None and content_type is not None:
            hdrs["Content-Type"] = content_type
        if method in UNSAFE and csrf is not False:
            if csrf is True:
                if self.csrf_token is None:
                    self.refresh_csrf()
                hdrs["X-CSRF-Token"] = self.csrf_token
            else:
                hdrs["X-CSRF-Token"] = csrf
        if cookies and self.cookies:
            hdrs["Cookie"] = self.cookie_header()
        hdrs.update(headers or {})
        hdrs = {k: v for k, v in hdrs.items() if v is not None}
        conn = http.client.HTTPConnection(HOST, self.port, timeout=self.timeout)
        try:
            conn.request(method, path, body=body, headers=hdrs)
            r = conn.getresponse()
            raw = r.read()
        finally:
            conn.close()
        ctype = (r.headers.get("Content-Type") or "").split(";")[0].strip().lower()
        parsed = raw
        if ctype.endswith("json"):
            try:
                parsed = json.loads(raw) if raw else None
            except ValueError:
                parsed = raw.decode(errors="replace")
        elif raw and (ctype.startswith("text/") or ctype.endswith("yaml") or
                      ctype.endswith("javascript") or ctype == ""):
            parsed = raw.decode(errors="replace")
        resp = Response(r.status, r.headers, parsed, raw)
        if cookies:
            self._store_cookies(resp)
        if isinstance(parsed, dict) and isinstance(parsed.get("csrf_token"), str):
            self.csrf_token = parsed["csrf_token"]
        if method == "DELETE" and path == "/api/v1/session" and r.status == 204:
            self.csrf_token = None
        self.last = resp
        return resp

    def get(self, path, **kw):
        return self.request("GET", path, **kw)

    def post(self, path, json_body=None, **kw):
        return self.request("POST", path, json_body, **kw)

    def put(self, path, json_body=None, **kw):
        return self.request("PUT", path, json_body, **kw)

    def patch(self, path, json_body=None, **kw):
        return self.request("PATCH", path, json_body, **kw)

    def delete(self, path, json_body=None, **kw):
        return self.request("DELETE", path, json_body, **kw)

    # -- conveniences
    def sign_in(self, email_addr, password=DEFAULT_PASSWORD):
        return self.post("/api/v1/session", {"email": email_addr, "password": password})

    def session(self):
        r = self.get("/api/v1/session")
        assert r.status == 200, f"GET /api/v1/session: {r}"
        return r.body


def raw_http(port, data, timeout=15):
    """Send raw bytes (ignoring a peer that stops reading) and return
    (status, headers dict with lower-case names, body bytes)."""
    s = socket.create_connection((HOST, port), timeout=timeout)
    try:
        try:
            s.sendall(data)
        except (BrokenPipeError, ConnectionResetError):
            pass
        try:
            s.shutdown(socket.SHUT_WR)
        except OSError:
            pass
        chunks = []
        while True:
            try:
                b = s.recv(65536)
            except ConnectionResetError:
                break
            if not b:
                break
            chunks.append(b)
    finally:
        s.close()
    resp = b"".join(chunks)
    head, _, body = resp.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    if not lines or not lines[0].startswith("HTTP/"):
        return None, {}, resp
    status = int(lines[0].split()[1])
    hdrs = {}
    for l in lines[1:]:
        k, _, v = l.partition(":")
        hdrs.setdefault(k.strip().lower(), v.strip())
    if hdrs.get("transfer-encoding", "").lower() == "chunked":
        out, rest = b"", body
        while rest:
            size_line, _, rest = rest.partition(b"\r\n")
            n = int(size_line.split(b";")[0] or b"0", 16)
            if n == 0:
                break
            out, rest = out + rest[:n], rest[n + 2:]
        body = out
    return status, hdrs, body


def on_server(client, srv):
    """A copy of client, its session included, talking to srv (another instance)."""
    c = copy.copy(client)
    c.cookies = dict(client.cookies)
    c.server = srv
    c.port = srv.port
    return c
