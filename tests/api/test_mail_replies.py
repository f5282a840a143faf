"""E-mails whose text asks the reader to reply carry a Reply-To naming who should get the
answer: a subscriber's question goes back to the asker, an assignment notice to the
agreement's contact address (when the preferences name one; else no Reply-To). Checked on
the messages as the SMTP sink received them."""
import pytest

from support.accounts import addr, verified_user
from support.agreements import agreement, url
from support.db import db_query
from support.subscriptions import add, subs

pytestmark = pytest.mark.usefixtures("server_alive")


def test_question_reply_goes_to_the_asker(server):
    a = agreement(server, {"enterprise": 3})
    asker_email = addr("asker")
    dev = verified_user(server, asker_email, name="Dev Asker")
    add(a.sa, a.lic, sign_in_email=asker_email)
    r = dev.post("/api/v1/me/questions", {"license_number": a.lic, "subject": "Which edition?",
                                          "message": "Please tell me", "copy_to_me": True})
    assert r.status == 202, r
    m = server.wait_for_mail(a.customer_email, subject_contains=a.lic)
    assert m.msg["reply-to"] is not None, m.raw[:600]
    assert m.msg["reply-to"].addresses[0].addr_spec.lower() == asker_email.lower()
    # The asker's own copy is not answered to themselves.
    copy = server.wait_for_mail(asker_email, subject_contains=a.lic)
    assert copy.msg["reply-to"] is None, copy.raw[:600]


def test_assignment_reply_goes_to_the_contact_address(server):
    a = agreement(server, {"enterprise": 3})
    contact = addr("helpdesk", a.domain)
    r = a.sa.put(url(a.lic, "/preferences"), {"contact_email": contact})
    assert r.status == 200, r
    dev_email = addr("assigned")
    r = add(a.sa, a.lic, sign_in_email=dev_email, send_email=True)
    m = server.wait_for_mail(dev_email)
    assert m.msg["reply-to"] is not None, m.raw[:600]
    assert m.msg["reply-to"].addresses[0].addr_spec.lower() == contact.lower()
    assert m.raw_header("Reply-To").count(b"@") == 1
    # Resending is the same message, the same Reply-To.
    sid = r.body["id"]
    assert a.sa.post(subs(a.lic, "/resend"), {"ids": [sid]}).status in (200, 202)
    rows = db_query(server, "SELECT reply_to FROM outbox WHERE recipient = ? ORDER BY id", (dev_email,))
    assert [row[0] for row in rows] == [contact, contact], rows


def test_assignment_without_contact_address_has_no_reply_to(server):
    a = agreement(server, {"enterprise": 3})
    dev_email = addr("nocontact")
    add(a.sa, a.lic, sign_in_email=dev_email, send_email=True)
    m = server.wait_for_mail(dev_email)
    assert m.msg["reply-to"] is None, m.raw[:600]
