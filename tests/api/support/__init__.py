"""What the API tests share, by topic; conftest.py keeps only pytest's part (fixtures, hooks).

Every test talks to a real `openseat serve` process on 127.0.0.1 with its own data
directory, and (unless a test says otherwise) to a real SMTP sink (aiosmtpd writing a
Maildir). Only the standard library, pytest and aiosmtpd are used (and psycopg2 when the
tests run on PostgreSQL, openpyxl where a test reads a workbook, jsonschema where answers
are checked against docs/openapi.yaml).

  support.server         the processes under test: the server, the SMTP sink, their mailboxes
  support.client         an HTTP client with cookies and CSRF, and raw HTTP for malformed requests
  support.db             the server's database (SQLite or PostgreSQL) read and written directly
  support.checks         assertions on answers: problem+json, field errors
  support.accounts       people: unique addresses, sign-up, verified users, partner users
  support.agreements     agreements and who may act on them: orders, imports, registrations, admins
  support.subscriptions  subscribers, pools, the outbox and pool alerts
  support.files          uploads, exports and background jobs
  support.jobs           a job's state and end from the database, a worker kept busy
  support.concurrency    requests that race each other
  support.routes         the route table of src/api/routes.c, read row by row

Why the machinery lives here and not in conftest.py: test modules need the Server and Client
classes themselves (to start servers with their own arguments, to make clients), and a
conftest.py is pytest's plugin, not a module to import from. So conftest.py holds the
fixtures and hooks and imports from here, test modules import from here, and no test module
imports another (test_suite_layout.py checks it).

Environment:
  OPENSEAT_BIN      the server binary (default: build/openseat-test in the repository root;
                    a relative path is taken relative to the repository root)
  OPENSEAT_TEST_PG  a PostgreSQL base URL without database name (see support.db)

This package holds what every part agrees on: paths, the address servers listen on, the
password test accounts use."""
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
HOST = "127.0.0.1"
PYTHON = "/usr/bin/python3"
MAIL_POLL_MS = 100
DEFAULT_PASSWORD = "correct horse battery"
DEFAULT_NAME = "Ada Lovelace"

# Strings that a sanitizer (ASan, UBSan, LSan) writes to stderr when it finds something.
SANITIZER_MARKERS = (
    "ERROR: AddressSanitizer",
    "ERROR: LeakSanitizer",
    "runtime error:",
    "SUMMARY: UndefinedBehaviorSanitizer",
    "SUMMARY: AddressSanitizer",
)
