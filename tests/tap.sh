# TAP helpers sourced by the shell tests: ok, not_ok (extra arguments become
# diagnostic lines) and skip, numbering the tests as they go.
n=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
not_ok() { n=$((n + 1)); echo "not ok $n - $1"; shift; for l in "$@"; do echo "# $l"; done; }
skip() { n=$((n + 1)); echo "ok $n - $1 # SKIP $2"; }
# check NAME COMMAND...: passes when the command succeeds; on failure shows
# the start of $tmp/out and $tmp/err, where the scripts keep the last output.
check() {
    local name=$1
    shift
    if "$@"; then
        ok "$name"
    else
        not_ok "$name" "failed: $*" "stdout: $(head -c 400 "${tmp:-.}/out" 2>/dev/null)" \
            "stderr: $(head -c 400 "${tmp:-.}/err" 2>/dev/null)"
    fi
}
# temp_dir: $tmp, a fresh folder removed when the script exits.
temp_dir() {
    tmp=$(mktemp -d)
    trap 'rm -rf "$tmp"' EXIT
}
# capture CMD...: runs CMD with its stdout in $tmp/out and stderr in $tmp/err;
# returns its status.
capture() { "$@" >"$tmp/out" 2>"$tmp/err"; }
# need_command CMD NAME: without CMD installed the script is one skipped
# test NAME, and ends here.
need_command() {
    command -v "$1" >/dev/null 2>&1 && return 0
    echo "ok 1 - $2 # SKIP $1 is not installed"
    echo "1..1"
    exit 0
}
