#!/bin/bash
# Hostile files, broken checkpoints and diverging runs: each case is a
# regression test of a failure once found in mtbert (use after free, hangs,
# crashes, silent NaN).  TAP.
set -u
MTBERT=${MTBERT:-src/mtbert}
MTBERT=$(cd "$(dirname "$MTBERT")" && pwd)/$(basename "$MTBERT")
srcdir=${srcdir:-tests}
demo="$srcdir/../data/demo"
fix="$srcdir/fixtures"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

. "$srcdir/tap.sh"
# status NAME WANT: the exit status of the last command ($st) is WANT
status() { if [ "$st" -eq "$2" ]; then ok "$1"; else not_ok "$1" "exit status $st, expected $2" "stderr: $(head -c 400 "$tmp/err")"; fi; }
says() { check "$1" grep -qF -- "$2" "$tmp/err"; }

demo_args=(--config tiny --vocab "$demo/vocab.txt" --max-length 32 --seed 3
    --sst-train "$demo/sst-train.csv" --sts-train "$demo/sts-train.csv")

# ---- model folders
cp -r "$fix/tiny-bert" "$tmp/vsize"
sed -i 's/"vocab_size": 281/"vocab_size": 282/' "$tmp/vsize/config.json"
"$MTBERT" encode --model "$tmp/vsize" hello >/dev/null 2>"$tmp/err"; st=$?
status "config.json's vocab_size against vocab.txt: exit 2" 2
says "... naming both counts (once a use after free)" "$tmp/vsize/vocab.txt has 281 tokens but $tmp/vsize/config.json says vocab_size 282"

cp -r "$fix/tiny-bert" "$tmp/huge"
sed -i 's/"hidden_size": [0-9]*/"hidden_size": 16384/' "$tmp/huge/config.json"
"$MTBERT" encode --model "$tmp/huge" hello >/dev/null 2>"$tmp/err"; st=$?
status "hidden_size 16384: exit 2 before any allocation" 2
says "... naming the bound" "hidden_size 16384 is more than the 4096 mtbert supports"

cp -r "$fix/tiny-bert" "$tmp/dirconf"
rm "$tmp/dirconf/config.json" && mkdir "$tmp/dirconf/config.json"
"$MTBERT" encode --model "$tmp/dirconf" hello >/dev/null 2>"$tmp/err"; st=$?
status "a folder named config.json: exit 2" 2
says "... says so" "$tmp/dirconf/config.json: is a folder, not a JSON file"

# poke FILE TENSOR BYTES: overwrites the first float of TENSOR (a name ending)
poke() {
    local hlen start
    hlen=$(od -An -t u8 -N8 "$1" | tr -d ' ')
    start=$(head -c $((8 + hlen)) "$1" | tail -c "$hlen" |
        grep -o "\"[^\"]*$2\":{[^}]*}" | sed 's/.*"data_offsets":\[\([0-9]*\),.*/\1/')
    printf "$3" | dd of="$1" bs=1 seek=$((8 + hlen + start)) conv=notrunc 2>/dev/null
}
cp -r "$fix/tiny-bert" "$tmp/nanw"
poke "$tmp/nanw/model.safetensors" word_embeddings.weight '\000\000\300\177' # NaN
"$MTBERT" encode --model "$tmp/nanw" hello >/dev/null 2>"$tmp/err"; st=$?
status "NaN in model.safetensors: refused, exit 2" 2
says "... naming the file and the tensor" "$tmp/nanw/model.safetensors: tensor 'embeddings.word_embeddings.weight' holds NaN or infinite values"

# ---- data files
# A field that is a terminal escape sequence is quoted visibly: it must not
# set the terminal's title (OSC 0), or write its clipboard (OSC 52).
printf '\tid\tsentence\tsentiment\n0\tabc\tfine\t\033]0;PWNED\007\n' >"$tmp/esc.csv"
"$MTBERT" train "${demo_args[@]}" --sst-train "$tmp/esc.csv" --max-steps 1 --out "$tmp/e" >/dev/null 2>"$tmp/err"; st=$?
status "a label holding an escape sequence: exit 2" 2
says "... quoted with the escape shown, not sent" "$tmp/esc.csv:2: sentiment '\033]0;PWNED\007' is not an integer in 0..4"
check "... and no ESC or BEL byte reaches the terminal" sh -c "! grep -q \"\$(printf '[\033\007]')\" '$tmp/err'"
"$MTBERT" train --batch "$(printf '8\033[2J')" >/dev/null 2>"$tmp/err"; st=$?
says "an argument holding an escape sequence is quoted visibly in the usage error" '\033[2J'

"$MTBERT" train "${demo_args[@]}" --sst-train /dev/zero --max-steps 1 --out "$tmp/z" >/dev/null 2>"$tmp/err"; st=$?
status "/dev/zero as a data file: exit 2, not unbounded memory" 2
says "... naming the limit" "/dev/zero: larger than 2048 MiB, the limit for a data file"

# ---- training checkpoints edited by hand, or by a crash
"$MTBERT" train "${demo_args[@]}" --max-steps 2 --out "$tmp/run" >/dev/null 2>&1
edit() { # NAME SED-EXPRESSION: a copy of the run with trainer.json edited
    rm -rf "$tmp/$1" && cp -r "$tmp/run" "$tmp/$1" && sed -i "$2" "$tmp/$1/trainer.json"
}
resume() { timeout 60 "$MTBERT" train --resume "$tmp/$1" --max-steps 4 >/dev/null 2>"$tmp/err"; st=$?; }
edit zero-rng '/"pcgrad_rng"/,/\]/ s/"[0-9a-f]\{16\}"/"0000000000000000"/'
resume zero-rng
status "an all-zero random state: exit 2 at once (it used to hang forever)" 2
says "... explained" "'rng' and 'pcgrad_rng' four 64-bit hex words, not all zero"
edit empty-rng '/"rng"/,/\]/ s/"[0-9a-f]\{16\}"/""/'
resume empty-rng
status "empty random-state words: exit 2" 2
edit neg-batch 's/"task_batch": \[[^]]*\]/"task_batch": [-8, 0, 0]/'
sed -i '/"task_batch": \[$/,/\]/ { s/^\( *\)[0-9]*,$/\1-8,/ }' "$tmp/neg-batch/trainer.json"
resume neg-batch
status "a negative task batch: exit 2 (it used to crash in dropout)" 2
says "... naming the key" "the run record's 'task_batch' is not a valid value"
edit inf-lr '0,/"lr": [^,]*,/ s/"lr": [^,]*,/"lr": 1e400,/'
resume inf-lr
status "an infinite learning rate: exit 2" 2
edit big-lr '0,/"lr": [^,]*,/ s/"lr": [^,]*,/"lr": 1e10,/'
resume big-lr
status "a learning rate of 1e10: exit 2" 2
says "... naming the bound" "'lr' must be a number in (0, 10]"
rm -rf "$tmp/nanopt" && cp -r "$tmp/run" "$tmp/nanopt"
poke "$tmp/nanopt/optimizer.safetensors" encoder.v '\000\000\200\177' # +infinity
resume nanopt
status "an infinite optimizer moment: exit 2" 2
says "... named" "optimizer.safetensors: the optimizer's moments hold NaN or infinite values"

rm -rf "$tmp/dirset" && cp -r "$tmp/run" "$tmp/dirset"
rm "$tmp/dirset/mtbert.json" && mkdir "$tmp/dirset/mtbert.json"
"$MTBERT" eval --model "$tmp/dirset" --sst-dev "$demo/sst-dev.csv" >/dev/null 2>"$tmp/err"; st=$?
status "a folder in place of mtbert.json: exit 2" 2
says "... named, not ':-1:-1: unable to open'" "$tmp/dirset/mtbert.json: is a folder, not a JSON file"
rm -rf "$tmp/dangling" && cp -r "$tmp/run" "$tmp/dangling"
rm "$tmp/dangling/vocab.txt" && ln -s "$tmp/nowhere.txt" "$tmp/dangling/vocab.txt"
"$MTBERT" eval --model "$tmp/dangling" --sst-dev "$demo/sst-dev.csv" >/dev/null 2>"$tmp/err"; st=$?
status "an unreadable vocab.txt (a dangling link): exit 2" 2
says "... named with the reason" "$tmp/dangling/vocab.txt: cannot open: No such file or directory"

# ---- the divergence guard (MTBERT_INJECT_NAN makes one task's gradient NaN)
MTBERT_INJECT_NAN=4:sts "$MTBERT" train --resume "$tmp/run" --max-steps 6 >/dev/null 2>"$tmp/err"; st=$?
status "a NaN gradient stops the run: exit 1" 1
says "... naming the step, the task and the tensor" "training diverged at step 4, task sts: the gradient of 'encoder.layer.0.attention.self.query.weight' holds NaN or infinite values"
check "... and the last checkpoint is kept as it was (step 2)" grep -q '"step": 2,' "$tmp/run/trainer.json"
"$MTBERT" eval --model "$tmp/run" --sst-dev "$demo/sst-dev.csv" >/dev/null 2>&1
check "... and still loads" test $? -eq 0
cp -r "$tmp/run" "$tmp/skip"
MTBERT_INJECT_NAN=4:sts "$MTBERT" train --resume "$tmp/skip" --max-steps 6 --on-nan skip >/dev/null 2>"$tmp/err"; st=$?
status "--on-nan skip: the run goes on, exit 0" 0
says "... the skipped step is named" "skipped (--on-nan skip): step 4, task sts"
check "... the checkpoint counts 6 steps, 5 updates, 1 skipped" \
    sh -c "grep -q '\"step\": 6,' '$tmp/skip/trainer.json' && grep -q '\"updates\": 5,' '$tmp/skip/trainer.json' && grep -q '\"skipped\": 1,' '$tmp/skip/trainer.json'"
MTBERT_INJECT_NAN=2:sst "$MTBERT" train "${demo_args[@]}" --mode single:sst --max-steps 3 --out "$tmp/single" >/dev/null 2>"$tmp/err"; st=$?
status "single-task runs are guarded too: exit 1" 1
says "... named" "training diverged at step 2, task sst: the gradient of"
check "... and nothing was saved" test ! -e "$tmp/single"
"$MTBERT" train "${demo_args[@]}" --on-nan maybe >/dev/null 2>"$tmp/err"; st=$?
status "--on-nan maybe: exit 2" 2
says "... explained" "--on-nan must be stop or skip, not 'maybe'"

# ---- runs are never destroyed by accident
"$MTBERT" train "${demo_args[@]}" --max-steps 1 --out "$tmp/run" >/dev/null 2>"$tmp/err"; st=$?
status "--out on a folder holding another run: exit 2" 2
says "... explained" "--out $tmp/run already holds a saved run; --resume $tmp/run continues it, --force replaces it"
check "... and the run is untouched" grep -q '"step": 2,' "$tmp/run/trainer.json"
cp -r "$tmp/run" "$tmp/forced"
"$MTBERT" train "${demo_args[@]}" --max-steps 1 --out "$tmp/forced" --force >/dev/null 2>"$tmp/err"; st=$?
status "--force replaces it" 0
check "... with the new run" grep -q '"step": 1,' "$tmp/forced/trainer.json"

echo '{"step":1}' >"$tmp/old.jsonl"
"$MTBERT" train "${demo_args[@]}" --max-steps 1 --out "$tmp/m1" --metrics "$tmp/old.jsonl" >/dev/null 2>"$tmp/err"; st=$?
status "--metrics naming another run's records: exit 2" 2
says "... explained" "--metrics $tmp/old.jsonl already holds another run's records; --force overwrites it, --resume appends to it"
"$MTBERT" train "${demo_args[@]}" --max-steps 2 --out "$tmp/m2" --metrics "$tmp/m2.jsonl" >/dev/null 2>&1
"$MTBERT" train --resume "$tmp/m2" --max-steps 4 >/dev/null 2>&1
check "--resume remembers --metrics and appends: 4 steps of 2 tasks" test "$(grep -c '"task":' "$tmp/m2.jsonl")" -eq 8

"$MTBERT" train "${demo_args[@]}" --max-steps 100000 --out "$tmp/busy" >/dev/null 2>&1 &
holder=$!
for _ in $(seq 400); do [ -e "$tmp/busy.lock" ] && break; sleep 0.05; done
"$MTBERT" train "${demo_args[@]}" --max-steps 1 --out "$tmp/busy" --force >/dev/null 2>"$tmp/err"; st=$?
status "a second training into a run folder in use: exit 2" 2
says "... naming the holder's pid" "$tmp/busy is in use by another mtbert (pid $holder)"
kill -TERM $holder; wait $holder
check "the lock goes with its holder" test ! -e "$tmp/busy.lock"

mkdir "$tmp/run.tmp-999999" && cp "$tmp/run/config.json" "$tmp/run.tmp-999999/" && echo mine >"$tmp/run.tmp-999999/notes.txt"
"$MTBERT" train --resume "$tmp/run" --max-steps 3 >/dev/null 2>"$tmp/err"; st=$?
status "a killed save's leftover does not stop the next start" 0
says "... which says it removed it" "removed the leftover of an interrupted save, $tmp/run.tmp-999999"
check "... and keeps the user's file from it" test -f "$tmp/run/notes.txt"
check "... and no leftover remains" test ! -e "$tmp/run.tmp-999999"

(ulimit -f 200; "$MTBERT" train --resume "$tmp/run" --max-steps 5 >/dev/null 2>"$tmp/err"); st=$?
status "a file-size limit (as a full disk): exit 1, not a silent SIGXFSZ" 1
says "... naming the file" "model.safetensors.tmp."
check "... and the checkpoint before it survives" grep -q '"step": 3,' "$tmp/run/trainer.json"

# ---- limits and defaults that used to surprise
"$MTBERT" train "${demo_args[@]}" --max-steps 0 >/dev/null 2>"$tmp/err"; st=$?
status "--max-steps 0 (it silently meant no limit): exit 2" 2
says "... explained" "--max-steps must be a positive integer, not '0'"
"$MTBERT" bench --steps 1 --warmup 0 >"$tmp/out" 2>/dev/null; st=$?
status "bench without arguments runs (a mini model, not base at 8 GiB)" 0
check "... and names the model, the CPU and the OpenBLAS kernel" \
    sh -c "grep -q '^config mini: 4 layers, hidden 256' '$tmp/out' && grep -q '^machine: .*kernel ' '$tmp/out'"

echo "1..$n"
