#!/usr/bin/env bash
# Runs the test layers and prints one summary line.
#
#   bash tests/run-all.sh            all layers: unit, api, api-pg, e2e, fuzz (in that order)
#   bash tests/run-all.sh api e2e    only these layers
#
# api runs the API tests (pytest, tests/api) on SQLite; api-pg runs the same tests, and the
# unit tests that take a cluster (those reading OPENSEAT_TEST_PG), on a throwaway PostgreSQL 15
# cluster (tests/pg/cluster.sh) that it starts and always stops.
#
# Every layer runs even when an earlier one fails. A layer that crashes, whose output
# cannot be read, or that runs no test at all counts as one failure. The last line is
# always "N passed, N failed"; the exit status is non-zero when anything failed.
set -u

cd "$(dirname "$0")/.." || exit 2
ROOT=$(pwd)
PYTHON=/usr/bin/python3
export PYTHONDONTWRITEBYTECODE=1

ALL_LAYERS=(unit api api-pg e2e fuzz)
if [ $# -eq 0 ]; then
    LAYERS=("${ALL_LAYERS[@]}")
else
    LAYERS=("$@")
fi
for l in "${LAYERS[@]}"; do
    case "$l" in
        unit|api|api-pg|e2e|fuzz) ;;
        *) echo "run-all.sh: unknown layer \"$l\" (layers: ${ALL_LAYERS[*]})" >&2
           echo "0 passed, 1 failed"
           exit 2 ;;
    esac
done

WORK=$(mktemp -d "${TMPDIR:-/tmp}/openseat-tests.XXXXXX") || exit 2
PG_DIR=""       # the api-pg layer's cluster directory while it may be running
CHILD=""        # the running test command (see run_logged)

cleanup() {
    if [ -n "$CHILD" ] && kill -0 "$CHILD" 2>/dev/null; then
        # Interrupted: end the test command and what it started (timeout passes SIGTERM on to
        # its process group), by force after 15 s.
        kill -TERM "$CHILD" 2>/dev/null
        local i
        for i in $(seq 1 75); do
            kill -0 "$CHILD" 2>/dev/null || break
            sleep 0.2
        done
        kill -KILL -- "-$CHILD" 2>/dev/null
        CHILD=""
    fi
    if [ -n "$PG_DIR" ]; then
        bash "$ROOT/tests/pg/cluster.sh" stop "$PG_DIR/cluster" >/dev/null 2>&1
        rm -rf "$PG_DIR"
        PG_DIR=""
    fi
    rm -rf "$WORK"
}
trap cleanup EXIT
# An interrupted run exits through the EXIT trap too (stopping a running cluster).
trap 'exit 129' HUP
trap 'exit 130' INT
trap 'exit 143' TERM

TOTAL_PASS=0
TOTAL_FAIL=0
LAYER_PASS=0
LAYER_FAIL=0
SUMMARY=()

header() { printf '\n======== %s ========\n' "$1"; }
note() { printf -- '-- %s\n' "$*"; }

# run_logged LOG TIMEOUT CMD...: run CMD (no stdin), show its output live, keep it in LOG;
# sets RC to CMD's exit status. CMD runs in the background while this shell waits, so an
# interrupt (INT, TERM, HUP) is acted on at once: the EXIT trap ends CMD and its children
# (timeout gives them a process group of their own) and stops the PostgreSQL cluster.
run_logged() {
    local log=$1 limit=$2 shower
    shift 2
    : >"$log"
    timeout --kill-after=30 "$limit" "$@" </dev/null >>"$log" 2>&1 &
    CHILD=$!
    tail -s 0.2 -n +1 --pid="$CHILD" -f "$log" &
    shower=$!
    wait "$CHILD"
    RC=$?
    CHILD=""
    wait "$shower"
    if [ "$RC" -eq 124 ] || [ "$RC" -eq 137 ]; then
        note "timed out after $limit"
    fi
}

# last_number LOG REGEX: the number captured by the last line matching REGEX (sed -E, one
# group), or empty.
last_number() {
    sed -nE "s/$2/\\1/p" "$1" | tail -n 1
}

sum_numbers() {
    sed -nE "s/$2/\\1/p" "$1" | awk '{s += $1} END {if (NR) print s}'
}

# ---------------------------------------------------------------------------------------

layer_unit() {
    local bins=() b
    for b in build/unit/test_*; do
        [ -f "$b" ] && [ -x "$b" ] && bins+=("$b")
    done
    if [ ${#bins[@]} -eq 0 ]; then
        note "no unit test binaries in build/unit"
        LAYER_FAIL=$((LAYER_FAIL + 1))
        return
    fi
    run_cmocka unit "${bins[@]}"
}

# run_cmocka TAG BIN...: cmocka test binaries, each logged in $WORK/TAG-BIN.log; adds to the
# layer's counts.
run_cmocka() {
    local tag=$1 b
    shift
    for b in "$@"; do
        local log p f
        log="$WORK/$tag-$(basename "$b").log"
        note "$b"
        run_logged "$log" 600 "$b"
        p=$(sum_numbers "$log" '^\[  PASSED  \] ([0-9]+) test\(s\).*')
        f=$(sum_numbers "$log" '^\[  FAILED  \] ([0-9]+) test\(s\).*')
        if [ -z "$p" ] && [ -z "$f" ]; then
            note "$b: no cmocka summary (exit status $RC): counted as one failure"
            LAYER_FAIL=$((LAYER_FAIL + 1))
            continue
        fi
        p=${p:-0}
        f=${f:-0}
        if [ "$RC" -ne 0 ] && [ "$f" -eq 0 ]; then
            note "$b: exit status $RC although no test failed: counted as one failure"
            f=1
        fi
        if [ $((p + f)) -eq 0 ]; then
            note "$b: ran no tests: counted as one failure"
            f=1
        fi
        LAYER_PASS=$((LAYER_PASS + p))
        LAYER_FAIL=$((LAYER_FAIL + f))
    done
}

# run_pytest NAME: the API tests (pytest, tests/api), log in $WORK/NAME.log; adds to the
# layer's counts.
run_pytest() {
    local log="$WORK/$1.log" line p f
    run_logged "$log" 3600 "$PYTHON" -m pytest -q -p no:cacheprovider tests/api
    # The summary is the last line naming counts and a duration, e.g.
    # "3 failed, 40 passed, 1 error in 12.3s" (possibly framed by '=').
    line=$(grep -E '[0-9]+ (passed|failed|errors?|skipped|xfailed|xpassed|deselected)|no tests ran' "$log" \
           | grep -E ' in [0-9.]+s' | tail -n 1)
    if [ -z "$line" ]; then
        note "pytest printed no summary (exit status $RC): counted as one failure"
        LAYER_FAIL=$((LAYER_FAIL + 1))
        return
    fi
    p=$(printf '%s\n' "$line" | grep -oE '[0-9]+ (passed|xpassed)' | awk '{s += $1} END {print s + 0}')
    f=$(printf '%s\n' "$line" | grep -oE '[0-9]+ (failed|errors?)' | awk '{s += $1} END {print s + 0}')
    if [ "$RC" -ne 0 ] && [ "$f" -eq 0 ]; then
        note "pytest exit status $RC although no test failed: counted as one failure"
        f=1
    fi
    if [ $((p + f)) -eq 0 ]; then
        note "pytest ran no tests: counted as one failure"
        f=1
    fi
    LAYER_PASS=$((LAYER_PASS + p))
    LAYER_FAIL=$((LAYER_FAIL + f))
}

layer_api() {
    # SQLite, whatever the environment says (api-pg is the PostgreSQL run).
    unset OPENSEAT_TEST_PG
    run_pytest api
}

# The API tests again, on PostgreSQL: a cluster of this run's own (trust auth on loopback),
# one database per test server (created and dropped by the API tests' fixtures: tests/api/support/db.py).
layer_api_pg() {
    local log="$WORK/api-pg-cluster.log" url
    # As root the cluster runs as the postgres user, which must be able to reach its directory.
    PG_DIR=$(mktemp -d "${TMPDIR:-/tmp}/openseat-pg.XXXXXX") || {
        note "cannot create a directory for the PostgreSQL cluster: counted as one failure"
        LAYER_FAIL=$((LAYER_FAIL + 1))
        PG_DIR=""
        return
    }
    chmod 711 "$PG_DIR"
    if ! url=$(bash tests/pg/cluster.sh start "$PG_DIR/cluster" 2>"$log") || [ -z "$url" ]; then
        cat "$log"
        note "the PostgreSQL cluster did not start (tests/pg/cluster.sh start; output above): counted as one failure"
        LAYER_FAIL=$((LAYER_FAIL + 1))
    else
        note "PostgreSQL cluster at $url"
        export OPENSEAT_TEST_PG="$url"
        run_pytest api-pg
        # The store's own tests that take a PostgreSQL cluster when given one.
        run_cmocka api-pg $(grep -l OPENSEAT_TEST_PG tests/unit/test_*.c | sed 's#tests/unit/\(.*\)\.c#build/unit/\1#')
        unset OPENSEAT_TEST_PG
    fi
    bash tests/pg/cluster.sh stop "$PG_DIR/cluster" >/dev/null 2>&1
    rm -rf "$PG_DIR"
    PG_DIR=""
}

layer_e2e() {
    local log="$WORK/e2e.log" p f c
    if [ ! -d tests/e2e ]; then
        note "tests/e2e does not exist: counted as one failure"
        LAYER_FAIL=$((LAYER_FAIL + 1))
        return
    fi
    cd tests/e2e || exit 2
    run_logged "$log" 3600 node --test --test-reporter=tap
    cd "$ROOT" || exit 2
    p=$(last_number "$log" '^# pass ([0-9]+)$')
    f=$(last_number "$log" '^# fail ([0-9]+)$')
    c=$(last_number "$log" '^# cancelled ([0-9]+)$')
    if [ -z "$p" ] || [ -z "$f" ]; then
        note "node --test printed no '# pass'/'# fail' summary (exit status $RC): counted as one failure"
        LAYER_FAIL=$((LAYER_FAIL + 1))
        return
    fi
    f=$((f + ${c:-0}))
    if [ "$RC" -ne 0 ] && [ "$f" -eq 0 ]; then
        note "node --test exit status $RC although no test failed: counted as one failure"
        f=1
    fi
    if [ $((p + f)) -eq 0 ]; then
        note "node --test ran no tests: counted as one failure"
        f=1
    fi
    LAYER_PASS=$((LAYER_PASS + p))
    LAYER_FAIL=$((LAYER_FAIL + f))
}

layer_fuzz() {
    local bins=() b
    for b in build/fuzz/fuzz_*; do
        [ -f "$b" ] && [ -x "$b" ] && bins+=("$b")
    done
    if [ ${#bins[@]} -eq 0 ]; then
        note "skipped: no fuzz binaries in build/fuzz"
        SKIPPED=1
        return
    fi
    mkdir -p build/fuzz-artifacts
    for b in "${bins[@]}"; do
        local name log scratch args
        name=$(basename "$b")
        log="$WORK/fuzz-$name.log"
        # New inputs go to a scratch directory, so the checked-in corpus stays untouched.
        scratch="$WORK/corpus-$name"
        mkdir -p "$scratch"
        args=(-runs=20000 "-artifact_prefix=$ROOT/build/fuzz-artifacts/$name-" "$scratch")
        [ -d "fuzz/corpus/$name" ] && args+=("fuzz/corpus/$name")
        note "$b ${args[*]}"
        run_logged "$log" 900 "$b" "${args[@]}"
        if [ "$RC" -eq 0 ]; then
            LAYER_PASS=$((LAYER_PASS + 1))
        else
            note "$name: exit status $RC"
            LAYER_FAIL=$((LAYER_FAIL + 1))
        fi
    done
}

# ---------------------------------------------------------------------------------------

for layer in "${LAYERS[@]}"; do
    header "$layer"
    LAYER_PASS=0
    LAYER_FAIL=0
    SKIPPED=0
    RC=0
    "layer_${layer//-/_}"
    if [ "$SKIPPED" -eq 1 ]; then
        SUMMARY+=("$(printf '%-6s skipped' "$layer")")
    else
        SUMMARY+=("$(printf '%-6s passed: %d  failed: %d' "$layer" "$LAYER_PASS" "$LAYER_FAIL")")
    fi
    TOTAL_PASS=$((TOTAL_PASS + LAYER_PASS))
    TOTAL_FAIL=$((TOTAL_FAIL + LAYER_FAIL))
done

header "summary"
for s in "${SUMMARY[@]}"; do
    printf '%s\n' "$s"
done
echo "$TOTAL_PASS passed, $TOTAL_FAIL failed"
[ "$TOTAL_FAIL" -eq 0 ]
