"""Every size or range the server enforces on a request body is a named constant (src/core/
limits.h, or the owning domain header), and the web UI checks the same one: it comes to web/js
through constants.js (tools/webconst.py), never as a number written again. A number in one place
and a different one in the other is how the admin dialog came to stop names at 100 characters
while the server took 200."""
import re

from support import ROOT

# The routes whose bodies this covers: their length arguments are names, never numbers.
API_FILES = ["partners.c", "prefs.c", "subscriptions.c", "admins.c", "accounts.c"]
BODY_LIMIT = re.compile(r"\bbody_str\(r, \"\w+\", (\d+)|\bbody_str_raw\(r, \"\w+\", \w+, (\d+)")
UI_LIMIT = re.compile(r"\b(maxlength|max):\s*(\d+)")


def literal_body_limits(text):
    return [m.group(0) for m in BODY_LIMIT.finditer(text)]


def literal_ui_limits(text):
    return [m.group(0) for m in UI_LIMIT.finditer(text)]


def test_checkers_catch_planted_numbers():
    assert literal_body_limits('x = body_str(r, "token", 2048, true); y = body_str(r, "n", LIMIT_NAME_BYTES, true);'
                               ' z = body_str_raw(r, "m", 1, 5000, true);') == \
        ['body_str(r, "token", 2048', 'body_str_raw(r, "m", 1, 5000']
    assert literal_ui_limits("{ maxlength: 100, min: 1, max: LIMITS.X }, { max: 7 }") == ["maxlength: 100", "max: 7"]


def test_request_body_limits_are_named():
    found = {f: literal_body_limits((ROOT / "src" / "api" / f).read_text()) for f in API_FILES}
    assert {f: v for f, v in found.items() if v} == {}


def test_the_alert_thresholds_default_is_named():
    hits = [(p.name, m) for p in (ROOT / "src").rglob("*.c")
            for m in re.findall(r"alert_threshold\s*=\s*\d+", p.read_text())]
    assert hits == []


def test_the_ui_checks_the_servers_limits():
    found = {p.name: literal_ui_limits(p.read_text()) for p in (ROOT / "web" / "js").rglob("*.js")
             if p.name != "constants.js"}
    assert {f: v for f, v in found.items() if v} == {}
