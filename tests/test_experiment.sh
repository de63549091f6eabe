#!/bin/bash
# mtbert experiment on the bundled demo data: the seed's tables, a grid over
# methods and seeds with mean +- sd, resuming (finished runs are not trained
# again, an interrupted one continues from its checkpoint), and its errors.
# TAP.
set -u
. "${srcdir:-tests}/demo_env.sh"
demo_args+=(--quiet)
experiment() { "$MTBERT" experiment "${demo_args[@]}" "$@"; }

# --precision goes to every run, which records it.
experiment --out "$tmp/bf16" --methods sum --max-steps 2 --precision bf16 >/dev/null 2>"$tmp/err"
check "experiment --precision bf16 exits 0" test $? -eq 0
check "... each run's metrics header names bf16" \
    grep -q '"precision":"bf16' <(head -n 1 "$tmp/bf16/sum-cls-s11711/metrics.jsonl")

# The seed's Tables 1 and 2.
experiment --out "$tmp/seed" --max-steps 4 >"$tmp/out" 2>"$tmp/err"
check "the default experiment exits 0" test $? -eq 0
check "... training the seed's six runs" test "$(grep -c '^run [1-6]/6 .*: training$' "$tmp/err")" -eq 6
check "... each in its folder: checkpoint, metrics, result" \
    test -f "$tmp/seed/pcgrad-mean-s11711/checkpoint/trainer.json" -a \
    -f "$tmp/seed/pcgrad-mean-s11711/metrics.jsonl" -a -f "$tmp/seed/single-sts-cls-s11711/result.json"
check "... the Markdown table on stdout and in results.md" \
    sh -c "cmp -s '$tmp/out' '$tmp/seed/results.md' && head -1 '$tmp/out' | grep -qx '| mode | pooling | seeds | SST acc | Quora acc | STS r | mean | time |'"
check "... rows in the seed's order" \
    test "$(cut -d'|' -f2,3 "$tmp/seed/results.md" | tail -n +3 | tr -d ' ' | tr '\n' ' ')" = \
    "single:sst|cls single:para|cls single:sts|cls sum|cls pcgrad|cls pcgrad|mean "
check "... a single-task run reports its own task only" \
    grep -qE '^\| single:para \| cls \| 1 \| - \| 0\.[0-9]{3} \| - \| - \|' "$tmp/seed/results.md"
# The table is the runs' own final evaluations: the sum run's STS r is the
# last eval record of its metrics file.
want=$(grep '"eval"' "$tmp/seed/sum-cls-s11711/metrics.jsonl" | tail -1 | sed 's/.*"sts_corr":\([-0-9.e]*\).*/\1/')
got=$(grep '^sum,cls,' "$tmp/seed/runs.csv" | cut -d, -f7)
check "... figures from the runs' last evaluations ($got)" \
    awk -v a="$want" -v b="$got" 'BEGIN { d = a - b; exit !(d < 1e-5 && d > -1e-5) }'
check "... and the mean is the course's overall score" \
    awk -F, '$1 == "sum" { m = ($5 + $6 + ($7 + 1) / 2) / 3; d = m - $8; exit !(d < 1e-5 && d > -1e-5) }' \
    "$tmp/seed/runs.csv"

# Again: nothing is trained, the table is the same.
cp "$tmp/seed/results.md" "$tmp/before.md"
experiment --out "$tmp/seed" --max-steps 4 >"$tmp/out" 2>"$tmp/err"
check "run again: every run is done before" \
    sh -c "test $? -eq 0 && test \$(grep -c 'done before$' '$tmp/err') -eq 6 && ! grep -q ': training$' '$tmp/err'"
check "... and the table is unchanged" cmp -s "$tmp/before.md" "$tmp/seed/results.md"
experiment --out "$tmp/seed" --max-steps 5 >"$tmp/out" 2>"$tmp/err"
check "other options on the same folder are refused" \
    sh -c "test $? -eq 2 && grep -q 'holds an experiment with other options' '$tmp/err'"

# A grid: methods x seeds, with mean +- sd.
experiment --out "$tmp/grid" --methods sum,mgda --seeds 1,2 --max-steps 3 >"$tmp/out" 2>"$tmp/err"
check "a grid of 2 methods x 2 seeds: four runs" \
    sh -c "test $? -eq 0 && test \$(grep -c ': training$' '$tmp/err') -eq 4"
check "... two rows over two seeds, with a standard deviation" \
    test "$(grep -cE '^\| (sum|mgda) \| cls \| 2 \| 0\.[0-9]{3} ± 0\.[0-9]{3} \|' "$tmp/grid/results.md")" -eq 2
check "... runs.csv: one row per run" test "$(tail -n +2 "$tmp/grid/runs.csv" | wc -l)" -eq 4

# Ctrl-C: the run in progress saves its checkpoint; the next call resumes it.
"$MTBERT" experiment "${demo_args[@]}" --out "$tmp/int" --methods pcgrad --max-steps 600 >"$tmp/out" 2>"$tmp/err" &
pid=$!
# interrupt once the run has taken 20 steps (its metrics file says so)
for _ in $(seq 1 400); do
    test "$(grep -c '"task":"sst"' "$tmp/int/pcgrad-cls-s11711/metrics.jsonl" 2>/dev/null)" -ge 20 && break
    sleep 0.05
done
kill -INT $pid
wait $pid
st=$?
check "SIGINT during a run: exit 130" test $st -eq 130
check "... saying how to resume" grep -q 'interrupted during pcgrad-cls-s11711, which saved its checkpoint; run the same command again to resume' "$tmp/err"
check "... the run's checkpoint is there, its result is not" \
    test -f "$tmp/int/pcgrad-cls-s11711/checkpoint/trainer.json" -a ! -f "$tmp/int/pcgrad-cls-s11711/result.json"
saved=$(sed -n 's/^ *"step": \([0-9]*\),*$/\1/p' "$tmp/int/pcgrad-cls-s11711/checkpoint/trainer.json")
experiment --out "$tmp/int" --methods pcgrad --max-steps 600 >"$tmp/out" 2>"$tmp/err"
check "run again: it resumes from step $saved and finishes" \
    sh -c "test $? -eq 0 && grep -q 'resuming from its checkpoint' '$tmp/err' && grep -q '\"steps\": 600' '$tmp/int/pcgrad-cls-s11711/result.json'"
check "... one loss record per step in the metrics, none lost or repeated" \
    test "$(grep -c '"task":"sst"' "$tmp/int/pcgrad-cls-s11711/metrics.jsonl")" -eq 600

# Errors.
"$MTBERT" experiment --config tiny --vocab "$demo/vocab.txt" --sst-train "$demo/sst-train.csv" \
    --out "$tmp/noval" >"$tmp/out" 2>"$tmp/err"
check "no validation data: exit 2, explained" \
    sh -c "test $? -eq 2 && grep -q 'the table needs validation data' '$tmp/err'"
experiment --out "$tmp/x" --mode sum >"$tmp/out" 2>"$tmp/err"
check "--mode is the experiment's to set: exit 2, pointing to --methods" \
    sh -c "test $? -eq 2 && grep -q -- '--mode is set by the experiment for each run (use --methods' '$tmp/err'"
experiment --out "$tmp/x" --methods sum,mgdb >"$tmp/out" 2>"$tmp/err"
check "an unknown method is named, with the ones there are" \
    sh -c "test $? -eq 2 && grep -q \"'mgdb' is not a mode (sum, pcgrad, mgda\" '$tmp/err'"
experiment --out "$tmp/x" --methods sum --seeds 1,x >"$tmp/out" 2>"$tmp/err"
check "a bad seed is refused" sh -c "test $? -eq 2 && grep -q \"not 'x'\" '$tmp/err'"
experiment --out "$tmp/x" --methods sum --max-steps 2 --lr fast >"$tmp/out" 2>"$tmp/err"
check "a bad train option fails the run, naming it and the folder" \
    sh -c "test $? -eq 2 && grep -q -- '--lr must be a number' '$tmp/err' && grep -q 'run sum-cls-s11711 failed (exit status 2)' '$tmp/err'"
"$MTBERT" experiment --help >"$tmp/out" 2>&1
check "experiment --help explains the grid and resuming" \
    sh -c "grep -q 'Table 1' '$tmp/out' && grep -q 'Running the same command again resumes' '$tmp/out'"

echo "1..$n"
