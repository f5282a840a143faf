#!/usr/bin/env bash
# Runs the test layers and prints one summary line.
#
#   bash tests/run-all.sh            all layers: unit, api, e2e, fuzz (in that order)
#   bash tests/run-all.sh api e2e    only these layers
#
# Every layer runs even when an earlier one fails. A layer that crashes, whose output
# cannot be read, or that runs no test at all counts as one failure. The last line is
# always "N passed, N failed"; the exit status is non-zero when anything failed.
set -u

cd "$(dirname "$0")/.." || exit 2
ROOT=$(pwd)
PYTHON=/usr/bin/python3
export PYTHONDONTWRITEBYTECODE=1

ALL_LAYERS=(unit api e2e fuzz)
if [ $# -eq 0 ]; then
    LAYERS=("${ALL_LAYERS[@]}")
else
    LAYERS=("$@")
fi
for l in "${LAYERS[@]}"; do
    case "$l" in
        unit|api|e2e|fuzz) ;;
        *) echo "run-all.sh: unknown layer \"$l\" (layers: ${ALL_LAYERS[*]})" >&2
           echo "0 passed, 1 failed"
           exit 2 ;;
    esac
done

WORK=$(mktemp -d "${TMPDIR:-/tmp}/openseat-tests.XXXXXX") || exit 2
trap 'rm -rf "$WORK"' EXIT

TOTAL_PASS=0
TOTAL_FAIL=0
LAYER_PASS=0
LAYER_FAIL=0
SUMMARY=()

header() { printf '\n======== %s ========\n' "$1"; }
note() { printf -- '-- %s\n' "$*"; }

# run_logged LOG TIMEOUT CMD...: run CMD (no stdin), show its output live, keep it in LOG;
# sets RC to CMD's exit status.
run_logged() {
    local log=$1 limit=$2
    shift 2
    timeout --kill-after=30 "$limit" "$@" </dev/null 2>&1 | tee "$log"
    RC=${PIPESTATUS[0]}
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
    for b in "${bins[@]}"; do
        local log p f
        log="$WORK/unit-$(basename "$b").log"
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

layer_api() {
    local log="$WORK/api.log" line p f
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

layer_e2e() {
    local log="$WORK/e2e.log" p f c
    if [ ! -d tests/e2e ]; then
        note "tests/e2e does not exist: counted as one failure"
        LAYER_FAIL=$((LAYER_FAIL + 1))
        return
    fi
    (cd tests/e2e && run_logged "$log" 3600 node --test --test-reporter=tap; exit "$RC")
    RC=$?
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
    "layer_$layer"
    if [ "$SKIPPED" -eq 1 ]; then
        SUMMARY+=("$(printf '%-5s skipped' "$layer")")
    else
        SUMMARY+=("$(printf '%-5s passed: %d  failed: %d' "$layer" "$LAYER_PASS" "$LAYER_FAIL")")
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
