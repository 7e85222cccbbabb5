#!/usr/bin/env bash
# Soak check for the nightly job: the whole scenario suite ITERATIONS times (default 20),
# and between two complete runs one more run that is interrupted at a random moment with
# SIGINT or SIGKILL (chosen at random). It asserts that
#   - every complete run has the same outcome, scenario by scenario, as the first;
#   - an interrupted run exits 130 on SIGINT;
#   - after every run (complete, interrupted, or killed and then followed by the next
#     run, which sweeps what a killed run could not remove) nothing is left: no process,
#     no temporary directory, no mount, no listening socket of the soak's runs.
#
# Usage: scripts/soak.sh [ITERATIONS]      (SOAK_SEED=N for a reproducible sequence,
#        SOAK_ARGS="--network open" for extra `modchaos run` arguments,
#        MODCHAOS=path/to/modchaos to use a given binary; default: target/release,
#        built if missing)
# Exit status 0 when every check held, 1 otherwise (the failures are listed).
set -uo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)

ITERATIONS=${1:-20}
SEED=${SOAK_SEED:-$$}
RANDOM=$SEED
EXTRA=${SOAK_ARGS:-}
if [[ -z "${MODCHAOS:-}" ]]; then
    MODCHAOS="$ROOT/target/release/modchaos"
    [[ -x "$MODCHAOS" ]] || cargo build --release --quiet || exit 1
fi

SOAK=$(mktemp -d "${TMPDIR:-/tmp}/modchaos-soak.XXXXXX")
mkdir -p "$SOAK/base" "$SOAK/tmp" "$SOAK/cwd" "$SOAK/logs"
export MODCHAOS_TMPDIR="$SOAK/base" TMPDIR="$SOAK/tmp"
FAILURES=()
fail() { FAILURES+=("$1"); echo "soak: FAILED: $1" >&2; }

# Processes of the soak's runs: working directory or command line inside $SOAK (go and
# git work in sandboxes there, lock holders name their lock file, sealed children and
# holders inherit $SOAK/cwd). Zombies are dead: left out.
soak_pids() {
    local dir pid cwd
    for dir in /proc/[0-9]*; do
        pid=${dir#/proc/}
        [[ $pid == "$$" || $pid == "$BASHPID" ]] && continue
        [[ $(awk '{print $3}' "$dir/stat" 2>/dev/null) == Z ]] && continue
        cwd=$(readlink "$dir/cwd" 2>/dev/null) || continue
        if [[ $cwd == "$SOAK"* ]] || tr '\0' ' ' <"$dir/cmdline" 2>/dev/null | grep -qF "$SOAK/"; then
            echo "$pid"
        fi
    done
}

# Listening TCP sockets held by the soak's processes.
soak_listeners() {
    local pid inode
    for pid in $(soak_pids); do
        for inode in $(ls -l "/proc/$pid/fd" 2>/dev/null | sed -n 's/.*socket:\[\([0-9]*\)\].*/\1/p'); do
            # State 0A is LISTEN in /proc/net/tcp{,6}.
            awk -v i="$inode" '$4 == "0A" && $10 == i {print "pid " p " listens on " $2}' p="$pid" \
                /proc/net/tcp /proc/net/tcp6 2>/dev/null
        done
    done
}

# Everything a finished run may not leave; $1 names the moment.
check_clean() {
    local when=$1 left pids
    for _ in $(seq 1 100); do
        pids=$(soak_pids)
        [[ -z "$pids" ]] && break
        sleep 0.1
    done
    if [[ -n "$pids" ]]; then
        fail "$when: processes left: $(for p in $pids; do echo -n "[$p $(tr '\0' ' ' </proc/$p/cmdline 2>/dev/null)] "; done)"
        kill -9 $pids 2>/dev/null
    fi
    left=$(soak_listeners)
    [[ -n "$left" ]] && fail "$when: listening sockets left: $left"
    left=$(find "$SOAK/base" "$SOAK/tmp" -mindepth 1 -maxdepth 1 2>/dev/null)
    [[ -n "$left" ]] && fail "$when: temporary directories left: $left"
    left=$(awk -v s="$SOAK" 'index($5, s) == 1 || $5 ~ /modchaos-/ {print $5}' /proc/self/mountinfo)
    [[ -n "$left" ]] && fail "$when: mounts left: $left"
}

# `file status` per scenario of a journal, sorted.
outcomes() { sed -E 's/.*"file":"([^"]*)","status":"([^"]*)".*/\1 \2/' "$1" | sort; }

echo "soak: $ITERATIONS iteration(s), seed $SEED, $MODCHAOS $EXTRA, in $SOAK"
FIRST=""
for i in $(seq 1 "$ITERATIONS"); do
    started=$(date +%s)
    (cd "$SOAK/cwd" && "$MODCHAOS" run "$ROOT/scenarios" $EXTRA --json "$SOAK/logs/journal-$i.json" \
        >"$SOAK/logs/run-$i.out" 2>&1)
    code=$?
    took=$(( $(date +%s) - started ))
    outcomes "$SOAK/logs/journal-$i.json" >"$SOAK/logs/outcomes-$i.txt"
    counts=$(awk '{print $2}' "$SOAK/logs/outcomes-$i.txt" | sort | uniq -c | tr -s ' \n' ' ')
    echo "soak: run $i: exit $code in ${took}s:$counts"
    if [[ -z "$FIRST" ]]; then
        FIRST="$SOAK/logs/outcomes-$i.txt"
        FIRST_CODE=$code
        [[ -s "$FIRST" ]] || fail "run 1 recorded no scenario (see $SOAK/logs/run-1.out)"
    else
        [[ $code == "$FIRST_CODE" ]] || fail "run $i exited $code, run 1 exited $FIRST_CODE"
        if ! diff -u "$FIRST" "$SOAK/logs/outcomes-$i.txt" >"$SOAK/logs/diff-$i.txt"; then
            fail "run $i's outcomes differ from run 1's: $(grep '^[-+][^-+]' "$SOAK/logs/diff-$i.txt" | tr '\n' ' ')"
        fi
    fi
    check_clean "after run $i"

    # An interrupted run: at a random moment within the time a whole run takes.
    signal=$([[ $((RANDOM % 2)) == 0 ]] && echo INT || echo KILL)
    delay_ms=$(( (RANDOM % (took * 1000 + 1000)) + 100 ))
    (cd "$SOAK/cwd" && exec "$MODCHAOS" run "$ROOT/scenarios" $EXTRA >"$SOAK/logs/interrupted-$i.out" 2>&1) &
    victim=$!
    sleep "$(awk -v ms="$delay_ms" 'BEGIN {printf "%.3f", ms / 1000}')"
    kill -s "$signal" "$victim" 2>/dev/null
    # (quietly: bash would report the job it killed)
    { wait "$victim"; } 2>/dev/null
    code=$?
    echo "soak: interrupted run $i: SIG$signal after ${delay_ms} ms, exit $code"
    if [[ $signal == INT && $code != 130 && $code != "$FIRST_CODE" ]]; then
        # A run that ended before the signal exits as a complete run does.
        fail "interrupted run $i: SIGINT gave exit $code, not 130"
    fi
    if [[ $signal == INT ]]; then
        check_clean "after SIGINT $i"
    else
        # A killed run cannot remove its sandboxes: its processes must be gone at once,
        # and the next run must sweep the directories (checked after it).
        for _ in $(seq 1 100); do [[ -z "$(soak_pids)" ]] && break; sleep 0.1; done
        [[ -z "$(soak_pids)" ]] || fail "after SIGKILL $i: processes left: $(soak_pids | tr '\n' ' ')"
        kill -9 $(soak_pids) 2>/dev/null
    fi
done

# The last kill's leftovers are swept by one more (quick) run.
printf 'name: sweep\nmodules: [%s/fixtures/modules]\nhosts:\n  proxy.corp.example:\n    goproxy: {}\nrun: {modules: [corp.example/lib@v1.0.0]}\nexpect: {exit: success}\n' \
    "$ROOT" >"$SOAK/cwd/sweep.yaml"
(cd "$SOAK/cwd" && "$MODCHAOS" run sweep.yaml --network open >"$SOAK/logs/sweep.out" 2>&1) || fail "the final sweep run failed"
check_clean "at the end"

if ((${#FAILURES[@]})); then
    echo "soak: ${#FAILURES[@]} failure(s); logs in $SOAK/logs" >&2
    exit 1
fi
echo "soak: OK: $ITERATIONS complete run(s) with identical outcomes, $ITERATIONS interrupted, nothing left"
rm -rf "$SOAK"
