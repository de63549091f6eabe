/* The workbench's main loop: trainer events in, keys to readline, panes
 * drawn at most every 50 ms.  Signal handlers only set flags. */
#include <curses.h>
#include <langinfo.h>
#include <locale.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include "../front/front.h"
#include "../front/metrics.h"
#include "app.h"
#include "commands.h"
#include "cursor.h"
#include "input.h"
#include "mtbert/blas_kernel.h"
#include "mtbert/clock.h"
#include "mtbert/precision.h"
#include "output.h"
#include "scoring.h"
#include "screen.h"

static volatile sig_atomic_t got_winch, got_quit;

static void on_winch(int sig)
{
    (void)sig;
    got_winch = 1;
}

static void on_quit(int sig)
{
    (void)sig;
    got_quit = 1;
}

static void apply_theme(tui_app *app)
{
    const char *no_color = getenv("NO_COLOR");
    app->color = has_colors() && !(no_color && *no_color);
    if (!app->color) {
        tui_theme_monochrome(&app->theme);
        /* braille curves of one colour cannot be told apart: ASCII gives
         * each series its own mark, unless the user chose the glyphs */
        if (!app->glyphs_chosen)
            app->glyphs = TUI_GLYPHS_ASCII;
        return;
    }
    start_color();
    use_default_colors();
    for (int slot = 0; slot < TUI_N_SLOTS; slot++) {
        tui_style s = tui_style_degrade(app->theme.slot[slot], COLORS);
        if (s.attrs != app->theme.slot[slot].attrs)
            app->theme.slot[slot].attrs = s.attrs;
        init_pair((short)(slot + 1), s.fg, s.bg);
    }
}

static void handle_resize(tui_app *app)
{
    struct winsize ws;
    if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_row > 0 && ws.ws_col > 0)
        resize_term(ws.ws_row, ws.ws_col);
    clear();
    app->dirty = true;
}

static void cycle_smoothing(tui_app *app)
{
    static const double levels[] = {1.0, 0.3, 0.05};
    int i = 0;
    while (i < 3 && fabs(levels[i] - app->smoothing) > 1e-9)
        i++;
    app->smoothing = levels[(i + 1) % 3];
    tui_output(app, "smoothing: %s", app->smoothing >= 1.0 ? "off" : app->smoothing > 0.1 ? "light"
                                                                                          : "strong");
}

/* The pane under a cell, or -1. */
static int pane_at(const tui_app *app, int x, int y)
{
    for (int p = 0; p < TUI_N_PANES; p++) {
        const tui_rect *r = &app->layout.pane[p];
        if (app->layout.visible[p] && x >= r->x && x < r->x + r->w && y >= r->y &&
            y < r->y + r->h)
            return p;
    }
    return -1;
}

/* Scrolls the log back (lines > 0) or forward, within its messages. */
static void scroll_log(tui_app *app, int lines)
{
    app->log_scroll += lines;
    if (app->log_scroll > app->data.log_len - 1)
        app->log_scroll = app->data.log_len - 1;
    if (app->log_scroll < 0)
        app->log_scroll = 0;
}

/* Scrolls the prompt's answers back (lines > 0) or forward; the pane
 * clamps the other end, which depends on its height. */
static void scroll_output(tui_app *app, int lines)
{
    app->output_scroll += lines;
    if (app->output_scroll < 0)
        app->output_scroll = 0;
}

/* PgUp/PgDn's step: the log pane's height less a line of context */
static int log_page(const tui_app *app)
{
    const int h = app->layout.pane[TUI_PANE_LOG].h;
    return h > 4 ? h - 3 : 5;
}

static void toggle_zoom(tui_app *app, int pane)
{
    app->zoomed = app->zoomed == pane ? -1 : pane;
}

/* A click on a chart pane zooms it (again: back); a right click on a chart
 * over steps puts the step cursor there; the wheel scrolls the log over
 * the log pane and the answers over the prompt. */
static void handle_mouse(tui_app *app)
{
    MEVENT ev;
    if (getmouse(&ev) != OK)
        return;
    const int pane = pane_at(app, ev.x, ev.y);
    const int wheel = ev.bstate & BUTTON4_PRESSED ? 3 : ev.bstate & BUTTON5_PRESSED ? -3 : 0;
    if (wheel && pane == TUI_PANE_LOG) {
        scroll_log(app, wheel);
    } else if (wheel && pane == TUI_PANE_PROMPT) {
        scroll_output(app, wheel);
    } else if (ev.bstate & BUTTON3_PRESSED) {
        if (!tui_cursor_click(app, pane, ev.x))
            return;
    } else if ((ev.bstate & BUTTON1_PRESSED) && pane >= TUI_PANE_LOSS &&
               pane <= TUI_PANE_LOG) {
        toggle_zoom(app, pane);
    } else {
        return;
    }
    app->dirty = true;
}

/* While the help or a report is open: the arrows and pages scroll it, any
 * other key closes it. */
static void help_key(tui_app *app, bool is_key, wint_t ch)
{
    const int page = LINES > 6 ? LINES - 6 : 1;
    if (is_key && (ch == KEY_DOWN || ch == KEY_UP || ch == KEY_NPAGE || ch == KEY_PPAGE)) {
        app->help_scroll += ch == KEY_DOWN ? 1 : ch == KEY_UP ? -1 : ch == KEY_NPAGE ? page
                                                                                  : -page;
    } else {
        app->help_open = false;
        free(app->report); /* a report is read once; F1 shows the help again */
        app->report = NULL;
    }
    app->dirty = true;
}

static void open_help(tui_app *app)
{
    free(app->report);
    app->report = NULL;
    app->help_open = !app->layout.too_small; /* no room: the keys stay live */
    app->help_scroll = 0;
    app->dirty = true;
}

static void cycle_glyphs(tui_app *app)
{
    app->glyphs = app->glyphs == TUI_GLYPHS_BRAILLE ? TUI_GLYPHS_BLOCK
                  : app->glyphs == TUI_GLYPHS_BLOCK ? TUI_GLYPHS_ASCII
                                                    : TUI_GLYPHS_BRAILLE;
    app->dirty = true;
}

/* Ctrl-O: the next task whose curves the saved runs show, then off. */
static void cycle_compare_task(tui_app *app)
{
    if (app->n_compare == 0) {
        tui_output(app, "no saved runs to compare: mtbert tui --compare RUN ...");
    } else {
        int t = app->compare_task;
        do
            t = t + 1 > MTB_TASK_STS ? -1 : t + 1;
        while (t >= 0 && !app->data.active[t] && tui_series_len(&app->data.loss[t]) == 0);
        app->compare_task = t;
        tui_output(app, "compare: %s", t < 0 ? "off" : mtb_task_name((mtb_task)t));
    }
    app->dirty = true;
}

static void cycle_conflict_view(tui_app *app)
{
    static const char *const names[TUI_CONFLICT_VIEWS] = {"cosine per task pair",
                                                          "task weights", "served tasks"};
    app->conflict_view = (app->conflict_view + 1) % TUI_CONFLICT_VIEWS;
    tui_output(app, "conflict pane: %s", names[app->conflict_view]);
    app->dirty = true;
}

/* The latest step, then each task pair with data over time. */
static void cycle_layers_view(tui_app *app)
{
    int pairs = 0;
    for (int p = 0; p < MTB_MAX_PAIRS; p++)
        pairs += tui_series_len(&app->data.cos[p]) > 0;
    app->layers_view = pairs ? (app->layers_view + 1) % (pairs + 1) : 0;
    tui_output(app, "layers pane: %s", app->layers_view ? "one pair's heat map over time"
                                                        : "the latest step");
    app->dirty = true;
}

/* Shift-Left/Right move the step cursor, Shift-Home puts it on the first
 * step, Shift-End hides it. */
static void cursor_key(tui_app *app, wint_t ch)
{
    if (ch == KEY_SEND)
        tui_cursor_hide(app);
    else if (!(ch == KEY_SHOME ? tui_cursor_first(app)
                               : tui_cursor_move(app, ch == KEY_SLEFT ? -1 : 1)))
        tui_output(app, "no curves yet for the cursor to read");
    app->dirty = true;
}

/* A key curses decoded (function keys, arrows, the mouse): false for one
 * that goes to the input line. */
static bool handle_key_code(tui_app *app, wint_t ch)
{
    if (ch >= KEY_F(2) && ch <= KEY_F(6)) {
        toggle_zoom(app, TUI_PANE_LOSS + (int)(ch - KEY_F(2)));
        app->dirty = true;
        return true;
    }
    switch (ch) {
    case KEY_F(7): cycle_smoothing(app); return true;
    case KEY_F(8): cycle_glyphs(app); return true;
    case KEY_F(9): tui_handle_line(app, app->data.paused ? ":resume" : ":pause"); return true;
    case KEY_F(10): app->quit_requested = true; return true;
    case KEY_F(11): cycle_conflict_view(app); return true;
    case KEY_F(12): cycle_layers_view(app); return true;
    case KEY_MOUSE: handle_mouse(app); return true;
    case KEY_SLEFT:
    case KEY_SRIGHT:
    case KEY_SHOME:
    case KEY_SEND: cursor_key(app, ch); return true;
    case KEY_SPREVIOUS:
    case KEY_SNEXT:
        scroll_output(app, ch == KEY_SPREVIOUS ? 3 : -3);
        app->dirty = true;
        return true;
    case KEY_PPAGE:
    case KEY_NPAGE:
        scroll_log(app, ch == KEY_PPAGE ? log_page(app) : -log_page(app));
        app->dirty = true;
        return true;
    default: return false;
    }
}

static void handle_key(tui_app *app, int kind, wint_t ch)
{
    const bool is_key = kind == KEY_CODE_YES;
    if (is_key && ch == KEY_RESIZE) {
        handle_resize(app);
        return;
    }
    if (app->help_open) {
        help_key(app, is_key, ch);
        return;
    }
    if ((is_key && ch == KEY_F(1)) || (!is_key && ch == '?' && tui_input_line_empty())) {
        open_help(app);
        return;
    }
    if (is_key && handle_key_code(app, ch))
        return;
    if (!is_key && ch == 27) { /* a lone Esc */
        app->zoomed = -1;
        app->dirty = true;
        return;
    }
    if (!is_key && ch == 15) { /* Ctrl-O */
        cycle_compare_task(app);
        return;
    }
    tui_input_key(app, is_key, (unsigned int)ch);
    app->dirty = true;
}

static tui_glyphs default_glyphs(const char *name)
{
    if (name && strcmp(name, "braille") == 0)
        return TUI_GLYPHS_BRAILLE;
    if (name && strcmp(name, "block") == 0)
        return TUI_GLYPHS_BLOCK;
    if (name && strcmp(name, "ascii") == 0)
        return TUI_GLYPHS_ASCII;
    const char *cs = nl_langinfo(CODESET);
    return cs && (strcmp(cs, "UTF-8") == 0 || strcmp(cs, "utf8") == 0) ? TUI_GLYPHS_BRAILLE
                                                                         : TUI_GLYPHS_ASCII;
}

/* The theme and user configuration the options and config file ask for. */
static int resolve_look(const tui_options *opt, tui_theme *theme, tui_user_config *cfg,
                        mtb_error *err)
{
    char path[4096];
    tui_xdg_path(path, sizeof path, "config", "config");
    int rc = tui_config_load(cfg, path, err);
    if (rc)
        return rc;
    tui_theme_default(theme);
    const char *name = opt->theme ? opt->theme : cfg->theme[0] ? cfg->theme : NULL;
    if (!name)
        return MTB_OK;
    char user_dir[4096];
    tui_xdg_path(user_dir, sizeof user_dir, "config", "themes");
    const char *dirs[] = {user_dir, MTBERT_SOURCE_THEMES_DIR, MTBERT_INSTALLED_THEMES_DIR};
    return tui_theme_resolve(theme, name, dirs, 3, err);
}

int tui_check_options(const tui_options *opt, mtb_error *err)
{
    tui_theme theme;
    tui_user_config cfg;
    return resolve_look(opt, &theme, &cfg, err);
}

static void free_data(tui_app *app)
{
    free(app->report);
    app->report = NULL;
    tui_data_free(&app->data);
    for (int i = 0; i < app->n_compare; i++)
        tui_data_free(&app->compare[i]);
    app->n_compare = 0;
}

static void apply_to_data(const mtb_event *ev, void *ctx)
{
    tui_data_apply(ctx, ev);
}

/* The run's past (on --resume) and the saved runs to compare with, read
 * from their metrics files before the screen opens. */
static int load_histories(tui_app *app, const tui_options *opt, mtb_error *err)
{
    if (opt->history && opt->history_until > 0) {
        int rc = metrics_replay(opt->history, opt->history_until, apply_to_data, &app->data, err);
        if (rc)
            return rc;
        tui_data_log(&app->data, "redrew steps 1-%ld from %s", app->data.step, opt->history);
    }
    for (int i = 0; i < opt->n_compare && i < TUI_MAX_COMPARE; i++) {
        if (tui_data_init(&app->compare[i], opt->compare_name[i]))
            return mtb_error_set(err, MTB_EFAIL, "out of memory");
        app->n_compare = i + 1;
        int rc = metrics_replay(opt->compare[i], -1, apply_to_data, &app->compare[i], err);
        if (rc)
            return rc;
        tui_data_log(&app->data, "comparing with %s: %ld steps (Ctrl-O: task)",
                     opt->compare_name[i], app->compare[i].step);
    }
    app->compare_task = app->n_compare > 0 ? MTB_TASK_SST : -1;
    return MTB_OK;
}

static int setup(tui_app *app, const tui_options *opt, mtb_error *err)
{
    memset(app, 0, sizeof *app);
    app->opt = *opt;
    app->zoomed = -1;
    if (tui_data_init(&app->data, opt->mode_name))
        return mtb_error_set(err, MTB_EFAIL, "out of memory");
    app->has_validation = mtb_trainer_has_validation(opt->trainer);
    int loaded = load_histories(app, opt, err);
    if (loaded)
        return loaded;

    tui_user_config cfg;
    int rc = resolve_look(opt, &app->theme, &cfg, err);
    if (rc)
        return rc;
    app->glyphs = default_glyphs(opt->glyphs ? opt->glyphs : cfg.glyphs[0] ? cfg.glyphs : NULL);
    app->glyphs_chosen = opt->glyphs || cfg.glyphs[0];
    app->smoothing = opt->smoothing >= 0 ? opt->smoothing : cfg.smoothing >= 0 ? cfg.smoothing : 0.3;
    if (app->smoothing <= 0 || app->smoothing > 1)
        app->smoothing = 1.0;
    return MTB_OK;
}

static void restore_terminal(void)
{
    if (!isendwin())
        endwin();
}

/* Curses in raw-ish mode with the mouse and the theme's colours; nonzero
 * when the terminal cannot be opened. */
static int open_screen(tui_app *app)
{
    ESCDELAY = 25;
    if (!initscr())
        return 1;
    atexit(restore_terminal);
    cbreak();
    noecho();
    nonl();
    keypad(stdscr, TRUE);
    /* clicks zoom a pane, the wheel scrolls the log and the answers; with
     * Shift held the terminal still selects text */
    mousemask(BUTTON1_PRESSED | BUTTON3_PRESSED | BUTTON4_PRESSED | BUTTON5_PRESSED, NULL);
    mouseinterval(0);
    timeout(50);
    apply_theme(app);
    return 0;
}

static void catch_signals(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sigemptyset(&sa.sa_mask);
    sa.sa_handler = on_winch;
    sigaction(SIGWINCH, &sa, NULL);
    fe_on_stop_signals(on_quit);
}

/* The BLAS kernel and precision in one short line, since the log pane is
 * small: mtbert info has the long story. */
static void log_kernel(tui_app *app)
{
    const mtb_kernel_choice *kernel = mtb_blas_kernel_current();
    static const char *const why[] = {
        [MTB_KERNEL_OPENBLAS] = "OpenBLAS's choice",
        [MTB_KERNEL_USER] = "OPENBLAS_CORETYPE",
        [MTB_KERNEL_RAISED] = "OpenBLAS fell back to",
        [MTB_KERNEL_KEPT] = "a better one failed; OpenBLAS chose",
    };
    char precision[96];
    mtb_precision_describe(precision, sizeof precision);
    tui_data_log(&app->data, "kernel %s (%s%s%s), %s", kernel->kernel, why[kernel->source],
                 kernel->source == MTB_KERNEL_RAISED || kernel->source == MTB_KERNEL_KEPT ? " "
                                                                                          : "",
                 kernel->source == MTB_KERNEL_RAISED || kernel->source == MTB_KERNEL_KEPT
                     ? kernel->openblas
                     : "",
                 precision);
}

/* What the prompt and the log say before the first step. */
static void greet(tui_app *app)
{
    tui_output(app, "Type a sentence for its sentiment, 'first || second' for all three "
                    "scores, :help for commands.");
    if (!app->has_validation) {
        tui_output(app, "no validation data: the dev metrics stay empty (give --sst-dev, "
                        "--para-dev, --sts-dev or --val-split F)");
        tui_data_log(&app->data, "no validation data: nothing will be evaluated");
    }
    log_kernel(app);
}

/* The trainer's events since the last frame, into the view and the
 * metrics file. */
static void take_events(tui_app *app, const tui_options *opt)
{
    mtb_event ev;
    while (mtb_event_queue_pop(mtb_trainer_events(opt->trainer), &ev, 0)) {
        tui_data_apply(&app->data, &ev);
        if (opt->metrics)
            metrics_write(opt->metrics, &ev);
        app->dirty = true;
    }
}

/* The first time a quit is asked for: stop training (saving the run),
 * then wait for its DONE event. */
static void begin_quitting(tui_app *app, const tui_options *opt)
{
    if (!app->quit_requested || app->quitting)
        return;
    app->quitting = true;
    if (!app->data.done) {
        tui_output(app, "stopping%s...", opt->out_dir ? " and saving the run" : "");
        mtb_trainer_stop(opt->trainer, true);
    }
}

/* Until training has ended after a quit: events in, a frame at most every
 * 50 ms, keys out (getch waits up to 50 ms). */
static void main_loop(tui_app *app, const tui_options *opt)
{
    double last_draw = 0;
    app->dirty = true;
    for (;;) {
        if (got_winch) {
            got_winch = 0;
            handle_resize(app);
        }
        if (got_quit) {
            got_quit = 0;
            app->quit_requested = true;
        }
        take_events(app, opt);
        if (tui_scoring_poll(app))
            app->dirty = true;
        begin_quitting(app, opt);
        if (app->quitting && app->data.done)
            break;
        double t = mtb_now_seconds();
        if (app->dirty && t - last_draw >= 0.05) {
            tui_draw_screen(app);
            app->dirty = false;
            last_draw = t;
        }
        /* Bytes, not get_wch's wide characters: readline assembles UTF-8
         * itself, as in the repl, while get_wch waits on an invalid byte and
         * swallows the input after it, Enter included. */
        int ch = getch();
        if (ch != ERR)
            handle_key(app, ch >= KEY_MIN ? KEY_CODE_YES : OK, (wint_t)ch);
    }
}

int tui_run(const tui_options *opt)
{
    static tui_app app;
    mtb_error err = {0};
    /* The character set only (before choosing glyphs by it): numbers keep
     * the C locale's decimal point, so ":lr 0.001" parses everywhere. */
    setlocale(LC_CTYPE, "");
    int status = setup(&app, opt, &err);
    if (status) {
        fprintf(stderr, "mtbert: %s\n", err.msg);
        free_data(&app);
        return status == MTB_EINPUT ? 2 : 1;
    }
    if (tui_scoring_start(&app, &err)) {
        fprintf(stderr, "mtbert: %s\n", err.msg);
        free_data(&app);
        return 1;
    }
    if (open_screen(&app)) {
        fprintf(stderr, "mtbert: cannot initialise the terminal\n");
        tui_scoring_stop(&app);
        return 1;
    }
    catch_signals();
    tui_input_init(&app);
    greet(&app);
    if (mtb_trainer_start(opt->trainer, &err)) {
        tui_data_log(&app.data, "cannot start training: %s", err.msg);
        app.data.done = true; /* no DONE event will come */
    }
    main_loop(&app, opt);
    tui_input_done(&app);
    endwin();
    tui_scoring_stop(&app);
    status = mtb_trainer_join(opt->trainer) ? 1 : 0;
    free_data(&app);
    tui_canvas_free(&app.canvas);
    return status;
}
