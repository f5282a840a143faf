#!/usr/bin/env python3
"""checksrc — the source rules a compiler cannot hold, checked over src/ (and the C of tests/unit
and fuzz/). Prints one line per breach, "FILE:LINE: rule: text", and exits 1 when there is any.

    python3 tools/checksrc.py            check the tree
    python3 tools/checksrc.py FILE...    check these files
    python3 tools/checksrc.py --root DIR check the tree at DIR (src/, tests/unit/, fuzz/ there)

Rules (docs/conventions.md says why):
  banned     functions with no bound or with hidden state: sprintf, vsprintf, strcpy, strcat,
             strncpy, strncat, strtok, gets, atoi, atol, atoll, atof. Use snprintf, buf_*,
             arena_strndup, strtoll with an end check.
  alloc      malloc, calloc, realloc, free, strdup, strndup outside the modules that own
             long-lived memory (OWNERS below). Request memory comes from the request's arena.
A line may carry "checksrc: allow <rule>" in a comment, with the reason beside it, for the rare
case the rule does not fit (memory a library allocated and hands over, say).
"""
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

BANNED = ["sprintf", "vsprintf", "strcpy", "strcat", "strncpy", "strncat", "strtok", "gets",
          "atoi", "atol", "atoll", "atof"]
ALLOC = ["malloc", "calloc", "realloc", "free", "strdup", "strndup"]

# Modules that own memory outliving a request; each frees what it allocates.
OWNERS = {
    "src/core/arena.c": "the arena itself",
    "src/core/buf.c": "growable buffers not backed by an arena",
    "src/core/buf.h": "growable buffers not backed by an arena",
    "src/http/server.c": "the server and its per-connection state",
    "src/http/metrics.c": "the metrics table",
    "src/store/store.c": "the store and its per-thread connections",
    "src/store/sqlite.c": "the SQLite driver's connections and statement cache",
    "src/store/pg.c": "the PostgreSQL driver's connections and statement cache",
    "src/store/store_sub_rows.c": "a connection's search-term counts, held until its transaction ends",
    "src/mail/outbox.c": "the mail worker",
    "src/mail/smtp.c": "a sender thread's relay session (one easy handle kept across messages)",
    "src/domain/jobs.c": "the job worker",
    "src/domain/sso.c": "the OpenID Connect providers read at start, their discovered endpoints and key sets",
    "src/domain/audit_log.c": "the audit log worker",
    "src/webhook/worker.c": "the webhook delivery worker",
}


def strip(text):
    """The text with comments and string/char literals blanked (line numbers kept)."""
    out, i, n = [], 0, len(text)
    while i < n:
        c = text[i]
        if text.startswith("//", i):
            j = text.find("\n", i)
            j = n if j < 0 else j
            out.append(" " * (j - i))
            i = j
        elif text.startswith("/*", i):
            j = text.find("*/", i + 2)
            j = n if j < 0 else j + 2
            out.append("".join(ch if ch == "\n" else " " for ch in text[i:j]))
            i = j
        elif c in "\"'":
            j = i + 1
            while j < n and text[j] != c:
                j += 2 if text[j] == "\\" else 1
            out.append(c + " " * (min(j, n) - i - 1) + (c if j < n else ""))
            i = j + 1
        else:
            out.append(c)
            i += 1
    return "".join(out)


def check(path, root):
    rel = path.relative_to(root).as_posix()
    raw = path.read_text(errors="replace")
    code = strip(raw).splitlines()
    lines = raw.splitlines()
    found = []
    for no, line in enumerate(code, 1):
        original = lines[no - 1] if no <= len(lines) else ""
        for rule, names in (("banned", BANNED), ("alloc", ALLOC)):
            if rule == "alloc" and (rel in OWNERS or not rel.startswith("src/")):
                continue
            for name in names:
                if re.search(r"(?<![\w.>])" + name + r"\s*\(", line) and f"checksrc: allow {rule}" not in original:
                    found.append(f"{rel}:{no}: {rule}: {name}() — {original.strip()}")
    return found


def files(root, args):
    if args:
        return [Path(a).resolve() for a in args]
    out = []
    for d in ("src", "tests/unit", "fuzz"):
        out += sorted((root / d).rglob("*.[ch]"))
    return out


def main(argv):
    args, root = argv[1:], ROOT
    if args[:1] == ["--root"] and len(args) > 1:
        root, args = Path(args[1]).resolve(), args[2:]
    problems = [p for f in files(root, args) for p in check(f, root)]
    for p in problems:
        print(p)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
