#!/bin/bash
# End-to-end tests of the mtbert command line: exact outputs, exit statuses
# and error messages.  Prints TAP.
set -u
MTBERT=${MTBERT:-src/mtbert}
srcdir=${srcdir:-tests}
fix="$srcdir/fixtures"

. "$srcdir/tap.sh"
temp_dir

# run NAME EXPECTED_STATUS CMD... : runs CMD, stdout in $tmp/out, stderr in $tmp/err
run() {
    local name=$1 want=$2
    shift 2
    capture "$@"
    local got=$?
    if [ "$got" -eq "$want" ]; then return 0; fi
    not_ok "$name" "exit status $got, expected $want" "stderr: $(head -c 500 "$tmp/err")"
    return 1
}
expect_out() { # NAME EXPECTED_TEXT
    if [ "$(cat "$tmp/out")" = "$2" ]; then ok "$1"; else not_ok "$1" "got: $(head -c 300 "$tmp/out")" "want: $2"; fi
}
expect_err() { # NAME SUBSTRING
    if grep -qF -- "$2" "$tmp/err"; then ok "$1"; else not_ok "$1" "stderr lacks '$2'" "stderr: $(head -c 500 "$tmp/err")"; fi
}

run "--version" 0 "$MTBERT" --version &&
    if [ "$(head -1 "$tmp/out")" = "mtbert 0.1.0" ] && grep -q "^kernel     [A-Za-z0-9_]*: .*OpenBLAS" "$tmp/out"; then
        ok "--version prints the version and the OpenBLAS kernel with its reason"
    else not_ok "--version prints the version and the OpenBLAS kernel with its reason" "got: $(cat "$tmp/out")"; fi

# info: the machine's facts, and the kernel decision's whole path
run "info" 0 "$MTBERT" info --threads 2 &&
    if grep -q "^cpu        .* (family [0-9]*, model [0-9]*): " "$tmp/out" && grep -q "^threads    2 (" "$tmp/out" &&
        grep -q "^openblas   OpenBLAS " "$tmp/out" && grep -q "^kernel     " "$tmp/out" &&
        grep -q "^products   auto" "$tmp/out"; then ok "info names the CPU, threads, OpenBLAS, kernel and product plan"
    else not_ok "info names the CPU, threads, OpenBLAS, kernel and product plan" "got: $(cat "$tmp/out")"; fi
run "info --threads 0" 2 "$MTBERT" info --threads 0 && expect_err "info: a bad thread count is refused" "--threads must be an integer in 1..1024"
# The kernel decision's whole path.  Tests never set OPENBLAS_CORETYPE; the
# environment may, and then it must win over everything.
if [ -n "${OPENBLAS_CORETYPE:-}" ]; then
    for hook in "" Prescott; do
        run "info under the environment's OPENBLAS_CORETYPE ($hook)" 0 env MTBERT_TEST_OPENBLAS_KERNEL="$hook" "$MTBERT" info &&
            if grep -q "^kernel     [A-Za-z0-9_]*: OPENBLAS_CORETYPE=$OPENBLAS_CORETYPE is set in the environment, so OpenBLAS runs " "$tmp/out"; then
                ok "the environment's OPENBLAS_CORETYPE is kept and named${hook:+, even over a fallback}"
            else not_ok "the environment's OPENBLAS_CORETYPE is kept and named" "got: $(grep kernel "$tmp/out")"; fi
    done
    skip "a fallback kernel is replaced by the CPU's best" "OPENBLAS_CORETYPE=$OPENBLAS_CORETYPE is set here, and wins"
elif grep -qw avx /proc/cpuinfo 2>/dev/null; then
    skip "the environment's OPENBLAS_CORETYPE is kept and named" "not set here (test_machine checks the rule)"
    # OpenBLAS's own fallback, stood in for by MTBERT_TEST_OPENBLAS_KERNEL: the
    # program restarts itself with OPENBLAS_CORETYPE set and says why
    run "a fallback kernel" 0 env MTBERT_TEST_OPENBLAS_KERNEL=Prescott "$MTBERT" info &&
        line=$(grep "^kernel" "$tmp/out") &&
        k=$(echo "$line" | sed -n 's/^kernel     \([A-Za-z0-9_]*\): .*/\1/p') &&
        if [ -n "$k" ] && [ "$k" != Prescott ] &&
            echo "$line" | grep -q "OpenBLAS chose Prescott, a fallback below what this CPU runs (.*): mtbert restarted it on $k\$"; then
            ok "a fallback kernel is replaced by the CPU's best ($k) and the reason given"
        else not_ok "a fallback kernel is replaced by the CPU's best and the reason given" "got: $line"; fi
else
    skip "the environment's OPENBLAS_CORETYPE is kept and named" "not set here (test_machine checks the rule)"
    skip "a fallback kernel is replaced by the CPU's best" "this CPU has no AVX: nothing to raise"
fi
run "MTBERT_GEMM unknown" 2 env MTBERT_GEMM=fast "$MTBERT" info &&
    expect_err "an unknown MTBERT_GEMM is refused" "MTBERT_GEMM=fast: expected pool, openblas or auto"
run "MTBERT_GEMM pool" 0 env MTBERT_GEMM=pool "$MTBERT" info --threads 2 &&
    if grep -q "^products   pool$" "$tmp/out"; then ok "MTBERT_GEMM=pool puts every product on the pool"; else not_ok "MTBERT_GEMM=pool puts every product on the pool" "got: $(grep products "$tmp/out")"; fi
run "--help" 0 "$MTBERT" --help &&
    if grep -q "tokenize" "$tmp/out" && grep -q "encode" "$tmp/out"; then ok "--help lists the commands"; else not_ok "--help lists the commands"; fi
run "unknown command" 2 "$MTBERT" frobnicate && expect_err "unknown command is named" "unknown command 'frobnicate'"
run "tokenize --help" 0 "$MTBERT" tokenize --help &&
    if grep -q "^Usage: mtbert tokenize --vocab FILE" "$tmp/out"; then ok "tokenize --help shows its usage"; else not_ok "tokenize --help shows its usage"; fi

vocab="$fix/tiny-bert/vocab.txt"
run "tokenize args" 0 "$MTBERT" tokenize --vocab "$vocab" "The movie was GOOD!" "i love it" &&
    expect_out "tokenize: one line of ids per argument" "208 209 215 211 104
154 246 218"
printf 'what do you like?\n\nzzz\n' >"$tmp/in"
run "tokenize stdin" 0 "$MTBERT" tokenize --vocab "$vocab" <"$tmp/in" &&
    expect_out "tokenize: one line per stdin line, empty line for empty text" "220 222 223 247 124

171 197 197"
run "tokenize without --vocab" 2 "$MTBERT" tokenize hello && expect_err "missing --vocab is explained" "--vocab FILE is required"
run "tokenize missing vocab" 2 "$MTBERT" tokenize --vocab "$tmp/nope.txt" hi && expect_err "missing vocab file is named" "$tmp/nope.txt"

shared=${MTBERT_SHARED_DATA:-$srcdir/../../shared/data}
if [ -f "$shared/bert-base-uncased-vocab.txt" ]; then
    run "tokenize real vocab" 0 "$MTBERT" tokenize --vocab "$shared/bert-base-uncased-vocab.txt" "Héllo, wörld! 東京" &&
        expect_out "tokenize with bert-base-uncased vocab" "7592 1010 2088 999 1879 1755"
else
    skip "tokenize with bert-base-uncased vocab" "shared data not found at $shared"
fi

# encode against the PyTorch reference (tests/reference/make_fixtures.py)
model="$fix/tiny-bert"
for pooling in cls mean pooler; do
    grep -P "\t$pooling\t" "$fix/tiny-bert-encode.tsv" >"$tmp/ref.tsv"
    cut -f1 "$tmp/ref.tsv" >"$tmp/texts"
    if run "encode $pooling" 0 "$MTBERT" encode --model "$model" --pooling "$pooling" <"$tmp/texts"; then
        cut -f3 "$tmp/ref.tsv" | paste -d'\t' - "$tmp/out" >"$tmp/pairs"
        worst=$(awk -F'\t' '{ n = split($1, a, " "); m = split($2, b, " ");
                              if (n != m) { print "length"; exit }
                              for (i = 1; i <= n; i++) { d = a[i] - b[i]; if (d < 0) d = -d; if (d > w) w = d } }
                            END { if (w == "") w = 0; print w }' "$tmp/pairs")
        if awk -v w="$worst" 'BEGIN { exit !(w != "length" && w + 0 < 1e-5) }'; then
            ok "encode --pooling $pooling matches PyTorch (max diff $worst)"
        else
            not_ok "encode --pooling $pooling matches PyTorch" "max abs diff $worst"
        fi
    fi
done

# A sentence's encoding does not depend on the batch around it, within the
# engine's tolerance (src/lib/reproducibility.h: 1e-5 of the vector's
# largest entry); OpenBLAS may sum a padded batch in another order.
cut -f1 "$fix/tiny-bert-encode.tsv" | sort -u >"$tmp/texts"
"$MTBERT" encode --model "$model" --pooling mean --batch 1 <"$tmp/texts" >"$tmp/single" 2>/dev/null
"$MTBERT" encode --model "$model" --pooling mean --batch 8 <"$tmp/texts" >"$tmp/batched" 2>/dev/null
worst=$(paste -d'\t' "$tmp/single" "$tmp/batched" |
    awk -F'\t' '{ n = split($1, a, " "); m = split($2, b, " ");
                  if (n != m || n == 0) { print "shape"; exit }
                  d = 0; s = 0
                  for (i = 1; i <= n; i++) { x = a[i] - b[i]; if (x < 0) x = -x; if (x > d) d = x
                                             x = a[i]; if (x < 0) x = -x; if (x > s) s = x }
                  r = d / s; if (r > w) w = r }
                END { if (NR == 0) print "empty"; else print w + 0 }')
if [ "$(wc -l <"$tmp/single")" -eq "$(wc -l <"$tmp/texts")" ] &&
    awk -v w="$worst" 'BEGIN { exit !(w != "shape" && w != "empty" && w + 0 <= 1e-5) }'; then
    ok "encode: padded batches print what one-at-a-time does, within 1e-5 (worst $worst)"
else
    not_ok "encode: padded batches print what one-at-a-time does, within 1e-5" "worst relative difference: $worst"
fi

run "encode bad pooling" 2 "$MTBERT" encode --model "$model" --pooling max hi && expect_err "bad --pooling is explained" "--pooling must be cls, mean or pooler"
run "encode missing model" 2 "$MTBERT" encode --model "$tmp/none" hi && expect_err "missing model folder is named" "$tmp/none"
mkdir "$tmp/broken"
cp "$model/config.json" "$model/vocab.txt" "$tmp/broken/"
head -c 1000 "$model/model.safetensors" >"$tmp/broken/model.safetensors"
run "encode truncated checkpoint" 2 "$MTBERT" encode --model "$tmp/broken" hi && expect_err "truncated checkpoint names the file" "$tmp/broken/model.safetensors"

echo "1..$n"
exit 0
