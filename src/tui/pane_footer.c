/* Footer: the keys, htop style, and the run's state. */
#include <stdio.h>
#include <string.h>

#include "draw.h"
#include "pane_footer.h"

void pane_footer_draw(tui_app *app, const tui_rect *r)
{
    static const struct {
        const char *key, *what;
    } keys[] = {{"F1", "Help"},   {"F2-F6", "Zoom"}, {"F7", "Smooth"},
                {"F8", "Glyphs"}, {"F9", "Pause"},   {"F10", "Quit"},
                {"F11", "View"},  {"F12", "Heat"}};
    const tui_data *d = &app->data;
    char state[64];
    snprintf(state, sizeof state, " %s  step %ld ", d->done ? "done" : d->paused ? "PAUSED" : "",
             d->step);
    /* the run's state always shows; keys fill what is left, whole ones only */
    int x = r->x;
    const int end = r->x + r->w, keys_end = end - (int)strlen(state);
    for (size_t i = 0; i < sizeof keys / sizeof *keys; i++) {
        const int kw = (int)strlen(keys[i].key);
        char what[32];
        snprintf(what, sizeof what, "%-7s", keys[i].what);
        if (x + kw + (int)strlen(what) > keys_end)
            break;
        tui_put(app, r->y, x, end - x, TUI_C_KEY, keys[i].key);
        x += kw;
        tui_put(app, r->y, x, end - x, TUI_C_FOOTER, what);
        x += (int)strlen(what);
    }
    if (x < end)
        tui_put(app, r->y, x, end - x, d->paused ? TUI_C_WARNING : TUI_C_FOOTER, state);
}
