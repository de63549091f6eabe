#!/bin/bash
# End-to-end tests of mtbert repl and mtbert score on a model trained for a
# few steps on the bundled demo data: output formats, messages, exit
# statuses, and the readline prompt on a pseudo-terminal.  Prints TAP.
set -u
MTBERT=${MTBERT:-src/mtbert}
srcdir=${srcdir:-tests}
demo="$srcdir/../data/demo"

. "$srcdir/tap.sh"
temp_dir
# run EXPECTED_STATUS CMD...: stdout in $tmp/out, stderr in $tmp/err; checks the status
run() {
    local want=$1
    shift
    capture "$@"
    local status=$? args="${*:2}"
    check "mtbert ${args//$tmp/\$tmp} exits $want" test $status -eq "$want"
}
line() { sed -n "${1}p" "$tmp/out"; } # line N of the last stdout

p='[01]\.[0-9]{2}'
label='(very negative|negative|neutral|positive|very positive) \([0-4]\)'
probs="   v\\.neg $p  neg $p  neu $p  pos $p  v\\.pos $p"
sentiment_re="^sentiment: $label$probs\$"
pair_re='^paraphrase: [01]\.[0-9]{3}   similarity: [0-5]\.[0-9]{2} / 5$'
num='[0-9]+\.[0-9]{6}'
json_sent="\\{\"label\":[0-4],\"name\":\"(very negative|negative|neutral|positive|very positive)\",\"probs\":\\[$num,$num,$num,$num,$num\\]\\}"

"$MTBERT" train --config tiny --vocab "$demo/vocab.txt" --sst-train "$demo/sst-train.csv" \
    --para-train "$demo/para-train.csv" --sts-train "$demo/sts-train.csv" \
    --max-steps 3 --max-length 32 --out "$tmp/model" --quiet >"$tmp/out" 2>"$tmp/err"
check "a 3-step training run saves a model with heads" test $? -eq 0 -a -f "$tmp/model/heads.safetensors"
model="$tmp/model"

# ---- repl from a pipe
printf '%s\n' "the film is great" "" "it was bad  ||  it was not good" ":pause" ":frob" \
    ":help" "   " ":quit" "never scored" >"$tmp/in"
run 0 "$MTBERT" repl --model "$model" <"$tmp/in"
check "repl: a sentence gets a sentiment line" grep -qE "$sentiment_re" <(line 1)
check "repl: a pair gets paraphrase and similarity" grep -qE "$pair_re" <(line 2)
check "repl: then each sentence's sentiment" \
    grep -qE "^sentiment A: $label$probs\$" <(line 3)
check "repl: ... A and B" grep -qE "^sentiment B: $label$probs\$" <(line 4)
check "repl: :help prints the help" test "$(line 5)" = \
    "Type a sentence to see its sentiment, or two sentences separated by || to see"
check "repl: the help lists :quit" grep -q '^  :quit, :q ' "$tmp/out"
check "repl: lines after :quit are not read" test "$(grep -c '^sentiment:' "$tmp/out")" -eq 1
check "repl: no prompt on a pipe" test "$(grep -c 'mtbert>' "$tmp/out")" -eq 0
check "repl: training commands and parse errors go to stderr with the line number" \
    test "$(cat "$tmp/err")" = "mtbert repl: line 4: no training in this session (use mtbert tui)
mtbert repl: line 5: unknown command ':frob' (try :help)"
first_repl_line=$(line 1)

printf '%s\n' ":resume" ":save runs/x" ":eval" ":mode sum" ":lr 1e-4" >"$tmp/in"
run 0 "$MTBERT" repl --model "$model" <"$tmp/in"
check "repl: every training command is refused, and EOF ends with 0" \
    test "$(grep -c 'no training in this session (use mtbert tui)' "$tmp/err")" -eq 5 -a ! -s "$tmp/out"

printf '%s\n' ":lr fast" ":mode single" "a || " "still here" >"$tmp/in"
run 0 "$MTBERT" repl --model "$model" <"$tmp/in"
check "repl: bad arguments are explained" grep -q "line 1: :lr needs a number in (0, 10\]" "$tmp/err"
check "repl: ... each of them, the methods named" \
    grep -q "line 2: :mode needs a method: sum, pcgrad, mgda, cagrad, gradvac, imtl, nashmtl, aligned, upgrad, uw, dwa, famo" "$tmp/err"
check "repl: an empty side of a pair is an error" \
    grep -q "line 3: a pair needs a sentence on each side of ||" "$tmp/err"
check "repl: and scoring goes on after errors" grep -qE "$sentiment_re" "$tmp/out"

# ---- repl --json: one object per input line, errors included
printf '%s\n' "the film is great" "" "a || b" ":lr 3" "x ||" ":help" ":quit" "never" >"$tmp/in"
run 0 "$MTBERT" repl --model "$model" --json <"$tmp/in"
check "repl --json: one line out per line in, up to :quit" test "$(wc -l <"$tmp/out")" -eq 7
check "repl --json: a sentence's object carries its line number" \
    grep -qE "^\{\"line\":1,\"sentiment\":$json_sent\}\$" "$tmp/out"
check "repl --json: an empty line is an object too" test "$(line 2)" = '{"line":2}'
check "repl --json: a pair" grep -qE '^\{"line":3,"paraphrase":[0-9.]+,"similarity":[0-9.]+,"sentiment":\[' "$tmp/out"
check "repl --json: errors are objects, in their place" \
    sh -c "test '$(line 4)' = '{\"line\":4,\"error\":\"no training in this session (use mtbert tui)\"}' && test '$(line 5)' = '{\"line\":5,\"error\":\"a pair needs a sentence on each side of ||\"}'"
if command -v python3 >/dev/null 2>&1; then
    check "repl --json: every line parses as JSON" \
        sh -c "while IFS= read -r l; do printf '%s' \"\$l\" | python3 -c 'import json,sys; json.load(sys.stdin)' || exit 1; done <'$tmp/out'"
else
    skip "repl --json: every line parses as JSON" "no python3 to parse with"
fi
check "repl: :help offers only what works here (no training commands)" \
    sh -c "grep -q ':help' '$tmp/out' && ! grep -q ':pause' '$tmp/out'"

# ---- a model that trained one task: its other scores come with a caveat
"$MTBERT" train --config tiny --vocab "$demo/vocab.txt" --sst-train "$demo/sst-train.csv" \
    --mode single:sst --max-steps 2 --max-length 32 --out "$tmp/sst-only" --quiet >/dev/null 2>&1
run 0 "$MTBERT" score --model "$tmp/sst-only" "a fine film" "a good movie"
check "score: untrained heads are named" \
    test "$(line 4)" = "note: this model never trained paraphrase and similarity: those scores mean nothing yet"
run 0 "$MTBERT" score --model "$tmp/sst-only" "a fine film"
check "score: a sentence needs only the sentiment head: no note" test "$(wc -l <"$tmp/out")" -eq 1
run 0 "$MTBERT" score --model "$tmp/sst-only" --json "a" "b"
check "score --json: untrained heads listed" grep -q ',"untrained":\["para","sts"\]}$' "$tmp/out"

run 2 "$MTBERT" repl
check "repl: missing --model is explained" grep -q -- "--model DIR is required" "$tmp/err"
run 2 "$MTBERT" repl --model "$srcdir/fixtures/tiny-bert" </dev/null
check "repl: an encoder without heads is refused" grep -q "no heads.safetensors" "$tmp/err"
run 2 "$MTBERT" repl --model "$model" "some text"
run 0 "$MTBERT" repl --help
check "repl --help shows its usage" grep -q '^Usage: mtbert repl --model DIR' "$tmp/out"

# ---- score
run 0 "$MTBERT" score --model "$model" "the film is great"
check "score: one text, one sentiment line" grep -qE "$sentiment_re" "$tmp/out"
check "score: exactly what repl printed" test "$(cat "$tmp/out")" = "$first_repl_line"
run 0 "$MTBERT" score --model "$model" "it was bad" "it was not good"
check "score: two texts, three lines" test "$(wc -l <"$tmp/out")" -eq 3
check "score: paraphrase and similarity first" grep -qE "$pair_re" <(line 1)
check "score: then sentiment A and B" \
    grep -qE "^sentiment A: $label$probs\$" <(line 2)
check "score: ... and B" grep -qE "^sentiment B: $label$probs\$" <(line 3)

long_text=$(head -c 2048 /dev/zero | tr '\0' a)
run 2 "$MTBERT" score --model "$model" "$long_text"
check "score: the prompt's length limit, with the same message" \
    grep -q "the text is too long (at most 2047 bytes)" "$tmp/err"

run 0 "$MTBERT" score --model "$model" --json "the film is great"
check "score --json: one text" grep -qE "^\\{\"sentiment\":$json_sent\\}\$" "$tmp/out"
cp "$tmp/out" "$tmp/one.json"
run 0 "$MTBERT" score --model "$model" --json "it was bad" "it was not good"
check "score --json: a pair" \
    grep -qE "^\\{\"paraphrase\":$num,\"similarity\":$num,\"sentiment\":\\[$json_sent,$json_sent\\]\\}\$" \
    "$tmp/out"
if command -v python3 >/dev/null 2>&1; then
    check "score --json: both parse as JSON" \
        python3 -c 'import json, sys; [json.load(open(f)) for f in sys.argv[1:]]' "$tmp/one.json" "$tmp/out"
else
    skip "score --json: both parse as JSON" "python3 not found"
fi

run 2 "$MTBERT" score "a"
check "score: missing --model is explained" grep -q -- "--model DIR is required" "$tmp/err"
run 2 "$MTBERT" score --model "$model"
check "score: no text is explained" grep -q "nothing to score" "$tmp/err"
run 2 "$MTBERT" score --model "$model" a b c
check "score: a third text is refused" grep -q "unexpected argument 'c'" "$tmp/err"
run 2 "$MTBERT" score --model "$srcdir/fixtures/tiny-bert" "a"
check "score: an encoder without heads is refused" grep -q "no heads.safetensors" "$tmp/err"
run 2 "$MTBERT" score --model "$tmp/none" "a"
check "score: a missing model folder is named" grep -q "$tmp/none" "$tmp/err"
run 0 "$MTBERT" --help
check "mtbert --help lists repl and score" test "$(grep -cE '^  (repl|score) ' "$tmp/out")" -eq 2

# ---- the readline prompt, on a pseudo-terminal made by script(1)
if command -v script >/dev/null 2>&1 && command -v timeout >/dev/null 2>&1; then
    export XDG_STATE_HOME="$tmp/state"
    printf 'the film is great\n:he\t\n:quit\n' >"$tmp/in"
    timeout 60 script -qec "'$MTBERT' repl --model '$model'" /dev/null <"$tmp/in" >"$tmp/out" 2>"$tmp/err"
    check "terminal: repl exits 0 after :quit" test $? -eq 0
    check "terminal: the prompt is shown" grep -q 'mtbert> ' "$tmp/out"
    check "terminal: sentences are scored" grep -qE "sentiment: $label" "$tmp/out"
    check "terminal: Tab completes a command" grep -q 'Type a sentence to see its sentiment' "$tmp/out"
    # Completion adds a space after ":help", which the history keeps.
    check "terminal: history is kept in \$XDG_STATE_HOME/mtbert/history" \
        test "$(sed 's/ *$//' "$tmp/state/mtbert/history" 2>/dev/null)" = "the film is great
:help
:quit"
else
    for t in "exits 0" "prompt" "scores" "completion" "history"; do
        skip "terminal: $t" "script(1) or timeout(1) not found"
    done
fi

echo "1..$n"
exit 0
