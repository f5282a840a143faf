# bench/lib.sh — what the benchmarks share: temp dir and cleanup, ports, starting openseat
# and nginx, signing in, running wrk and reading its figures. Sourced by bench/*.sh after
# they set ROOT and BIN; not run on its own.
#
# nginx is the yardstick: it serves, from files, the very bytes openseat answered, so the
# ratio says what openseat's own work costs on this machine.

THREADS=2
CONNECTIONS=64
WARMUP=2
# Targets, stated once: openseat should deliver at least this share of nginx's throughput…
TARGET_RATIO_PCT=40
# …and keep the 99th percentile latency at or below this many milliseconds.
TARGET_P99_MS=10

die() { echo "bench: $*" >&2; exit 1; }

check_tools() {
    [[ $DURATION =~ ^[1-9][0-9]*$ ]] || die "BENCH_SECONDS must be a whole number of seconds (got \"$DURATION\")"
    [ -x "$BIN" ] || die "$BIN not found; build it first"
    command -v wrk >/dev/null || die "wrk is not installed (Debian package wrk)"
    command -v curl >/dev/null || die "curl is not installed"
    # Debian puts nginx in /usr/sbin, which is not on an ordinary user's PATH.
    NGINX=$(command -v nginx || true)
    [ -n "$NGINX" ] || { [ -x /usr/sbin/nginx ] && NGINX=/usr/sbin/nginx; } || die "nginx is not installed (Debian package nginx-light)"
}

WORK=$(mktemp -d "${TMPDIR:-/tmp}/openseat-bench.XXXXXX")
OS_PID=""
NGINX_PID=""
EXTRA_PIDS=""   # more processes a benchmark started (an SMTP sink), stopped with the servers

cleanup() {
    local rc=$?
    # SIGTERM: both servers shut down gracefully and promptly once wrk has finished.
    local pid
    for pid in $OS_PID $NGINX_PID $EXTRA_PIDS; do kill "$pid" 2>/dev/null || true; done
    for pid in $OS_PID $NGINX_PID $EXTRA_PIDS; do wait "$pid" 2>/dev/null || true; done
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

# Cheap password hashing only makes the one sign-in fast; it plays no part in the
# measured requests, which never hash a password.
OS_FLAGS=(--data "$WORK/data" --argon2-ops 1 --argon2-mem-kib 8)

# Port 0: the server picks a free port itself and logs it, so there is no race. The log
# level is pinned to info because the per-request access-log line is part of the cost
# being measured; the log goes to a file (on the same disk as the temp dir).
start_openseat() {   # [more serve options]
    : >"$WORK/openseat.log"   # there before it is first read, whenever the server opens it
    "$BIN" serve "${OS_FLAGS[@]}" --bind 127.0.0.1 --port 0 --log-level info "$@" 2>"$WORK/openseat.log" &
    OS_PID=$!
    OS_PORT=""
    for _ in $(seq 100); do
        OS_PORT=$(sed -n 's/.*"msg":"listening".*"port":"\([0-9]*\)".*/\1/p' "$WORK/openseat.log")
        [ -n "$OS_PORT" ] && break
        kill -0 "$OS_PID" 2>/dev/null || die "openseat exited during start-up"
        sleep 0.1
    done
    [ -n "$OS_PORT" ] || die "openseat did not report its port within 10 s"
    OS_BASE="http://127.0.0.1:$OS_PORT"
}

# Signs in the way a browser does (the anonymous CSRF token and its cookie, then the
# credentials echoing the token) and sets COOKIE to the session's Cookie header.
sign_in() {   # email password
    local jar=$WORK/cookies.txt csrf session
    curl -sS -f -c "$jar" -b "$jar" -o "$WORK/anon.json" "$OS_BASE/api/v1/session"
    csrf=$(sed -n 's/.*"csrf_token":"\([^"]*\)".*/\1/p' "$WORK/anon.json")
    [ -n "$csrf" ] || die "no csrf_token in the anonymous session answer: $(cat "$WORK/anon.json")"
    curl -sS -f -c "$jar" -b "$jar" -o "$WORK/signin.json" \
        -H "X-CSRF-Token: $csrf" -H 'Content-Type: application/json' \
        --data "{\"email\":\"$1\",\"password\":\"$2\"}" "$OS_BASE/api/v1/session" || die "sign-in failed"
    # The jar marks HttpOnly cookies with a "#HttpOnly_" prefix on the domain column.
    session=$(awk -F'\t' '$6 == "os_session" { print $7 }' "$jar")
    [ -n "$session" ] || die "sign-in set no os_session cookie"
    COOKIE="Cookie: os_session=$session"
}

# Captures openseat's answer to a path as the file nginx will serve at that same path.
capture() {   # path-with-query file-name
    mkdir -p "$WORK/www"
    curl -sS -f -H "$COOKIE" -o "$WORK/www/$2" "$OS_BASE$1" || die "GET $1 failed"
    NGINX_LOCATIONS+=("$1" "$2")
}
NGINX_LOCATIONS=()

write_nginx_conf() {   # port
    # Everything nginx writes lives in the temp dir, so it runs without root; "daemon off"
    # keeps it a child of this script, stopped by the EXIT trap. keepalive_requests is
    # raised because openseat never closes a keep-alive connection on its own; nginx's
    # default (1000) would make wrk reconnect and understate nginx. reuseport spreads the
    # connections evenly over both workers, for the same reason. Each captured answer is
    # served at the path (query string ignored) it came from, under /n/<file name>.
    local i locs=""
    for ((i = 0; i < ${#NGINX_LOCATIONS[@]}; i += 2)); do
        locs+="        location = /n/${NGINX_LOCATIONS[i + 1]} { alias $WORK/www/${NGINX_LOCATIONS[i + 1]}; }"$'\n'
    done
    cat >"$WORK/nginx/nginx.conf" <<CONF
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
$locs    }
}
CONF
}

start_nginx() {
    local port first=${NGINX_LOCATIONS[1]}
    # Started as root, nginx workers drop to "nobody", who must be able to read the files.
    chmod 755 "$WORK" "$WORK/www"
    chmod 644 "$WORK"/www/*
    mkdir -p "$WORK/nginx/tmp"
    for _ in 1 2 3 4 5; do
        port=$(free_port)
        write_nginx_conf "$port"
        # -e: the error log before the config is read, which by default is a root-only path.
        "$NGINX" -p "$WORK/nginx" -e "$WORK/nginx/error.log" -c "$WORK/nginx/nginx.conf" &
        NGINX_PID=$!
        for _ in $(seq 50); do
            if curl -s -f -o "$WORK/nginx.check" "http://127.0.0.1:$port/n/$first" 2>/dev/null &&
                cmp -s "$WORK/nginx.check" "$WORK/www/$first"; then
                NGINX_BASE="http://127.0.0.1:$port/n"
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

# CPU time (user + system, all threads) a process has used, in microseconds.
cpu_us() {   # pid
    awk -v t="$(getconf CLK_TCK)" '{ printf "%.0f", ($14 + $15) * 1000000 / t }' "/proc/$1/stat"
}

# Requests wrk completed in a run.
wrk_requests() { awk '/ requests in / { print $1 }' "$WORK/wrk-$1.txt"; }

# Lets the machine settle before measuring: a benchmark that starts right after a million
# rows were written measures the kernel writing them back and the database's checkpoint
# (one run saw 1,620 req/s, its rerun 13,200). Waits (at most 60 s) for the 1-minute load
# average to fall below the CPU count, then warms the server up with short runs until two
# in a row agree within 10 % (at most 10). Sets SETTLE_NOTE to what it took.
settle() {   # url header
    local waited=0 prev="" rps runs=0 load
    while [ "$waited" -lt 60 ]; do
        load=$(cut -d' ' -f1 /proc/loadavg)
        at_most "$load" "$(nproc)" && break
        sleep 5
        waited=$((waited + 5))
    done
    while [ "$runs" -lt 10 ]; do
        runs=$((runs + 1))
        run_wrk "settle-$runs" "$1" 3 "$2"
        read -r rps _ _ <<<"$(parse "settle-$runs")"
        if [ -n "$prev" ] && awk -v a="$prev" -v b="$rps" 'BEGIN { d = a - b; if (d < 0) d = -d; exit !(d <= 0.1 * (a > b ? a : b)) }'; then
            break
        fi
        prev=$rps
    done
    SETTLE_NOTE="waited ${waited} s for the load average (then $(cut -d' ' -f1-3 /proc/loadavg)), then $runs warm-up runs of 3 s until two in a row agreed within 10 % (last: $(printf '%.0f' "$prev") and $(printf '%.0f' "$rps") req/s)"
}

parse() {   # name -> "req/s p50ms p99ms"
    local out=$WORK/wrk-$1.txt rps p50 p99
    rps=$(awk '/^Requests\/sec:/ { print $2 }' "$out")
    p50=$(awk '$1 == "50%" { print $2 }' "$out")
    p99=$(awk '$1 == "99%" { print $2 }' "$out")
    if [ -z "$rps" ] || [ -z "$p50" ] || [ -z "$p99" ]; then cat "$out" >&2; die "cannot parse wrk output for $1"; fi
    echo "$rps $(to_ms "$p50") $(to_ms "$p99")"
}

fmt_ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
pct() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", 100 * a / b }'; }
verdict() { awk -v c="$1" 'BEGIN { print (c ? "PASS" : "FAIL") }'; }   # awk condition text
at_least() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a >= b) }'; }
at_most() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a <= b) }'; }

load_avg() { cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo unknown; }

machine_line() {
    local cpu
    cpu=$(awk -F': *' '/^model name/ { print $2; exit }' /proc/cpuinfo 2>/dev/null || true)
    [ -n "$cpu" ] || cpu=$(uname -m)
    echo "$(nproc) CPUs, $cpu; $(uname -sr)"
}

revision() {
    local rev
    rev=$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)
    if [ "$rev" != unknown ] && ! git -C "$ROOT" diff --quiet HEAD -- src 2>/dev/null; then rev="$rev + uncommitted changes in src/"; fi
    echo "$rev"
}

# A bulk-add file of n new subscribers (the template's columns, one department in ten). A
# different prefix gives a file of other people (other names and e-mail addresses), e.g. for
# a second agreement.
bulk_add_csv() {   # rows file [prefix]
    awk -v n="$1" -v p="${3:-person}" 'BEGIN {
        P = toupper(substr(p, 1, 1)) substr(p, 2)
        print "Name,Sign-in Email,Subscription Level,Country,Language,Reference,Downloads"
        for (i = 1; i <= n; i++) printf "%s %d Dupont,%s.%d@contoso.example,enterprise,FR,fr,Dept %d,Yes\n", P, i, p, i, i % 10 }' >"$2"
}
