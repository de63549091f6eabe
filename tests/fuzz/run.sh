#!/bin/bash
# Builds mtbert's libFuzzer harnesses (clang, AddressSanitizer and
# UndefinedBehaviorSanitizer) and runs each one on its corpus.
#
#   tests/fuzz/run.sh [--seconds N] [TARGET...]
#
# Each target first replays every input of tests/fuzz/corpus/TARGET (the
# committed seeds and the crashes found before), then fuzzes for N seconds
# (default 60; `make fuzz` passes FUZZ_SECONDS, CI a few).  New inputs go to
# a scratch folder, not the committed corpus; a crash is saved as
# tests/fuzz/crash-TARGET-* to be added to the corpus once fixed.
# Prints one line per target and ends with "N passed, N failed".
set -u
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
seconds=60
targets=()
while [ $# -gt 0 ]; do
    case $1 in
    --seconds) seconds=$2; shift 2 ;;
    *) targets+=("$1"); shift ;;
    esac
done
[ ${#targets[@]} -eq 0 ] && targets=(data vocab tokenizer safetensors config checkpoint prompt)

CC=${FUZZ_CC:-clang}
command -v "$CC" >/dev/null || { echo "fuzz: $CC not found (apt-get install clang libclang-rt-14-dev)"; exit 1; }
build=${FUZZ_BUILD:-$top/tests/fuzz/build}
mkdir -p "$build/lib"
san="-fsanitize=address,undefined -fno-sanitize-recover=undefined"
cflags="-std=c11 -g -O1 -D_GNU_SOURCE -I$top/include -I$top/src/lib -I$top/src/front -I$top/src/cli \
    $(pkg-config --cflags openblas jansson libutf8proc 2>/dev/null) \
    -DMTBERT_TEST_SRCDIR=\"$top/tests\""
libs="$(pkg-config --libs openblas jansson libutf8proc 2>/dev/null || echo -lopenblas -ljansson -lutf8proc) -ldnnl -lcsv -lm -lpthread"

# The library once, instrumented for coverage; then one binary per target.
objs=()
for src in "$top"/src/lib/*.c "$top"/src/lib/methods/*.c "$top/src/front/prompt.c" "$top/src/front/prompt_commands.c"; do
    obj="$build/lib/$(basename "$(dirname "$src")")-$(basename "$src" .c).o"
    if [ ! -e "$obj" ] || [ "$src" -nt "$obj" ]; then
        $CC $cflags $san -fsanitize=fuzzer-no-link -c "$src" -o "$obj" || exit 1
    fi
    objs+=("$obj")
done

passed=0 failed=0
for t in "${targets[@]}"; do
    bin="$build/fuzz_$t"
    if ! $CC $cflags $san -fsanitize=fuzzer "$here/fuzz_$t.c" "${objs[@]}" $libs -o "$bin"; then
        echo "not ok - fuzz_$t: does not build"
        failed=$((failed + 1))
        continue
    fi
    scratch=$(mktemp -d)
    log="$build/fuzz_$t.log"
    # -rss_limit_mb bounds memory as the loaders' own limits should
    if ASAN_OPTIONS=detect_leaks=1:allocator_may_return_null=1 \
        "$bin" "$scratch" "$here/corpus/$t" -max_total_time="$seconds" -rss_limit_mb=2048 \
        -max_len=65536 -timeout=20 -artifact_prefix="$here/crash-$t-" -print_final_stats=1 \
        >"$log" 2>&1; then
        runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
        echo "ok - fuzz_$t: ${runs:-?} inputs in ${seconds}s, corpus $(ls "$here/corpus/$t" | wc -l) seeds"
        passed=$((passed + 1))
    else
        echo "not ok - fuzz_$t: see $log"
        grep -m5 -E 'ERROR|SUMMARY|runtime error' "$log" | sed 's/^/#   /'
        failed=$((failed + 1))
    fi
    rm -rf "$scratch"
done
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
