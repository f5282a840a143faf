"""People: unique addresses and names, sign-up with the verification mail followed, signed-in
users (customers, partner users), and the mail templates their messages come from.

Every address a test makes is unique to the run (pid, a counter, the clock), so tests that
share a server never see each other's users or mail."""
import os
import time

from support import DEFAULT_NAME, DEFAULT_PASSWORD, ROOT
from support.client import Client
from support.server import poll

_seq = [0]


def unique_email(prefix="user"):
    _seq[0] += 1
    return f"{prefix}.{os.getpid()}.{_seq[0]}.{int(time.time() * 1000) % 100000}@example.com"


def uniq(prefix):
    """A unique token for names and addresses."""
    return unique_email(prefix).split("@")[0]


def addr(prefix="dev", domain="devs.example"):
    """A unique e-mail address in a domain of the test's choosing."""
    return uniq(prefix) + "@" + domain


def signup(client, email_addr, password=DEFAULT_PASSWORD, name=DEFAULT_NAME, language=None):
    body = {"name": name, "email": email_addr, "password": password}
    if language is not None:
        body["language"] = language
    r = client.post("/api/v1/signup", body)
    assert r.status == 202, f"signup {email_addr}: {r}"
    return r


def signup_and_verify(client, email_addr, password=DEFAULT_PASSWORD, name=DEFAULT_NAME,
                      language=None, sign_in=True):
    """Sign up, follow the verification mail, and (by default) sign in. Returns the user
    object when signed in, else the verify response body."""
    signup(client, email_addr, password, name, language)
    m = client.server.wait_for_mail(email_addr.strip().lower())
    tok = m.token("/verify")
    assert tok, f"no /verify?token= link in the verification mail: {m.links}\n{m.text}"
    r = client.post("/api/v1/verify", {"token": tok})
    assert r.status == 200, f"verify: {r}"
    if not sign_in:
        return r.body
    r = client.sign_in(email_addr.strip().lower(), password)
    assert r.status == 200, f"sign in after verification: {r}"
    return r.body["user"]


def wait_for_link_mail(server, to, path):
    """The next not-yet-taken mail to `to` carrying a {path}?token= link (other mails to
    the same address, e.g. a customer invitation, are left alone)."""
    md = server.mail

    def find():
        for m in md.matching(to):
            if m.key not in md.taken and m.token(path):
                md.taken.add(m.key)
                return m
        return None

    return poll(find, timeout=10, what=f"a mail with a {path} link to {to}")


def verified_user(server, email_addr, language=None, name=DEFAULT_NAME):
    """A signed-in client of a new verified account (works when other mails are pending
    for the address)."""
    c = Client(server)
    signup(c, email_addr, name=name, language=language)
    m = wait_for_link_mail(server, email_addr.lower(), "/verify")
    r = c.post("/api/v1/verify", {"token": m.token("/verify")})
    assert r.status == 200, f"verify {email_addr}: {r}"
    r = c.sign_in(email_addr.lower())
    assert r.status == 200, f"sign in {email_addr}: {r}"
    c.user = r.body["user"]
    c.email = email_addr.lower()
    return c


def partner_add(server, org, email_addr, country="FR", admin=False):
    """`openseat partner add` on the server's data directory (running or not)."""
    args = ["partner", "add", "--org", org, "--email", email_addr]
    if country:
        args += ["--country", country]
    if admin:
        args.append("--admin")
    return server.cli(*args)


def new_partner(server, org=None, country="FR", email_addr=None, language=None, name="Alex Morgan"):
    """A signed-in partner user of `org` (a new organization by default).
    Returns (client, email, org)."""
    org = org or "Partner " + unique_email("org").split("@")[0]
    email_addr = email_addr or unique_email("partner")
    partner_add(server, org, email_addr, country)
    c = Client(server)
    signup_and_verify(c, email_addr, name=name, language=language)
    return c, email_addr, org


def partner_user(server, name="Alex Morgan", org=None, language=None, email_addr=None):
    """A signed-in member of partner organization `org` (a new one unless given), as a client
    that knows its .email, .org, .name and .user."""
    c, e, o = new_partner(server, org=org or "Partner " + uniq("org"), email_addr=email_addr, language=language,
                          name=name)
    c.email, c.org, c.name = e, o, name
    c.user = c.session()["user"]
    return c


def template_subject(language, name, **values):
    """The Subject line of mail template `name` in `language` as the source tree has it, with
    {{placeholders}} filled from `values`."""
    p = ROOT / "src" / "mail" / "templates" / language / f"{name}.txt"
    first = p.read_text(encoding="utf-8").splitlines()[0]
    assert first.startswith("Subject:"), p
    s = first[len("Subject:"):].strip()
    for k, v in values.items():
        s = s.replace("{{" + k + "}}", v)
    return s
