"""The route table as the server has it: src/api/routes.c read row by row (method, path, who
may call it, the capability a partner needs, the handler's name, whether it is session only), and a route's path with its
{placeholders} filled, for tests that go through every route of a kind."""
import re
from collections import namedtuple

from support import ROOT

Route = namedtuple("Route", "method path access capability name session_only")

# R( a route; RS( one refused to API tokens (session only).
_ROW = re.compile(r'(RS?)\(\s*"([A-Z]+)",\s*"([^"]+)",\s*(ACCESS_\w+),\s*(CAP_\w+),\s*BODY_\w+,\s*CTX_\w+,\s*\w+,\s*'
                  r'"(\w+)"\s*\)')


def route_table():
    """Every row of the route table, in its order. Fails when a row does not read as expected,
    so a change of the table's shape cannot leave routes out unnoticed."""
    text = (ROOT / "src" / "api" / "routes.c").read_text()
    body = text[text.index("api_routes[]"):]
    rows = [Route(m[1], m[2], m[3], m[4], m[5], m[0] == "RS") for m in _ROW.findall(body)]
    written = len(re.findall(r'^\s*RS?\(', body, re.M))
    assert written == len(rows) and len(rows) > 40, \
        f"routes.c: {written} rows written, {len(rows)} read: the table no longer reads as expected"
    return rows


def agreement_routes():
    """The routes of one agreement: those whose access is ACCESS_AGREEMENT or a narrower rule."""
    return [r for r in route_table() if r.access.startswith("ACCESS_AGREEMENT")]


def fill(path, **values):
    """The path with each {name} replaced by values[name] (a missing one fails)."""
    def sub(m):
        assert m.group(1) in values, f"no value for {{{m.group(1)}}} in {path}"
        return str(values[m.group(1)])
    return re.sub(r"\{(\w+)\}", sub, path)
