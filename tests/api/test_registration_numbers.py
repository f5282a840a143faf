"""The partner registration (New Open license, not-recognized page) checks the numbers' form
before comparing them with an order: a number that cannot be one ("ABC", "12ab", 7 digits)
gets a field error (422 validation, field code invalid_format) and does not count toward
the lock-out; a real mismatch says how many tries are left (params.tries_left), which
decreases with every mismatch until the 429."""
import pytest

from support.accounts import partner_user
from support.agreements import REGISTRATIONS, assert_granted, import_agreement, new_authno, reg_body, uniq
from support.checks import assert_problem, field_errors
from support.db import db_count

pytestmark = pytest.mark.usefixtures("server_alive")


def failures(server, scope, key):
    return db_count(server, "auth_failures", "scope = ? AND key = ?", (scope, str(key)))


@pytest.mark.parametrize("route", ["new_license", "registration"])
def test_malformed_numbers_are_field_errors_not_counted(server, route):
    ag = import_agreement(server, "Litware " + uniq("fmt"))
    p = partner_user(server)
    uid = p.user["id"]
    cases = [
        (dict(license_number="ABC"), {("license_number", "invalid_format")}),
        (dict(license_number="12ab"), {("license_number", "invalid_format")}),
        (dict(license_number=ag.lic[:7]), {("license_number", "invalid_format")}),
        (dict(authorization_number="12ab"), {("authorization_number", "invalid_format")}),
        (dict(authorization_number="ABC", license_number="ABC"),
         {("authorization_number", "invalid_format"), ("license_number", "invalid_format")}),
        (dict(customer_email="not-an-address"), {("customer_email", "invalid_email")}),
    ]
    for change, want in cases:
        r = p.post(REGISTRATIONS, reg_body(ag, route, **change))
        assert_problem(r, 422, "validation")
        got = {(e["field"], e["code"]) for e in r.body["errors"]}
        assert got == want, (change, r.body)
    # Six malformed attempts, more than the five a user may fail: none counted, none refused.
    assert failures(server, "reg_user", uid) == 0
    assert failures(server, "reg_license", ag.lic) == 0
    assert failures(server, "reg_license", "ABC") == 0
    # Separators and lower case are still fine.
    authno = "-".join([ag.authno[:5], ag.authno[5:9], ag.authno[9:]]).lower()
    assert_granted(p.post(REGISTRATIONS, reg_body(ag, route, authorization_number=authno)), ag, 201)


def test_tries_left_decreases_until_the_lock_out(server):
    ag = import_agreement(server, "Litware " + uniq("left"))
    p = partner_user(server)
    seen = []
    for _ in range(5):
        r = p.post(REGISTRATIONS, reg_body(ag, authorization_number=new_authno()))
        b = assert_problem(r, 422, "no_match")
        assert "errors" not in b, b
        seen.append(b["params"]["tries_left"])
    assert seen == [4, 3, 2, 1, 0], seen
    assert_problem(p.post(REGISTRATIONS, reg_body(ag)), 429, "throttled")


def test_tries_left_counts_the_license_from_this_address(server):
    """Several partner users failing on one license from one address: once the license's
    per-address allowance (20 an hour) is smaller than the user's own, it is what is left."""
    ag = import_agreement(server, "Litware " + uniq("lic"))

    def fail(u):
        r = u.post(REGISTRATIONS, reg_body(ag, customer_email="wrong@adatum.example"))
        return assert_problem(r, 422, "no_match")["params"]["tries_left"]

    for _ in range(6):
        u = partner_user(server)
        assert [fail(u) for _ in range(3)] == [4, 3, 2]
    last = partner_user(server)
    assert [fail(last), fail(last)] == [1, 0], "the license's 19th and 20th failure from this address"
    assert failures(server, "reg_license", ag.lic) == 20
    assert_problem(last.post(REGISTRATIONS, reg_body(ag)), 429, "throttled")
