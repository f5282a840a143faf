"""Timings for bench/scim-rule.sh, run by pytest with the API tests' fixtures (tests/api).

- The preview of a group rule over BENCH_RULE_PEOPLE people (a SCIM group written straight
  into the tables, as tests/api/test_scim_mappings_preview.py does): the one request, timed.
- BENCH_SINGLE_ADDS single adds (POST .../subscriptions, one person each) on an agreement that
  already holds the rule's people: each timed, the median and the 90th percentile kept.

Each figure is appended to BENCH_OUT as `name value` lines.
"""
import os
import statistics
import time

from support.accounts import addr
from support.agreements import agreement, url
from support.scim import new_group, provider, users_in_bulk
from support.subscriptions import add

PEOPLE = int(os.environ.get("BENCH_RULE_PEOPLE", "10000"))
ADDS = int(os.environ.get("BENCH_SINGLE_ADDS", "300"))


def record(name, value):
    with open(os.environ["BENCH_OUT"], "a") as f:
        f.write(f"{name} {value}\n")


def test_rule_preview_and_single_adds(server):
    big = agreement(server, {"enterprise": 2 * PEOPLE, "professional": 2 * ADDS})
    idp = provider(server, big)
    g = new_group(idp, "Everyone")
    users_in_bulk(server, big, PEOPLE, group=g["id"])
    big.sa.timeout = 600
    body = {"group": g["id"], "level": "enterprise", "language": "en", "country": "FR", "downloads": True}
    t0 = time.monotonic()
    r = big.sa.post(url(big.lic, "/provisioning/mappings/preview"), body)
    record("preview_s", f"{time.monotonic() - t0:.3f}")
    assert r.status == 200 and r.body["counts"]["gains"] == PEOPLE, r
    times = []
    for i in range(ADDS):
        t0 = time.monotonic()
        add(big.sa, big.lic, name=f"Single Add {i}", sign_in_email=addr(f"single{i}", big.domain),
            level="professional")
        times.append(time.monotonic() - t0)
    times.sort()
    record("single_add_median_ms", f"{1000 * statistics.median(times):.2f}")
    record("single_add_p90_ms", f"{1000 * times[int(0.9 * len(times))]:.2f}")
