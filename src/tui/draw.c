/* Curses helpers: themes to attributes, boxes, canvases to the screen. */
#include <curses.h>
#include <string.h>

#include "draw.h"

int tui_attr_for(const tui_app *app, int slot)
{
    if (slot < 0 || slot >= TUI_N_SLOTS)
        slot = TUI_C_DEFAULT;
    const tui_style *s = &app->theme.slot[slot];
    int a = A_NORMAL;
    if (s->attrs & TUI_A_BOLD)
        a |= A_BOLD;
    if (s->attrs & TUI_A_DIM)
        a |= A_DIM;
    if (s->attrs & TUI_A_UNDERLINE)
        a |= A_UNDERLINE;
    if (s->attrs & TUI_A_REVERSE)
        a |= A_REVERSE;
    if (app->color)
        a |= COLOR_PAIR(slot + 1);
    return a;
}

/* Writes text clipped to w columns (one column per code point). */
void tui_put(const tui_app *app, int y, int x, int w, int slot, const char *text)
{
    if (w <= 0)
        return;
    attrset(tui_attr_for(app, slot));
    const unsigned char *p = (const unsigned char *)text;
    int col = 0;
    while (*p && col < w) {
        int len = *p < 0x80 ? 1 : *p < 0xE0 ? 2 : *p < 0xF0 ? 3 : 4;
        char ch[5] = {0};
        for (int i = 0; i < len && p[i]; i++)
            ch[i] = (char)p[i];
        mvaddstr(y, x + col, ch);
        p += strlen(ch) ? strlen(ch) : 1;
        col++;
    }
    attrset(A_NORMAL);
}

void tui_draw_box(const tui_app *app, const tui_rect *r, const char *title, bool zoomed)
{
    if (r->w < 2 || r->h < 2)
        return;
    const bool utf8 = app->glyphs != TUI_GLYPHS_ASCII;
    const char *h = utf8 ? "─" : "-", *v = utf8 ? "│" : "|";
    const char *tl = utf8 ? "┌" : "+", *tr = utf8 ? "┐" : "+";
    const char *bl = utf8 ? "└" : "+", *br = utf8 ? "┘" : "+";
    attrset(tui_attr_for(app, TUI_C_BORDER));
    for (int x = 1; x < r->w - 1; x++) {
        mvaddstr(r->y, r->x + x, h);
        mvaddstr(r->y + r->h - 1, r->x + x, h);
    }
    for (int y = 1; y < r->h - 1; y++) {
        mvaddstr(r->y + y, r->x, v);
        mvaddstr(r->y + y, r->x + r->w - 1, v);
    }
    mvaddstr(r->y, r->x, tl);
    mvaddstr(r->y, r->x + r->w - 1, tr);
    mvaddstr(r->y + r->h - 1, r->x, bl);
    mvaddstr(r->y + r->h - 1, r->x + r->w - 1, br);
    attrset(A_NORMAL);
    if (title && r->w > 6) {
        char t[256];
        snprintf(t, sizeof t, " %s%s ", title, zoomed ? " [zoomed]" : "");
        tui_fit_title(t, r->w - 4);
        tui_put(app, r->y, r->x + 2, r->w - 4, TUI_C_TITLE, t);
    }
}

void tui_blit(const tui_app *app, const tui_canvas *c, int x, int y, int w, int h)
{
    for (int row = 0; row < h && row < c->h; row++)
        for (int col = 0; col < w && col < c->w; col++) {
            const tui_cell *cell = &c->cells[row * c->w + col];
            attrset(tui_attr_for(app, cell->color));
            mvaddstr(y + row, x + col, cell->ch[0] ? cell->ch : " ");
        }
    attrset(A_NORMAL);
}

int tui_canvas_fit(tui_canvas *c, int w, int h)
{
    if (c->cells && c->w == w && c->h == h)
        return 0;
    tui_canvas_free(c);
    return tui_canvas_init(c, w, h);
}
