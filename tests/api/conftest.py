"""pytest's part of the API tests: the fixtures (a server per module, fresh servers, factories
for servers and SMTP sinks with their own arguments) and the hooks (markers, the database
backend in the report header, server logs on failure).

Everything else the tests share (the server and client machinery, builders of users,
agreements and subscriptions, assertions) is in the support package, which test modules
import from; see support/__init__.py for why it is not here."""
import pytest

from support.client import Client
from support.db import BACKEND, PG_BASE, PG_MODE, pg_databases, pg_drop_database
from support.server import Maildir, Server, SmtpSink, live_servers, retire_all, start_stack, stop_stack, tail


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """A server with an SMTP sink shared by the tests of one module."""
    srv = start_stack(tmp_path_factory.mktemp("srv"))
    yield srv
    stop_stack(srv)


@pytest.fixture
def wait_for_mail(server):
    """wait_for_mail(to, subject_contains=None, timeout=10) on the module's server."""
    return server.wait_for_mail


@pytest.fixture
def fresh_server(tmp_path_factory):
    """A server (and SMTP sink) of this test's own, for tests that need isolation."""
    srv = start_stack(tmp_path_factory.mktemp("fresh"))
    yield srv
    stop_stack(srv)


@pytest.fixture
def client(server):
    return Client(server)


@pytest.fixture
def server_alive(server):
    """For modules whose tests share one server (pytestmark = pytest.mark.usefixtures(
    "server_alive")): when it has died, say so (with what the sanitizers reported) instead of
    failing on refused connections."""
    if server.proc is not None and server.proc.poll() is not None:
        pytest.fail(f"the shared server exited ({server.proc.returncode}) before this test; "
                    f"sanitizer report: {server.sanitizer_report()[:2]}; log {server.log_path}", pytrace=False)
    yield


@pytest.fixture
def server_factory(tmp_path_factory):
    """Start servers with custom arguments: factory(smtp_url=None, start=True, **kw)."""
    made = []

    def make(smtp_url=None, mail=None, extra_args=(), start=True):
        d = tmp_path_factory.mktemp("custom")
        srv = Server(d / "data", smtp_url=smtp_url, mail=mail, extra_args=extra_args)
        if srv.mail is None and smtp_url is None:
            srv.mail = Maildir(srv.data / "maildir")
        made.append(srv)
        live_servers.append(srv)
        if start:
            srv.start()
        return srv

    yield make
    retire_all(made)


@pytest.fixture
def sink_factory(tmp_path_factory):
    made = []

    def make(port=None, start=True):
        s = SmtpSink(tmp_path_factory.mktemp("sink"), port=port)
        made.append(s)
        if start:
            s.start()
        return s

    yield make
    for s in made:
        s.stop()


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "sqlite_only: about SQLite itself (its files, PRAGMAs, backup format); "
                   "skipped when the tests run on PostgreSQL (OPENSEAT_TEST_PG)")
    config.addinivalue_line(
        "markers", "pg_only: about PostgreSQL itself; skipped unless the tests run on PostgreSQL")


def pytest_report_header(config):
    return f"openseat database backend: {BACKEND}" + (f" ({PG_BASE})" if PG_MODE else "")


def pytest_collection_modifyitems(config, items):
    for item in items:
        if PG_MODE and item.get_closest_marker("sqlite_only"):
            item.add_marker(pytest.mark.skip(reason="SQLite-only test: the database is PostgreSQL"))
        if not PG_MODE and item.get_closest_marker("pg_only"):
            item.add_marker(pytest.mark.skip(reason="PostgreSQL-only test: set OPENSEAT_TEST_PG"))


def pytest_sessionfinish(session, exitstatus):
    """Drop the databases that no fixture teardown dropped (a server whose start failed)."""
    for name in list(pg_databases):
        try:
            pg_drop_database(name)
        except Exception:
            pass


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """On failure, name the log files of the servers that were running."""
    outcome = yield
    rep = outcome.get_result()
    if rep.failed and live_servers:
        lines = []
        for srv in live_servers:
            lines.append(f"server log: {srv.log_path}")
            lines.append(tail(srv.log_path, 25))
        rep.sections.append(("openseat", "\n".join(lines)))
