#!/bin/bash
# End-to-end tests of train, eval, predict and bench on the bundled demo
# data: outputs, files written, exit statuses, Ctrl-C and --resume.  TAP.
set -u
. "${srcdir:-tests}/demo_env.sh"
demo_args+=(--seed 3)
train_demo() { "$MTBERT" train "${demo_args[@]}" "$@"; }

# A short PCGrad run with a metrics file.
train_demo --max-steps 6 --out "$tmp/run" --metrics "$tmp/m.jsonl" >"$tmp/out" 2>"$tmp/err"
check "train exits 0" test $? -eq 0
check "the checkpoint holds the encoder, heads and training state" \
    test -f "$tmp/run/model.safetensors" -a -f "$tmp/run/heads.safetensors" -a \
    -f "$tmp/run/optimizer.safetensors" -a -f "$tmp/run/trainer.json" -a -f "$tmp/run/config.json"
check "metrics: one loss record per step and task" \
    test "$(grep -c '"task":' "$tmp/m.jsonl")" -eq 18
check "metrics: one conflict record per step" test "$(grep -c '"conflict":' "$tmp/m.jsonl")" -eq 6
check "metrics: the final evaluation" test "$(grep -c '"eval":' "$tmp/m.jsonl")" -eq 1
check "metrics: step records carry step, task and loss" \
    grep -q '^{"step":1,"task":"sst","loss":[0-9.]*,' "$tmp/m.jsonl"
check "metrics: conflict records carry the pairwise cosines" \
    grep -q '"cos":{"sst-para":[-0-9.e]*,"sst-sts":[-0-9.e]*,"para-sts":[-0-9.e]*}' "$tmp/m.jsonl"
check "without a terminal, progress is plain log lines" grep -q '^step 6/6 ' "$tmp/err"

# eval and predict on what train saved.
"$MTBERT" eval --model "$tmp/run" --sst-dev "$demo/sst-dev.csv" --para-dev "$demo/para-dev.csv" \
    --sts-dev "$demo/sts-dev.csv" --json >"$tmp/out" 2>"$tmp/err"
check "eval exits 0" test $? -eq 0
check "eval --json ends with the three metrics" \
    grep -qE '^\{"sst_acc":0\.[0-9]+,"para_acc":0\.[0-9]+,"sts_corr":-?[0-9.]+\}$' <(tail -n 1 "$tmp/out")
"$MTBERT" predict --model "$tmp/run" --sst-test "$demo/sst-dev.csv" --sts-test "$demo/sts-dev.csv" \
    --out-dir "$tmp/pred" >/dev/null 2>"$tmp/err"
check "predict exits 0" test $? -eq 0
check "predict writes the course's SST header" \
    test "$(head -n 1 "$tmp/pred/sst-test-output.csv")" = "$(printf 'id \t Predicted_Sentiment ')"
check "predict writes one line per example" test "$(wc -l <"$tmp/pred/sst-test-output.csv")" -eq 101
check "predict lines are 'id , class'" \
    grep -qE '^[0-9a-f]{25} , [0-4] $' <(sed -n 2p "$tmp/pred/sst-test-output.csv")
check "predict writes STS scores" \
    grep -qE '^[0-9a-f]{25} , [0-9.e-]+ $' <(sed -n 2p "$tmp/pred/sts-test-output.csv")

# --resume: 3 steps, then 3 more, equal an uninterrupted 6-step run.  A
# constant rate, since a decaying schedule's horizon follows the step budget
# (exact resume under a schedule: tests/test_train.c).
train_demo --max-steps 6 --schedule constant --out "$tmp/whole" --metrics "$tmp/w.jsonl" >/dev/null 2>&1
train_demo --max-steps 3 --schedule constant --out "$tmp/half" --metrics "$tmp/h.jsonl" >/dev/null 2>&1
"$MTBERT" train --resume "$tmp/half" --max-steps 6 --metrics "$tmp/h.jsonl" >/dev/null 2>"$tmp/err"
check "resume exits 0" test $? -eq 0
if cmp -s <(grep '"task":' "$tmp/w.jsonl" | sed 's/,"time":[^}]*//') \
          <(grep '"task":' "$tmp/h.jsonl" | sed 's/,"time":[^}]*//'); then
    ok "a resumed run's losses equal the uninterrupted run's"
else
    not_ok "a resumed run's losses equal the uninterrupted run's" \
        "$(diff <(grep '"task":' "$tmp/w.jsonl") <(grep '"task":' "$tmp/h.jsonl") | head -4)"
fi

# Resume that forgives: the first command line again, with --resume appended
# and a larger budget, is accepted; options that would change the run are
# refused with both values named.
first=(--max-steps 2 --out "$tmp/again" --metrics "$tmp/a.jsonl" --eval-every 1)
train_demo "${first[@]}" >/dev/null 2>&1
train_demo "${first[@]}" --resume "$tmp/again" --max-steps 4 --eval-every 2 --threads 1 \
    >/dev/null 2>"$tmp/err"
check "resume accepts the first command line again" test $? -eq 0
check "... and trains on to the new budget" test "$(grep -c '"task":' "$tmp/a.jsonl")" -eq 12
check "... noting that the linear schedule now runs over 4 steps" \
    grep -q "linear learning-rate schedule now runs over 4 steps (the checkpoint's run planned 2)" "$tmp/err"
"$MTBERT" train --resume "$tmp/again" --sst-train "$demo/sst-dev.csv" >/dev/null 2>"$tmp/err"
check "resume refuses other data: exit 2" test $? -eq 2
check "... naming the new and the saved file" \
    grep -q -- "--sst-train $(realpath "$demo/sst-dev.csv") would change the run, which was saved with --sst-train $(realpath "$demo/sst-train.csv")" "$tmp/err"
train_demo --resume "$tmp/again" --lr 3e-4 >/dev/null 2>"$tmp/err"
check "resume refuses another --lr: exit 2" test $? -eq 2
check "... naming both rates" grep -q -- "--lr 0.0003 would change the run, which was saved with --lr 0.0001" "$tmp/err"
train_demo --resume "$tmp/again" --seed 4 >/dev/null 2>"$tmp/err"
check "resume refuses another --seed" grep -q -- "--seed 4 would change the run, which was saved with --seed 3" "$tmp/err"
train_demo --resume "$tmp/again" --schedule cosine >/dev/null 2>"$tmp/err"
check "resume refuses another --schedule" grep -q -- "--schedule cosine would change the run, which was saved with --schedule linear" "$tmp/err"
"$MTBERT" train --resume "$tmp/again" --model "$srcdir/fixtures/tiny-bert" >/dev/null 2>"$tmp/err"
check "resume refuses a --model the run did not start from" grep -q -- "--model .* would change the run, which was saved with --model (none: a fresh model)" "$tmp/err"
(cd "$tmp" && "$MTBERT" train --resume again --max-steps 5 --quiet >/dev/null 2>"$tmp/err")
check "resume works from another working directory (absolute paths in the record)" test $? -eq 0

# Ctrl-C saves a loadable checkpoint and exits 130.
# (mtbert itself in the background, not a subshell, so the signal reaches it)
"$MTBERT" train "${demo_args[@]}" --max-steps 100000 --out "$tmp/int" --metrics "$tmp/i.jsonl" \
    >/dev/null 2>"$tmp/sigint.err" &
pid=$!
for _ in $(seq 100); do
    [ -s "$tmp/i.jsonl" ] && [ "$(grep -c '"task":' "$tmp/i.jsonl")" -ge 6 ] && break
    sleep 0.1
done
kill -INT $pid
wait $pid
check "SIGINT: exit status 130" test $? -eq 130
check "SIGINT: the message names the checkpoint" grep -q "saving a checkpoint to $tmp/int" "$tmp/sigint.err"
"$MTBERT" eval --model "$tmp/int" --sst-dev "$demo/sst-dev.csv" >/dev/null 2>&1
check "SIGINT: the checkpoint loads" test $? -eq 0
check "SIGINT: no temporary folder is left" test -z "$(ls -d "$tmp"/int.* 2>/dev/null)"

# Bad input: exit 2 and a message naming the file and line.
printf '\tid\tsentence\tsentiment\n0\tabc\t good\t3\n1\tdef\t bad\t9\n' >"$tmp/bad.csv"
train_demo --max-steps 1 --out "$tmp/x" --sst-train "$tmp/bad.csv" >/dev/null 2>"$tmp/err"
check "a bad label: exit 2" test $? -eq 2
check "a bad label: file and line named" grep -q "$tmp/bad.csv:3:" "$tmp/err"
"$MTBERT" train --mode nonsense >/dev/null 2>"$tmp/err"
check "a bad --mode: exit 2" test $? -eq 2
"$MTBERT" train --vocab "$demo/vocab.txt" >/dev/null 2>"$tmp/err"
check "no training data: exit 2" test $? -eq 2
check "no training data: explained" grep -q "no training data" "$tmp/err"
"$MTBERT" train --vocab "$demo/vocab.txt" --data-dir "$tmp/nowhere" >/dev/null 2>"$tmp/err"
check "a missing --data-dir: exit 2" test $? -eq 2
check "a missing --data-dir: named" grep -q -- "--data-dir $tmp/nowhere: not a folder" "$tmp/err"
"$MTBERT" eval --model "$srcdir/fixtures/tiny-bert" --sst-dev "$demo/sst-dev.csv" >/dev/null 2>"$tmp/err"
check "eval of an encoder without heads: exit 2" test $? -eq 2
check "eval of an encoder without heads: explained" grep -q "no heads.safetensors" "$tmp/err"

# Defaults that train: a fresh model gets a rate it learns at (and is told
# so); a loaded encoder keeps the fine-tuning rate 1e-5.
fresh=(--config tiny --vocab "$demo/vocab.txt" --sst-train "$demo/sst-train.csv" --max-steps 1)
"$MTBERT" train "${fresh[@]}" --out "$tmp/fresh" >/dev/null 2>"$tmp/err"
check "fresh model: trains" test $? -eq 0
check "fresh model: says which rate and pooling it trains with" \
    grep -q "a fresh model trains at --lr 0.0005 with --pooling mean by default (--lr 1e-05 and --pooling cls suit fine-tuning a pretrained encoder)" "$tmp/err"
check "fresh model: mean pooling" grep -q '"pooling": "mean"' "$tmp/fresh/mtbert.json"
record_lr() { sed -n 's/^    "lr": \([^,]*\),$/\1/p' "$1/trainer.json"; }
is_num() { awk -v a="$1" -v b="$2" 'BEGIN { d = a - b; if (d < 0) d = -d; exit !(a != "" && d <= 1e-12) }'; }
check "fresh model: the run record keeps that rate" is_num "$(record_lr "$tmp/fresh")" 5e-4
"$MTBERT" train --model "$srcdir/fixtures/tiny-bert" --sst-train "$demo/sst-train.csv" --max-steps 1 \
    --out "$tmp/tuned" >/dev/null 2>"$tmp/err"
check "loaded encoder: trains at 1e-5" is_num "$(record_lr "$tmp/tuned")" 1e-5
check "loaded encoder: no fresh-model note" test "$(grep -c 'fresh' "$tmp/err")" -eq 0
check "loaded encoder: [CLS] pooling" grep -q '"pooling": "cls"' "$tmp/tuned/mtbert.json"
"$MTBERT" train "${fresh[@]}" --pooling cls --out "$tmp/fresh-cls" >/dev/null 2>"$tmp/err"
check "fresh model, --pooling given: only the rate is defaulted and said" \
    grep -q "a fresh model trains at --lr 0.0005 by default" "$tmp/err"
"$MTBERT" train "${fresh[@]}" --lr 1e-5 --out "$tmp/slow" >/dev/null 2>"$tmp/err"
check "fresh model at a fine-tuning rate: warned, with the suggested rate" \
    grep -q "warning: --lr 1e-05 is a fine-tuning rate; a fresh, randomly initialised model barely learns at it (try --lr 0.0005)" "$tmp/err"

# Schedules: the rate of each step in the metrics file, against values worked
# out by hand (peak 1e-3, 10 steps, 2 of warmup; the first warmup step has rate 0).
lr_column() { grep '"task":"sst"' "$1" | sed 's/.*"lr":\([^,]*\),.*/\1/' | tr '\n' ' '; }
near() { # WANT... against the column in $got: each within 1e-9
    awk -v got="$got" -v want="$*" 'BEGIN { n = split(got, g, " "); m = split(want, w, " ");
        if (n != m) exit 1; for (i = 1; i <= n; i++) { d = g[i] - w[i]; if (d < 0) d = -d; if (d > 1e-9) exit 1 } }'
}
for kind in constant linear cosine; do
    "$MTBERT" train "${fresh[@]}" --max-steps 10 --lr 1e-3 --schedule $kind --warmup 2 \
        --out "$tmp/s-$kind" --metrics "$tmp/s-$kind.jsonl" >/dev/null 2>&1
done
got=$(lr_column "$tmp/s-constant.jsonl")
check "--schedule constant --warmup 2: 0, 5e-4, then 1e-3" near 0 5e-4 1e-3 1e-3 1e-3 1e-3 1e-3 1e-3 1e-3 1e-3
got=$(lr_column "$tmp/s-linear.jsonl")
check "--schedule linear --warmup 2: warmup, then (10 - k) / 8 of the peak" \
    near 0 5e-4 1e-3 8.75e-4 7.5e-4 6.25e-4 5e-4 3.75e-4 2.5e-4 1.25e-4
got=$(lr_column "$tmp/s-cosine.jsonl")
check "--schedule cosine --warmup 2: warmup, then (1 + cos(pi (k - 2) / 8)) / 2 of the peak" \
    near 0 5e-4 1e-3 9.6193977e-4 8.5355339e-4 6.9134172e-4 5e-4 3.0865828e-4 1.4644661e-4 3.8060234e-5
"$MTBERT" train "${fresh[@]}" --max-steps 10 --lr 1e-3 --schedule linear --warmup 0.2 \
    --out "$tmp/s-frac" --metrics "$tmp/s-frac.jsonl" >/dev/null 2>&1
got=$(lr_column "$tmp/s-frac.jsonl")
check "--warmup 0.2 of 10 steps is --warmup 2" near $(lr_column "$tmp/s-linear.jsonl")
"$MTBERT" train "${fresh[@]}" --schedule step >/dev/null 2>"$tmp/err"
check "a bad --schedule: exit 2" test $? -eq 2
check "... explained" grep -q -- "--schedule must be constant, linear or cosine, not 'step'" "$tmp/err"
for bad in 1.5 -1 ten; do
    "$MTBERT" train "${fresh[@]}" --warmup "$bad" >/dev/null 2>"$tmp/err"
    check "--warmup $bad: exit 2, explained" \
        sh -c "test $? -eq 2 && grep -q -- \"--warmup must be a step count (100) or a fraction of the run in \[0, 1\] (0.1), not '$bad'\" '$tmp/err'"
done

# Problems found before training, not after it.
mkdir -p "$tmp/notes" && echo keep >"$tmp/notes/readme.txt"
train_demo --max-steps 1 --out "$tmp/notes" >/dev/null 2>"$tmp/err"
check "--out on a folder that is not a model: exit 2" test $? -eq 2
check "... explained, and the folder untouched" \
    sh -c "grep -q 'exists and is not a model folder' '$tmp/err' && test -f '$tmp/notes/readme.txt'"
printf '\tid\tsentence\tsentiment\n' >"$tmp/empty.csv"
"$MTBERT" train --vocab "$demo/vocab.txt" --sst-train "$tmp/empty.csv" --out "$tmp/e" >/dev/null 2>"$tmp/err"
check "a training file without rows: exit 2" test $? -eq 2
check "... named" grep -q "$tmp/empty.csv: no training examples" "$tmp/err"
"$MTBERT" train -h >/dev/null 2>&1
check "train -h shows the help" test $? -eq 0

# A checkpoint edited by hand is refused, not trusted.
cp -r "$tmp/half" "$tmp/edited"
sed -i 's/"cursor": [0-9]*/"cursor": -1/' "$tmp/edited/trainer.json"
"$MTBERT" train --resume "$tmp/edited" --max-steps 8 >/dev/null 2>"$tmp/err"
check "a corrupted data order in trainer.json: exit 2" test $? -eq 2
check "... naming trainer.json" grep -q "edited/trainer.json" "$tmp/err"

cp -r "$tmp/again" "$tmp/edited2"
sed -i 's/"kind": "linear"/"kind": "exponential"/' "$tmp/edited2/trainer.json"
"$MTBERT" train --resume "$tmp/edited2" --max-steps 8 >/dev/null 2>"$tmp/err"
check "an unknown schedule in trainer.json: exit 2, explained" \
    sh -c "test $? -eq 2 && grep -q \"edited2/trainer.json: malformed 'schedule'\" '$tmp/err'"
cp -r "$tmp/again" "$tmp/edited3"
sed -i 's/"batch": 8/"batch": 0/' "$tmp/edited3/trainer.json"
"$MTBERT" train --resume "$tmp/edited3" --max-steps 8 >/dev/null 2>"$tmp/err"
check "a batch of 0 in the run record: exit 2, naming the key" \
    sh -c "test $? -eq 2 && grep -q \"edited3/trainer.json: the run record's 'batch' is not a valid value\" '$tmp/err'"

# The metrics file starts with the run's configuration and its groups'
# names; a resumed run appends to its own file only.
head -1 "$tmp/m.jsonl" >"$tmp/out"
check "metrics: the first record holds the run's id, configuration and group names" \
    grep -qE '^\{"mtbert_metrics":1,"run_id":"[0-9a-f]{16}","config":\{"run_id":"[0-9a-f]{16}","mode":"pcgrad",.*"groups":\["embeddings","layer.0","layer.1","pooler"\],"machine":\{"cpu":".*","kernel":"[A-Za-z0-9_]+","kernel_source":"(openblas|user|raised|kept)","kernel_reason":"[^"]*OpenBLAS[^"]*",.*"precision":"fp32"\}\}$' "$tmp/out"
# export: the same records as tidy CSV.
"$MTBERT" export "$tmp/run" --csv >"$tmp/out" 2>"$tmp/err"
check "export: a run folder's metrics as tidy CSV" \
    sh -c "test $? -eq 0 && test \"\$(head -1 '$tmp/out')\" = 'step,metric,task,pair,group,value'"
check "... one loss row per step and task" test "$(grep -c '^[0-9]*,loss,' "$tmp/out")" -eq 18
check "... per-group cosines named by their group" grep -qE '^1,group_cos,,sst-para,layer\.0,[-0-9.e]+$' "$tmp/out"
want=$(grep '^{"step":1,"task":"sst"' "$tmp/m.jsonl" | sed 's/.*"loss":\([0-9.e-]*\).*/\1/')
check "... with the metrics file's values ($want)" grep -qx "1,loss,sst,,,$want" "$tmp/out"
before=$(cksum <"$tmp/m.jsonl")
"$MTBERT" export "$tmp/m.jsonl" --csv --out "$tmp/./m.jsonl" >"$tmp/out" 2>"$tmp/err"
check "export --out onto the metrics file it reads: exit 2, the file untouched" \
    sh -c "test $? -eq 2 && grep -q \"is the run's metrics file; writing there would destroy it\" '$tmp/err' && test \"\$(cksum <'$tmp/m.jsonl')\" = '$before'"
"$MTBERT" export "$tmp/nothing" >"$tmp/out" 2>"$tmp/err"
check "export of a folder that is not there: exit 2, named" \
    sh -c "test $? -eq 2 && grep -q '$tmp/nothing: no such run folder or metrics file' '$tmp/err'"
# plot: figures of runs, SVG or PNG.
"$MTBERT" plot "$tmp/run" "$tmp/m.jsonl" --out "$tmp/fig.png" >"$tmp/out" 2>"$tmp/err"
check "plot: a PNG of two runs" \
    sh -c "test $? -eq 0 && grep -q 'wrote $tmp/fig.png' '$tmp/err' && test \"\$(head -c 8 '$tmp/fig.png' | od -An -tx1 | tr -d ' ')\" = 89504e470d0a1a0a"
check "... 960 x 1020 pixels, its three panels" \
    test "$(od -An -tu1 -j16 -N8 "$tmp/fig.png" | tr -s ' ' | sed 's/^ //')" = "0 0 3 192 0 0 3 252"
check "... and not blank (a PNG of curves compresses to more than 20 kB)" \
    test "$(wc -c <"$tmp/fig.png")" -gt 20000
"$MTBERT" plot "$tmp/run" --out "$tmp/fig.svg" >"$tmp/out" 2>"$tmp/err"
check "plot: an SVG" sh -c "test $? -eq 0 && head -2 '$tmp/fig.svg' | grep -q '<svg .*width=\"960pt\" height=\"1020pt\"'"
"$MTBERT" plot "$tmp/run" --out "$tmp/fig.jpg" >"$tmp/out" 2>"$tmp/err"
check "plot: another format is refused" \
    sh -c "test $? -eq 2 && grep -q -- \"--out must end in .svg or .png, not '$tmp/fig.jpg'\" '$tmp/err'"
"$MTBERT" plot "$tmp/none" --out "$tmp/x.png" >"$tmp/out" 2>"$tmp/err"
check "plot: a run that is not there is named" \
    sh -c "test $? -eq 2 && grep -q '$tmp/none: no such run folder or metrics file' '$tmp/err' && test ! -e '$tmp/x.png'"
train_demo --max-steps 2 --out "$tmp/other" --metrics "$tmp/other.jsonl" >/dev/null 2>&1
train_demo --max-steps 3 --out "$tmp/other" --metrics "$tmp/m.jsonl" --resume "$tmp/other" >"$tmp/out" 2>"$tmp/err"
check "a resumed run refuses another run's metrics file, naming both runs" \
    sh -c "test $? -eq 2 && grep -q -- '--metrics $tmp/m.jsonl holds the records of another run' '$tmp/err'"
train_demo --max-steps 3 --out "$tmp/other" --resume "$tmp/other" >"$tmp/out" 2>"$tmp/err"
check "... and appends to its own, marking where it resumed" \
    sh -c "test $? -eq 0 && grep -qE '^\\{\"resumed\":\\{\"run_id\":\"[0-9a-f]{16}\",\"step\":2,\"machine\":\\{\"cpu\":.*,\"precision\":\"[^\"]*\"\\}\\}\\}$' '$tmp/other.jsonl' && test \$(grep -c '\"task\":\"sst\"' '$tmp/other.jsonl') -eq 3"

# A metrics file kept inside the run folder survives the run's saves.
train_demo --max-steps 2 --out "$tmp/keep" --metrics "$tmp/keep.jsonl" >/dev/null 2>&1
mv "$tmp/keep.jsonl" "$tmp/keep/metrics.jsonl"
"$MTBERT" train --resume "$tmp/keep" --max-steps 4 --metrics "$tmp/keep/metrics.jsonl" >/dev/null 2>&1
check "a metrics file inside --out survives the save" \
    test "$(grep -c '"task":' "$tmp/keep/metrics.jsonl" 2>/dev/null)" = 12

# A model whose config cannot hold paraphrase pairs is refused with its file named.
mkdir -p "$tmp/onetype" && cp "$srcdir/fixtures/tiny-bert/"* "$tmp/onetype/"
sed -i 's/"type_vocab_size": 2/"type_vocab_size": 1/' "$tmp/onetype/config.json"
"$MTBERT" encode --model "$tmp/onetype" hi >/dev/null 2>"$tmp/err"
check "type_vocab_size 1: exit 2" test $? -eq 2
check "... naming config.json" grep -q "onetype/config.json: type_vocab_size must be at least 2" "$tmp/err"

# MGDA: trains, logs its mode, resumes.
train_demo --mode mgda --max-steps 3 --out "$tmp/mgda" --metrics "$tmp/mgda.jsonl" >"$tmp/out" 2>"$tmp/err"
check "--mode mgda trains" test $? -eq 0
check "... with a conflict record per step" test "$(grep -c '"conflict":' "$tmp/mgda.jsonl")" -eq 3
check "... and the mode in its run record" grep -q '"mode": *"mgda"' "$tmp/mgda/trainer.json"
check "... each task's weight in the metrics, summing to 1" \
    awk -F'"weight":' 'NF > 1 { split($2, a, /[{}]/); n = split(a[2], kv, ","); s = 0
        for (i = 1; i <= n; i++) { split(kv[i], p, ":"); s += p[2] }
        if (s < 0.999999 || s > 1.000001) bad = 1; seen = 1 } END { exit !(seen && !bad) }' "$tmp/mgda.jsonl"
train_demo --mode mgda --max-steps 5 --out "$tmp/mgda" --metrics "$tmp/mgda.jsonl" --resume "$tmp/mgda" \
    >"$tmp/out" 2>"$tmp/err"
check "--mode mgda resumes" sh -c "test $? -eq 0 && test \$(grep -c '\"conflict\":' '$tmp/mgda.jsonl') -eq 5"
train_demo --mode mgdb --max-steps 1 >"$tmp/out" 2>"$tmp/err"
check "an unknown mode names the modes there are" \
    sh -c "test $? -eq 2 && grep -q 'must be a method (sum, pcgrad, mgda, cagrad, gradvac, imtl, nashmtl, aligned, upgrad, uw, dwa, famo) or single:TASK' '$tmp/err'"

# Every method trains, records its weights and how well the update serves each task.
for m in cagrad gradvac imtl nashmtl aligned upgrad uw dwa famo; do
    train_demo --mode $m --max-steps 2 --out "$tmp/m-$m" --metrics "$tmp/m-$m.jsonl" >"$tmp/out" 2>"$tmp/err"
    check "--mode $m trains, its weights and served cosines in the metrics" \
        sh -c "test $? -eq 0 && test \$(grep -c '\"weight\":{\"sst\":[-0-9.e]*,\"para\":[-0-9.e]*,\"sts\":[-0-9.e]*},\"served\":{\"sst\":[-0-9.e]*,' '$tmp/m-$m.jsonl') -eq 2"
done
check "--help lists every method with its paper" \
    sh -c "'$MTBERT' train --help | grep -q 'nashmtl   Nash-MTL: the Nash bargaining solution between tasks (Navon et al. 2022)'"
train_demo --mode cagrad --cagrad-c -1 --max-steps 1 >"$tmp/out" 2>"$tmp/err"
check "a method parameter out of range is refused, naming its bounds" \
    sh -c "test $? -eq 2 && grep -q -- \"--cagrad-c must be a number in \[0, 100\], not '-1'\" '$tmp/err'"
# Method parameters are part of the run: saved, taken back on resume, not changed by it.
train_demo --mode famo --famo-lr 0.5 --max-steps 2 --out "$tmp/famo" >"$tmp/out" 2>"$tmp/err"
check "--famo-lr is saved with the run" grep -q '"famo_lr": *0.5' "$tmp/famo/trainer.json"
train_demo --mode famo --max-steps 3 --out "$tmp/famo" --resume "$tmp/famo" >"$tmp/out" 2>"$tmp/err"
check "... resuming without it keeps it" \
    sh -c "test $? -eq 0 && grep -q '\"famo_lr\": *0.5' '$tmp/famo/trainer.json' && grep -q '\"step\": 3' '$tmp/famo/trainer.json'"
train_demo --mode famo --famo-lr 0.1 --max-steps 4 --out "$tmp/famo" --resume "$tmp/famo" >"$tmp/out" 2>"$tmp/err"
check "... and a different value is refused" \
    sh -c "test $? -eq 2 && grep -q -- '--famo-lr 0.1 would change the run, which was saved with --famo-lr 0.5' '$tmp/err'"

# The pair losses: CoSENT for similarity, MNRL beside the paraphrase and similarity heads.
train_demo --sts-loss cosent --mnrl para,sts --max-steps 3 --out "$tmp/pl" --metrics "$tmp/pl.jsonl" >"$tmp/out" 2>"$tmp/err"
check "--sts-loss cosent --mnrl para,sts trains" test $? -eq 0
check "... the run record keeps them" \
    sh -c "grep -q '\"sts\": *\"cosent\"' '$tmp/pl/trainer.json' && grep -q '\"mnrl\": *\"para,sts\"' '$tmp/pl/trainer.json' && grep -q '\"cosent_scale\": *20' '$tmp/pl/trainer.json'"
train_demo --max-steps 3 --out "$tmp/pl0" --metrics "$tmp/pl0.jsonl" >"$tmp/out" 2>"$tmp/err"
first_para() { grep '"task":"para"' "$1" | head -1 | sed 's/.*"loss":\([0-9.e-]*\).*/\1/'; }
check "... and MNRL raises the paraphrase loss above the head's alone ($(first_para "$tmp/pl0.jsonl") -> $(first_para "$tmp/pl.jsonl"))" \
    awk -v a="$(first_para "$tmp/pl0.jsonl")" -v b="$(first_para "$tmp/pl.jsonl")" 'BEGIN { exit !(b > a + 0.1) }'
train_demo --max-steps 4 --out "$tmp/pl" --resume "$tmp/pl" >"$tmp/out" 2>"$tmp/err"
check "resuming without them keeps them" \
    sh -c "test $? -eq 0 && grep -q '\"mnrl\": *\"para,sts\"' '$tmp/pl/trainer.json'"
train_demo --mnrl para --max-steps 5 --out "$tmp/pl" --resume "$tmp/pl" >"$tmp/out" 2>"$tmp/err"
check "... and another --mnrl is refused, naming both" \
    sh -c "test $? -eq 2 && grep -q -- '--mnrl para would change the run, which was saved with --mnrl para,sts' '$tmp/err'"
train_demo --mnrl quora --max-steps 1 >"$tmp/out" 2>"$tmp/err"
check "a bad --mnrl is explained" \
    sh -c "test $? -eq 2 && grep -q -- \"--mnrl must be para, sts, para,sts or none, not 'quora'\" '$tmp/err'"
train_demo --sts-loss mae --max-steps 1 >"$tmp/out" 2>"$tmp/err"
check "a bad --sts-loss is explained" \
    sh -c "test $? -eq 2 && grep -q -- \"--sts-loss must be mse or cosent, not 'mae'\" '$tmp/err'"

# --save-best: the best evaluation's model beside --out.
train_demo --max-steps 20 --eval-every 5 --out "$tmp/sb" --save-best >"$tmp/out" 2>"$tmp/err"
check "--save-best trains and says when it keeps a model" \
    sh -c "test $? -eq 0 && grep -q 'best so far (dev score 0\.[0-9]*): saved to $tmp/sb-best' '$tmp/err'"
check "... a model folder (no optimizer state) in OUT-best" \
    test -f "$tmp/sb-best/model.safetensors" -a -f "$tmp/sb-best/heads.safetensors" -a ! -f "$tmp/sb-best/optimizer.safetensors"
best=$(grep -o 'best so far (dev score [0-9.]*' "$tmp/err" | tail -1 | grep -o '[0-9.]*$')
"$MTBERT" eval --model "$tmp/sb-best" --sst-dev "$demo/sst-dev.csv" --para-dev "$demo/para-dev.csv" \
    --sts-dev "$demo/sts-dev.csv" --json >"$tmp/out" 2>"$tmp/err"
got=$(tail -1 "$tmp/out" | sed 's/.*"sst_acc":\([0-9.]*\),"para_acc":\([0-9.]*\),"sts_corr":\([-0-9.]*\).*/\1 \2 \3/')
check "... whose dev score is the best one logged ($best)" \
    awk -v b="$best" -v g="$got" 'BEGIN { split(g, m, " "); s = (m[1] + m[2] + (m[3] + 1) / 2) / 3; d = s - b; exit !(d < 1e-4 && d > -1e-4) }'
mkdir -p "$tmp/busy-best" && echo x >"$tmp/busy-best/file"
train_demo --max-steps 2 --out "$tmp/busy" --save-best >"$tmp/out" 2>"$tmp/err"
check "--save-best refuses an OUT-best that is not a model folder" \
    sh -c "test $? -eq 2 && grep -q -- '--save-best: $tmp/busy-best exists and is not a model folder' '$tmp/err'"

# --precision: bf16 products (emulated on a CPU without bf16 units) follow
# the fp32 run; checkpoints are fp32 and serve either precision.
losses() { sed -n 's/^{"step":\([0-9]*\),"task":"\([a-z]*\)","loss":\([-0-9.e+]*\),.*/\1-\2 \3/p' "$1" | sort; }
train_demo --max-steps 50 --out "$tmp/p32" --metrics "$tmp/p32.jsonl" --precision fp32 --quiet >/dev/null 2>"$tmp/err32"
check "train --precision fp32 exits 0" test $? -eq 0
train_demo --max-steps 50 --out "$tmp/p16" --metrics "$tmp/p16.jsonl" --precision bf16 --quiet >/dev/null 2>"$tmp/err"
check "train --precision bf16 exits 0" test $? -eq 0
check "bf16 is announced, and said to be emulated where the CPU has no bf16 units" \
    sh -c "grep -q '^mtbert: precision bf16' '$tmp/err' && { grep -qw -e avx512_bf16 -e amx_bf16 /proc/cpuinfo || grep -q 'emulated: this CPU has no bf16 units' '$tmp/err'; }"
check "fp32 is not announced" sh -c "! grep -q precision '$tmp/err32'"
check "the metrics header names the precision" \
    sh -c "head -n 1 '$tmp/p16.jsonl' | grep -q '\"precision\":\"bf16' && head -n 1 '$tmp/p32.jsonl' | grep -q '\"precision\":\"fp32\"'"
join <(losses "$tmp/p32.jsonl") <(losses "$tmp/p16.jsonl") |
    awk '{ d = $2 - $3; if (d < 0) d = -d; m = $2 < 0 ? -$2 : $2; r = d / m; if (r > w) w = r; n++ }
         END { printf "%d %.3g\n", n, w }' >"$tmp/follow"
read -r follow_n follow_worst <"$tmp/follow"
# measured: 6.5e-4 on the tiny demo model; the products' inputs carry 8 bits
check "a bf16 run follows the fp32 run within 1% over its first 50 steps (150 losses; worst $follow_worst)" \
    awk "BEGIN { exit !($follow_n == 150 && $follow_worst <= 0.01 && $follow_worst > 1e-6) }"
"$MTBERT" eval --model "$tmp/p16" --sst-dev "$demo/sst-dev.csv" --precision fp32 --json >"$tmp/out" 2>&1
check "a checkpoint trained in bf16 evaluates in fp32" \
    grep -qE '^\{"sst_acc":0\.[0-9]+' <(tail -n 1 "$tmp/out")
train_demo --max-steps 52 --resume "$tmp/p32" --precision bf16 --quiet >/dev/null 2>"$tmp/err"
check "a run resumes in another precision" \
    sh -c "test $? -eq 0 && grep -q '^mtbert: precision bf16' '$tmp/err' && grep -q 'at step 52' '$tmp/err'"
for c in train eval score repl bench info; do
    "$MTBERT" $c --precision fp16 >/dev/null 2>"$tmp/err"
    check "$c --precision fp16 is refused, naming the choices" \
        sh -c "test $? -eq 2 && grep -q -- '--precision must be fp32, bf16 or auto' '$tmp/err'"
done

# bench: the fixed last line.
"$MTBERT" bench --config tiny --batch 2 --seq 8 --steps 1 --warmup 0 >"$tmp/out" 2>/dev/null
check "bench exits 0" test $? -eq 0
check "bench ends with tokens/s and ms/step" \
    grep -qE '^tokens/s=[0-9]+ ms/step=[0-9.]+$' <(tail -n 1 "$tmp/out")

"$MTBERT" bench --config tiny --batch 2 --seq 8 --steps 2 --warmup 0 --profile >"$tmp/out" 2>/dev/null
check "bench --profile: a row per kind of operation" \
    sh -c "grep -qE '^dense backward +[0-9.]+ +[0-9.]+% +48\$' '$tmp/out' && grep -qE '^AdamW +[0-9.]+ +[0-9.]+% +1\$' '$tmp/out' && grep -qE '^gradient merge ' '$tmp/out'"
check "bench --profile: the dense products in the step, beside the step" \
    grep -qE '^dense products in the step: [0-9.]+ ms; the step takes [0-9.]+x that$' "$tmp/out"
check "bench --profile: the same products alone, each way, and their floor" \
    grep -qE '^  all on the pool [0-9.]+ ms, all on OpenBLAS.s threads [0-9.]+ ms, the plan.s ways [0-9.]+ ms$' "$tmp/out"
check "bench --profile: the products and the step against the floor" \
    grep -qE '^dense products in the step / floor: [0-9.]+x; the step / floor: [0-9.]+x$' "$tmp/out"
check "bench: the machine line names the kernel and why" \
    grep -qE '^machine: .*; kernel [A-Za-z0-9_]+: .*OpenBLAS.*; products: (auto|pool|openblas)' "$tmp/out"

# The demo without a terminal: trains headless and saves under
# $XDG_DATA_HOME/mtbert/runs, saying where, nothing in the working folder.
mkdir -p "$tmp/democwd"
(cd "$tmp/democwd" && XDG_DATA_HOME="$tmp/xdg" "$MTBERT" </dev/null >"$tmp/out" 2>"$tmp/err")
check "the headless demo exits 0" test $? -eq 0
demo_run=$(ls -d "$tmp"/xdg/mtbert/runs/demo-* 2>/dev/null | head -1)
check "... saving the run under \$XDG_DATA_HOME/mtbert/runs" test -f "$demo_run/trainer.json"
check "... and saying where, at the start and at the end" \
    sh -c "grep -qF 'the run is saved to $demo_run' '$tmp/err' && grep -qF 'saved the run in $demo_run' '$tmp/err'"
check "... with nothing written into the working folder" test -z "$(ls -A "$tmp/democwd")"

# bench --data: the course workload on the demo files under the course names.
mkdir -p "$tmp/course"
ln -s "$(cd "$demo" && pwd)/sst-train.csv" "$tmp/course/ids-sst-train.csv"
ln -s "$(cd "$demo" && pwd)/para-train.csv" "$tmp/course/quora-train.csv"
ln -s "$(cd "$demo" && pwd)/sts-train.csv" "$tmp/course/sts-train.csv"
"$MTBERT" bench --data "$tmp/course" --vocab "$demo/vocab.txt" --config tiny --batch 4 \
    --steps 2 --warmup 1 --dump-batches "$tmp/batches.txt" >"$tmp/out" 2>"$tmp/err"
check "bench --data exits 0" test $? -eq 0
check "bench --data: sum mode by default, the fresh model's mean pooling" \
    grep -q "mode sum; pooling mean; course data $tmp/course, batch 4 per task" "$tmp/out"
check "bench --data: the real tokens and what padding would add" \
    grep -qE '^tokens/s +[0-9]+ \([0-9]+ tokens per step; padded to the longest in each batch they would be [0-9]+: [0-9]+% real\)$' "$tmp/out"
check "bench --data ends with tokens/s and ms/step" \
    grep -qE '^tokens/s=[0-9]+ ms/step=[0-9.]+$' <(tail -n 1 "$tmp/out")
# 3 steps (1 untimed) x (4 sst + 4 para + 4 + 4 sts) sequences, after a comment line
check "--dump-batches: one line per sequence of every step" \
    test "$(grep -vc '^#' "$tmp/batches.txt")" -eq 48
check "--dump-batches: STEP TASK ROLE LABEL TYPE1_FROM IDS, [CLS] first" \
    sh -c "grep -qE '^0 sst a [0-4] [0-9]+ 101( [0-9]+)+ 102\$' '$tmp/batches.txt' &&
           grep -qE '^2 sts b [0-9.]+ [0-9]+ 101( [0-9]+)+ 102\$' '$tmp/batches.txt'"
check "--dump-batches: a paraphrase pair switches to token type 1 after its first [SEP]" \
    awk '$2 == "para" { n = 0; for (i = 6; i <= NF; i++) if ($i == 102) { n = i - 6 + 1; break }
                        if ($5 != n) bad = 1; seen = 1 } END { exit !(seen && !bad) }' "$tmp/batches.txt"
"$MTBERT" bench --dump-batches "$tmp/x" --config tiny >/dev/null 2>"$tmp/err"
check "--dump-batches without --data: exit 2" test $? -eq 2
check "... explained" grep -q "need --data DIR" "$tmp/err"
"$MTBERT" bench --data "$tmp/nowhere" --vocab "$demo/vocab.txt" --config tiny >/dev/null 2>"$tmp/err"
check "bench --data on a missing folder: exit 2, naming it" \
    sh -c "test $? -eq 2 && grep -q 'nowhere: not a folder' '$tmp/err'"

echo "1..$n"
