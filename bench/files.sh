#!/usr/bin/env bash
# Benchmark "files": a 100,000-row bulk add (validate + insert + audit + e-mails queued), and
# the CSV and XLSX exports of 100,000 rows, side by side with what SQLite's own shell does
# with the same data: `.import` of the same CSV into a plain table, and `-csv` of the same
# query. The yardsticks say how much the portal's own work (checks, search terms, audit,
# e-mails, formatting) costs over moving the bytes.
#
# The bulk add has a second, honest yardstick: the very rows openseat stored for the file
# (the subscriptions with their search terms and term counts, the audit entries, the
# outbox rows) inserted by the SQLite shell into the same schema, with the same indexes,
# triggers and settings (WAL, foreign keys, the bulk transaction's 64 MiB page cache), in
# one transaction, on a copy of the database as it was before the upload. What is left
# between the two is openseat's own work: reading and checking the file, the terms, the
# HTTP request.
#
# Appends a dated section to bench/RESULTS.md. Environment:
#   BENCH_ROWS      rows (default 100000)
#   OPENSEAT_BIN    binary to measure (default ./openseat)
set -euo pipefail

cd "$(dirname "$0")/.."
ROOT=$PWD
BIN=${OPENSEAT_BIN:-./openseat}
DURATION=1   # unused here; check_tools wants it
ROWS=${BENCH_ROWS:-100000}
RESULTS=$ROOT/bench/RESULTS.md
TARGET_ADD=3      # bulk add at most this many times .import
TARGET_ADD_SAME=2 # bulk add at most this many times the same rows inserted by the shell
TARGET_SMTP=1000  # e-mails per second through SMTP to a local sink, at least
TARGET_CSV=2      # CSV export at most this many times sqlite3 -csv
TARGET_XLSX_S=1.5 # XLSX export seconds
TARGET_XLSX_MB=32 # XLSX export extra peak memory

. bench/lib.sh
check_tools
command -v sqlite3 >/dev/null || die "sqlite3 is not installed (Debian package sqlite3)"
[[ $ROWS =~ ^[1-9][0-9]*$ ]] || die "BENCH_ROWS must be a whole number"

now_ms() { date +%s%3N; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", (b - a) / 1000 }'; }

# ---- data: the demo, with pools large enough, and a file of ROWS new subscribers ----------
"$BIN" demo "${OS_FLAGS[@]}" >"$WORK/demo.out" 2>"$WORK/demo.log" || { cat "$WORK/demo.log" >&2; die "openseat demo failed"; }
DB=$WORK/data/openseat.db
sqlite3 "$DB" "UPDATE pools SET purchased = purchased + $ROWS"
LIC=$(sqlite3 "$DB" "SELECT license_number FROM agreements WHERE customer_email = 'camille@contoso.example' LIMIT 1")
CSV=$WORK/add.csv
bulk_add_csv "$ROWS" "$CSV"
# The database as the upload finds it, for the same-rows yardstick (demo exited: no WAL).
cp "$DB" "$WORK/before.db"

# ---- yardsticks: the SQLite shell on the same data --------------------------------------------
T0=$(now_ms)
printf '.mode csv\n.import %s plain\n' "$CSV" | sqlite3 "$WORK/import.db"
IMPORT_S=$(secs "$T0" "$(now_ms)")

# ---- openseat --------------------------------------------------------------------------------
start_server() {
    start_openseat --max-upload $((256 * 1024 * 1024))
    sign_in camille@contoso.example demo-password-1
}
start_server
CSRF=$(sed -n 's/.*"csrf_token":"\([^"]*\)".*/\1/p' "$WORK/signin.json")

T0=$(now_ms)
curl -sS -f -H "$COOKIE" -H "X-CSRF-Token: $CSRF" -H "Content-Type: text/csv" --data-binary "@$CSV" \
    -o "$WORK/add.json" "$OS_BASE/api/v1/agreements/$LIC/subscriptions/bulk" || die "bulk add failed: $(cat "$WORK/add.json" 2>/dev/null)"
ADD_S=$(secs "$T0" "$(now_ms)")
grep -q "\"added\":$ROWS" "$WORK/add.json" || die "bulk add did not add $ROWS rows: $(head -c 300 "$WORK/add.json")"
QUEUED=$(sqlite3 "$DB" "SELECT COUNT(*) FROM outbox WHERE template = 'subscription_assigned'")
# The mail worker delivers the queued e-mails (to a Maildir here) before the exports are
# timed, so they do not share the CPUs with it; how long that takes is worth knowing too.
T0=$(now_ms)
for _ in $(seq 1200); do
    [ "$(sqlite3 "$DB" "SELECT COUNT(*) FROM outbox WHERE sent_at IS NULL")" = 0 ] && break
    sleep 0.5
done
DRAIN_S=$(secs "$T0" "$(now_ms)")

# Exports of the agreement's rows (ROWS and the demo's), default order, and the same query
# through the SQLite shell.
T0=$(now_ms)
curl -sS -f -H "$COOKIE" -o "$WORK/export.csv" "$OS_BASE/api/v1/agreements/$LIC/subscriptions/export?format=csv"
CSV_S=$(secs "$T0" "$(now_ms)")
EXPORTED=$(($(wc -l <"$WORK/export.csv") - 1))
[ "$EXPORTED" -ge "$ROWS" ] || die "the CSV export has $EXPORTED rows"
T0=$(now_ms)
sqlite3 -csv -header "$DB" "SELECT s.name, s.sign_in_email, s.notification_email, l.code, s.reference, s.downloads,
    s.country, s.language, s.assigned_at, s.expires_on, s.uuid FROM subscriptions s JOIN levels l ON l.id = s.level_id
    JOIN agreements a ON a.id = s.agreement_id WHERE a.license_number = '$LIC' ORDER BY s.name, s.id" >"$WORK/shell.csv"
SHELL_S=$(secs "$T0" "$(now_ms)")

# A fresh server for the XLSX export, so its peak memory is its own and not the upload's.
kill "$OS_PID"
wait "$OS_PID" 2>/dev/null || true
start_server
curl -sS -f -H "$COOKIE" -o /dev/null "$OS_BASE/api/v1/agreements/$LIC/subscriptions?limit=500"
# The server's own memory (RssAnon): not VmHWM, which also counts the database pages SQLite
# maps in (file-backed, shared with the kernel's cache). Sampled every 10 ms during the export.
anon() { awk '/^RssAnon/ { print $2 }' "/proc/$OS_PID/status"; }
ANON_BEFORE=$(anon)
(peak=0; while kill -0 "$OS_PID" 2>/dev/null && [ ! -e "$WORK/xlsx.done" ]; do
    v=$(anon); [ "${v:-0}" -gt "$peak" ] && peak=$v; echo "$peak" >"$WORK/xlsx.peak"; sleep 0.01; done) &
SAMPLER=$!
T0=$(now_ms)
curl -sS -f -H "$COOKIE" -o "$WORK/export.xlsx" "$OS_BASE/api/v1/agreements/$LIC/subscriptions/export?format=xlsx"
XLSX_S=$(secs "$T0" "$(now_ms)")
touch "$WORK/xlsx.done"
wait "$SAMPLER" 2>/dev/null || true
XLSX_MB=$(awk -v a="$ANON_BEFORE" -v b="$(cat "$WORK/xlsx.peak")" 'BEGIN { printf "%.1f", (b - a) / 1024 }')
[ "$(head -c 2 "$WORK/export.xlsx")" = PK ] || die "the XLSX export is not a zip"

# ---- the same rows, inserted by the SQLite shell ------------------------------------------------
kill "$OS_PID"
wait "$OS_PID" 2>/dev/null || true
OS_PID=""
read -r MAX_SUB MAX_AUDIT MAX_OUTBOX <<<"$(sqlite3 -separator ' ' "$WORK/before.db" \
    "SELECT (SELECT COALESCE(MAX(id), 0) FROM subscriptions), (SELECT COALESCE(MAX(id), 0) FROM audit_events),
            (SELECT COALESCE(MAX(id), 0) FROM outbox)")"
T0=$(now_ms)
sqlite3 "$WORK/before.db" <<SQL >/dev/null || die "inserting the same rows with the SQLite shell failed"
PRAGMA journal_mode = WAL;
PRAGMA synchronous = NORMAL;
PRAGMA foreign_keys = ON;
PRAGMA cache_size = -65536;
ATTACH '$DB' AS src;
BEGIN IMMEDIATE;
INSERT INTO main.subscriptions SELECT * FROM src.subscriptions WHERE id > $MAX_SUB ORDER BY id;
INSERT INTO main.sub_terms SELECT * FROM src.sub_terms WHERE sub_id > $MAX_SUB;
INSERT INTO main.sub_term_counts SELECT * FROM src.sub_term_counts WHERE true
    ON CONFLICT (agreement_id, term) DO UPDATE SET n = excluded.n;
INSERT INTO main.audit_events SELECT * FROM src.audit_events WHERE id > $MAX_AUDIT ORDER BY id;
INSERT INTO main.outbox SELECT * FROM src.outbox WHERE id > $MAX_OUTBOX ORDER BY id;
COMMIT;
SQL
SAME_S=$(secs "$T0" "$(now_ms)")
read -r SAME_SUBS SAME_TERMS SAME_AUDIT SAME_OUTBOX <<<"$(sqlite3 -separator ' ' "$WORK/before.db" \
    "SELECT (SELECT COUNT(*) FROM subscriptions WHERE id > $MAX_SUB), (SELECT COUNT(*) FROM sub_terms WHERE sub_id > $MAX_SUB),
            (SELECT COUNT(*) FROM audit_events WHERE id > $MAX_AUDIT), (SELECT COUNT(*) FROM outbox WHERE id > $MAX_OUTBOX)")"
[ "$SAME_SUBS" = "$ROWS" ] || die "the shell inserted $SAME_SUBS subscriptions, not $ROWS"

# ---- the same e-mails again, through SMTP to a local sink -------------------------------------
# The sink is bench/smtp-sink.c (a Maildir like the server's own; aiosmtpd, the API tests'
# sink, spends more CPU per message than openseat does and would measure itself). The
# upload's e-mails are made due again and one server delivers them through it, the worker's
# one connection reused from message to message.
command -v cc >/dev/null || die "no C compiler (cc) for bench/smtp-sink.c"
cc -O2 -pthread -o "$WORK/smtp-sink" bench/smtp-sink.c || die "bench/smtp-sink.c does not compile"
sqlite3 "$DB" "UPDATE outbox SET sent_at = NULL, attempts = 0, next_attempt_at = 0, claimed_by = NULL,
               claimed_until = NULL, last_error = NULL WHERE template = 'subscription_assigned'"
SMTP_PORT=$(free_port)
"$WORK/smtp-sink" "$SMTP_PORT" "$WORK/sink" >"$WORK/sink.log" 2>&1 &
EXTRA_PIDS+=" $!"
for _ in $(seq 100); do (exec 3<>"/dev/tcp/127.0.0.1/$SMTP_PORT") 2>/dev/null && break; sleep 0.1; done
T0=$(now_ms)
start_openseat --smtp-url "smtp://127.0.0.1:$SMTP_PORT" --smtp-tls none --mail-poll-ms 100
for _ in $(seq 6000); do
    [ "$(sqlite3 "$DB" "SELECT COUNT(*) FROM outbox WHERE sent_at IS NULL")" = 0 ] && break
    sleep 0.1
done
SMTP_S=$(secs "$T0" "$(now_ms)")
SMTP_GOT=$(find "$WORK/sink/new" -type f | wc -l)
[ "$SMTP_GOT" -ge "$QUEUED" ] || die "the sink received $SMTP_GOT e-mails, not $QUEUED (see $WORK/sink.log)"
SMTP_RATE=$(awk -v n="$QUEUED" -v s="$SMTP_S" 'BEGIN { printf "%.0f", n / s }')
MAILDIR_RATE=$(awk -v n="$QUEUED" -v s="$DRAIN_S" 'BEGIN { printf "%.0f", n / s }')
kill "$OS_PID"
wait "$OS_PID" 2>/dev/null || true
OS_PID=""

# ---- report --------------------------------------------------------------------------------
ADD_X=$(fmt_ratio "$ADD_S" "$IMPORT_S")
SAME_X=$(fmt_ratio "$ADD_S" "$SAME_S")
CSV_X=$(fmt_ratio "$CSV_S" "$SHELL_S")
v() { if at_most "$1" "$2"; then echo PASS; else echo FAIL; fi; }
SECTION=$(cat <<EOF

## $(date -u '+%Y-%m-%d %H:%M UTC') — files ($(printf "%'d" "$ROWS") rows)

| what | openseat (s) | yardstick (s) | ratio | target | result |
|---|---:|---:|---:|---|---|
| bulk add (CSV upload: checks, insert, search terms, audit, $QUEUED e-mails queued) | $ADD_S | \`sqlite3 .import\` $IMPORT_S | $ADD_X× | ≤ $TARGET_ADD× | $(v "$ADD_X" "$TARGET_ADD") |
| bulk add, against the same rows in the same schema | $ADD_S | \`sqlite3\` INSERT … SELECT of the $SAME_SUBS subscriptions, $SAME_TERMS search terms, their counts, $SAME_AUDIT audit entries and $SAME_OUTBOX e-mails, one transaction: $SAME_S | $SAME_X× | ≤ $TARGET_ADD_SAME× | $(v "$SAME_X" "$TARGET_ADD_SAME") |
| the $QUEUED assignment e-mails through SMTP to a local sink (bench/smtp-sink.c into a Maildir), e-mails per second | $SMTP_RATE /s ($SMTP_S s) | Maildir of its own: $MAILDIR_RATE /s | — | ≥ $TARGET_SMTP /s | $(if at_least "$SMTP_RATE" "$TARGET_SMTP"; then echo PASS; else echo FAIL; fi) |
| CSV export ($EXPORTED rows) | $CSV_S | \`sqlite3 -csv\` $SHELL_S | $CSV_X× | ≤ $TARGET_CSV× | $(v "$CSV_X" "$TARGET_CSV") |
| XLSX export ($EXPORTED rows), seconds | $XLSX_S | — | — | ≤ $TARGET_XLSX_S s | $(v "$XLSX_S" "$TARGET_XLSX_S") |
| XLSX export, extra peak memory (RssAnon, sampled every 10 ms) | $XLSX_MB MB | — | — | ≤ $TARGET_XLSX_MB MB | $(v "$XLSX_MB" "$TARGET_XLSX_MB") |

- The $QUEUED assignment e-mails were delivered to a Maildir by the worker in $DRAIN_S s after the upload, before the exports were timed. Then, with the server stopped, they were made due again and a new server delivered them through SMTP (\`--smtp-url smtp://127.0.0.1:PORT --smtp-tls none --mail-poll-ms 100\`) in $SMTP_S s, counted from its start to the last one marked sent; the sink's Maildir then held $SMTP_GOT messages.
- Command: \`make bench\` (bench/files.sh, BENCH_ROWS=$ROWS); one request each, timed with curl on 127.0.0.1; SQLite shell $(sqlite3 --version | cut -d' ' -f1).
- Machine: $(machine_line). openseat revision $(revision).
EOF
)
echo "$SECTION"
[ -f "$RESULTS" ] || echo "# Benchmark results" >"$RESULTS"
echo "$SECTION" >>"$RESULTS"
