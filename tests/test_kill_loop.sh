#!/bin/bash
# NOT YET IN make check: it needs train --save-every, which issue 22 wires next
# (the library side, mtb_train_options.save_every_*, is in place).
# Nothing lost on kill -9 (SQLite's crash tests are the model): a tiny run
# with periodic checkpoints (--save-every) is killed with SIGKILL at random
# moments -- in a step, a save, an evaluation, a metrics write -- and each
# time started again with the same command plus --resume.  At the end its
# model, heads and optimizer state are bit-identical to an uninterrupted
# run's, and its metrics file holds exactly one loss per step and task, the
# uninterrupted run's, as export and plot read it.
#
#   tests/test_kill_loop.sh [KILLS]   (make check: 4 kills; make soak: 30)
# TAP.
set -u
. "${srcdir:-tests}/demo_env.sh"
kills=${1:-${KILL_LOOP_KILLS:-4}}
steps=60
# One thread: the products' plan may not change the bits between segments.
run_args=("${demo_args[@]}" --seed 5 --max-steps $steps --eval-every 7 --threads 1 --quiet)

"$MTBERT" train "${run_args[@]}" --save-every 0 --out "$tmp/whole" --metrics "$tmp/whole.jsonl" \
    >/dev/null 2>"$tmp/err"
check "the uninterrupted run finishes" test $? -eq 0

# The killed run: started, then killed at a random moment, then resumed,
# until a segment finishes by itself.
RANDOM=${KILL_LOOP_SEED:-17}
cmd=(train "${run_args[@]}" --save-every 4 --out "$tmp/cut" --metrics "$tmp/cut.jsonl")
killed=0 segments=0 resumed=0 finished=false failed=""
while ! $finished && [ $segments -lt $((kills * 4 + 20)) ]; do
    segments=$((segments + 1))
    if [ -f "$tmp/cut/trainer.json" ]; then
        "$MTBERT" "${cmd[@]}" --resume "$tmp/cut" >/dev/null 2>>"$tmp/segments.err" &
        resumed=$((resumed + 1))
    else
        # killed before the first checkpoint: nothing to resume yet
        "$MTBERT" "${cmd[@]}" --force >/dev/null 2>>"$tmp/segments.err" &
    fi
    pid=$!
    if [ $killed -lt "$kills" ]; then
        # 0.05 s to 1.5 s: from start-up to several checkpoints in
        sleep "$(printf '0.%03d' $((RANDOM % 1000)))"
        [ $((RANDOM % 3)) -eq 0 ] && sleep 0.5
        if kill -9 $pid 2>/dev/null; then
            killed=$((killed + 1))
        fi
    fi
    wait $pid 2>/dev/null
    st=$?
    if [ $st -eq 0 ]; then
        finished=true
    elif [ $st -ne 137 ]; then
        failed="a segment exited $st: $(tail -n 3 "$tmp/segments.err")"
        break
    fi
done
if [ -n "$failed" ]; then not_ok "the killed run resumes every time" "$failed"
else check "the killed run resumes every time and finishes ($killed kills, $resumed resumes)" $finished; fi

for f in model.safetensors heads.safetensors optimizer.safetensors; do
    check "$f is bit-identical to the uninterrupted run's" cmp -s "$tmp/whole/$f" "$tmp/cut/$f"
done

# The history, as the readers see it: each (step, task) loss once, equal to
# the uninterrupted run's, and the evaluations at the same steps.
"$MTBERT" export "$tmp/whole.jsonl" --csv >"$tmp/whole.csv" 2>"$tmp/err"
"$MTBERT" export "$tmp/cut.jsonl" --csv >"$tmp/cut.csv" 2>"$tmp/export.err"
check "export reads the killed run's history" test $? -eq 0
check "... without a warning (no cut line survives a resume)" test ! -s "$tmp/export.err"
check "... one loss per step and task" \
    test "$(grep -c '^[0-9]*,loss,' "$tmp/cut.csv")" -eq $((steps * 3))
# every row but the clock's: losses, evaluations, conflict statistics
losses() { grep -v '^[0-9]*,time,' "$1"; }
if cmp -s <(losses "$tmp/whole.csv") <(losses "$tmp/cut.csv"); then
    ok "... the uninterrupted run's losses, evaluations and statistics, bit for bit"
else
    not_ok "... the uninterrupted run's losses, evaluations and statistics, bit for bit" \
        "$(diff <(losses "$tmp/whole.csv") <(losses "$tmp/cut.csv") | head -6)"
fi
"$MTBERT" plot "$tmp/cut" --out "$tmp/cut.svg" >/dev/null 2>"$tmp/err"
check "plot reads it" test $? -eq 0
echo "1..$n"
