/* GNU readline inside the curses screen.
 *
 * readline runs in callback mode and never touches the terminal: the main
 * loop reads keys with curses and hands them over one byte at a time
 * (rl_getc_function), readline edits its buffer and calls our redisplay
 * hook, and the prompt pane draws rl_line_buffer itself.  Keys curses has
 * already decoded (arrows, Home, Delete) are turned back into the escape
 * sequences readline's default key bindings expect. */
#include <curses.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <readline/history.h>
#include <readline/readline.h>

#include "../front/prompt.h"
#include "../front/prompt_readline.h"
#include "commands.h"
#include "input.h"
#include "output.h"
#include "command_table.h"

static tui_app *current;
static int pending = EOF;
static bool have_pending;
static FILE *null_out;

static int getc_hook(FILE *stream)
{
    (void)stream;
    have_pending = false;
    return pending;
}

static int input_available_hook(void)
{
    return have_pending;
}

static void redisplay_hook(void)
{
    if (current)
        current->dirty = true;
}

static void no_prep(int meta)
{
    (void)meta;
}

static void no_deprep(void) {}

static void on_line(char *line)
{
    if (!line) { /* Ctrl-D on an empty line */
        current->quit_requested = true;
        return;
    }
    prompt_history_add(line, current->history_path[0] ? current->history_path : NULL);
    tui_handle_line(current, line);
    free(line);
}

/* Several completions: list them in the output area instead of letting
 * readline print over the screen. */
static void show_matches(char **matches, int n, int max_len)
{
    (void)max_len;
    char line[TUI_OUTPUT_WIDTH];
    size_t used = 0;
    line[0] = '\0';
    for (int i = 1; i <= n && used < sizeof line; i++)
        used += (size_t)snprintf(line + used, sizeof line - used, "%s%s", i > 1 ? "  " : "",
                                 matches[i]);
    tui_output(current, "%s", line);
}

void tui_input_init(tui_app *app)
{
    current = app;
    null_out = fopen("/dev/null", "w");
    rl_outstream = null_out;
    rl_catch_signals = 0;
    rl_catch_sigwinch = 0;
    rl_change_environment = 0;
    rl_getc_function = getc_hook;
    rl_input_available_hook = input_available_hook;
    rl_redisplay_function = redisplay_hook;
    rl_prep_term_function = no_prep;
    rl_deprep_term_function = no_deprep;
    rl_attempted_completion_function = prompt_complete;
    prompt_complete_commands(tui_prompt_commands, PROMPT_WORKBENCH);
    rl_completion_display_matches_hook = show_matches;
    rl_readline_name = "mtbert";
    if (!prompt_history_open(app->history_path, sizeof app->history_path))
        app->history_path[0] = '\0';
    rl_callback_handler_install("> ", on_line);
}

void tui_input_done(tui_app *app)
{
    rl_callback_handler_remove();
    if (app->history_path[0])
        prompt_history_close(app->history_path);
    if (null_out)
        fclose(null_out);
    null_out = NULL;
    current = NULL;
}

static void feed(int byte)
{
    pending = byte;
    have_pending = true;
    rl_callback_read_char();
}

static void feed_seq(const char *s)
{
    for (; *s; s++)
        feed((unsigned char)*s);
}

void tui_input_key(tui_app *app, int is_key_code, unsigned int ch)
{
    (void)app;
    if (is_key_code) {
        switch (ch) {
        case KEY_LEFT: feed_seq("\033[D"); break;
        case KEY_RIGHT: feed_seq("\033[C"); break;
        case KEY_UP: feed_seq("\033[A"); break;
        case KEY_DOWN: feed_seq("\033[B"); break;
        case KEY_HOME: feed(1); break;     /* C-a */
        case KEY_END: feed(5); break;      /* C-e */
        case KEY_BACKSPACE: feed(127); break;
        case KEY_DC: feed_seq("\033[3~"); break; /* not C-d: on an empty line that is EOF */
        case KEY_ENTER: feed('\r'); break;
        default: break;
        }
        return;
    }
    /* A byte of the typed text: readline works on UTF-8 bytes itself. */
    feed((unsigned char)ch);
}

bool tui_input_line_empty(void)
{
    return !rl_line_buffer || rl_line_buffer[0] == '\0';
}

const char *tui_input_prompt(void)
{
    return rl_prompt ? rl_prompt : "> ";
}

const char *tui_input_buffer(void)
{
    return rl_line_buffer ? rl_line_buffer : "";
}

int tui_input_point(void)
{
    return rl_point;
}
