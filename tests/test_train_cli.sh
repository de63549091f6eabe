#!/bin/bash
# End-to-end tests of train, eval, predict and bench on the bundled demo
# data: outputs, files written, exit statuses, Ctrl-C and --resume.  TAP.
set -u
MTBERT=${MTBERT:-src/mtbert}
srcdir=${srcdir:-tests}
demo="$srcdir/../data/demo"
tmp=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null; rm -rf "$tmp"' EXIT

. "$srcdir/tap.sh"
check() { # NAME COMMAND...: passes when the command succeeds
    local name=$1
    shift
    if "$@"; then ok "$name"; else not_ok "$name" "failed: $*"; fi
}

demo_args=(--config tiny --vocab "$demo/vocab.txt" --max-length 32 --lr 1e-4
    --sst-train "$demo/sst-train.csv" --para-train "$demo/para-train.csv"
    --sts-train "$demo/sts-train.csv" --sst-dev "$demo/sst-dev.csv"
    --para-dev "$demo/para-dev.csv" --sts-dev "$demo/sts-dev.csv" --seed 3)
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

# --resume: 3 steps, then 3 more, equal the 6-step run above.
train_demo --max-steps 3 --out "$tmp/half" --metrics "$tmp/h.jsonl" >/dev/null 2>&1
train_demo_resume() { "$MTBERT" train --resume "$tmp/half" --max-steps 6 --metrics "$tmp/h.jsonl" "$@"; }
train_demo_resume >/dev/null 2>"$tmp/err"
check "resume exits 0" test $? -eq 0
if cmp -s <(grep '"task":' "$tmp/m.jsonl" | sed 's/,"time":[^}]*//') \
          <(grep '"task":' "$tmp/h.jsonl" | sed 's/,"time":[^}]*//'); then
    ok "a resumed run's losses equal the uninterrupted run's"
else
    not_ok "a resumed run's losses equal the uninterrupted run's" \
        "$(diff <(grep '"task":' "$tmp/m.jsonl") <(grep '"task":' "$tmp/h.jsonl") | head -4)"
fi
"$MTBERT" train --resume "$tmp/half" --sst-train "$demo/sst-train.csv" >/dev/null 2>"$tmp/err"
check "resume refuses to change the data" test $? -eq 2
check "... and says why" grep -q -- "--sst-train cannot change them" "$tmp/err"

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

# bench: the fixed last line.
"$MTBERT" bench --config tiny --batch 2 --seq 8 --steps 1 --warmup 0 >"$tmp/out" 2>/dev/null
check "bench exits 0" test $? -eq 0
check "bench ends with tokens/s and ms/step" \
    grep -qE '^tokens/s=[0-9]+ ms/step=[0-9.]+$' <(tail -n 1 "$tmp/out")

echo "1..$n"
