#!/usr/bin/env bash
# Benchmark "subscribers page": GET /api/v1/agreements/{license}/subscriptions — the first
# page (50 rows) of an agreement's subscribers, in the default order (name) and with a term
# in the filter box — on agreements of 1,000, 100,000 and 1,000,000 subscribers, each
# against nginx serving the very same answer bytes from a file.
#
# What it shows: whether the page costs the same whatever the agreement's size (keyset
# pages, an ordered terms index, no COUNT over a million rows), and how far the server's
# own work is from serving bytes.
#
# Appends a dated section to bench/RESULTS.md. Environment:
#   BENCH_SECONDS   measured duration per run (default 10)
#   BENCH_SIZES     agreement sizes (default "1000 100000 1000000"; the first is the base
#                   that the largest is compared with)
#   OPENSEAT_BIN    binary to measure (default ./openseat)
set -euo pipefail

cd "$(dirname "$0")/.."
ROOT=$PWD
BIN=${OPENSEAT_BIN:-./openseat}
DURATION=${BENCH_SECONDS:-10}
SIZES=(${BENCH_SIZES:-1000 100000 1000000})
RESULTS=$ROOT/bench/RESULTS.md
# p50 on the largest agreement at most this many times p50 on the smallest.
TARGET_SCALE=1.5
# The filter terms: a department in the reference (10 % of an agreement: a full page at
# every size) and a family name (1 %: a handful of rows on the smallest agreement, so
# measured but not compared across sizes). And the default page sorted by another column
# (country, descending), through that column's own index.
SCENARIOS=(default "" dept "q=engineering" family "q=moreau" sorted "sort=country&order=desc")

. bench/lib.sh
check_tools
command -v sqlite3 >/dev/null || die "sqlite3 is not installed (Debian package sqlite3)"
[ ${#SIZES[@]} -ge 2 ] || die "BENCH_SIZES needs at least two sizes"

# ---- data ----------------------------------------------------------------------------------
echo "bench: generating agreements of ${SIZES[*]} subscribers (a million takes a minute or two)"
"$BIN" demo "${OS_FLAGS[@]}" >"$WORK/demo.out" 2>"$WORK/demo.log" || { cat "$WORK/demo.log" >&2; die "openseat demo failed"; }
DB=$WORK/data/openseat.db
LICENSES=()
for i in "${!SIZES[@]}"; do
    [[ ${SIZES[i]} =~ ^[1-9][0-9]*$ ]] || die "BENCH_SIZES: \"${SIZES[i]}\" is not a number"
    LICENSES+=("$((90000001 + i))")
done
{
    echo "CREATE TEMP TABLE bench_sizes (license TEXT, n INTEGER);"
    for i in "${!SIZES[@]}"; do echo "INSERT INTO bench_sizes VALUES ('${LICENSES[i]}', ${SIZES[i]});"; done
    cat bench/seed-subscribers.sql
} | sqlite3 "$DB" || die "loading the generated subscribers failed"
# The search terms of the generated rows are computed by the server's own code.
START=$(date +%s)
"$BIN" migrate "${OS_FLAGS[@]}" >"$WORK/migrate.log" 2>&1 || { cat "$WORK/migrate.log" >&2; die "openseat migrate failed"; }
echo "bench: search terms of $(sqlite3 "$DB" "SELECT COUNT(*) FROM subscriptions") subscriptions computed in $(($(date +%s) - START)) s"
# The rows written, checkpointed into the database file before anything is measured.
sqlite3 "$DB" "PRAGMA wal_checkpoint(TRUNCATE)" >/dev/null

start_openseat
sign_in camille@contoso.example demo-password-1

# What each answer must hold: 50 rows, and the total the database agrees with (exact for
# these pages: kept counts, never counted per request). A benchmark of wrong answers is void.
expected_total() {   # license scenario -> "total exact"
    local where
    case $2 in
    default | sorted) where="1" ;;
    dept) where="s.reference = 'Engineering'" ;;
    family) where="s.name LIKE '% Moreau'" ;;
    esac
    local n
    n=$(sqlite3 "$DB" "SELECT COUNT(*) FROM subscriptions s JOIN agreements a ON a.id = s.agreement_id
                       WHERE a.license_number = '$1' AND $where")
    echo "$n true"   # no filter: the pools' counts; one word, one term: the terms' counts
}

declare -A URL FILE NROWS
for i in "${!SIZES[@]}"; do
    lic=${LICENSES[i]}
    for ((j = 0; j < ${#SCENARIOS[@]}; j += 2)); do
        name=${SCENARIOS[j]} query=${SCENARIOS[j + 1]} key="${SIZES[i]}-${SCENARIOS[j]}"
        path="/api/v1/agreements/$lic/subscriptions${query:+?$query}"
        capture "$path" "$key.json"
        URL[$key]=$path
        FILE[$key]=$key.json
        read -r want_total want_exact <<<"$(expected_total "$lic" "$name")"
        got=$(python3 -c 'import json,sys; b=json.load(open(sys.argv[1])); print(len(b["items"]), b["total"], str(b["total_exact"]).lower())' "$WORK/www/$key.json")
        want_rows=$((want_total < 50 ? want_total : 50))
        NROWS[$key]=$want_rows
        [ "$got" = "$want_rows $want_total $want_exact" ] ||
            die "$path answered (rows total exact) \"$got\", the database says \"$want_rows $want_total $want_exact\""
    done
done
start_nginx

# ---- measure -------------------------------------------------------------------------------
echo "bench: letting the machine settle after writing the rows"
settle "$OS_BASE${URL[${SIZES[-1]}-default]}" "$COOKIE"
echo "bench: $SETTLE_NOTE"
LOAD_BEFORE=$(load_avg)
echo "bench: load average before the runs: $LOAD_BEFORE (with $(nproc) CPUs; other work skews the results)"
declare -A OS NG BYTES CPU
for key in $(printf '%s\n' "${!URL[@]}" | sort -t- -k1,1n -k2); do
    echo "bench: $key: openseat then nginx, ${DURATION}s each after a ${WARMUP}s warm-up"
    run_wrk "warm-$key" "$OS_BASE${URL[$key]}" "$WARMUP" "$COOKIE"
    c0=$(cpu_us "$OS_PID")
    run_wrk "os-$key" "$OS_BASE${URL[$key]}" "$DURATION" "$COOKIE"
    # The server's CPU time (all threads, user and system) per answer: what a request costs
    # whatever else the machine runs.
    CPU[$key]=$(awk -v a="$c0" -v b="$(cpu_us "$OS_PID")" -v n="$(wrk_requests "os-$key")" 'BEGIN { printf "%.0f", (b - a) / n }')
    run_wrk "ng-$key" "$NGINX_BASE/${FILE[$key]}" "$DURATION"
    OS[$key]=$(parse "os-$key")
    NG[$key]=$(parse "ng-$key")
    BYTES[$key]=$(wc -c <"$WORK/www/${FILE[$key]}")
    # Still the same answer after the run: the session held and nothing changed.
    curl -sS -f -H "$COOKIE" -o "$WORK/after.json" "$OS_BASE${URL[$key]}"
    cmp -s "$WORK/after.json" "$WORK/www/${FILE[$key]}" || die "openseat's answer for $key changed during the run"
done
LOAD_AFTER=$(load_avg)

# ---- 304: the page unchanged since the client's copy ---------------------------------------
# When the page carries an ETag, a client that has it asks with If-None-Match and gets 304
# with no body: measured against nginx answering 304 for its own copy of the same bytes.
FAILS=0
NOT_MODIFIED_ROW="| 304 Not Modified (If-None-Match) on the $(printf "%'d" "${SIZES[-1]}")-subscriber default page | not measured: the page carries no ETag | — | — | ≥ 50 % of nginx | — |"
key=${SIZES[-1]}-default
OS_ETAG=$(curl -sS -D - -o /dev/null -H "$COOKIE" "$OS_BASE${URL[$key]}" | tr -d '\r' | awk -F': ' 'tolower($1) == "etag" { print $2 }')
if [ -n "$OS_ETAG" ]; then
    NG_ETAG=$(curl -sS -D - -o /dev/null "$NGINX_BASE/${FILE[$key]}" | tr -d '\r' | awk -F': ' 'tolower($1) == "etag" { print $2 }')
    code=$(curl -sS -o /dev/null -w '%{http_code}' -H "$COOKIE" -H "If-None-Match: $OS_ETAG" "$OS_BASE${URL[$key]}")
    [ "$code" = 304 ] || die "openseat answered $code, not 304, to If-None-Match with its own ETag"
    # wrk counts a 304 as a success (2xx or 3xx); one -H per run, so the cookie rides in a script.
    printf 'wrk.headers["If-None-Match"] = [[%s]]\n' "$NG_ETAG" >"$WORK/ng304.lua"
    printf 'wrk.headers["Cookie"] = [[%s]]\nwrk.headers["If-None-Match"] = [[%s]]\n' "${COOKIE#Cookie: }" "$OS_ETAG" >"$WORK/os304.lua"
    wrk -t"$THREADS" -c"$CONNECTIONS" -d"${DURATION}s" --latency -s "$WORK/os304.lua" "$OS_BASE${URL[$key]}" >"$WORK/wrk-os304.txt"
    sleep 1
    wrk -t"$THREADS" -c"$CONNECTIONS" -d"${DURATION}s" --latency -s "$WORK/ng304.lua" "$NGINX_BASE/${FILE[$key]}" >"$WORK/wrk-ng304.txt"
    read -r o304 _ o304p99 <<<"$(parse os304)"
    read -r n304 _ _ <<<"$(parse ng304)"
    r304=$(pct "$o304" "$n304")
    v304=PASS; at_least "$r304" 50 || { v304=FAIL; FAILS=$((FAILS + 1)); }
    NOT_MODIFIED_ROW="| 304 Not Modified (If-None-Match) on the $(printf "%'d" "${SIZES[-1]}")-subscriber default page | $(printf '%.0f' "$o304") req/s, p99 $o304p99 ms | nginx 304: $(printf '%.0f' "$n304") req/s | $r304 % | ≥ 50 % of nginx | $v304 |"
fi

# ---- report --------------------------------------------------------------------------------
ROWS=""
for key in $(printf '%s\n' "${!URL[@]}" | sort -t- -k1,1n -k2); do
    read -r ors op50 op99 <<<"${OS[$key]}"
    read -r nrs _ _ <<<"${NG[$key]}"
    ratio=$(pct "$ors" "$nrs")
    rv=PASS; at_least "$ratio" "$TARGET_RATIO_PCT" || { rv=FAIL; FAILS=$((FAILS + 1)); }
    pv=PASS; at_most "$op99" "$TARGET_P99_MS" || { pv=FAIL; FAILS=$((FAILS + 1)); }
    size=${key%%-*} scen=${key#*-}
    ROWS+="| $(printf "%'d" "$size") | $scen \`${URL[$key]#*subscriptions}\` | ${BYTES[$key]} | $(printf '%.0f' "$ors") | $op50 | $op99 | ${CPU[$key]} | $(printf '%.0f' "$nrs") | $ratio % $rv | $pv |"$'\n'
done
SMALL=${SIZES[0]} LARGE=${SIZES[-1]}
SCALE_ROWS=""
for ((j = 0; j < ${#SCENARIOS[@]}; j += 2)); do
    scen=${SCENARIOS[j]}
    read -r _ p_small _ <<<"${OS[$SMALL-$scen]}"
    read -r _ p_large _ <<<"${OS[$LARGE-$scen]}"
    f=$(fmt_ratio "$p_large" "$p_small")
    if [ "${NROWS[$SMALL-$scen]}" != "${NROWS[$LARGE-$scen]}" ]; then
        # A page of 7 rows against one of 50 compares the answers' sizes, not the scaling.
        v="not compared: ${NROWS[$SMALL-$scen]} rows against ${NROWS[$LARGE-$scen]}"
    else
        v=PASS; at_most "$f" "$TARGET_SCALE" || { v=FAIL; FAILS=$((FAILS + 1)); }
    fi
    SCALE_ROWS+="| $scen | $p_small | $p_large | $f× | $v |"$'\n'
done

SECTION=$(cat <<EOF

## $(date -u '+%Y-%m-%d %H:%M UTC') — subscribers page

| subscribers | page | bytes | openseat req/s | p50 (ms) | p99 (ms) | openseat CPU µs/req | nginx req/s | openseat / nginx (≥ $TARGET_RATIO_PCT %) | p99 ≤ $TARGET_P99_MS ms |
|---:|---|---:|---:|---:|---:|---:|---:|---|---|
${ROWS%$'\n'}

| page | p50 at $(printf "%'d" "$SMALL") (ms) | p50 at $(printf "%'d" "$LARGE") (ms) | ratio (≤ $TARGET_SCALE×) | result |
|---|---:|---:|---:|---|
${SCALE_ROWS%$'\n'}

| what | openseat | yardstick | ratio | target | result |
|---|---|---|---:|---|---|
$NOT_MODIFIED_ROW

- Command: \`make bench\` (bench/subscribers.sh, BENCH_SECONDS=$DURATION); each run \`wrk -t$THREADS -c$CONNECTIONS -d${DURATION}s --latency\`, openseat after a ${WARMUP} s warm-up, then nginx on the same bytes; all on 127.0.0.1, one at a time.
- Data: bench/seed-subscribers.sql, search terms computed by \`openseat migrate\`, the WAL checkpointed; every answer checked against the database (rows, total, total_exact) before it is measured.
- Settling before the first run: $SETTLE_NOTE.
- CPU µs/req: the server process's user + system time over the measured run (/proc/PID/stat) divided by the answers wrk counted.
- Machine: $(machine_line). Load average (1/5/15 min) before: $LOAD_BEFORE; after: $LOAD_AFTER.
- openseat: revision $(revision), $(sed -n 's/.*"msg":"listening".*"threads":"\([0-9]*\)".*/\1/p' "$WORK/openseat.log") worker threads, SQLite in a temp dir, log level info to a file. nginx: $("$NGINX" -v 2>&1 | sed 's/^nginx version: //'), 2 workers, access_log off, keep-alive.
EOF
)
echo "$SECTION"
[ -f "$RESULTS" ] || echo "# Benchmark results" >"$RESULTS"
echo "$SECTION" >>"$RESULTS"
echo
echo "bench: results appended to bench/RESULTS.md ($FAILS target(s) missed)"
