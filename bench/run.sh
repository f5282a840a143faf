#!/usr/bin/env bash
# Benchmark "authenticated JSON GET": openseat's GET /api/v1/session for a signed-in user,
# against nginx serving the very same response bytes from a file. nginx is the yardstick
# for "what this machine can do for one small keep-alive HTTP response", so the ratio
# says how much the server's own work (routing, session lookup in SQLite, JSON, logging)
# costs, largely independently of how fast the machine is.
#
# Appends a dated section to bench/RESULTS.md. Environment:
#   BENCH_SECONDS   measured duration per server (default 10)
#   OPENSEAT_BIN    binary to measure (default ./openseat)
#   OPENSEAT_THREADS is passed through to the server like any OPENSEAT_* setting.
set -euo pipefail

cd "$(dirname "$0")/.."
ROOT=$PWD
BIN=${OPENSEAT_BIN:-./openseat}
DURATION=${BENCH_SECONDS:-10}
RESULTS=$ROOT/bench/RESULTS.md

. bench/lib.sh
check_tools

"$BIN" demo "${OS_FLAGS[@]}" >"$WORK/demo.out" 2>"$WORK/demo.log" || { cat "$WORK/demo.log" >&2; die "openseat demo failed"; }
start_openseat
OS_URL="$OS_BASE/api/v1/session"
sign_in camille@contoso.example demo-password-1

# The exact bytes openseat answers, which nginx will serve unchanged. The answer holds
# the session's CSRF token, so it is the same for every request of this session.
capture /api/v1/session session.json
grep -q '"authenticated":true' "$WORK/www/session.json" \
    || die "GET /api/v1/session with the cookie is not signed in: $(cat "$WORK/www/session.json")"
BODY_BYTES=$(wc -c <"$WORK/www/session.json")
start_nginx
NGINX_URL="$NGINX_BASE/session.json"

# ---- measure -------------------------------------------------------------------------------
LOAD_BEFORE=$(load_avg)
echo "bench: load average before the run: $LOAD_BEFORE (with $(nproc) CPUs; other work skews the results)"
echo "bench: warming up both servers for ${WARMUP}s each"
run_wrk warm-openseat "$OS_URL" "$WARMUP" "$COOKIE"
run_wrk warm-nginx "$NGINX_URL" "$WARMUP"
LOG_LINES_BEFORE=$(wc -l <"$WORK/openseat.log")
LOG_BYTES_BEFORE=$(wc -c <"$WORK/openseat.log")

echo "bench: measuring openseat for ${DURATION}s"
run_wrk openseat "$OS_URL" "$DURATION" "$COOKIE"
LOG_LINES=$(($(wc -l <"$WORK/openseat.log") - LOG_LINES_BEFORE))
LOG_BYTES=$(($(wc -c <"$WORK/openseat.log") - LOG_BYTES_BEFORE))
echo "bench: measuring nginx for ${DURATION}s"
run_wrk nginx "$NGINX_URL" "$DURATION"

# Still the same signed-in answer after the run: the session did not end mid-way (which
# would have turned the measurement into anonymous GETs, also 200).
curl -sS -f -H "$COOKIE" -o "$WORK/after.json" "$OS_URL"
cmp -s "$WORK/after.json" "$WORK/www/session.json" || die "openseat's answer changed during the run"

read -r OS_RPS OS_P50 OS_P99 <<<"$(parse openseat)"
read -r NG_RPS NG_P50 NG_P99 <<<"$(parse nginx)"

# ---- report --------------------------------------------------------------------------------
verdicts=$(awk -v o="$OS_RPS" -v n="$NG_RPS" -v p99="$OS_P99" -v tr="$TARGET_RATIO_PCT" -v tp="$TARGET_P99_MS" 'BEGIN {
    ratio = 100 * o / n
    printf "%.1f %s %s", ratio, (ratio >= tr ? "PASS" : "FAIL"), (p99 <= tp ? "PASS" : "FAIL") }')
read -r RATIO_PCT RATIO_VERDICT P99_VERDICT <<<"$verdicts"

# Other work on the machine (a test suite, a build) skews both servers, the tail most.
LOAD_AFTER=$(load_avg)
STAMP=$(date -u '+%Y-%m-%d %H:%M UTC')
REV=$(revision)
WRK_CMD="wrk -t$THREADS -c$CONNECTIONS -d${DURATION}s --latency"

TABLE=$(cat <<EOF
| server | req/s | p50 (ms) | p99 (ms) |
|---|---:|---:|---:|
| openseat \`GET /api/v1/session\` (signed in) | $(printf '%.0f' "$OS_RPS") | $OS_P50 | $OS_P99 |
| nginx, same $BODY_BYTES bytes from a file | $(printf '%.0f' "$NG_RPS") | $NG_P50 | $NG_P99 |
| openseat / nginx | $(fmt_ratio "$OS_RPS" "$NG_RPS") | $(fmt_ratio "$OS_P50" "$NG_P50") | $(fmt_ratio "$OS_P99" "$NG_P99") |
EOF
)

SECTION=$(cat <<EOF

## $STAMP — authenticated JSON GET

$TABLE

| target | measured | result |
|---|---|---|
| throughput ≥ $TARGET_RATIO_PCT % of nginx | $RATIO_PCT % | $RATIO_VERDICT |
| p99 ≤ $TARGET_P99_MS ms | $OS_P99 ms | $P99_VERDICT |

- Command: \`make bench\` (BENCH_SECONDS=$DURATION); each server: \`$WRK_CMD\` after a ${WARMUP} s warm-up, one after the other, all on 127.0.0.1.
- Machine: $(machine_line). wrk, both servers and the kernel's loopback share these CPUs. Load average (1/5/15 min) before: $LOAD_BEFORE; after: $LOAD_AFTER.
- openseat: revision $REV, $(sed -n 's/.*"msg":"listening".*"threads":"\([0-9]*\)".*/\1/p' "$WORK/openseat.log") worker threads, SQLite in a temp dir, log level info to a file ($LOG_LINES access-log lines, $LOG_BYTES bytes in the measured run — writing them is part of the measured cost).
- nginx: $("$NGINX" -v 2>&1 | sed 's/^nginx version: //'), 2 workers, access_log off, keep-alive.
EOF
)

echo
echo "$TABLE"
echo
echo "throughput: $RATIO_PCT % of nginx (target ≥ $TARGET_RATIO_PCT %): $RATIO_VERDICT"
echo "p99: $OS_P99 ms (target ≤ $TARGET_P99_MS ms): $P99_VERDICT"

if [ ! -f "$RESULTS" ]; then
    cat >"$RESULTS" <<'EOF'
# Benchmark results

`make bench` (bench/run.sh) measures an authenticated JSON GET — `GET /api/v1/session` with a
signed-in session cookie — against nginx serving the same response bytes from a file on the
same machine. Each run appends a section below.
EOF
fi
echo "$SECTION" >>"$RESULTS"
echo
echo "bench: results appended to bench/RESULTS.md"
