#!/bin/bash
# bf16 against fp32 on the course data: the same run (mini, PCGrad, seed,
# batches) in both precisions, how closely the bf16 run's losses follow over
# its first 50 steps, and its validation metrics after STEPS steps.
#
#   bench/precision.sh [STEPS]     (default 600)
#
# On a CPU without bf16 units the bf16 run is emulated (operands rounded to
# bf16, fp32 products): the same numbers as bf16 hardware up to summation
# order, so the comparison holds there too; only the speed is not bf16's.
# Environment: MTBERT (default src/mtbert), BENCH_DATA (default
# ../shared/data beside the project), BENCH_CONFIG (default mini).
set -u
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/.." && pwd)
MTBERT=${MTBERT:-$top/src/mtbert}
DATA=${BENCH_DATA:-$top/../shared/data}
CONFIG=${BENCH_CONFIG:-mini}
STEPS=${1:-600}
if [ ! -f "$DATA/ids-sst-train.csv" ]; then
    echo "precision: the course data is not at $DATA (set BENCH_DATA)" >&2
    exit 2
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

"$MTBERT" info --precision bf16 | sed -n 's/^cpu  *\(.*\)/cpu: \1/p; s/^kernel  *\(.*\)/kernel: \1/p; s/^precision  *\(.*\)/bf16 here: \1/p'
for p in fp32 bf16; do
    start=$(date +%s)
    "$MTBERT" train --data-dir "$DATA" --vocab "$DATA/bert-base-uncased-vocab.txt" --config "$CONFIG" \
        --mode pcgrad --val-split 0.1 --max-steps "$STEPS" --eval-every "$STEPS" --precision "$p" \
        --out "$tmp/$p" --metrics "$tmp/$p.jsonl" --quiet >/dev/null 2>"$tmp/$p.err" ||
        { echo "precision: the $p run failed:" >&2; tail -5 "$tmp/$p.err" >&2; exit 1; }
    echo "$p: $STEPS steps in $(( $(date +%s) - start )) s" >&2
done

losses() { sed -n 's/^{"step":\([0-9]*\),"task":"\([a-z]*\)","loss":\([-0-9.e+]*\),.*/\1-\2 \3/p' "$1" | sort; }
join <(losses "$tmp/fp32.jsonl") <(losses "$tmp/bf16.jsonl") |
    awk '{ split($1, k, "-"); if (k[1] > 50) next; d = $2 - $3; if (d < 0) d = -d; m = $2 < 0 ? -$2 : $2
           if (d / m > w) w = d / m; n++ }
         END { printf "first 50 steps: %d losses, worst relative difference %.3g\n", n, w }'
metric() { grep '"eval"' "$1" | tail -1 | sed "s/.*\"$2\":\([-0-9.e]*\).*/\1/"; }
echo
echo "| $CONFIG PCGrad, $STEPS steps, 10% validation split | fp32 | bf16 | bf16 - fp32 (points) |"
echo "|---|---|---|---|"
for m in sst_acc para_acc sts_corr; do
    a=$(metric "$tmp/fp32.jsonl" $m)
    b=$(metric "$tmp/bf16.jsonl" $m)
    echo "| $m | $a | $b | $(awk "BEGIN { printf \"%+.2f\", 100 * ($b - $a) }") |"
done
