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
WARMUP=2
THREADS=2
CONNECTIONS=64
RESULTS=$ROOT/bench/RESULTS.md
# Targets, stated once: openseat should deliver at least this share of nginx's throughput…
TARGET_RATIO_PCT=40
# …and keep the 99th percentile latency at or below this many milliseconds.
TARGET_P99_MS=10

die() { echo "bench: $*" >&2; exit 1; }

[[ $DURATION =~ ^[1-9][0-9]*$ ]] || die "BENCH_SECONDS must be a whole number of seconds (got \"$DURATION\")"
[ -x "$BIN" ] || die "$BIN not found; build it first"
command -v wrk >/dev/null || die "wrk is not installed (Debian package wrk)"
command -v curl >/dev/null || die "curl is not installed"
# Debian puts nginx in /usr/sbin, which is not on an ordinary user's PATH.
NGINX=$(command -v nginx || true)
[ -n "$NGINX" ] || { [ -x /usr/sbin/nginx ] && NGINX=/usr/sbin/nginx; } || die "nginx is not installed (Debian package nginx-light)"

WORK=$(mktemp -d "${TMPDIR:-/tmp}/openseat-bench.XXXXXX")
OS_PID=""
NGINX_PID=""

cleanup() {
    local rc=$?
    # SIGTERM: both servers shut down gracefully and promptly once wrk has finished.
    local pid
    for pid in $OS_PID $NGINX_PID; do kill "$pid" 2>/dev/null || true; done
    for pid in $OS_PID $NGINX_PID; do wait "$pid" 2>/dev/null || true; done
    if [ "$rc" -ne 0 ]; then
        # The logs are about to be deleted with the temp dir: show why it failed.
        for f in "$WORK/openseat.log" "$WORK/nginx/error.log"; do
            [ -s "$f" ] && { echo "--- last lines of $f" >&2; tail -n 20 "$f" >&2; }
        done
    fi
    rm -rf "$WORK"
}
trap cleanup EXIT

# A port nobody listens on right now. Whoever binds it may still lose a race to another
# process; start_nginx retries on another port when that happens.
free_port() {
    local p
    for _ in $(seq 50); do
        p=$((20000 + RANDOM % 40000))
        if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then echo "$p"; return 0; fi
    done
    die "no free TCP port found on 127.0.0.1"
}

# ---- openseat ------------------------------------------------------------------------------
# Cheap password hashing only makes the one sign-in below fast; it plays no part in the
# measured GET, which never hashes a password.
OS_FLAGS=(--data "$WORK/data" --argon2-ops 1 --argon2-mem-kib 8)
"$BIN" demo "${OS_FLAGS[@]}" >"$WORK/demo.out" 2>"$WORK/demo.log" || { cat "$WORK/demo.log" >&2; die "openseat demo failed"; }

# Port 0: the server picks a free port itself and logs it, so there is no race. The log
# level is pinned to info because the per-request access-log line is part of the cost
# being measured; the log goes to a file (on the same disk as the temp dir).
"$BIN" serve "${OS_FLAGS[@]}" --bind 127.0.0.1 --port 0 --log-level info 2>"$WORK/openseat.log" &
OS_PID=$!
OS_PORT=""
for _ in $(seq 100); do
    OS_PORT=$(sed -n 's/.*"msg":"listening".*"port":"\([0-9]*\)".*/\1/p' "$WORK/openseat.log")
    [ -n "$OS_PORT" ] && break
    kill -0 "$OS_PID" 2>/dev/null || die "openseat exited during start-up"
    sleep 0.1
done
[ -n "$OS_PORT" ] || die "openseat did not report its port within 10 s"
OS_URL="http://127.0.0.1:$OS_PORT/api/v1/session"

# Sign in the way a browser does: fetch the anonymous CSRF token (and its cookie), then
# post the credentials echoing the token.
JAR=$WORK/cookies.txt
curl -sS -f -c "$JAR" -b "$JAR" -o "$WORK/anon.json" "$OS_URL"
CSRF=$(sed -n 's/.*"csrf_token":"\([^"]*\)".*/\1/p' "$WORK/anon.json")
[ -n "$CSRF" ] || die "no csrf_token in the anonymous session answer: $(cat "$WORK/anon.json")"
curl -sS -f -c "$JAR" -b "$JAR" -o "$WORK/signin.json" \
    -H "X-CSRF-Token: $CSRF" -H 'Content-Type: application/json' \
    --data '{"email":"camille@contoso.example","password":"demo-password-1"}' "$OS_URL" \
    || die "sign-in failed"
# The jar marks HttpOnly cookies with a "#HttpOnly_" prefix on the domain column.
SESSION=$(awk -F'\t' '$6 == "os_session" { print $7 }' "$JAR")
[ -n "$SESSION" ] || die "sign-in set no os_session cookie"
COOKIE="Cookie: os_session=$SESSION"

# The exact bytes openseat answers, which nginx will serve unchanged. The answer holds
# the session's CSRF token, so it is the same for every request of this session.
mkdir -p "$WORK/www"
curl -sS -f -H "$COOKIE" -o "$WORK/www/session.json" "$OS_URL"
grep -q '"authenticated":true' "$WORK/www/session.json" \
    || die "GET /api/v1/session with the cookie is not signed in: $(cat "$WORK/www/session.json")"
BODY_BYTES=$(wc -c <"$WORK/www/session.json")

# ---- nginx ---------------------------------------------------------------------------------
# Started as root, nginx workers drop to "nobody", who must be able to read the file.
chmod 755 "$WORK" "$WORK/www"
chmod 644 "$WORK/www/session.json"
mkdir -p "$WORK/nginx/tmp"

write_nginx_conf() {
    # Everything nginx writes lives in the temp dir, so it runs without root; "daemon off"
    # keeps it a child of this script, stopped by the EXIT trap. keepalive_requests is
    # raised because openseat never closes a keep-alive connection on its own; nginx's
    # default (1000) would make wrk reconnect and understate nginx. reuseport spreads the
    # connections evenly over both workers, for the same reason.
    cat >"$WORK/nginx/nginx.conf" <<EOF
daemon off;
worker_processes 2;
pid $WORK/nginx/nginx.pid;
error_log $WORK/nginx/error.log warn;
events { worker_connections 1024; }
http {
    access_log off;
    client_body_temp_path $WORK/nginx/tmp/body;
    proxy_temp_path $WORK/nginx/tmp/proxy;
    fastcgi_temp_path $WORK/nginx/tmp/fastcgi;
    uwsgi_temp_path $WORK/nginx/tmp/uwsgi;
    scgi_temp_path $WORK/nginx/tmp/scgi;
    types { }
    default_type application/json;
    keepalive_timeout 65s;
    keepalive_requests 1000000;
    server {
        listen 127.0.0.1:$1 reuseport;
        location = /api/v1/session {
            alias $WORK/www/session.json;
        }
    }
}
EOF
}

start_nginx() {
    local port
    for _ in 1 2 3 4 5; do
        port=$(free_port)
        write_nginx_conf "$port"
        # -e: the error log before the config is read, which by default is a root-only path.
        "$NGINX" -p "$WORK/nginx" -e "$WORK/nginx/error.log" -c "$WORK/nginx/nginx.conf" &
        NGINX_PID=$!
        for _ in $(seq 50); do
            if curl -s -f -o "$WORK/nginx.check" "http://127.0.0.1:$port/api/v1/session" 2>/dev/null &&
                cmp -s "$WORK/nginx.check" "$WORK/www/session.json"; then
                NGINX_PORT=$port
                return 0
            fi
            kill -0 "$NGINX_PID" 2>/dev/null || break   # lost the port: try another
            sleep 0.1
        done
        kill "$NGINX_PID" 2>/dev/null || true
        wait "$NGINX_PID" 2>/dev/null || true
        NGINX_PID=""
    done
    die "nginx did not start (see its error log above)"
}
NGINX_PORT=""
start_nginx
NGINX_URL="http://127.0.0.1:$NGINX_PORT/api/v1/session"

# ---- measure -------------------------------------------------------------------------------
# wrk prints latencies as e.g. 812.00us, 1.23ms, 1.05s, 2.00m; everything becomes ms.
to_ms() {
    awk -v v="$1" 'BEGIN {
        n = v + 0; u = v; sub(/^[0-9.]+/, "", u)
        if (u == "us") n /= 1000; else if (u == "s") n *= 1000; else if (u == "m") n *= 60000
        else if (u != "ms") { print "bad unit " v > "/dev/stderr"; exit 1 }
        printf "%.3f", n }'
}

run_wrk() {   # name url seconds [header]
    local name=$1 url=$2 secs=$3 out=$WORK/wrk-$1.txt
    local args=(-t"$THREADS" -c"$CONNECTIONS" -d"${secs}s" --latency)
    [ $# -ge 4 ] && args+=(-H "$4")
    wrk "${args[@]}" "$url" >"$out"
    # A benchmark of error answers, refused or reset connections measures the wrong thing.
    if grep -q 'Non-2xx or 3xx responses' "$out"; then cat "$out" >&2; die "$name: some answers were not 2xx"; fi
    if grep -q 'Socket errors' "$out"; then cat "$out" >&2; die "$name: socket errors during the run"; fi
    # Let the server see every connection of this run close before the next run opens 64
    # more: openseat allows 64 connections per client address.
    sleep 1
}

parse() {   # name -> "req/s p50ms p99ms"
    local out=$WORK/wrk-$1.txt rps p50 p99
    rps=$(awk '/^Requests\/sec:/ { print $2 }' "$out")
    p50=$(awk '$1 == "50%" { print $2 }' "$out")
    p99=$(awk '$1 == "99%" { print $2 }' "$out")
    if [ -z "$rps" ] || [ -z "$p50" ] || [ -z "$p99" ]; then cat "$out" >&2; die "cannot parse wrk output for $1"; fi
    echo "$rps $(to_ms "$p50") $(to_ms "$p99")"
}

LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo unknown)
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
fmt_ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }

# Other work on the machine (a test suite, a build) skews both servers, the tail most.
LOAD_AFTER=$(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo unknown)
CPU_MODEL=$(awk -F': *' '/^model name/ { print $2; exit }' /proc/cpuinfo 2>/dev/null || true)
[ -n "$CPU_MODEL" ] || CPU_MODEL=$(uname -m)
NPROC=$(nproc)
STAMP=$(date -u '+%Y-%m-%d %H:%M UTC')
REV=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
if [ "$REV" != unknown ] && ! git diff --quiet HEAD -- src 2>/dev/null; then REV="$REV + uncommitted changes in src/"; fi
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
- Machine: $NPROC CPUs, $CPU_MODEL; $(uname -sr). wrk, both servers and the kernel's loopback share these CPUs. Load average (1/5/15 min) before: $LOAD_BEFORE; after: $LOAD_AFTER.
- openseat: revision $REV, ${OPENSEAT_THREADS:-8} worker threads, SQLite in a temp dir, log level info to a file ($LOG_LINES access-log lines, $LOG_BYTES bytes in the measured run — writing them is part of the measured cost).
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
