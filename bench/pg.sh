#!/usr/bin/env bash
# Benchmark "PostgreSQL and several instances", side by side in one run:
#
# 1. The subscribers page (GET /api/v1/agreements/{license}/subscriptions, first page of 50,
#    default order and `q=engineering`) on an agreement of BENCH_PG_SIZE subscribers, on
#    (a) SQLite, one instance; (b) PostgreSQL, one instance, direct; (c) PostgreSQL, one
#    instance behind haproxy; (d) PostgreSQL, two instances behind haproxy (round robin).
#    Every instance must answer the very bytes the SQLite instance answers before anything
#    is measured. CPU shares (wrk, haproxy, PostgreSQL, each instance) are read from /proc
#    during each measured run.
# 2. Bulk add of BENCH_ROWS new subscribers (the file bench/files.sh posts): on SQLite, on
#    PostgreSQL with one instance, then two files for two agreements at the same time, one
#    to each of two instances (a write scoped to an agreement locks that agreement alone:
#    they should overlap, target at most 1.3× one alone), then two files for one agreement
#    at the same time, one to each instance (one after the other; both must apply).
#
# The data is generated as bench/subscribers.sh does (demo, bench/seed-subscribers.sql,
# `openseat migrate`) into SQLite, then moved into a new PostgreSQL database (a throwaway
# PostgreSQL 15 cluster, tests/pg/cluster.sh) with `openseat copy`, which is timed. All
# instances share the SQLite data dir's secret key (copied into their data dirs).
#
# Any failure stops the script with a message, except one: when one of the two simultaneous
# bulk adds fails (e.g. 503, busy: a write waits at most LIMIT_WRITE_WAIT_MS for the lock),
# that is the finding, so the section is still written, with the failure in it, and then the
# script fails.
#
# Appends a dated section to bench/RESULTS.md. Environment:
#   BENCH_SECONDS   measured duration per wrk run (default 10)
#   BENCH_PG_SIZE   subscribers of the measured agreement (default 100000; 1000000 works, slowly)
#   BENCH_ROWS      rows of each bulk-add file (default 100000, the upload limit)
#   OPENSEAT_BIN    binary to measure (default ./openseat)
set -euo pipefail

cd "$(dirname "$0")/.."
ROOT=$PWD
BIN=${OPENSEAT_BIN:-./openseat}
DURATION=${BENCH_SECONDS:-10}
SIZE=${BENCH_PG_SIZE:-100000}
ROWS=${BENCH_ROWS:-100000}
RESULTS=$ROOT/bench/RESULTS.md
PAGES=(default "" dept "q=engineering")
LICENSE=90000001                      # the agreement of SIZE subscribers
BULK_LICENSES=(90000002 90000003 90000004 90000005)   # empty agreements with ROWS free seats per level (the last: 2 × ROWS)
ARGON=(--argon2-ops 1 --argon2-mem-kib 8)   # as lib.sh's OS_FLAGS: sign-in only
UPLOAD=(--max-upload $((256 * 1024 * 1024)))   # as bench/files.sh

. bench/lib.sh
check_tools
command -v sqlite3 >/dev/null || die "sqlite3 is not installed (Debian package sqlite3)"
command -v psql >/dev/null || die "psql is not installed (Debian package postgresql-client-15)"
command -v python3 >/dev/null || die "python3 is not installed"
HAPROXY=$(command -v haproxy || true)
[ -n "$HAPROXY" ] || { [ -x /usr/sbin/haproxy ] && HAPROXY=/usr/sbin/haproxy; } || die "haproxy is not installed (Debian package haproxy)"
[[ $SIZE =~ ^[1-9][0-9]*$ ]] || die "BENCH_PG_SIZE must be a whole number"
[[ $ROWS =~ ^[1-9][0-9]*$ ]] || die "BENCH_ROWS must be a whole number"
[ "$SIZE" -ge 500 ] || die "BENCH_PG_SIZE must be at least 500 (a full page with the filter)"

now_ms() { date +%s%3N; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", (b - a) / 1000 }'; }
T_START=$(now_ms)

# ---- everything this script starts, stopped on every exit ----------------------------------
# As root the cluster runs as the postgres user, which must be able to reach its directory.
PG_DIR=$(mktemp -d "${TMPDIR:-/tmp}/openseat-bench-pg.XXXXXX")
chmod 711 "$PG_DIR"
INST_PIDS=()
HAPROXY_PID=""
# True while a child runs (an exited child stays a zombie until waited for, and kill -0
# still succeeds on a zombie).
alive() {   # pid
    local s
    { read -r s <"/proc/$1/stat"; } 2>/dev/null || return 1
    s=${s##*) }
    [ "${s%% *}" != Z ]
}
# SIGTERM, then SIGKILL for whatever still runs 30 s later: an openseat instance asked to
# stop first delivers every e-mail its worker can claim, which after a bulk add of 100,000
# rows takes minutes.
stop_pids() {   # pid...
    local pid left=""
    for pid; do kill "$pid" 2>/dev/null || true; done
    for _ in $(seq 300); do
        left=""
        for pid; do alive "$pid" && left+=" $pid"; done
        [ -z "$left" ] && break
        sleep 0.1
    done
    if [ -n "$left" ]; then
        echo "bench: still running 30 s after SIGTERM (delivering queued e-mail), killed:$left" >&2
        for pid in $left; do kill -KILL "$pid" 2>/dev/null || true; done
    fi
    for pid; do wait "$pid" 2>/dev/null || true; done
}
pg_cleanup() {
    local rc=$?
    set +e   # a failing step here must not skip the rest (and "exit rc" below must not exit)
    stop_pids ${OS_PID:+"$OS_PID"} "${INST_PIDS[@]}" ${HAPROXY_PID:+"$HAPROXY_PID"}
    OS_PID=""
    if [ "$rc" -ne 0 ]; then
        local f
        for f in "$WORK"/pg-*.log "$WORK/haproxy.log" "$PG_DIR/cluster/server.log"; do
            [ -s "$f" ] && { echo "--- last lines of $f (without \"mail sent\")" >&2; grep -v '"msg":"mail sent"' "$f" | tail -n 20 >&2; }
        done
    fi
    bash "$ROOT/tests/pg/cluster.sh" stop "$PG_DIR/cluster" >/dev/null 2>&1 || true
    rm -rf "$PG_DIR"
    (exit "$rc")
    cleanup   # lib.sh's: the SQLite instance, its log on failure, the temp dir
}
trap pg_cleanup EXIT

# ---- data: SQLite first, as bench/subscribers.sh --------------------------------------------
echo "bench: generating an agreement of $SIZE subscribers in SQLite"
"$BIN" demo "${OS_FLAGS[@]}" >"$WORK/demo.out" 2>"$WORK/demo.log" || { cat "$WORK/demo.log" >&2; die "openseat demo failed"; }
DB=$WORK/data/openseat.db
{
    echo "CREATE TEMP TABLE bench_sizes (license TEXT, n INTEGER);"
    echo "INSERT INTO bench_sizes VALUES ('$LICENSE', $SIZE);"
    for l in "${BULK_LICENSES[@]}"; do echo "INSERT INTO bench_sizes VALUES ('$l', 0);"; done
    cat bench/seed-subscribers.sql
    # The bulk-add agreements: empty, with room for a file of ROWS on every level.
    echo "UPDATE pools SET purchased = $ROWS WHERE agreement_id IN
          (SELECT id FROM agreements WHERE license_number IN ($(printf "'%s'," "${BULK_LICENSES[@]}" | sed 's/,$//')));"
    echo "UPDATE pools SET purchased = $((2 * ROWS)) WHERE agreement_id IN
          (SELECT id FROM agreements WHERE license_number = '${BULK_LICENSES[3]}');"
} | sqlite3 "$DB" || die "loading the generated subscribers failed"
T0=$(now_ms)
"$BIN" migrate "${OS_FLAGS[@]}" >"$WORK/migrate.log" 2>&1 || { cat "$WORK/migrate.log" >&2; die "openseat migrate failed"; }
echo "bench: search terms computed in $(secs "$T0" "$(now_ms)") s"
[ -s "$WORK/data/secret.key" ] || die "no secret key in the SQLite data dir"

# ---- PostgreSQL: a throwaway cluster, a new database, openseat copy -------------------------
echo "bench: starting a PostgreSQL 15 cluster"
PG_URL=$(bash tests/pg/cluster.sh start "$PG_DIR/cluster") || die "the PostgreSQL cluster did not start (tests/pg/cluster.sh)"
[ -n "$PG_URL" ] || die "tests/pg/cluster.sh printed no URL"
DB_URL=$PG_URL/openseat_bench
psql -qX -v ON_ERROR_STOP=1 -d "$PG_URL/postgres" -c 'CREATE DATABASE openseat_bench' >/dev/null ||
    die "cannot create the database"
PG_VERSION=$(psql -qXAt -d "$DB_URL" -c 'SHOW server_version')
echo "bench: openseat copy --from sqlite:… --to $DB_URL"
T0=$(now_ms)
"$BIN" copy --data "$WORK/data" --from "sqlite:$DB" --to "$DB_URL" >"$WORK/copy.out" 2>"$WORK/copy.log" ||
    { cat "$WORK/copy.out" "$WORK/copy.log" >&2; die "openseat copy failed"; }
COPY_S=$(secs "$T0" "$(now_ms)")
COPY_ROWS=$(awk '$3 == "rows" { n += $2 } END { print n + 0 }' "$WORK/copy.out")
COPY_TABLES=$(awk '$3 == "rows" { n++ } END { print n + 0 }' "$WORK/copy.out")
COPY_SUBS=$(awk '$1 == "subscriptions" && $3 == "rows" { print $2 }' "$WORK/copy.out")
COPY_TERMS=$(awk '$1 == "sub_terms" && $3 == "rows" { print $2 }' "$WORK/copy.out")
WANT_SUBS=$(sqlite3 "$DB" "SELECT COUNT(*) FROM subscriptions")
[ "$COPY_SUBS" = "$WANT_SUBS" ] || { cat "$WORK/copy.out" >&2; die "copy reported ${COPY_SUBS:-no} subscriptions, SQLite has $WANT_SUBS"; }
echo "bench: copied $COPY_ROWS rows ($COPY_TABLES tables, $COPY_SUBS subscriptions) in $COPY_S s"
# openseat copy leaves statistics and the visibility map to autovacuum, which would then
# vacuum the freshly loaded tables in the middle of the first runs. What an operator does
# after a bulk load instead: VACUUM (ANALYZE), and a checkpoint. Timed apart.
T0=$(now_ms)
psql -qX -v ON_ERROR_STOP=1 -d "$DB_URL" -c 'VACUUM (ANALYZE)' -c 'CHECKPOINT' >/dev/null || die "VACUUM (ANALYZE) failed"
ANALYZE_S=$(secs "$T0" "$(now_ms)")
echo "bench: VACUUM (ANALYZE) and CHECKPOINT in $ANALYZE_S s"

# ---- instances ----------------------------------------------------------------------------
# The SQLite instance is lib.sh's; the PostgreSQL ones each have a data dir holding the same
# secret key (as docs/operations.md says: copy DATA/secret.key to every instance).
# The log exists before the server opens it: start_openseat reads it at once (and under
# "set -e" a sed on a file the child has not created yet would end this script).
: >"$WORK/openseat.log"
start_openseat "${UPLOAD[@]}"
SQ_BASE=$OS_BASE
declare -A BASE PID
start_pg_instance() {   # name
    local name=$1 log=$WORK/pg-$1.log port="" pid
    mkdir -p "$WORK/pg-$name"
    cp "$WORK/data/secret.key" "$WORK/pg-$name/secret.key"
    : >"$log"
    "$BIN" serve --data "$WORK/pg-$name" --database-url "$DB_URL" "${ARGON[@]}" "${UPLOAD[@]}" \
        --bind 127.0.0.1 --port 0 --log-level info 2>"$log" &
    pid=$!
    INST_PIDS+=("$pid")
    for _ in $(seq 100); do
        port=$(sed -n 's/.*"msg":"listening".*"port":"\([0-9]*\)".*/\1/p' "$log")
        [ -n "$port" ] && break
        alive "$pid" || die "openseat instance $name (PostgreSQL) exited during start-up"
        sleep 0.1
    done
    [ -n "$port" ] || die "openseat instance $name (PostgreSQL) did not report its port within 10 s"
    PID[$name]=$pid
    BASE[$name]="http://127.0.0.1:$port"
}
start_pg_instance a
start_pg_instance b

# haproxy: one process, two front ends — "one" balances over instance a only, "two" over a and
# b, round robin. One thread: on two CPUs shared with wrk, PostgreSQL and the instances,
# more threads would only compete for them. No retries (docs/operations.md). It runs in the
# foreground (-db) as a child of this script, stopped by the EXIT trap.
# "http-reuse never": each client connection keeps its own server connection, closed with
# it. openseat accepts at most 64 connections per client address, and to an instance all of
# haproxy is one address: with the default ("safe"), the server connections of wrk's 64 left
# idle in haproxy's pool stay open while the next run's 64 open new ones, and the instance
# refuses the excess (measured: 502s through haproxy, and a direct run afterwards refused
# outright).
write_haproxy_conf() {   # port-one port-two
    cat >"$WORK/haproxy.cfg" <<CONF
global
    nbthread 1
    maxconn 4096
defaults
    mode http
    option http-keep-alive
    timeout connect 5s
    timeout client 60s
    timeout server 600s
    timeout http-keep-alive 60s
    retries 0
    http-reuse never
    maxconn 4096
frontend one
    bind 127.0.0.1:$1
    default_backend one
frontend two
    bind 127.0.0.1:$2
    default_backend two
backend one
    balance roundrobin
    server a ${BASE[a]#http://}
backend two
    balance roundrobin
    server a ${BASE[a]#http://}
    server b ${BASE[b]#http://}
CONF
}
start_haproxy() {
    local p1 p2
    for _ in 1 2 3 4 5; do
        p1=$(free_port)
        p2=$(free_port)
        [ "$p1" != "$p2" ] || continue
        write_haproxy_conf "$p1" "$p2"
        "$HAPROXY" -db -f "$WORK/haproxy.cfg" >>"$WORK/haproxy.log" 2>&1 &
        HAPROXY_PID=$!
        for _ in $(seq 50); do
            if curl -s -f -o /dev/null "http://127.0.0.1:$p1/healthz" 2>/dev/null &&
                curl -s -f -o /dev/null "http://127.0.0.1:$p2/healthz" 2>/dev/null; then
                BASE[one]="http://127.0.0.1:$p1"
                BASE[two]="http://127.0.0.1:$p2"
                return 0
            fi
            alive "$HAPROXY_PID" || break   # lost a port: try others
            sleep 0.1
        done
        kill "$HAPROXY_PID" 2>/dev/null || true
        wait "$HAPROXY_PID" 2>/dev/null || true
        HAPROXY_PID=""
    done
    die "haproxy did not start (its log is shown below)"
}
start_haproxy
HAPROXY_VERSION=$("$HAPROXY" -v 2>&1 | sed -n '1s/^HAProxy version \([^ ]*\).*/\1/p')

# One session per database: sessions are rows, so the PostgreSQL one serves both instances.
rm -f "$WORK/cookies.txt"
sign_in camille@contoso.example demo-password-1
SQ_COOKIE=$COOKIE
SQ_CSRF=$(sed -n 's/.*"csrf_token":"\([^"]*\)".*/\1/p' "$WORK/signin.json")
OS_BASE=${BASE[a]}
rm -f "$WORK/cookies.txt"
sign_in camille@contoso.example demo-password-1
PG_COOKIE=$COOKIE
PG_CSRF=$(sed -n 's/.*"csrf_token":"\([^"]*\)".*/\1/p' "$WORK/signin.json")
OS_BASE=$SQ_BASE
if [ -z "$SQ_CSRF" ] || [ -z "$PG_CSRF" ]; then die "no CSRF token in a sign-in answer"; fi

# ---- the same bytes everywhere ------------------------------------------------------------
# Where a wrong answer shows: the first differing byte, and the two answers as indented JSON.
show_difference() {   # expected-file got-file
    echo "bench: first difference: $(cmp "$1" "$2" 2>&1 | head -n 1)" >&2
    python3 - "$1" "$2" <<'PY' >&2 || true
import difflib, json, sys
def lines(p):
    try:
        return json.dumps(json.load(open(p, encoding="utf-8")), indent=1, ensure_ascii=False).splitlines()
    except ValueError:
        return open(p, encoding="utf-8", errors="replace").read().splitlines()
d = list(difflib.unified_diff(lines(sys.argv[1]), lines(sys.argv[2]), "expected", "answered", n=3, lineterm=""))
print("\n".join(d[:40]))
PY
}
fetch() {   # url cookie file -> fails on anything but 200
    local code
    code=$(curl -sS -o "$3" -w '%{http_code}' -H "$2" "$1") || die "GET $1 failed (no answer)"
    [ "$code" = 200 ] || { head -c 600 "$3" >&2; echo >&2; die "GET $1 answered $code"; }
}
# Which address serves which case, and with which session.
CASES=(sqlite pg pg-haproxy pg-haproxy-2)
declare -A CASE_URL=([sqlite]=$SQ_BASE [pg]=${BASE[a]} [pg-haproxy]=${BASE[one]} [pg-haproxy-2]=${BASE[two]})
declare -A CASE_COOKIE=([sqlite]=$SQ_COOKIE [pg]=$PG_COOKIE [pg-haproxy]=$PG_COOKIE [pg-haproxy-2]=$PG_COOKIE)
declare -A CASE_LABEL=([sqlite]="SQLite, one instance" [pg]="PostgreSQL, one instance, direct"
    [pg-haproxy]="PostgreSQL, one instance behind haproxy" [pg-haproxy-2]="PostgreSQL, two instances behind haproxy")
declare -A PATHS
for ((j = 0; j < ${#PAGES[@]}; j += 2)); do
    page=${PAGES[j]} query=${PAGES[j + 1]}
    path="/api/v1/agreements/$LICENSE/subscriptions${query:+?$query}"
    PATHS[$page]=$path
    ref=$WORK/ref-$page.json
    fetch "$SQ_BASE$path" "$SQ_COOKIE" "$ref"
    # The reference itself: a full page and the total the database agrees with.
    case $page in default) where=1 ;; dept) where="s.reference = 'Engineering'" ;; esac
    want=$(sqlite3 "$DB" "SELECT COUNT(*) FROM subscriptions s JOIN agreements a ON a.id = s.agreement_id
                          WHERE a.license_number = '$LICENSE' AND $where")
    got=$(python3 -c 'import json,sys; b=json.load(open(sys.argv[1])); print(len(b["items"]), b["total"])' "$ref")
    [ "$got" = "50 $want" ] || die "SQLite: $path answered (rows total) \"$got\", the database says \"50 $want\""
    # Instance a and b directly, haproxy "one" twice, haproxy "two" four times (both instances).
    for target in "${BASE[a]}" "${BASE[b]}" "${BASE[one]}" "${BASE[one]}" "${BASE[two]}" "${BASE[two]}" "${BASE[two]}" "${BASE[two]}"; do
        fetch "$target$path" "$PG_COOKIE" "$WORK/check.json"
        if ! cmp -s "$ref" "$WORK/check.json"; then
            show_difference "$ref" "$WORK/check.json"
            die "PostgreSQL ($target$path) does not answer the bytes SQLite answers — a bug in openseat, not in the benchmark"
        fi
    done
done
echo "bench: every instance, direct and through haproxy, answers the same bytes as SQLite"

# ---- CPU shares, read from /proc while wrk runs ---------------------------------------------
HZ=$(getconf CLK_TCK)
PG_MASTER=$(head -n 1 "$PG_DIR/cluster/data/postmaster.pid")
ticks() {   # pid -> user + system ticks (0 when gone)
    local s
    local -a f
    { read -r s <"/proc/$1/stat"; } 2>/dev/null || { echo 0; return; }
    s=${s##*) }
    read -r -a f <<<"$s"
    echo $((f[11] + f[12]))
}
pg_ticks() {   # the postmaster and its children (backends, autovacuum, writers)
    local s p n=0
    local -a t
    n=$(ticks "$PG_MASTER")
    for p in /proc/[0-9]*/stat; do
        { read -r s <"$p"; } 2>/dev/null || continue
        s=${s##*) }
        read -r -a t <<<"$s"
        [ "${t[1]}" = "$PG_MASTER" ] && n=$((n + t[11] + t[12]))
    done
    echo "$n"
}
# One line: wall-ns busy-ticks all-ticks wrk haproxy postgres sqlite-instance a b
snapshot() {   # wrk-pid
    local cpu busy all
    read -r -a cpu < <(head -n 1 /proc/stat)
    all=$((cpu[1] + cpu[2] + cpu[3] + cpu[4] + cpu[5] + cpu[6] + cpu[7] + cpu[8]))
    busy=$((all - cpu[4] - cpu[5]))
    echo "$(date +%s%N) $busy $all $(ticks "$1") $(ticks "${HAPROXY_PID:-0}") $(pg_ticks)" \
        "$(ticks "${OS_PID:-0}") $(ticks "${PID[a]}") $(ticks "${PID[b]}")"
}
# Runs in the background beside run_wrk: two snapshots, 1 s after wrk starts and 1 s before it
# ends, so the shares are those of the steady state (not of the warm-up or the closing).
sample_cpu() {   # out-file
    local w="" i
    for i in $(seq 50); do
        w=$(pgrep -P $$ -x wrk | head -n 1) && [ -n "$w" ] && break
        sleep 0.02
    done
    [ -n "$w" ] || return 0
    sleep 1
    snapshot "$w" >"$1"
    sleep $((DURATION - 2))
    snapshot "$w" >>"$1"
}
# "% of one CPU" (all CPUs: nproc × 100 %): wrk haproxy postgres sqlite a b, then everything
# else the machine ran (the kernel's own work, other processes), then idle.
cpu_shares() {   # file
    [ "$(wc -l <"$1" 2>/dev/null || echo 0)" -eq 2 ] || { echo "- - - - - - - - -"; return; }
    awk -v hz="$HZ" -v n="$(nproc)" 'NR == 1 { for (i = 1; i <= NF; i++) a[i] = $i }
        NR == 2 { c = hz * ($1 - a[1]) / 1e9; all = 100 * n; busy = all * ($2 - a[2]) / ($3 - a[3]); rest = busy
                  for (i = 4; i <= 9; i++) { v = 100 * ($i - a[i]) / c; rest -= v; printf "%.0f ", v }
                  printf "%.0f %.0f\n", (rest < 0 ? 0 : rest), all - busy }' "$1"
}

# ---- measure: the page ---------------------------------------------------------------------
LOAD_BEFORE=$(load_avg)
echo "bench: load average before the runs: $LOAD_BEFORE (with $(nproc) CPUs; other work skews the results)"
declare -A RES CPU
for ((j = 0; j < ${#PAGES[@]}; j += 2)); do
    page=${PAGES[j]}
    for c in "${CASES[@]}"; do
        url=${CASE_URL[$c]}${PATHS[$page]}
        echo "bench: $page page, ${CASE_LABEL[$c]}: ${DURATION}s after a ${WARMUP}s warm-up"
        run_wrk "warm-$c-$page" "$url" "$WARMUP" "${CASE_COOKIE[$c]}"
        rm -f "$WORK/cpu-$c-$page"
        if [ "$DURATION" -ge 4 ]; then sample_cpu "$WORK/cpu-$c-$page" & SAMPLER=$!; else SAMPLER=""; fi
        run_wrk "$c-$page" "$url" "$DURATION" "${CASE_COOKIE[$c]}"
        [ -z "$SAMPLER" ] || wait "$SAMPLER" || true
        RES[$c-$page]=$(parse "$c-$page")
        CPU[$c-$page]=$(cpu_shares "$WORK/cpu-$c-$page")
        read -r rps p50 p99 <<<"${RES[$c-$page]}"
        echo "bench:   $rps req/s, p50 $p50 ms, p99 $p99 ms; CPU (% of one: wrk haproxy postgres sqlite a b rest idle): ${CPU[$c-$page]}"
        # Still the same answer after the run: the session held, nothing changed, nothing failed.
        fetch "$url" "${CASE_COOKIE[$c]}" "$WORK/after.json"
        cmp -s "$WORK/after.json" "$WORK/ref-$page.json" || { show_difference "$WORK/ref-$page.json" "$WORK/after.json"; die "$c: the $page answer changed during the run"; }
    done
done
LOAD_MID=$(load_avg)

# ---- measure: bulk add ---------------------------------------------------------------------
bulk_add_csv "$ROWS" "$WORK/add-1.csv" person
bulk_add_csv "$ROWS" "$WORK/add-2.csv" member
# Posts a file; prints "http-code seconds" (curl's own timing); the answer goes to out-file.
post_bulk() {   # base cookie csrf license csv out-file
    curl -sS -o "$6" -w '%{http_code} %{time_total}' -H "$2" -H "X-CSRF-Token: $3" -H "Content-Type: text/csv" \
        --data-binary "@$5" "$1/api/v1/agreements/$4/subscriptions/bulk" || echo "000 0"
}
# Nothing when the add is right; else what is wrong with it.
bulk_problem() {   # "code seconds" out-file
    local code=${1%% *}
    case $code in
    200 | 201) grep -q "\"added\":${ROWS}[,}]" "$2" || echo "answered $code but did not add $ROWS rows: $(head -c 400 "$2")" ;;
    503) echo "answered 503 after $(printf '%.3f' "${1#* }") s (busy: a write waits at most LIMIT_WRITE_WAIT_MS for the write lock, docs/operations.md): $(head -c 400 "$2")" ;;
    *) echo "answered $code after $(printf '%.3f' "${1#* }") s: $(head -c 400 "$2")" ;;
    esac
}
pending_mail() { psql -qXAt -d "$DB_URL" -c 'SELECT COUNT(*) FROM outbox WHERE sent_at IS NULL'; }
# One bulk add, alone: its seconds, or the script stops saying what went wrong.
timed_bulk() {   # label base cookie csrf out-file
    local r p
    echo "bench: bulk add of $ROWS rows on $1" >&2
    r=$(post_bulk "$2" "$3" "$4" "${BULK_LICENSES[0]}" "$WORK/add-1.csv" "$5")
    p=$(bulk_problem "$r" "$5")
    [ -z "$p" ] || die "$1: the bulk add $p"
    printf '%.3f' "${r#* }"
}

ADD_SQ_S=$(timed_bulk SQLite "$SQ_BASE" "$SQ_COOKIE" "$SQ_CSRF" "$WORK/add-sqlite.json")
echo "bench:   $ADD_SQ_S s"
# The SQLite instance is done: stopped, so that its delivery of the queued e-mails does not
# share the CPUs with what follows.
stop_pids "$OS_PID"
OS_PID=""

ADD_PG_S=$(timed_bulk "PostgreSQL, one instance" "${BASE[a]}" "$PG_COOKIE" "$PG_CSRF" "$WORK/add-pg.json")
echo "bench:   $ADD_PG_S s"
# Both instances' mail workers deliver the queued e-mails (to their Maildirs) before the next
# measurement, so that it does not share the CPUs with them; how long that takes is a figure too.
T0=$(now_ms)
for _ in $(seq 1800); do
    [ "$(pending_mail)" = 0 ] && break
    sleep 0.5
done
[ "$(pending_mail)" = 0 ] || die "the e-mails queued by the bulk add were not delivered within 15 minutes"
DRAIN_S=$(secs "$T0" "$(now_ms)")
DRAIN_A=$(find "$WORK/pg-a/maildir/new" -type f 2>/dev/null | wc -l)
DRAIN_B=$(find "$WORK/pg-b/maildir/new" -type f 2>/dev/null | wc -l)

echo "bench: two bulk adds of $ROWS rows at the same time, one to each PostgreSQL instance"
T0=$(now_ms)
post_bulk "${BASE[a]}" "$PG_COOKIE" "$PG_CSRF" "${BULK_LICENSES[1]}" "$WORK/add-1.csv" "$WORK/add-a.json" >"$WORK/add-a.res" &
P1=$!
post_bulk "${BASE[b]}" "$PG_COOKIE" "$PG_CSRF" "${BULK_LICENSES[2]}" "$WORK/add-2.csv" "$WORK/add-b.json" >"$WORK/add-b.res" &
P2=$!
wait "$P1" "$P2"
ADD_2_S=$(secs "$T0" "$(now_ms)")
# A failure here is reported in the results too (then the script fails): it is the finding.
PROBLEM_A=$(bulk_problem "$(cat "$WORK/add-a.res")" "$WORK/add-a.json")
PROBLEM_B=$(bulk_problem "$(cat "$WORK/add-b.res")" "$WORK/add-b.json")
ADD_A_S=$(printf '%.3f' "$(cut -d' ' -f2 "$WORK/add-a.res")")
ADD_B_S=$(printf '%.3f' "$(cut -d' ' -f2 "$WORK/add-b.res")")
CODE_A=$(cut -d' ' -f1 "$WORK/add-a.res")
CODE_B=$(cut -d' ' -f1 "$WORK/add-b.res")
echo "bench:   $ADD_2_S s in all; a: $CODE_A in $ADD_A_S s, b: $CODE_B in $ADD_B_S s"

# The same agreement from both instances: its writes wait for each other, and both apply.
echo "bench: two bulk adds of $ROWS rows at the same time on one agreement, one to each instance"
T0=$(now_ms)
post_bulk "${BASE[a]}" "$PG_COOKIE" "$PG_CSRF" "${BULK_LICENSES[3]}" "$WORK/add-1.csv" "$WORK/same-a.json" >"$WORK/same-a.res" &
P1=$!
post_bulk "${BASE[b]}" "$PG_COOKIE" "$PG_CSRF" "${BULK_LICENSES[3]}" "$WORK/add-2.csv" "$WORK/same-b.json" >"$WORK/same-b.res" &
P2=$!
wait "$P1" "$P2"
SAME_S=$(secs "$T0" "$(now_ms)")
PROBLEM_SA=$(bulk_problem "$(cat "$WORK/same-a.res")" "$WORK/same-a.json")
PROBLEM_SB=$(bulk_problem "$(cat "$WORK/same-b.res")" "$WORK/same-b.json")
SAME_A_S=$(printf '%.3f' "$(cut -d' ' -f2 "$WORK/same-a.res")")
SAME_B_S=$(printf '%.3f' "$(cut -d' ' -f2 "$WORK/same-b.res")")
CODE_SA=$(cut -d' ' -f1 "$WORK/same-a.res")
CODE_SB=$(cut -d' ' -f1 "$WORK/same-b.res")
SAME_ASSIGNED=$(psql -qXAt -d "$DB_URL" -c "SELECT COALESCE(MAX(p.assigned - p.purchased), 0) || ' ' || COALESCE(SUM(p.assigned), 0)
    FROM pools p JOIN agreements g ON g.id = p.agreement_id WHERE g.license_number = '${BULK_LICENSES[3]}'")
echo "bench:   $SAME_S s in all; a: $CODE_SA in $SAME_A_S s, b: $CODE_SB in $SAME_B_S s; pools (most over, assigned): $SAME_ASSIGNED"
LOAD_AFTER=$(load_avg)
if grep -qi 'postgresql error' "$WORK"/pg-*.log; then
    grep -i 'postgresql error' "$WORK"/pg-*.log | head -n 20 >&2
    die "openseat logged PostgreSQL errors during the run"
fi

# ---- report --------------------------------------------------------------------------------
fmt0() { printf "%'.0f" "$1"; }
rate() { awk -v n="$1" -v s="$2" 'BEGIN { printf "%.0f", n / s }'; }
PAGE_ROWS="" CPU_ROWS=""
for ((j = 0; j < ${#PAGES[@]}; j += 2)); do
    page=${PAGES[j]}
    read -r base_rps _ _ <<<"${RES[sqlite-$page]}"
    for c in "${CASES[@]}"; do
        read -r rps p50 p99 <<<"${RES[$c-$page]}"
        PAGE_ROWS+="| $page \`${PATHS[$page]#*subscriptions}\` | ${CASE_LABEL[$c]} | $(fmt0 "$rps") | $p50 | $p99 | $(pct "$rps" "$base_rps") % |"$'\n'
        read -r w h p s a b rest idle <<<"${CPU[$c-$page]}"
        case $c in
        sqlite) h=— p=— a=$s b=— ;;
        pg) h=— b="$b (idle)" ;;
        pg-haproxy) b="$b (idle)" ;;
        esac
        CPU_ROWS+="| $page | ${CASE_LABEL[$c]} | $w | $h | $p | $a | $b | $rest | $idle |"$'\n'
    done
done
# The two-instance figures against one instance behind haproxy, for the closing paragraph.
read -r w2 h2 p2 _ a2 b2 r2 idle2 <<<"${CPU[pg-haproxy-2-default]}"
read -r rps1 _ _ <<<"${RES[pg-haproxy-default]}"
read -r rps2 _ _ <<<"${RES[pg-haproxy-2-default]}"
read -r frps1 _ _ <<<"${RES[pg-haproxy-dept]}"
read -r frps2 _ _ <<<"${RES[pg-haproxy-2-dept]}"
us() { awk -v p="$1" -v r="$2" 'BEGIN { printf "%.0f", p * 10000 / r }'; }   # % of one CPU, req/s -> µs a request
read -r _ _ _ sq_cpu _ _ _ _ <<<"${CPU[sqlite-default]}"
read -r sq_rps _ _ <<<"${RES[sqlite-default]}"
if [ "$idle2" = - ]; then
    PER_REQUEST=""
else
    PER_REQUEST="CPU time per request in that run: PostgreSQL $(us "$p2" "$rps2") µs, the two instances $(us "$((a2 + b2))" "$rps2") µs together (the SQLite instance: $(us "$sq_cpu" "$sq_rps") µs for the whole request). "
fi
if [ "$idle2" = - ]; then
    CPU_SENTENCE="(CPU shares are sampled only when BENCH_SECONDS is at least 4.)"
elif at_most "$idle2" 10; then
    CPU_SENTENCE="The machine was saturated ($idle2 % of $(($(nproc) * 100)) % idle): whatever the second instance serves here, it serves with CPU time taken from the first instance, PostgreSQL, haproxy and wrk on the same $(nproc) CPUs, so this run cannot show what a second instance adds with CPUs of its own (another machine)."
else
    CPU_SENTENCE="The machine was not saturated ($idle2 % of $(($(nproc) * 100)) % idle): CPU time is not what limited the two-instance run."
fi
ADD_RATIO=$(fmt_ratio "$ADD_2_S" "$ADD_PG_S")
outcome() { if [ -z "$1" ]; then echo "$2 in $3 s"; else echo "**$2 after $3 s**"; fi; }
TWO="a: $(outcome "$PROBLEM_A" "$CODE_A" "$ADD_A_S"), b: $(outcome "$PROBLEM_B" "$CODE_B" "$ADD_B_S")"
if [ -z "$PROBLEM_A$PROBLEM_B" ]; then
    TWO_ROW="| PostgreSQL, two instances, one file to each at the same time, two agreements ($TWO) | 2 | $ADD_2_S | $(fmt0 "$(rate "$((2 * ROWS))" "$ADD_2_S")") |"
    BULK_SENTENCE="Bulk adds: two files for two agreements sent at the same time to two instances took $ADD_2_S s in all ($TWO), $ADD_RATIO× the $ADD_PG_S s of one file on one instance (target: at most 1.3×); a write scoped to an agreement locks that agreement alone and shares the store, so the two transactions run side by side and what remains is the machine's CPUs, shared by both instances and PostgreSQL."
else
    TWO_ROW="| PostgreSQL, two instances, one file to each at the same time ($TWO) | 2 | **failed** ($ADD_2_S) | — |"
    BULK_SENTENCE="Bulk adds: two files for two agreements sent at the same time to two instances did not both succeed ($TWO)."
fi
SAME="a: $(outcome "$PROBLEM_SA" "$CODE_SA" "$SAME_A_S"), b: $(outcome "$PROBLEM_SB" "$CODE_SB" "$SAME_B_S")"
if [ -z "$PROBLEM_SA$PROBLEM_SB" ]; then
    SAME_ROW="| PostgreSQL, two instances, one file to each at the same time, one agreement ($SAME) | 2 | $SAME_S | $(fmt0 "$(rate "$((2 * ROWS))" "$SAME_S")") |"
else
    SAME_ROW="| PostgreSQL, two instances, one file to each at the same time, one agreement ($SAME) | 2 | **failed** ($SAME_S) | — |"
fi
BULK_SENTENCE+=" Two files for one agreement, one to each instance at the same time: $SAME_S s in all ($SAME; $(fmt_ratio "$SAME_S" "$ADD_PG_S")× one alone), one transaction after the other; the pools then held $(echo "$SAME_ASSIGNED" | cut -d' ' -f2) assigned seats, none over what was purchased (most over: $(echo "$SAME_ASSIGNED" | cut -d' ' -f1))."

if [ -n "${MAKELEVEL:-}" ]; then CMD="\`make bench\` (bench/pg.sh"; else CMD="\`bash bench/pg.sh\` ("; fi
CMD+="${MAKELEVEL:+, }BENCH_SECONDS=$DURATION BENCH_PG_SIZE=$SIZE BENCH_ROWS=$ROWS)"
TOTAL_S=$(secs "$T_START" "$(now_ms)")
SECTION=$(cat <<EOF

## $(date -u '+%Y-%m-%d %H:%M UTC') — PostgreSQL and several instances ($(fmt0 "$SIZE") subscribers)

\`openseat copy\` from SQLite to a new PostgreSQL database: $(fmt0 "$COPY_ROWS") rows ($COPY_TABLES tables; $(fmt0 "$COPY_SUBS") subscriptions, $(fmt0 "${COPY_TERMS:-0}") search terms) in $COPY_S s, target migrations included; then \`VACUUM (ANALYZE)\` and \`CHECKPOINT\` in $ANALYZE_S s (\`openseat copy\` leaves both to autovacuum, which would otherwise work through the new tables during the first runs).

| page | database, instances | req/s | p50 (ms) | p99 (ms) | req/s vs SQLite |
|---|---|---:|---:|---:|---:|
${PAGE_ROWS%$'\n'}

CPU during the measured runs, in % of one CPU ($(nproc) CPUs: $(($(nproc) * 100)) % in all), from /proc over the middle $((DURATION - 2)) s of each run; "rest" is the machine's other busy time (kernel work not charged to a process, other processes):

| page | database, instances | wrk | haproxy | PostgreSQL (all its processes) | openseat (SQLite) or a | openseat b | rest | idle |
|---|---|---:|---:|---:|---:|---:|---:|---:|
${CPU_ROWS%$'\n'}

| bulk add ($(fmt0 "$ROWS") rows a file) | files | wall (s) | rows/s |
|---|---:|---:|---:|
| SQLite, one instance | 1 | $ADD_SQ_S | $(fmt0 "$(rate "$ROWS" "$ADD_SQ_S")") |
| PostgreSQL, one instance | 1 | $ADD_PG_S | $(fmt0 "$(rate "$ROWS" "$ADD_PG_S")") |
$TWO_ROW
$SAME_ROW

- Command: $CMD; each page run \`wrk -t$THREADS -c$CONNECTIONS -d${DURATION}s --latency\` after a ${WARMUP} s warm-up, one case at a time, all on 127.0.0.1; every instance, directly and through haproxy, answered byte for byte what the SQLite instance answered before the runs and after each one. Bulk adds: one \`curl\` POST each (\`.../subscriptions/bulk\`, e-mails queued), timed by curl; between the PostgreSQL ones, the two instances delivered the first add's $(fmt0 "$ROWS") e-mails in $DRAIN_S s (a: $DRAIN_A, b: $DRAIN_B).
- Data: bench/seed-subscribers.sql and \`openseat migrate\` into SQLite, then \`openseat copy\` into PostgreSQL $PG_VERSION (tests/pg/cluster.sh: fsync, synchronous_commit and full_page_writes off, shared_buffers 256MB). Every instance: $(sed -n 's/.*"msg":"listening".*"threads":"\([0-9]*\)".*/\1/p' "$WORK/openseat.log" | head -n 1) worker threads, log level info to a file, the SQLite data dir's secret key.
- haproxy $HAPROXY_VERSION: mode http, balance roundrobin, option http-keep-alive, http-reuse never (one server connection per client connection: openseat accepts 64 connections per client address), nbthread 1, maxconn 4096, retries 0, bound to 127.0.0.1.
- Machine: $(machine_line). wrk, haproxy, PostgreSQL and the instances share these CPUs. Load average (1/5/15 min) before: $LOAD_BEFORE; after the page runs: $LOAD_MID; after the bulk adds: $LOAD_AFTER.
- openseat revision $(revision). The script ran $TOTAL_S s.

**What limits the second instance.** Through haproxy, the default page went from $(fmt0 "$rps1") req/s with one instance to $(fmt0 "$rps2") with two ($(pct "$rps2" "$rps1") %), the filtered page from $(fmt0 "$frps1") to $(fmt0 "$frps2") ($(pct "$frps2" "$frps1") %). During the two-instance run of the default page, in % of one CPU: PostgreSQL $p2, instance a $a2, instance b $b2, haproxy $h2, wrk $w2, rest $r2, idle $idle2. $PER_REQUEST$CPU_SENTENCE $BULK_SENTENCE
EOF
)
echo "$SECTION"
[ -f "$RESULTS" ] || echo "# Benchmark results" >"$RESULTS"
echo "$SECTION" >>"$RESULTS"
echo
echo "bench: results appended to bench/RESULTS.md (the script ran $TOTAL_S s)"
[ -z "$PROBLEM_A" ] || die "two bulk adds at the same time, instance a: the bulk add $PROBLEM_A"
[ -z "$PROBLEM_B" ] || die "two bulk adds at the same time, instance b: the bulk add $PROBLEM_B"
[ -z "$PROBLEM_SA" ] || die "two bulk adds on one agreement, instance a: the bulk add $PROBLEM_SA"
[ -z "$PROBLEM_SB" ] || die "two bulk adds on one agreement, instance b: the bulk add $PROBLEM_SB"
