#!/usr/bin/env python3
"""webconst.py — writes web/js/constants.js, the values the web UI shares with the server.

usage: webconst.py OUT.js      (the Makefile runs it: `make web/js/constants.js`)

The server is the one source. The UI checks some things before it sends them (a field's
length, a password's, an order's lines and quantities), offers lists the server checks
against (countries, a subscriber's languages) and branches on codes the server answers
(problem and field codes, job states); every such value is read here from where the server
defines it, never written out again in web/:

- limits: the `#define`s named in LIMITS below, from the C headers (integer expressions of
  literals and earlier names, evaluated here);
- lists: the string arrays named in LISTS, from the C sources;
- codes: the Problem and FieldError `code` enums and the Job `state` enum of
  docs/openapi.yaml — the API contract, which tests/api/test_contract_docs.py holds to every
  code the C sources send (the codes are string literals throughout src/, with no header).

Why the output is committed rather than generated into build/gen: the UI is also served
straight from web/ (`--web-dir`, and the browser tests' OPENSEAT_WEB_DIR), where a file that
exists only under build/ would be missing. So the Makefile rewrites web/js/constants.js
whenever one of its sources changes (before embedding), the file says it is generated, and
tests/api/test_web_constants.py regenerates it and fails when the committed copy differs, and
checks the served values against what the C compiler makes of the same headers.

The output depends only on the inputs (no dates, no paths, stable order): running it twice
writes the same bytes. It needs nothing but Python 3's standard library.
"""
import ast
import json
import os
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

# [header, [macro, ...]]: the limits the UI checks before sending; keys keep the C names.
LIMITS = [
    ("src/core/limits.h", ["LIMIT_PASSWORD_MIN", "LIMIT_PASSWORD_MAX", "LIMIT_PAGE_SIZE_DEFAULT",
                           "LIMIT_QUESTION_SUBJECT_CHARS", "LIMIT_QUESTION_MESSAGE_CHARS", "LIMIT_NAME_BYTES",
                           "LIMIT_AUTHORIZATION_CHARS", "LIMIT_LICENSE_NUMBER_CHARS", "LIMIT_ALERT_THRESHOLD_MIN",
                           "LIMIT_ALERT_THRESHOLD_MAX", "LIMIT_ALERT_THRESHOLD_DEFAULT",
                           "LIMIT_PARTNER_PERIOD_DAYS_MAX", "LIMIT_PARTNER_PERIOD_DAYS_DEFAULT",
                           "LIMIT_PARTNER_REASON_CHARS", "LIMIT_TOKEN_NAME_CHARS", "LIMIT_TOKEN_DEFAULT_DAYS",
                           "LIMIT_TOKEN_MAX_DAYS", "LIMIT_WEBHOOK_URL_CHARS", "LIMIT_WEBHOOK_DESCRIPTION_CHARS",
                           "LIMIT_WEBHOOK_FAILING_DAYS", "LIMIT_MFA_CODE_CHARS"]),
    ("src/domain/subscribers.h", ["SUB_NAME_MAX", "SUB_REFERENCE_MAX"]),
    ("src/domain/licensing.h", ["ORDER_MAX_LINES", "ORDER_MAX_QUANTITY"]),
]

# [JS name, C source, C array]: string lists the server checks input against.
LISTS = [
    ("COUNTRIES", "src/core/countries.c", "country_codes"),
    ("SUBSCRIBER_LANGUAGES", "src/domain/subscribers.c", "subscriber_languages"),
]

# [JS name, OpenAPI schema, property]: codes, keyed by their upper-case spelling.
CODES = [
    ("PROBLEM", "Problem", "code"),
    ("FIELD", "FieldError", "code"),
    ("JOB_STATE", "Job", "state"),
]

INPUTS = sorted({h for h, _ in LIMITS} | {f for _, f, _ in LISTS} | {"docs/openapi.yaml"})


class GenError(Exception):
    pass


def read(rel):
    try:
        return (ROOT / rel).read_text(encoding="utf-8")
    except OSError as e:
        raise GenError(f"{rel}: {e.strerror}") from e


def strip_comments(text):
    text = re.sub(r"/\*.*?\*/", " ", text, flags=re.S)
    return re.sub(r"//[^\n]*", " ", text)


def header_defines(rel):
    """{NAME: value text} of the object-like #defines of a header (continuations joined)."""
    text = strip_comments(read(rel)).replace("\\\n", " ")
    return {m.group(1): m.group(2).strip()
            for m in re.finditer(r"^\s*#\s*define\s+([A-Za-z_]\w*)(?!\()\s+(.*)$", text, flags=re.M)}


def evaluate(rel, name, defines, seen=()):
    """The integer value of macro `name`: literals, + - * / % << >> and parentheses, other macros."""
    if name not in defines:
        raise GenError(f"{rel}: no #define {name}")
    if name in seen:
        raise GenError(f"{rel}: {name} refers to itself")
    src = re.sub(r"\b(0[xX][0-9a-fA-F]+|\d+)[uUlL]*\b", r"\1", defines[name])
    try:
        tree = ast.parse(src, mode="eval")
    except SyntaxError as e:
        raise GenError(f"{rel}: {name} is not an integer expression: {defines[name]}") from e

    def ev(node):
        if isinstance(node, ast.Expression):
            return ev(node.body)
        if isinstance(node, ast.Constant) and type(node.value) is int:
            return node.value
        if isinstance(node, ast.Name):
            return evaluate(rel, node.id, defines, seen + (name,))
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
            v = ev(node.operand)
            return -v if isinstance(node.op, ast.USub) else v
        if isinstance(node, ast.BinOp):
            a, b = ev(node.left), ev(node.right)
            ops = {ast.Add: lambda: a + b, ast.Sub: lambda: a - b, ast.Mult: lambda: a * b,
                   ast.Div: lambda: int(a / b), ast.FloorDiv: lambda: int(a / b),
                   ast.Mod: lambda: a % b, ast.LShift: lambda: a << b, ast.RShift: lambda: a >> b}
            for op, f in ops.items():
                if isinstance(node.op, op):
                    return f()
        raise GenError(f"{rel}: {name} is not an integer expression: {defines[name]}")

    return ev(tree)


def string_array(rel, array):
    """The string literals of `... array[...] = { "a", "b", ..., NULL }` in a C source."""
    text = strip_comments(read(rel))
    m = re.search(r"\b" + re.escape(array) + r"\s*\[[^\]]*\]\s*=\s*\{(.*?)\}\s*;", text, flags=re.S)
    if not m:
        raise GenError(f"{rel}: no array {array}")
    items = [x.strip() for x in m.group(1).split(",") if x.strip()]
    if items and items[-1] == "NULL":
        items.pop()
    values = []
    for item in items:
        if not re.fullmatch(r'"[A-Za-z0-9_-]*"', item):
            raise GenError(f"{rel}: {array} holds {item}, not a plain string literal")
        values.append(item[1:-1])
    if not values:
        raise GenError(f"{rel}: {array} is empty")
    return values


def openapi_enum(text, schema, prop):
    """The enum of components/schemas/<schema>/properties/<prop> in docs/openapi.yaml.

    A reader for this one shape, not YAML at large: the schema is a key indented 4 spaces,
    the property one key deeper, and its enum either inline (`enum: [a, b]`) or a block list.
    """
    lines = text.split("\n")

    def indent(line):
        return len(line) - len(line.lstrip(" "))

    def block(seq, start, depth):
        """The lines of seq after seq[start] indented deeper than depth (blank ones kept)."""
        out = []
        for line in seq[start + 1:]:
            if line.strip() and indent(line) <= depth:
                break
            out.append(line)
        return out

    try:
        schemas = block(lines, lines.index("  schemas:"), 2)   # components/schemas
        body = block(schemas, schemas.index(f"    {schema}:"), 4)
    except ValueError:
        raise GenError(f"docs/openapi.yaml: no schema {schema}") from None
    try:
        p = next(i for i, line in enumerate(body) if line.startswith(f"        {prop}:"))
    except StopIteration:
        raise GenError(f"docs/openapi.yaml: {schema} has no property {prop}") from None
    values = None
    for i, line in enumerate([body[p]] + block(body, p, 8)):
        m = re.search(r"\benum:\s*(.*)$", line)
        if not m:
            continue
        inline = re.match(r"\[([^\]]*)\]", m.group(1).strip())
        if inline:
            values = [v.strip().strip("'\"") for v in inline.group(1).split(",")]
        else:
            items = block(body, p, 8)[i:]        # the lines after `enum:`
            values = []
            for item in items:
                if not item.lstrip().startswith("- "):
                    break
                values.append(item.strip()[2:].strip().strip("'\""))
        break
    if values is None:
        raise GenError(f"docs/openapi.yaml: {schema}.{prop} has no enum")
    if not values or not all(re.fullmatch(r"[a-z][a-z0-9_]*", v) for v in values):
        raise GenError(f"docs/openapi.yaml: {schema}.{prop} enum does not read as codes: {values}")
    return values


def generate():
    limits = {}
    for rel, names in LIMITS:
        defines = header_defines(rel)
        for name in names:
            limits[name] = evaluate(rel, name, defines)
    lists = {js: string_array(rel, array) for js, rel, array in LISTS}
    openapi = read("docs/openapi.yaml")
    codes = {js: {v.upper(): v for v in openapi_enum(openapi, schema, prop)} for js, schema, prop in CODES}

    def export(name, value, doc):
        if isinstance(value, list):   # short strings, wrapped
            rows, row = [], []
            for v in value:
                if row and len("  " + ", ".join(row + [json.dumps(v)]) + ",") > 100:
                    rows.append(row)
                    row = []
                row.append(json.dumps(v))
            rows.append(row)
            text = "[\n" + "".join("  " + ", ".join(r) + ",\n" for r in rows) + "]"
        else:
            text = "{\n" + "".join(f"  {k}: {json.dumps(v)},\n" for k, v in value.items()) + "}"
        return f"// {doc}\nexport const {name} = Object.freeze({text});\n"

    parts = [
        "// GENERATED by tools/webconst.py — do not edit: change the value where the server defines\n"
        "// it, and the build rewrites this file. From: " + ", ".join(INPUTS) + ".\n",
        export("LIMITS", limits, "Limits the server enforces and the UI checks first, by their C names."),
    ]
    for js, rel, array in LISTS:
        parts.append(export(js, lists[js], f"{rel}: {array}."))
    for js, schema, prop in CODES:
        parts.append(export(js, codes[js], f"docs/openapi.yaml: {schema}.{prop}."))
    return "\n".join(parts)


def main(argv):
    if len(argv) != 2:
        print("usage: webconst.py OUT.js", file=sys.stderr)
        return 2
    try:
        text = generate()
    except GenError as e:
        print(f"webconst: {e}", file=sys.stderr)
        return 1
    out = Path(argv[1])
    tmp = out.with_name(out.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, out)   # never a half-written module
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
