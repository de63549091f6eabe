#!/bin/bash
# End-to-end test of the workbench in a real terminal: tmux runs it, types
# into it and reads the screen.  TAP.
set -u
MTBERT=${MTBERT:-src/mtbert}
srcdir=${srcdir:-tests}
. "$srcdir/tap.sh"

need_command tmux "workbench end to end"
tmp=$(mktemp -d)
sock="$tmp/tmux.sock"
session=mtbert-e2e
t() { tmux -S "$sock" "$@"; }
cleanup() {
    t kill-server 2>/dev/null
    sleep 0.5 # let the shell and the workbench go before their folder does
    rm -rf "$tmp" 2>/dev/null || { sleep 1; rm -rf "$tmp"; }
}
trap cleanup EXIT

screen() { t capture-pane -p -t "$session"; }
# wait_for PATTERN [SECONDS]: until the screen matches (grep -E)
wait_for() {
    local deadline=$((SECONDS + ${2:-20}))
    while [ $SECONDS -lt $deadline ]; do
        screen | grep -qE -- "$1" && return 0
        sleep 0.2
    done
    return 1
}
check_screen() { # NAME PATTERN [SECONDS]
    if wait_for "$2" "${3:-20}"; then ok "$1"; else not_ok "$1" "screen lacks /$2/:" "$(screen | head -50 | sed 's/^/  /')"; fi
}
step_now() { screen | grep -oE 'step [0-9]+/' | head -1 | grep -oE '[0-9]+'; }

# A shell in a 120x40 terminal; the workbench runs in it so that after it
# exits the shell shows whether the terminal was restored.
t -f /dev/null new-session -d -s "$session" -x 120 -y 40 \
    "env -i PATH=/usr/bin:/bin HOME=$tmp XDG_CONFIG_HOME=$tmp/config XDG_STATE_HOME=$tmp/state TERM=tmux-256color LANG=C.UTF-8 bash --norc --noprofile"
t set-option -t "$session" history-limit 0 >/dev/null
sleep 0.3
t send-keys -t "$session" "PS1='shell> '; clear" Enter
# Plain `mtbert`: the workbench on the bundled demo, saving under
# $XDG_DATA_HOME/mtbert/runs (here unset: ~/.local/share), never into the
# folder it was started from.
mkdir -p "$tmp/cwd"
cmd="cd $tmp/cwd && $MTBERT 2>$tmp/demo.err; echo EXIT=\$?"
t send-keys -t "$session" "$cmd" Enter

check_screen "the screen shows the loss pane" "Loss: training"
check_screen "the screen shows the conflict pane" "Gradient conflict"
check_screen "the step counter moves" "step ([1-9][0-9]*)/"
check_screen "the loss legend names all three tasks" "sst.*para.*sts"
check_screen "the conflict curves name the three pairs" "sst-para.*sst-sts.*para-sts"
check_screen "the per-layer view is drawn" "layer 0"
check_screen "the log names the OpenBLAS kernel, why, and the precision" "kernel [A-Za-z0-9_]+ \\((OpenBLAS|a better|OPENBLAS_CORETYPE)[^)]*\\), (fp32|bf16)"
check_screen "the footer shows the keys" "F1.*Help.*F10.*Quit"

t send-keys -t "$session" "a warm and funny triumph" Enter
check_screen "a sentence gets its sentiment" "sentiment: [a-z ]+ \\([0-4]\\)"
if screen | grep -A1 -- "^> a warm and funny triumph" | grep -qE "^sentiment: "; then
    ok "the answer sits under the input it answers"
else
    not_ok "the answer sits under the input it answers" "$(screen | tail -8)"
fi
t send-keys -t "$session" "How do I cook rice? || What is the best way to cook rice?" Enter
check_screen "a pair gets the paraphrase probability" "paraphrase: 0\\.[0-9]+"
check_screen "a pair gets the similarity score" "similarity: [0-5]\\.[0-9]+ / 5"
check_screen "a pair gets both sentiments" "sentiment B:"
t send-keys -t "$session" ":help" Enter
check_screen ":help opens the whole help in the overlay" "F12 +layers pane"
t send-keys -t "$session" q
# A byte that is not UTF-8 goes into the line like any other (it used to
# swallow the rest of the input, Enter included).
t send-keys -t "$session" -H ff
t send-keys -t "$session" "caf" -H c3 a9 " is good" Enter
check_screen "a line with an invalid UTF-8 byte is still scored" "^sentiment: [a-z ]+ \\([0-4]\\)"

t send-keys -t "$session" ":pause" Enter
check_screen ":pause answers at the prompt" "pausing after this step"
check_screen ":pause shows the paused state" "PAUSED"
sleep 0.5
a=$(step_now)
sleep 1.5
b=$(step_now)
if [ -n "$a" ] && [ "$a" = "$b" ]; then ok ":pause stops the step counter ($a)"; else not_ok ":pause stops the step counter" "before $a, after $b"; fi
t send-keys -t "$session" ":resume" Enter
sleep 1.5
c=$(step_now)
if [ -n "$c" ] && [ "$c" -gt "$b" ]; then ok ":resume moves it again ($b -> $c)"; else not_ok ":resume moves it again" "before $b, after $c"; fi

t send-keys -t "$session" ":mode mgda" Enter
check_screen ":mode mgda switches the run to MGDA (the log says so)" "mode set to mgda"
t send-keys -t "$session" ":mode gradvac" Enter
check_screen ":mode gradvac: a method with a state switches too" "mode set to gradvac"

# :errors and :confusion: reports on the dev data, in the overlay.
t send-keys -t "$session" ":errors sts 3" Enter
check_screen ":errors sts 3: the three worst similarity pairs" "the 3 sts dev examples \\(of 100\\) the model gets most wrong:"
check_screen "... each with its gold score, the model's and the texts" " 1\\. gold [0-5]\\.[0-9]{2}, said [0-5]\\.[0-9]{2}: .+ \\|\\| .+"
t send-keys -t "$session" q
t send-keys -t "$session" ":confusion" Enter
check_screen ":confusion: SST's confusion matrix" "SST confusion matrix on 100 dev examples"
check_screen "... with every class's recall and the accuracy" "accuracy 0\\.[0-9]{3}"
t send-keys -t "$session" q

# :scale: the loss pane's y axis.
t send-keys -t "$session" ":scale log" Enter
check_screen ":scale log: the loss pane on a log scale" "Loss \\(log scale\\)"
t send-keys -t "$session" ":scale relative" Enter
check_screen ":scale relative: each task over its first step" "Loss over each task's first"
t send-keys -t "$session" ":scale cubic" Enter
check_screen "... another scale is explained" "error: :scale needs linear, log or relative"
t send-keys -t "$session" ":scale linear" Enter
check_screen "... and linear is the plain view again" "Loss: training \\(line\\)"
t send-keys -t "$session" ":scale weights log" Enter
check_screen ":scale weights log: the task weights on a log scale" "Task weights \\(log scale\\) in the update"
t send-keys -t "$session" ":scale weights linear" Enter
check_screen "... and back" "Task weights in the update"
t send-keys -t "$session" F11 F11

# The step cursor: every chart over steps reads its curves at one step.
t send-keys -t "$session" ":cursor 3" Enter
check_screen ":cursor 3: the loss pane reads its curves at step 3" "Loss at step 3"
check_screen "... each legend entry with its value there" "sst [0-9][.0-9e+-]* .*para [0-9][.0-9e+-]* .*sts [0-9][.0-9e+-]*"
check_screen "... the conflict pane at the same step" "Gradient conflict at step 3"
check_screen "... the pairs' cosines there" "sst-para -?[0-9][.0-9e+-]*"
check_screen "... the prompt says what happened" "cursor at step 3: the legends show the values there"
t send-keys -t "$session" S-Right S-Right
check_screen "Shift-Right moves it on" "Loss at step ([4-9]|[1-9][0-9]+)"
t send-keys -t "$session" S-Home
check_screen "Shift-Home: the first step" "Loss at step 1:"
t send-keys -t "$session" S-End
check_screen "Shift-End: off, the charts follow the run" "Loss: training \\(line\\)"
t send-keys -t "$session" ":cursor soon" Enter
check_screen "... a bad step is explained" "error: :cursor needs a step \\(a whole number\\) or off"
# a right click in the loss pane's plot (column 40, row 6)
t send-keys -t "$session" -H 1b 5b 4d 22 49 27 1b 5b 4d 23 49 27
check_screen "a right click puts the cursor at the step under it" "Loss at step [0-9]+"
t send-keys -t "$session" ":cursor off" Enter
check_screen ":cursor off: back to the run" "cursor off: the charts follow the run"

# The mouse: a click zooms the pane under it, another goes back (X10
# mouse reports, as the terminal would send them).
t send-keys -t "$session" -H 1b 5b 4d 20 26 3a 1b 5b 4d 23 26 3a
check_screen "a click on the Metrics pane zooms it" "Metrics \\[zoomed\\]"
t send-keys -t "$session" -H 1b 5b 4d 20 26 3a 1b 5b 4d 23 26 3a
check_screen "... and another click goes back" "Loss: training"
# Shift-PgUp: earlier answers in the prompt's output.
t send-keys -t "$session" S-PPage
check_screen "Shift-PgUp scrolls the answers back" "Prompt: earlier answers"
t send-keys -t "$session" S-NPage S-NPage S-NPage S-NPage
check_screen "... Shift-PgDn forward to the newest" "Prompt: a sentence"

# F11: the conflict pane's views; F12: the layers pane's heat maps over time.
t send-keys -t "$session" F11
check_screen "F11: each task's weight in the update, for the method trained" "Task weights in the update, gradvac"
t send-keys -t "$session" F11
check_screen "F11 again: how much the update serves each task" "Served: cos\\(update, task gradient\\)"
t send-keys -t "$session" F11
check_screen "F11 a third time: back to the pairs' cosines" "Gradient conflict: cosine per task pair"
t send-keys -t "$session" F12
check_screen "F12: the first pair's heat map over time, with its key" "sst-para, steps 1-[0-9]+ +-1 █▓▒░·░▒▓█ \\+1"
check_screen "... its rows the parameter groups, and the pair's conflict rate" "cos < 0 in [0-9]+% of [0-9]+ steps"
t send-keys -t "$session" F12 F12 F12
check_screen "F12 past the last pair: the latest step again" "by group:"

# :save DIR never replaces another saved model or run; a new folder, and
# the same folder again, are fine.
mkdir -p "$tmp/other" && cp "$srcdir/fixtures/tiny-bert/"* "$tmp/other/"
t send-keys -t "$session" ":save $tmp/other" Enter
check_screen ":save onto another saved model is refused, naming it" "other already holds a saved model"
sleep 0.5
if cmp -s "$srcdir/fixtures/tiny-bert/model.safetensors" "$tmp/other/model.safetensors"; then
    ok "... and that model is left as it was"
else
    not_ok "... and that model is left as it was"
fi
t send-keys -t "$session" ":save $tmp/snap" Enter
check_screen ":save to a new folder is accepted" "saving to $tmp/snap after this step"
for _ in $(seq 50); do [ -f "$tmp/snap/trainer.json" ] && break; sleep 0.2; done
t send-keys -t "$session" ":save $tmp/snap" Enter
sleep 0.5
if [ -f "$tmp/snap/trainer.json" ] && ! screen | grep -q "snap already holds"; then
    ok ":save to the folder it saved to before replaces its own snapshot"
else
    not_ok ":save to the folder it saved to before replaces its own snapshot" "$(screen | tail -8)"
fi

t resize-window -t "$session" -x 80 -y 24
sleep 0.5
if wait_for "Loss " && [ "$(screen | LC_ALL=C.UTF-8 wc -L)" -le 80 ]; then
    ok "resizing to 80x24 redraws the layout"
else
    not_ok "resizing to 80x24 redraws the layout" "$(screen | head -30)"
fi
check_screen "80x24: the dev metrics are all there, whole" "│ sts corr  [-0-9.]+ [-0-9.]+( @[0-9]+)? *│"
check_screen "80x24: the loss legend keeps every task" "■ sst ■ para ■ sts"
check_screen "80x24: pane titles fit, cut to their names" "┌─ Gradient conflict ─"
t send-keys -t "$session" "a very fine and wonderful film || a good movie" Enter
check_screen "80x24: a pair's sentiments keep their last probability" "^sentiment B: .* v\\.pos [01]\\.[0-9]{2}$"
t resize-window -t "$session" -x 50 -y 15
check_screen "a too-small terminal gets a clear message" "Terminal too small"
t resize-window -t "$session" -x 40 -y 10
check_screen "... readable whole at 40x10" "^ *60x18 \\(F10 quits\\) *$"
t send-keys -t "$session" F1
t resize-window -t "$session" -x 120 -y 40
sleep 0.5
if screen | grep -q "^.*Keys" && screen | grep -q "F1, ? (empty line)"; then
    not_ok "F1 on a too-small terminal opens no invisible help" "$(screen | head -5)"
    t send-keys -t "$session" q
else
    ok "F1 on a too-small terminal opens no invisible help"
fi
t resize-window -t "$session" -x 120 -y 40
check_screen "growing again restores the panes" "Gradient conflict"

t send-keys -t "$session" DC
sleep 1
if screen | grep -q "Gradient conflict" && ! screen | grep -q "EXIT="; then
    ok "Delete on an empty prompt line does not quit"
else
    not_ok "Delete on an empty prompt line does not quit" "$(screen | tail -5)"
fi
t send-keys -t "$session" F1
check_screen "F1 opens the help" "Keys"
t send-keys -t "$session" q
t send-keys -t "$session" ":quit" Enter
check_screen ":quit exits with status 0" "EXIT=0" 60
if screen | grep -q "shell> " && ! screen | grep -q "Gradient conflict"; then
    ok "the terminal is restored after quitting"
else
    not_ok "the terminal is restored after quitting" "$(screen | head -20)"
fi
run_dir=$(ls -d "$tmp"/.local/share/mtbert/runs/demo-* 2>/dev/null | head -1)
if [ -n "$run_dir" ] && [ -f "$run_dir/model.safetensors" ] && [ -f "$run_dir/trainer.json" ]; then
    ok "quitting saved the run under ~/.local/share/mtbert/runs"
else
    not_ok "quitting saved the run under ~/.local/share/mtbert/runs" "$(ls -R "$tmp" 2>&1 | head -30)"
fi
if [ -z "$(ls -A "$tmp/cwd")" ]; then
    ok "the demo wrote nothing into the folder it was started from"
else
    not_ok "the demo wrote nothing into the folder it was started from" "$(ls -A "$tmp/cwd")"
fi
if [ -n "$run_dir" ] && grep -qF "the run is saved to $run_dir" "$tmp/demo.err" &&
   grep -qF "saved the run in $run_dir (mtbert tui --resume $run_dir continues it)" "$tmp/demo.err"; then
    ok "the demo says where it saves, and on exit where it saved"
else
    not_ok "the demo says where it saves, and on exit where it saved" "$(cat "$tmp/demo.err")"
fi
if [ -s "$tmp/state/mtbert/history" ] && grep -q "cook rice" "$tmp/state/mtbert/history"; then
    ok "prompt history is kept in the XDG state folder"
else
    not_ok "prompt history is kept in the XDG state folder" "$(ls -R "$tmp/state" 2>&1)"
fi

# --resume redraws the run's curves from its metrics file; --compare
# overlays saved runs' curves, one task at a time (Ctrl-O).
demo="$(cd "$srcdir/../data/demo" && pwd)"
args=(--config tiny --vocab "$demo/vocab.txt" --max-length 32 --lr 2e-4 --seed 5
    --sst-train "$demo/sst-train.csv" --para-train "$demo/para-train.csv"
    --sts-train "$demo/sts-train.csv" --sst-dev "$demo/sst-dev.csv" --quiet)
"$MTBERT" train "${args[@]}" --mode sum --max-steps 40 --out "$tmp/r1" --metrics "$tmp/r1.jsonl" 2>/dev/null
"$MTBERT" train "${args[@]}" --mode pcgrad --max-steps 40 --out "$tmp/r2" --metrics "$tmp/r2.jsonl" 2>/dev/null
t send-keys -t "$session" "clear; $MTBERT tui --resume $tmp/r1 --max-steps 100000 --compare $tmp/r2 2>$tmp/tui2.err; echo EXIT2=\$?" Enter
check_screen "--resume: the log says the run's history was redrawn from its metrics file" "redrew steps 1-40 from"
check_screen "--compare: the loss pane shows one task of this run and the saved one" "Loss sst: this run and 1 saved \\(Ctrl-O: task\\)"
check_screen "... the saved run named in the legend" "■ this run ■ r2"
t send-keys -t "$session" C-o
check_screen "Ctrl-O: the next task" "Loss para: this run and 1 saved"
t send-keys -t "$session" C-o C-o
check_screen "... and after the last task, the usual view" "Loss: training \\(line\\), validation"
t send-keys -t "$session" ":quit" Enter
check_screen "the resumed workbench quits with status 0" "EXIT2=0" 60
# Without validation data the workbench says so, and :eval answers why it
# cannot; a single-task model's other scores come with a caveat.
t send-keys -t "$session" "clear; NO_COLOR=1 $MTBERT tui --config tiny --vocab $demo/vocab.txt --sst-train $demo/sst-train.csv --sts-train $demo/sts-train.csv --mode single:sst --max-steps 100000 --out $tmp/r3 2>$tmp/tui3.err; echo EXIT3=\$?" Enter
check_screen "no validation data: said in the metrics pane" "no validation data:"
check_screen "NO_COLOR: the curves get ASCII marks, keyed in the legend" "\\* sst"
t send-keys -t "$session" F1
check_screen "the help explains the panes' abbreviations" "sst<para 46% +share of steps"
t send-keys -t "$session" NPage
check_screen "a help taller than the screen scrolls to its end" ":quit, :q +leave"
t send-keys -t "$session" q
t send-keys -t "$session" ":eval" Enter
check_screen "... and :eval answers why it cannot" "no validation data to evaluate on"
t send-keys -t "$session" ":errors sst" Enter
check_screen "... and so does :errors" "no sst validation data: give --sst-dev or --val-split F"
t send-keys -t "$session" "a fine film || a good movie" Enter
check_screen "a single-task model's pair scores carry a caveat" "note: this model never trained paraphrase and similarity"
t send-keys -t "$session" ":quit" Enter
check_screen "... and it quits with status 0" "EXIT3=0" 60
t send-keys -t "$session" "clear; $MTBERT tui --compare $tmp/nothing-here 2>&1 | tail -1" Enter
check_screen "--compare of a folder that is not there: named" "$tmp/nothing-here: no such run folder or metrics file"
echo "1..$n"
