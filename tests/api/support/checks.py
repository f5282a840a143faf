"""Assertions on the server's answers: an RFC 9457 problem (status, code, the fields every
problem carries) and the per-field errors of a 422 validation problem."""


def assert_problem(resp, status, code=None):
    """resp is an RFC 9457 problem with this status (and code)."""
    assert resp.status == status, f"want {status} {code}, got {resp}"
    assert resp.content_type == "application/problem+json", \
        f"want application/problem+json, got {resp.headers.get('Content-Type')!r} ({resp})"
    b = resp.body
    assert isinstance(b, dict), f"problem body is not a JSON object: {resp.raw[:300]!r}"
    assert b.get("status") == status, f"problem status field {b.get('status')!r} != {status}"
    for k in ("type", "title", "request_id", "code"):
        assert isinstance(b.get(k), str) and b[k], f"problem lacks {k!r}: {b}"
    if code is not None:
        assert b["code"] == code, f"want code {code!r}, got {b['code']!r}: {b}"
    return b


def field_errors(resp):
    """{field: code} of a 422 validation problem (every field listed once)."""
    b = assert_problem(resp, 422, "validation")
    errs = b.get("errors")
    assert isinstance(errs, list) and errs, f"validation problem without errors: {b}"
    out = {}
    for e in errs:
        assert isinstance(e, dict) and isinstance(e.get("field"), str) and e["field"], e
        assert isinstance(e.get("code"), str) and e["code"], e
        assert isinstance(e.get("message"), str) and e["message"], e
        out[e["field"]] = e["code"]
    return out
