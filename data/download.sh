#!/usr/bin/env bash
# Downloads the CS224N minBERT task files and the bert-base-uncased checkpoint
# for mtbert, verifying checksums where they are known.
#
#   data/download.sh [options] [DEST]
#
# DEST (default: the folder this script is in) receives the task files, and
# DEST/bert-base-uncased/ the model (config.json, vocab.txt, model.safetensors).
# Run with --help for the options.  Needs bash, curl or wget, and sha256sum
# (or shasum); nothing else.
set -euo pipefail

# ---------------------------------------------------------------- sources
# The course files are pinned to the project's first release commit: a later
# commit in the same repository holds CRLF-converted copies whose checksums
# differ from the ones below.
COURSE_REPO="gpoesia/minbert-default-final-project"
COURSE_COMMIT="f25cd95c73a1ce3f3b88dd7a11df90f0ab488bd9"
COURSE_URL="https://raw.githubusercontent.com/$COURSE_REPO/$COURSE_COMMIT/data"

HF_MODEL="bert-base-uncased"
HF_REVISION="${HF_REVISION:-main}"
HF_URL="https://huggingface.co/$HF_MODEL/resolve/$HF_REVISION"

# sha256 of the files at COURSE_COMMIT (see ../shared/data/README.md).  The
# dev splits and the Quora files have no sha256 on record; the two big Quora
# files are checked by their git blob id instead (what `git hash-object`
# prints), and the rest are only checked for shape.
# (Functions rather than associative arrays, so bash 3.2 on macOS works too.)
known_sha256() {
    case "$1" in
    ids-sst-train.csv) echo 03b2b625c090f94a6afd59f114cde5282e2053aab0b101e87ed695d8a0c5b1df ;;
    ids-sst-test-student.csv) echo bdd5a767faa0c26782117e37767ece154c30d5d04fb8727d09c71e3850a55c7b ;;
    sts-train.csv) echo 15d12efc2d656fffb1d61ac1f08ec4227f43925fd16f420c037cbd063699c21b ;;
    sts-test-student.csv) echo dee455745b72e9ca3ff74e7c056bd73e34bad5b8d5641045a2c1e7e131866f47 ;;
    ids-cfimdb-train.csv) echo 140fc513045a966109faed46a5c7a898767b96714d71bcb9c15f659129fadcea ;;
    ids-cfimdb-test-student.csv) echo 7ae611548c9eac879e9ebb406cc9f8ae68ff12f78090e4965af5cbdfa06240f4 ;;
    vocab.txt) echo 07eced375cec144d27c900241f3e339478dec958f92fddbc551f295c992038a3 ;;
    esac
}
known_git_blob() {
    case "$1" in
    quora-train.csv) echo a3b5546f6a0e65b60a328a5d294d1038f5bed1da ;;
    quora-test-student.csv) echo f257ef00558555afb50819578a58205732b16354 ;;
    esac
}
# The course repository's copy of config.json; the hub's may differ in
# fields mtbert ignores, so a mismatch is only reported.
CONFIG_SHA256_COURSE=7160e1553ad2ca51d8c1cb066be533db31826e12d173824c1bb0cb1a4f187d20

TASK_FILES=(
    ids-sst-train.csv ids-sst-dev.csv ids-sst-test-student.csv
    quora-train.csv quora-dev.csv quora-test-student.csv
    sts-train.csv sts-dev.csv sts-test-student.csv
    ids-cfimdb-train.csv ids-cfimdb-dev.csv ids-cfimdb-test-student.csv
)
MODEL_FILES=(config.json vocab.txt model.safetensors)

# ---------------------------------------------------------------- options
usage() {
    cat <<EOF
usage: $0 [options] [DEST]

Downloads into DEST (default: $(dirname "$0")):
  the minBERT task files   $COURSE_URL/<file>
                           (${TASK_FILES[*]})
  bert-base-uncased        $HF_URL/<file>  ->  DEST/$HF_MODEL/
                           (${MODEL_FILES[*]})

options:
  --tasks-only   only the task files
  --model-only   only the model
  --force        download again even if a file is already there and checks out
  -h, --help     this text

environment:
  HF_REVISION    hub revision (branch, tag or commit) of $HF_MODEL (default: main)
  HF_TOKEN       sent as a bearer token to the hub, if set
EOF
}

want_tasks=1
want_model=1
force=0
dest=""
while [ $# -gt 0 ]; do
    case "$1" in
    --tasks-only) want_model=0 ;;
    --model-only) want_tasks=0 ;;
    --force) force=1 ;;
    -h | --help)
        usage
        exit 0
        ;;
    --)
        shift
        break
        ;;
    -*)
        echo "download.sh: unknown option '$1' (try --help)" >&2
        exit 2
        ;;
    *)
        if [ -n "$dest" ]; then
            echo "download.sh: only one DEST folder, got '$dest' and '$1'" >&2
            exit 2
        fi
        dest="$1"
        ;;
    esac
    shift
done
if [ $# -gt 0 ]; then
    [ -z "$dest" ] || { echo "download.sh: only one DEST folder" >&2; exit 2; }
    dest="$1"
fi
[ -n "$dest" ] || dest="$(dirname "$0")"
if [ "$want_tasks" = 0 ] && [ "$want_model" = 0 ]; then
    echo "download.sh: --tasks-only and --model-only together leave nothing to do" >&2
    exit 2
fi

# ---------------------------------------------------------------- tools
die() {
    echo "download.sh: error: $*" >&2
    exit 1
}
note() { echo "download.sh: $*"; }
warn() { echo "download.sh: warning: $*" >&2; }

if command -v curl >/dev/null 2>&1; then
    fetcher=curl
elif command -v wget >/dev/null 2>&1; then
    fetcher=wget
else
    die "neither curl nor wget is installed (apt-get install curl)"
fi

if command -v sha256sum >/dev/null 2>&1; then
    sha256_of() { sha256sum "$1" | cut -d' ' -f1; }
elif command -v shasum >/dev/null 2>&1; then
    sha256_of() { shasum -a 256 "$1" | cut -d' ' -f1; }
else
    die "neither sha256sum nor shasum is installed (apt-get install coreutils)"
fi

# Git's blob id: sha1 of "blob <size>\0" followed by the bytes.
git_blob_of() {
    if command -v git >/dev/null 2>&1; then
        git hash-object --no-filters "$1"
    elif command -v sha1sum >/dev/null 2>&1; then
        { printf 'blob %s\0' "$(wc -c <"$1" | tr -d ' ')"; cat "$1"; } | sha1sum | cut -d' ' -f1
    else
        echo unknown
    fi
}

tab="$(printf '\t')"
auth_args=()
# fetch URL OUT: downloads to OUT; returns non-zero on failure.
fetch() {
    local url="$1" out="$2"
    if [ "$fetcher" = curl ]; then
        curl -fL --retry 3 --retry-delay 2 --connect-timeout 30 --progress-bar \
            ${auth_args[@]+"${auth_args[@]}"} -o "$out" "$url"
    else
        wget --tries=3 --timeout=30 -q --show-progress ${auth_args[@]+"${auth_args[@]}"} -O "$out" "$url"
    fi
}

# The sha256 the hub advertises for a Git-LFS file (its X-Linked-Etag
# header), or nothing.
hub_sha256() {
    local url="$1" headers
    if [ "$fetcher" = curl ]; then
        headers="$(curl -fsI --connect-timeout 30 ${auth_args[@]+"${auth_args[@]}"} "$url" 2>/dev/null)" || return 0
    else
        headers="$(wget --spider -S --max-redirect=0 ${auth_args[@]+"${auth_args[@]}"} "$url" 2>&1)" || true
    fi
    printf '%s\n' "$headers" | tr -d '\r' |
        sed -n 's/^[[:space:]]*[Xx]-[Ll]inked-[Ee][Tt]ag:[[:space:]]*"\{0,1\}\([0-9a-f]\{64\}\)"\{0,1\}.*/\1/p' |
        head -n 1
}

# check FILE NAME [EXPECTED_SHA256]: 0 if FILE matches what is known about
# NAME, 1 otherwise (messages on stderr).
check() {
    local file="$1" name="$2" expect="${3:-}" got
    [ -s "$file" ] || { warn "$name is empty"; return 1; }
    if [ -n "$expect" ]; then
        got="$(sha256_of "$file")"
        if [ "$got" != "$expect" ]; then
            warn "$name: sha256 $got, expected $expect"
            return 1
        fi
        return 0
    fi
    local blob
    blob="$(known_git_blob "$name")"
    if [ -n "$blob" ]; then
        got="$(git_blob_of "$file")"
        if [ "$got" = unknown ]; then
            warn "$name: no git or sha1sum here to check its git blob id"
        elif [ "$got" != "$blob" ]; then
            warn "$name: git blob $got, expected $blob"
            return 1
        fi
        return 0
    fi
    local first=""
    IFS= read -r first <"$file" || true
    case "$name" in
    *.csv)
        # No checksum on record: at least a tab-separated header, LF line ends.
        case "$first" in
        *"$tab"*) ;;
        *)
            warn "$name: the first line is not a tab-separated header"
            return 1
            ;;
        esac
        if grep -q "$(printf '\r')" "$file"; then
            warn "$name: has CR characters (a CRLF-converted copy?)"
            return 1
        fi
        ;;
    *.json)
        case "$first" in
        "{"*) ;;
        *)
            warn "$name: does not start with '{', not JSON"
            return 1
            ;;
        esac
        ;;
    esac
    return 0
}

# get URL DIR NAME [EXPECTED_SHA256]: DIR/NAME, downloaded unless already
# there and valid; never leaves a half-written or unverified file behind.
failed=()
get() {
    local url="$1" dir="$2" name="$3" expect="${4:-}" target tmp
    target="$dir/$name"
    if [ "$force" = 0 ] && [ -e "$target" ]; then
        if check "$target" "$name" "$expect" 2>/dev/null; then
            note "$target: already there, checks out"
            return 0
        fi
        note "$target: present but does not check out; downloading it again"
    fi
    tmp="$target.part"
    note "fetching $url"
    if ! fetch "$url" "$tmp"; then
        rm -f "$tmp"
        warn "could not download $url"
        failed+=("$name")
        return 0
    fi
    if ! check "$tmp" "$name" "$expect"; then
        rm -f "$tmp"
        warn "$name failed its check; not kept"
        failed+=("$name")
        return 0
    fi
    mv -f "$tmp" "$target"
    note "$target: ok"
}

cleanup() {
    if [ -n "${dest:-}" ]; then
        rm -f "$dest"/*.part "$dest/$HF_MODEL"/*.part 2>/dev/null || true
    fi
}
trap cleanup EXIT
trap 'echo; die "interrupted"' INT TERM

# ---------------------------------------------------------------- work
mkdir -p "$dest" || die "cannot create $dest"

if [ "$want_tasks" = 1 ]; then
    note "task files from $COURSE_REPO @ ${COURSE_COMMIT:0:12} into $dest/"
    for f in "${TASK_FILES[@]}"; do
        get "$COURSE_URL/$f" "$dest" "$f" "$(known_sha256 "$f")"
    done
fi

if [ "$want_model" = 1 ]; then
    mdir="$dest/$HF_MODEL"
    mkdir -p "$mdir" || die "cannot create $mdir"
    if [ -n "${HF_TOKEN:-}" ]; then
        auth_args=(--header "Authorization: Bearer $HF_TOKEN")
    fi
    note "$HF_MODEL ($HF_REVISION) from the Hugging Face hub into $mdir/"
    get "$HF_URL/config.json" "$mdir" config.json
    if [ -s "$mdir/config.json" ] &&
        [ "$(sha256_of "$mdir/config.json")" != "$CONFIG_SHA256_COURSE" ]; then
        note "config.json differs from the course's copy (sha256 $CONFIG_SHA256_COURSE);" \
            "that is expected for other hub revisions and harmless if the sizes are BERT-base's"
    fi
    get "$HF_URL/vocab.txt" "$mdir" vocab.txt "$(known_sha256 vocab.txt)"
    weights_sha="$(hub_sha256 "$HF_URL/model.safetensors" || true)"
    if [ -n "$weights_sha" ]; then
        note "the hub gives model.safetensors sha256 $weights_sha"
    else
        warn "the hub gave no sha256 for model.safetensors; it is kept unverified"
    fi
    get "$HF_URL/model.safetensors" "$mdir" model.safetensors "$weights_sha"
fi

if [ ${#failed[@]} -gt 0 ]; then
    echo "download.sh: FAILED: ${failed[*]}" >&2
    echo "download.sh: nothing was kept for those; rerun to retry (files that checked out are kept)" >&2
    exit 1
fi
note "done."
if [ "$want_tasks" = 1 ]; then
    note "task files: $dest/{ids-sst,quora,sts,ids-cfimdb}-{train,dev,test-student}.csv"
fi
if [ "$want_model" = 1 ]; then
    note "model folder: $dest/$HF_MODEL (config.json, vocab.txt, model.safetensors)"
fi
