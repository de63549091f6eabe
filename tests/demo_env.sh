# Sourced by the shell tests that train on the bundled demo data: the
# mtbert binary (absolute: a test changes folder), the demo folder, a
# temporary folder removed on exit, the TAP helpers, and demo_args, the
# options of a tiny fresh model on the demo files.
MTBERT=${MTBERT:-src/mtbert}
MTBERT=$(cd "$(dirname "$MTBERT")" && pwd)/$(basename "$MTBERT")
srcdir=${srcdir:-tests}
demo="$srcdir/../data/demo"
tmp=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null; rm -rf "$tmp"' EXIT

. "$srcdir/tap.sh"

demo_args=(--config tiny --vocab "$demo/vocab.txt" --max-length 32 --lr 1e-4
    --sst-train "$demo/sst-train.csv" --para-train "$demo/para-train.csv"
    --sts-train "$demo/sts-train.csv" --sst-dev "$demo/sst-dev.csv"
    --para-dev "$demo/para-dev.csv" --sts-dev "$demo/sts-dev.csv")
