#!/bin/bash
# make bench: mtbert's training step beside PyTorch's on the same work, and
# the figures the Speed issue sets targets for, in one table.
#
#   bench/run.sh [--quick]
#
# Workloads: the synthetic step (SST 8x32, Quora 8x64, STS 2x8x32, sum mode,
# cls pooling) and the seed's step on the course files (batch 8 per task,
# random batches; PyTorch pads each batch to its longest sequence, as the
# seed does, mtbert packs the real tokens), for mini and base.  PyTorch
# (Debian's python3-torch) replays the very batches mtbert drew, with 1 torch
# thread and OpenBLAS on 1 and on 2 threads; the faster of the two is
# compared.  Without torch the comparison is skipped and said so.
#
# Environment: MTBERT (the binary, default src/mtbert), BENCH_DATA (the
# course data, default ../shared/data beside the project), BENCH_STEPS (timed
# steps per run; default 10 for mini and smaller, 3 for base), BENCH_CONFIGS
# (default "mini base"), PYTHON (default /usr/bin/python3).  --quick: mini
# only, 3 steps.
set -u
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/.." && pwd)
MTBERT=${MTBERT:-$top/src/mtbert}
DATA=${BENCH_DATA:-$top/../shared/data}
STEPS_GIVEN=${BENCH_STEPS:-}
CONFIGS=${BENCH_CONFIGS:-mini base}
PYTHON=${PYTHON:-/usr/bin/python3}
if [ "${1:-}" = --quick ]; then
    STEPS_GIVEN=3
    CONFIGS=mini
fi
steps_for() { # timed steps for a config: base steps take seconds each
    if [ -n "$STEPS_GIVEN" ]; then echo "$STEPS_GIVEN"; elif [ "$1" = base ]; then echo 3; else echo 10; fi
}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

if [ ! -x "$MTBERT" ]; then
    echo "bench: $MTBERT not built (run make first)" >&2
    exit 2
fi
have_torch=0
if "$PYTHON" -c 'import torch' 2>/dev/null; then
    have_torch=1
fi
have_data=0
if [ -f "$DATA/ids-sst-train.csv" ] && [ -f "$DATA/sts-train.csv" ] &&
   [ -f "$DATA/bert-base-uncased-vocab.txt" ]; then
    have_data=1
fi

field() { # the number after "NAME=" in the last line of a file
    tail -n 1 "$1" | tr ' ' '\n' | sed -n "s|^$2=||p"
}

"$MTBERT" bench --config mini --steps 1 --warmup 0 --batch 1 --seq 4 2>/dev/null |
    sed -n 's/^machine: /machine: /p'
echo "torch: $([ $have_torch = 1 ] && "$PYTHON" -c 'import torch; print(torch.__version__)' ||
    echo 'not installed (apt-get install python3-torch): comparison skipped')"
echo "course data: $([ $have_data = 1 ] && echo "$DATA" || echo "not found at $DATA: course rows skipped")"
echo "timed steps per run: $(for c in $CONFIGS; do printf '%s %s  ' "$c" "$(steps_for "$c")"; done)(after 1 untimed)"
echo

# torch_best LABEL ARGS...: runs the PyTorch script with OpenBLAS on 1 and 2
# threads; prints "best_ms threads".
torch_best() {
    local label=$1 best="" best_nt=""
    shift
    for nt in 1 2; do
        if OPENBLAS_NUM_THREADS=$nt "$PYTHON" "$here/torch_bench.py" --steps "$STEPS" \
            --warmup 1 --threads 1 "$@" >"$tmp/torch-$label-$nt" 2>"$tmp/torch-$label-$nt.err"; then
            ms=$(field "$tmp/torch-$label-$nt" ms/step)
            echo "  PyTorch $label, OpenBLAS $nt thread(s): $ms ms/step" >&2
            if [ -z "$best" ] || awk "BEGIN { exit !($ms < $best) }"; then
                best=$ms
                best_nt=$nt
            fi
        else
            echo "  PyTorch $label failed: $(tail -n 1 "$tmp/torch-$label-$nt.err")" >&2
        fi
    done
    echo "$best $best_nt"
}

rows=()
extra=()
row() { rows+=("$(printf '| %s | %s | %s | %s | %s |' "$@")"); }

for cfg in $CONFIGS; do
    STEPS=$(steps_for "$cfg")
    # synthetic step
    "$MTBERT" bench --config "$cfg" --batch 8 --seq 32 --mode sum --steps "$STEPS" --warmup 1 \
        --profile >"$tmp/syn-$cfg" 2>/dev/null || { echo "bench: mtbert $cfg synthetic failed" >&2; exit 1; }
    ms=$(field "$tmp/syn-$cfg" ms/step)
    tps=$(field "$tmp/syn-$cfg" tokens/s)
    floor=$(sed -n 's/^dense products alone: \([0-9.]*\) ms.*/\1/p' "$tmp/syn-$cfg")
    echo "  mtbert $cfg synthetic: $ms ms/step, dense products $floor ms" >&2
    if [ $have_torch = 1 ]; then
        read -r tms tnt <<<"$(torch_best "$cfg-synthetic" --config "$cfg" --synthetic --batch 8 --seq 32)"
        row "$cfg" "synthetic step, tokens/s" "$tps" \
            "$(awk "BEGIN { printf \"%.0f\", $tps * $ms / $tms }") (BLAS $tnt)" \
            "$(awk "BEGIN { printf \"%.2fx\", $tms / $ms }")"
    else
        row "$cfg" "synthetic step, tokens/s" "$tps" "skipped" ""
    fi
    extra+=("$(printf '| %s | synthetic step / its dense products alone | %s / %s ms = %s |' \
        "$cfg" "$ms" "$floor" "$(awk "BEGIN { printf \"%.2fx\", $ms / $floor }")")")

    # the seed's step on the course data
    if [ $have_data = 1 ]; then
        "$MTBERT" bench --data "$DATA" --config "$cfg" --steps "$STEPS" --warmup 1 \
            --dump-batches "$tmp/batches-$cfg" >"$tmp/course-$cfg" 2>/dev/null ||
            { echo "bench: mtbert $cfg course failed" >&2; exit 1; }
        ms=$(field "$tmp/course-$cfg" ms/step)
        real=$(sed -n 's/.*tokens per step; .*: \([0-9]*\)% real.*/\1/p' "$tmp/course-$cfg")
        score=$(sed -n 's/^pair score \([0-9.]*\) ms.*/\1/p' "$tmp/course-$cfg")
        rss=$(sed -n 's/^peak RSS *\([0-9.]*\) MiB/\1/p' "$tmp/course-$cfg")
        echo "  mtbert $cfg course: $ms ms/step ($real% real tokens), pair score $score ms" >&2
        if [ $have_torch = 1 ]; then
            read -r tms tnt <<<"$(torch_best "$cfg-course" --config "$cfg" --pooling mean \
                --batches "$tmp/batches-$cfg")"
            row "$cfg" "seed's step on the course data ($real% real tokens), ms/step" "$ms" \
                "$tms (BLAS $tnt)" "$(awk "BEGIN { printf \"%.2fx\", $tms / $ms }")"
        else
            row "$cfg" "seed's step on the course data ($real% real tokens), ms/step" "$ms" \
                "skipped" ""
        fi
        extra+=("| $cfg | pair scored in the workbench (paused), median | $score ms |")
        extra+=("| $cfg | peak RSS, sum step on the course data | $rss MiB |")
    fi
done

# PCGrad against sum, and 1 against 2 threads, on the largest config asked for
big=${CONFIGS##* }
STEPS=$(steps_for "$big")
"$MTBERT" bench --config "$big" --batch 8 --seq 32 --mode pcgrad --steps "$STEPS" --warmup 1 \
    >"$tmp/pc" 2>/dev/null && "$MTBERT" bench --config "$big" --batch 8 --seq 32 --mode sum \
    --steps "$STEPS" --warmup 1 >"$tmp/sum" 2>/dev/null && "$MTBERT" bench --config "$big" \
    --batch 8 --seq 32 --mode sum --threads 1 --steps "$STEPS" --warmup 1 >"$tmp/one" 2>/dev/null ||
    { echo "bench: mtbert $big pcgrad/threads runs failed" >&2; exit 1; }
pc=$(field "$tmp/pc" ms/step)
sum=$(field "$tmp/sum" ms/step)
one=$(field "$tmp/one" ms/step)
pc_rss=$(sed -n 's/^peak RSS *\([0-9.]*\) MiB/\1/p' "$tmp/pc")
extra+=("$(printf '| %s | PCGrad step / sum step (synthetic) | %s / %s ms = %s |' "$big" "$pc" "$sum" \
    "$(awk "BEGIN { printf \"%.2fx\", $pc / $sum }")")")
extra+=("$(printf '| %s | 1 thread / 2 threads (synthetic, sum) | %s / %s ms = %s |' "$big" "$one" "$sum" \
    "$(awk "BEGIN { printf \"%.2fx\", $one / $sum }")")")
extra+=("| $big | peak RSS, PCGrad step (synthetic) | $pc_rss MiB |")

echo
echo "| config | workload | mtbert | PyTorch (best) | mtbert speed-up |"
echo "|---|---|---|---|---|"
printf '%s\n' "${rows[@]}"
echo
echo "| config | mtbert alone | |"
echo "|---|---|---|"
printf '%s\n' "${extra[@]}"
