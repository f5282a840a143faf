"""The over-allocation alert: when an assignment brings a pool to the agreement's alert
threshold (a percentage of the seats purchased, 90 by default), the customer's super
admins get the `pool_alert` e-mail — once per crossing, not once per seat above it."""
from support.accounts import addr
from support.agreements import agreement
from support.subscriptions import PREFS, add, alerts, subs


def test_alert_once_when_the_threshold_is_crossed(server):
    ag = agreement(server, {"enterprise": 10, "professional": 10})
    emails = [addr(f"pa{i}") for i in range(8)]
    ids = [add(ag.sa, ag.lic, sign_in_email=e).body["id"] for e in emails]
    assert alerts(server, ag) == 0                       # 8 of 10: below 90 %
    ids.append(add(ag.sa, ag.lic, sign_in_email=addr("pa8")).body["id"])
    assert alerts(server, ag) == 1                       # 9 of 10: crossed
    server.wait_for_mail(ag.customer_email, subject_contains=ag.lic)
    ids.append(add(ag.sa, ag.lic, sign_in_email=addr("pa9")).body["id"])
    assert alerts(server, ag) == 1                       # 10 of 10: already above, no second one
    # Another level's pool is counted on its own.
    add(ag.sa, ag.lic, sign_in_email=addr("pro"), level="professional")
    assert alerts(server, ag) == 1
    # Back below the threshold, then across it again: a new alert. (The person removed
    # takes their own freed seat back: the reassignment rule keeps it from anyone else.)
    r = ag.sa.post(subs(ag.lic, "/remove"), {"ids": ids[:2]})
    assert r.status == 200, r
    add(ag.sa, ag.lic, sign_in_email=emails[0])
    assert alerts(server, ag) == 2


def test_alert_follows_the_preferences_threshold(server):
    ag = agreement(server, {"enterprise": 4})
    r = ag.sa.put(PREFS.format(ag.lic), {"alert_threshold": 50})
    assert r.status == 200, r
    add(ag.sa, ag.lic, sign_in_email=addr("t1"))
    assert alerts(server, ag) == 0                       # 1 of 4: 25 %
    add(ag.sa, ag.lic, sign_in_email=addr("t2"))
    assert alerts(server, ag) == 1                       # 2 of 4: 50 %
    # A refused assignment (nothing written) sends nothing.
    add(ag.sa, ag.lic, expect=422, sign_in_email="not an address")
    assert alerts(server, ag) == 1
