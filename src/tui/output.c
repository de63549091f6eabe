/* The prompt's output area: a ring of the latest lines, newest last.  What
 * the panes draw of it is pane_prompt.c's business. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "output.h"

void tui_output_text(tui_app *app, const char *text)
{
    const char *p = text;
    while (*p) {
        const char *nl = strchr(p, '\n');
        size_t n = nl ? (size_t)(nl - p) : strlen(p);
        if (app->output_len == TUI_OUTPUT_LINES) {
            memmove(app->output[0], app->output[1], sizeof app->output[0] * (TUI_OUTPUT_LINES - 1));
            app->output_len--;
        }
        if (n >= TUI_OUTPUT_WIDTH)
            n = TUI_OUTPUT_WIDTH - 1;
        memcpy(app->output[app->output_len], p, n);
        app->output[app->output_len][n] = '\0';
        app->output_len++;
        p = nl ? nl + 1 : p + strlen(p);
    }
    app->output_scroll = 0; /* a new answer is shown, not hidden above the view */
    app->dirty = true;
}

void tui_output(tui_app *app, const char *fmt, ...)
{
    char buf[TUI_OUTPUT_WIDTH * 4];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    tui_output_text(app, buf);
}
