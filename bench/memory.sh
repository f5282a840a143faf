#!/usr/bin/env bash
# Benchmark "memory held": what the server keeps after large uploads. Ten check-only uploads
# of a ROWS-row CSV (each parses the file, checks every row and answers the report, then
# frees it all); the server's resident memory after the first and after the tenth. Freed
# memory that the process keeps (malloc's per-thread arenas hold on to what big parses
# freed) shows as growth from one to ten; the target is at most 1.5 × after ten what it
# was after one.
#
# Appends a dated section to bench/RESULTS.md. Environment:
#   BENCH_ROWS      rows of the file (default 100000)
#   BENCH_UPLOADS   uploads (default 10)
#   OPENSEAT_BIN    binary to measure (default ./openseat)
set -euo pipefail

cd "$(dirname "$0")/.."
ROOT=$PWD
BIN=${OPENSEAT_BIN:-./openseat}
DURATION=1   # unused here; check_tools wants it
ROWS=${BENCH_ROWS:-100000}
UPLOADS=${BENCH_UPLOADS:-10}
RESULTS=$ROOT/bench/RESULTS.md
TARGET_GROWTH=1.5

. bench/lib.sh
check_tools
command -v sqlite3 >/dev/null || die "sqlite3 is not installed (Debian package sqlite3)"
[[ $ROWS =~ ^[1-9][0-9]*$ && $UPLOADS =~ ^[1-9][0-9]*$ ]] || die "BENCH_ROWS and BENCH_UPLOADS must be whole numbers"

"$BIN" demo "${OS_FLAGS[@]}" >"$WORK/demo.out" 2>"$WORK/demo.log" || { cat "$WORK/demo.log" >&2; die "openseat demo failed"; }
DB=$WORK/data/openseat.db
sqlite3 "$DB" "UPDATE pools SET purchased = purchased + $ROWS"
LIC=$(sqlite3 "$DB" "SELECT license_number FROM agreements WHERE customer_email = 'camille@contoso.example' LIMIT 1")
CSV=$WORK/add.csv
bulk_add_csv "$ROWS" "$CSV"

start_openseat --max-upload $((256 * 1024 * 1024))
sign_in camille@contoso.example demo-password-1
CSRF=$(sed -n 's/.*"csrf_token":"\([^"]*\)".*/\1/p' "$WORK/signin.json")

# Resident memory in MB: VmRSS (all of it) and RssAnon (the heap: not the database pages
# SQLite maps in, which the kernel shares with its cache).
rss() { awk -v k="$1:" '$1 == k { printf "%.1f", $2 / 1024 }' "/proc/$OS_PID/status"; }
upload() {
    curl -sS -f -H "$COOKIE" -H "X-CSRF-Token: $CSRF" -H "Content-Type: text/csv" --data-binary "@$CSV" \
        -o "$WORK/check.json" "$OS_BASE/api/v1/agreements/$LIC/subscriptions/bulk?check_only=true" \
        || die "check-only upload failed: $(head -c 300 "$WORK/check.json" 2>/dev/null)"
    grep -q "\"rows\":$ROWS" "$WORK/check.json" || die "the check did not read $ROWS rows: $(head -c 300 "$WORK/check.json")"
}
# Every worker thread opens its database connection (and its malloc arena) on its first
# request: a few hundred concurrent small requests first, so that fixed cost per thread is in
# the baseline and the figures below are what the uploads leave.
for _ in $(seq 8); do
    pids=()
    for _ in $(seq 32); do
        curl -sS -f -H "$COOKIE" -o /dev/null "$OS_BASE/api/v1/agreements/$LIC/subscriptions" &
        pids+=($!)
    done
    wait "${pids[@]}"
done
RSS_START=$(rss VmRSS)
upload
sleep 1
RSS_ONE=$(rss VmRSS)
ANON_ONE=$(rss RssAnon)
for _ in $(seq 2 "$UPLOADS"); do upload; done
sleep 1
RSS_TEN=$(rss VmRSS)
ANON_TEN=$(rss RssAnon)
GROWTH=$(awk -v a="$RSS_ONE" -v b="$RSS_TEN" 'BEGIN { printf "%.2f", b / a }')
if at_most "$GROWTH" "$TARGET_GROWTH"; then RESULT=PASS; else RESULT=FAIL; fi

SECTION=$(cat <<EOS

## $(date -u '+%Y-%m-%d %H:%M UTC') — memory held after uploads ($UPLOADS × $(printf "%'d" "$ROWS") rows, check only)

| after | VmRSS (MB) | RssAnon (MB) |
|---|---:|---:|
| start (signed in, every thread warmed up) | $RSS_START | — |
| 1 upload | $RSS_ONE | $ANON_ONE |
| $UPLOADS uploads | $RSS_TEN | $ANON_TEN |

- Growth from 1 to $UPLOADS uploads: $GROWTH× (target ≤ $TARGET_GROWTH×): $RESULT.
- Command: \`make bench\` (bench/memory.sh, BENCH_ROWS=$ROWS, BENCH_UPLOADS=$UPLOADS); the uploads one after another with curl on 127.0.0.1, each on whichever of the server's threads takes it; memory read from /proc one second after the last.
- Machine: $(machine_line). openseat revision $(revision).
EOS
)
echo "$SECTION"
[ -f "$RESULTS" ] || echo "# Benchmark results" >"$RESULTS"
echo "$SECTION" >>"$RESULTS"
