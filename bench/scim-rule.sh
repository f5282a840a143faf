#!/usr/bin/env bash
# Benchmark "group rule over many people": the preview of a SCIM group rule over
# BENCH_RULE_PEOPLE people (every one a new subscription, written and rolled back in one
# transaction), then BENCH_SINGLE_ADDS single adds on the same agreement, timed one by one
# (median, 90th percentile). On SQLite, then on PostgreSQL (a throwaway PostgreSQL 15
# cluster, tests/pg/cluster.sh); for each binary of OPENSEAT_BIN and BENCH_BEFORE_BIN (when
# set: a build of an earlier revision, measured the same way in the same run).
#
# The timings come from bench/scim_rule_bench.py, run by pytest with the API tests' fixtures
# (a server of its own per database, the test build: build/openseat-test). Appends a dated
# section to bench/RESULTS.md. Environment:
#   BENCH_RULE_PEOPLE   people in the group (default 10000)
#   BENCH_SINGLE_ADDS   single adds timed (default 300)
#   OPENSEAT_BIN        binary to measure (default build/openseat-test)
#   BENCH_BEFORE_BIN    an earlier build to measure beside it (default: none)
set -euo pipefail

cd "$(dirname "$0")/.."
ROOT=$PWD
BIN=${OPENSEAT_BIN:-$ROOT/build/openseat-test}
BEFORE=${BENCH_BEFORE_BIN:-}
PEOPLE=${BENCH_RULE_PEOPLE:-10000}
ADDS=${BENCH_SINGLE_ADDS:-300}
RESULTS=$ROOT/bench/RESULTS.md
die() { echo "bench: $*" >&2; exit 1; }
[ -x "$BIN" ] || die "no binary at $BIN (make build/openseat-test)"
[ -z "$BEFORE" ] || [ -x "$BEFORE" ] || die "no binary at $BEFORE"

WORK=$(mktemp -d "${TMPDIR:-/tmp}/openseat-bench-rule.XXXXXX")
chmod 711 "$WORK"
cleanup() { bash tests/pg/cluster.sh stop "$WORK/cluster" >/dev/null 2>&1 || true; rm -rf "$WORK"; }
trap cleanup EXIT
PG_URL=$(bash tests/pg/cluster.sh start "$WORK/cluster") || die "the PostgreSQL cluster did not start"
PG_VERSION=$(psql -At "$PG_URL/postgres" -c "SHOW server_version")

# run NAME BINARY DATABASE-URL-OR-EMPTY: the figures into $WORK/NAME
run() {
    local out=$WORK/$1
    : >"$out"
    echo "bench: $1" >&2
    env ${3:+OPENSEAT_TEST_PG=$3} OPENSEAT_BIN="$2" BENCH_OUT="$out" BENCH_RULE_PEOPLE="$PEOPLE" \
        BENCH_SINGLE_ADDS="$ADDS" PYTHONPATH="$ROOT/tests/api" \
        /usr/bin/python3 -m pytest -q -p no:cacheprovider -p conftest --rootdir "$ROOT/tests/api" \
        "$ROOT/bench/scim_rule_bench.py" >"$out.log" 2>&1 || { cat "$out.log" >&2; die "$1 failed"; }
}
fig() { awk -v k="$2" '$1 == k { print $2 }' "$WORK/$1"; }

LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
START=$(date +%s)
cases=()
for db in sqlite pg; do
    url=""
    [ "$db" = pg ] && url=$PG_URL
    if [ -n "$BEFORE" ]; then run "before-$db" "$BEFORE" "$url"; cases+=("before-$db"); fi
    run "after-$db" "$BIN" "$url"
    cases+=("after-$db")
done
LOAD_AFTER=$(cut -d' ' -f1-3 /proc/loadavg)

label() {
    local who=${1%%-*} db=${1#*-}
    [ "$db" = pg ] && db="PostgreSQL $PG_VERSION" || db=SQLite
    if [ -n "$BEFORE" ]; then echo "$db, $([ "$who" = before ] && echo before || echo after)"; else echo "$db"; fi
}
{
    echo
    echo "## $(date -u '+%Y-%m-%d %H:%M') UTC — group rule over $PEOPLE people, and single adds"
    echo
    echo "| database | preview of the rule (s) | single add, median (ms) | single add, p90 (ms) |"
    echo "|---|---:|---:|---:|"
    for c in "${cases[@]}"; do
        echo "| $(label "$c") | $(fig "$c" preview_s) | $(fig "$c" single_add_median_ms) | $(fig "$c" single_add_p90_ms) |"
    done
    echo
    echo "- Command: \`bash bench/scim-rule.sh\` (BENCH_RULE_PEOPLE=$PEOPLE BENCH_SINGLE_ADDS=$ADDS${BEFORE:+ BENCH_BEFORE_BIN=$(basename "$BEFORE")}); the preview is one \`POST .../provisioning/mappings/preview\` timed by the client (every person a new subscription in one transaction, rolled back); then $ADDS \`POST .../subscriptions\` one after another on the same agreement, each timed. A server of its own per database and binary (the test build, 2 worker threads); PostgreSQL from tests/pg/cluster.sh (fsync, synchronous_commit and full_page_writes off)."
    echo "- Machine: $(nproc) CPUs; load average (1/5/15 min) before: $LOAD_BEFORE; after: $LOAD_AFTER. openseat revision $(git rev-parse --short HEAD). The script ran $(( $(date +%s) - START )) s."
} >>"$RESULTS"
tail -n 12 "$RESULTS"
