"""A subscriber's level, country and language are chosen from lists. When the single add or the
edit gets a value that is not on its list, the `invalid_value` error says which list it was
(`params.field`) and, where the values can be listed, names them (`params.allowed`), as a file's
cell does in a bulk report, so a client words the problem in its own language. Other
`invalid_value` errors (a control character in a name) carry no params."""
import pytest

from support.accounts import partner_user
from support.agreements import agreement
from support.checks import field_errors
from support.subscriptions import add, sub_body, subs

pytestmark = pytest.mark.usefixtures("server_alive")

LANGUAGES = "en, fr, de, es, it, nl, pt, ja, zh"


@pytest.fixture(scope="module")
def ag(server):
    return agreement(server, {"enterprise": 3, "professional": 2}, seller=partner_user(server))


def errors_by_field(r):
    field_errors(r)   # asserts a 422 validation problem
    return {e["field"]: e for e in r.body["errors"]}


def test_add_names_the_allowed_values(ag):
    r = ag.sa.post(subs(ag.lic), sub_body(level="platforms", country="ZZ", language="xx"))
    fe = errors_by_field(r)
    assert {k: e["code"] for k, e in fe.items()} == \
        {"level": "invalid_value", "country": "invalid_value", "language": "invalid_value"}, r.body
    assert fe["level"]["params"] == {"field": "level", "allowed": "enterprise, professional"}, fe["level"]
    assert fe["level"]["message"] == "Choose one of the agreement's levels: enterprise, professional", fe["level"]
    assert fe["country"]["params"] == {"field": "country"}, fe["country"]
    assert fe["language"]["params"] == {"field": "language", "allowed": LANGUAGES}, fe["language"]
    assert fe["language"]["message"] == "Use a language code: en, fr, de, es, it, nl, pt, ja or zh", fe["language"]


def test_a_badly_written_country_is_the_same_problem(ag):
    fe = errors_by_field(ag.sa.post(subs(ag.lic), sub_body(country="fr")))
    assert fe["country"]["code"] == "invalid_value" and fe["country"]["params"] == {"field": "country"}, fe


def test_edit_names_the_allowed_values(ag):
    s = add(ag.sa, ag.lic).body
    r = ag.sa.patch(subs(ag.lic, f"/{s['id']}"), {"country": "ZZ", "language": "klingon"},
                    headers={"If-Match": '"1"'})
    fe = errors_by_field(r)
    assert fe["country"]["params"] == {"field": "country"}, fe
    assert fe["language"]["params"] == {"field": "language", "allowed": LANGUAGES}, fe


def test_other_invalid_values_carry_no_params(ag):
    fe = errors_by_field(ag.sa.post(subs(ag.lic), sub_body(name="Grace\x01Hopper")))
    assert fe["name"]["code"] == "invalid_value" and "params" not in fe["name"], fe


def test_a_level_that_cannot_change_is_not_a_choice(ag):
    """On an edit, another of the agreement's levels is refused for another reason: no list."""
    s = add(ag.sa, ag.lic).body
    r = ag.sa.patch(subs(ag.lic, f"/{s['id']}"), {"level": "professional"}, headers={"If-Match": '"1"'})
    fe = errors_by_field(r)
    assert fe["level"]["code"] == "invalid_value" and "params" not in fe["level"], fe
