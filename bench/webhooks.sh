#!/usr/bin/env bash
# Benchmark "webhooks": how fast one instance's webhook worker delivers events to a local
# receiver, and what an agreement's endpoint adds to a 100,000-row bulk add.
#
#   1. Delivery: BENCH_EVENTS events (subscription.added, the data of a real one) with a
#      pending delivery each are written into the database of a stopped server, which is
#      then started; the time from the start to the last one marked delivered (start-up
#      included, about 0.1 s) gives events per second — each signed, POSTed over
#      a kept-alive connection to a receiver on 127.0.0.1 that answers 204 at once, its try
#      logged and its state written.
#   2. Fan-out cost: the same bulk add (bench/lib.sh's file of BENCH_ROWS new subscribers)
#      on the same database copy, without and with one endpoint on the agreement (enabled,
#      every type), alternated twice, the faster of each kept. Target: ≤ 10 % more time.
#
# Appends a dated section to bench/RESULTS.md. Needs node (the receiver), curl, sqlite3.
# Environment: BENCH_EVENTS (default 5000), BENCH_ROWS (default 100000), OPENSEAT_BIN.
set -euo pipefail

cd "$(dirname "$0")/.."
ROOT=$PWD
BIN=${OPENSEAT_BIN:-./openseat}
DURATION=1   # unused here; check_tools wants it
EVENTS=${BENCH_EVENTS:-5000}
ROWS=${BENCH_ROWS:-100000}
RESULTS=$ROOT/bench/RESULTS.md
TARGET_EXTRA_PCT=10

. bench/lib.sh
check_tools
command -v sqlite3 >/dev/null || die "sqlite3 is not installed (Debian package sqlite3)"
command -v node >/dev/null || die "node is not installed"
[[ $EVENTS =~ ^[1-9][0-9]*$ && $ROWS =~ ^[1-9][0-9]*$ ]] || die "BENCH_EVENTS and BENCH_ROWS must be whole numbers"

now_ms() { date +%s%3N; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", (b - a) / 1000 }'; }

# ---- the receiver: answers 204 at once, counts -----------------------------------------------
RECV_PORT=$(free_port)
cat >"$WORK/receiver.mjs" <<'EOF'
import http from "node:http";
let n = 0;
http.createServer((req, res) => {
  req.resume();
  req.on("end", () => { n++; res.writeHead(204).end(); });
}).listen(Number(process.argv[2]), "127.0.0.1");
process.on("SIGTERM", () => { console.log(n); process.exit(0); });
EOF
node "$WORK/receiver.mjs" "$RECV_PORT" >"$WORK/receiver.out" 2>&1 &
EXTRA_PIDS="$!"
HOOK_URL="http://127.0.0.1:$RECV_PORT/hook"

OS_FLAGS+=(--webhooks-allow-private)
"$BIN" demo "${OS_FLAGS[@]}" >"$WORK/demo.out" 2>"$WORK/demo.log" || { cat "$WORK/demo.log" >&2; die "openseat demo failed"; }
DB=$WORK/data/openseat.db
sqlite3 "$DB" "UPDATE pools SET purchased = purchased + $ROWS"
LIC=$(sqlite3 "$DB" "SELECT license_number FROM agreements WHERE customer_email = 'camille@contoso.example' LIMIT 1")
cp "$DB" "$WORK/before.db"

csrf() { sed -n 's/.*"csrf_token":"\([^"]*\)".*/\1/p' "$WORK/signin.json"; }
stop_server() { kill "$OS_PID"; wait "$OS_PID" 2>/dev/null || true; OS_PID=""; }
add_endpoint() {
    curl -sS -f -H "$COOKIE" -H "X-CSRF-Token: $(csrf)" -H "Content-Type: application/json" \
        --data "{\"url\":\"$HOOK_URL\"}" -o "$WORK/hook.json" "$OS_BASE/api/v1/agreements/$LIC/webhooks" \
        || die "cannot register the endpoint"
}

# ---- 1. delivery throughput ------------------------------------------------------------------
start_openseat
sign_in camille@contoso.example demo-password-1
add_endpoint
HOOK_ID=$(sed -n 's/^{"id":\([0-9]*\),.*/\1/p' "$WORK/hook.json")
curl -sS -f -H "$COOKIE" -H "X-CSRF-Token: $(csrf)" -H "Content-Type: application/json" \
    --data '{"name":"Grace Hopper","sign_in_email":"grace.bench@contoso.example","level":"enterprise","country":"FR","language":"en","send_email":false}' \
    -o /dev/null "$OS_BASE/api/v1/agreements/$LIC/subscriptions" || die "cannot add a subscriber"
for _ in $(seq 100); do
    [ "$(sqlite3 "$DB" "SELECT COUNT(*) FROM webhook_deliveries WHERE status = 'delivered'")" = 1 ] && break
    sleep 0.1
done
stop_server
sqlite3 "$DB" <<SQL
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $EVENTS)
INSERT INTO events (agreement_id, type, at, data)
SELECT e.agreement_id, e.type, e.at, e.data FROM n, (SELECT * FROM events WHERE type = 'subscription.added' LIMIT 1) e;
INSERT INTO webhook_deliveries (endpoint_id, event_id, type, next_attempt_at, created_at)
SELECT $HOOK_ID, id, type, 0, at FROM events WHERE id > (SELECT MIN(id) FROM events WHERE type = 'subscription.added')
  AND type = 'subscription.added';
SQL
PENDING=$(sqlite3 "$DB" "SELECT COUNT(*) FROM webhook_deliveries WHERE status = 'pending'")
[ "$PENDING" -ge "$EVENTS" ] || die "only $PENDING deliveries pending"
# From before the start: the worker starts before the server listens.
T0=$(now_ms)
start_openseat --mail-poll-ms 100
for _ in $(seq 6000); do
    [ "$(sqlite3 "$DB" "SELECT COUNT(*) FROM webhook_deliveries WHERE status = 'pending'")" = 0 ] && break
    sleep 0.05
done
DELIVER_S=$(secs "$T0" "$(now_ms)")
LEFT=$(sqlite3 "$DB" "SELECT COUNT(*) FROM webhook_deliveries WHERE status <> 'delivered'")
[ "$LEFT" = 0 ] || die "$LEFT deliveries not delivered"
EPS=$(awk -v n="$PENDING" -v s="$DELIVER_S" 'BEGIN { printf "%.0f", n / s }')
stop_server

# ---- 2. an endpoint's cost to a bulk add ---------------------------------------------------------
CSV=$WORK/add.csv
bulk_add_csv "$ROWS" "$CSV"
bulk_add() {   # with-endpoint(0|1) -> seconds
    cp "$WORK/before.db" "$DB"
    rm -f "$DB-wal" "$DB-shm"
    start_openseat --max-upload $((256 * 1024 * 1024))
    sign_in camille@contoso.example demo-password-1
    [ "$1" = 1 ] && add_endpoint
    local t0
    t0=$(now_ms)
    curl -sS -f -H "$COOKIE" -H "X-CSRF-Token: $(csrf)" -H "Content-Type: text/csv" --data-binary "@$CSV" \
        -o "$WORK/add.json" "$OS_BASE/api/v1/agreements/$LIC/subscriptions/bulk?send_email=false" \
        || die "bulk add failed: $(cat "$WORK/add.json" 2>/dev/null)"
    secs "$t0" "$(now_ms)"
    grep -q "\"added\":$ROWS" "$WORK/add.json" || die "bulk add did not add $ROWS rows"
    [ "$1" = 0 ] || [ "$(sqlite3 "$DB" "SELECT COUNT(*) FROM webhook_deliveries")" -ge 1 ] || true
    stop_server
}
A1=$(bulk_add 0); B1=$(bulk_add 1); A2=$(bulk_add 0); B2=$(bulk_add 1)
DELIVERIES=$(sqlite3 "$DB" "SELECT COUNT(*) FROM webhook_deliveries")
A=$(awk -v a="$A1" -v b="$A2" 'BEGIN { print (a < b ? a : b) }')
B=$(awk -v a="$B1" -v b="$B2" 'BEGIN { print (a < b ? a : b) }')
EXTRA=$(awk -v a="$A" -v b="$B" 'BEGIN { printf "%.1f", 100 * (b - a) / a }')

{
    echo
    echo "## $(date -u '+%Y-%m-%d %H:%M') UTC — webhooks ($EVENTS events; bulk add of $ROWS rows)"
    echo
    echo "$(machine_line); revision $(revision); load average before: $(load_avg)."
    echo "\`bash bench/webhooks.sh\` (BENCH_EVENTS=$EVENTS BENCH_ROWS=$ROWS); SQLite; one instance; every event to one endpoint, so one of the worker's threads sends them all."
    echo
    echo "| measure | value |"
    echo "|---|---:|"
    echo "| events delivered (signed POST to 127.0.0.1, answered 204, try logged) | $PENDING in $DELIVER_S s: **$EPS events/s** |"
    echo "| bulk add, no endpoint (best of 2) | $A s ($A1, $A2) |"
    echo "| bulk add, one endpoint on the agreement (best of 2) | $B s ($B1, $B2); $DELIVERIES deliveries made |"
    echo "| added by the endpoint | $EXTRA % (target ≤ $TARGET_EXTRA_PCT %: $(verdict "$EXTRA <= $TARGET_EXTRA_PCT")) |"
} >>"$RESULTS"
tail -n 12 "$RESULTS"
