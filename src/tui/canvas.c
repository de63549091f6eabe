/* Character-cell canvas (see canvas.h). */
#include "canvas.h"

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static bool is_cont(unsigned char b)
{
    return (b & 0xC0) == 0x80;
}

/* Decodes the character at s (which is not at its terminator) into a cell
 * string and returns the bytes it took.  A malformed sequence takes one
 * byte and becomes '?', so decoding resynchronises on the next byte. */
static size_t next_char(const char *s, char out[8])
{
    const unsigned char *p = (const unsigned char *)s;
    unsigned char b = p[0];
    size_t n = 0;
    bool ok = false;
    if (b < 0x80) {
        n = 1;
        /* C0 controls and DEL would move the cursor or ring the bell. */
        ok = b >= 0x20 && b != 0x7F;
    } else if (b >= 0xC2 && b <= 0xDF) {
        n = 2;
        /* U+0080..U+009F are the C1 controls, as harmful as C0. */
        ok = is_cont(p[1]) && !(b == 0xC2 && p[1] < 0xA0);
    } else if (b >= 0xE0 && b <= 0xEF) {
        n = 3;
        /* The second byte's range rules out overlong forms (E0) and
         * UTF-16 surrogates (ED). */
        unsigned char lo = b == 0xE0 ? 0xA0 : 0x80, hi = b == 0xED ? 0x9F : 0xBF;
        ok = p[1] >= lo && p[1] <= hi && is_cont(p[2]);
    } else if (b >= 0xF0 && b <= 0xF4) {
        n = 4;
        /* Likewise overlong forms (F0) and code points past U+10FFFF (F4). */
        unsigned char lo = b == 0xF0 ? 0x90 : 0x80, hi = b == 0xF4 ? 0x8F : 0xBF;
        ok = p[1] >= lo && p[1] <= hi && is_cont(p[2]) && is_cont(p[3]);
    }
    if (!ok) {
        out[0] = '?';
        out[1] = '\0';
        return 1;
    }
    memcpy(out, s, n);
    out[n] = '\0';
    return n;
}

static void set_blank(tui_cell *cell, short color)
{
    cell->ch[0] = ' ';
    cell->ch[1] = '\0';
    cell->color = color;
}

int tui_canvas_init(tui_canvas *c, int w, int h)
{
    memset(c, 0, sizeof *c);
    if (w <= 0 || h <= 0)
        return -1;
    c->cells = malloc((size_t)w * (size_t)h * sizeof *c->cells);
    if (!c->cells)
        return -1;
    c->w = w;
    c->h = h;
    tui_canvas_clear(c);
    return 0;
}

void tui_canvas_free(tui_canvas *c)
{
    free(c->cells);
    memset(c, 0, sizeof *c);
}

void tui_canvas_clear(tui_canvas *c)
{
    size_t n = (size_t)c->w * (size_t)c->h;
    for (size_t i = 0; i < n; i++)
        set_blank(&c->cells[i], 0);
}

static tui_cell *cell_at(const tui_canvas *c, int x, int y)
{
    if (x < 0 || y < 0 || x >= c->w || y >= c->h)
        return NULL;
    return &c->cells[(size_t)y * (size_t)c->w + (size_t)x];
}

const tui_cell *tui_canvas_at(const tui_canvas *c, int x, int y)
{
    return cell_at(c, x, y);
}

void tui_canvas_put(tui_canvas *c, int x, int y, const char *utf8_char, short color)
{
    tui_cell *cell = cell_at(c, x, y);
    if (!cell)
        return;
    if (!utf8_char || !*utf8_char) {
        set_blank(cell, color);
        return;
    }
    next_char(utf8_char, cell->ch);
    cell->color = color;
}

int tui_canvas_text(tui_canvas *c, int x, int y, const char *utf8, short color)
{
    return tui_canvas_text_n(c, x, y, utf8, INT_MAX, color);
}

int tui_canvas_text_n(tui_canvas *c, int x, int y, const char *utf8, int max_cols, short color)
{
    if (!utf8 || y < 0 || y >= c->h)
        return 0;
    int written = 0;
    char ch[8];
    /* Characters left of the canvas are still decoded so that the ones
     * that do land stay in their columns. */
    for (const char *p = utf8; *p && x < c->w && max_cols > 0; x++, max_cols--) {
        p += next_char(p, ch);
        if (x >= 0) {
            tui_cell *cell = cell_at(c, x, y);
            memcpy(cell->ch, ch, sizeof ch);
            cell->color = color;
            written++;
        }
    }
    return written;
}

void tui_canvas_fill(tui_canvas *c, int x, int y, int w, int h, const char *utf8_char,
                     short color)
{
    /* In long long so that a huge w or h cannot overflow past the edge. */
    long long x1 = (long long)x + w, y1 = (long long)y + h;
    if (x1 > c->w)
        x1 = c->w;
    if (y1 > c->h)
        y1 = c->h;
    for (int row = y < 0 ? 0 : y; row < y1; row++)
        for (int col = x < 0 ? 0 : x; col < x1; col++)
            tui_canvas_put(c, col, row, utf8_char, color);
}

int tui_canvas_row_string(const tui_canvas *c, int y, char *buf, size_t cap)
{
    if (y < 0 || y >= c->h) {
        if (cap > 0)
            buf[0] = '\0';
        return -1;
    }
    size_t len = 0, kept = 0;
    bool full = cap == 0;
    for (int x = 0; x < c->w; x++) {
        const char *ch = c->cells[(size_t)y * (size_t)c->w + (size_t)x].ch;
        size_t n = strlen(ch);
        /* Whole characters only, so a truncated row is still valid UTF-8. */
        if (!full && kept + n < cap) {
            memcpy(buf + kept, ch, n);
            kept += n;
        } else {
            full = true;
        }
        len += n;
    }
    if (cap > 0)
        buf[kept] = '\0';
    return (int)len;
}

int tui_utf8_columns(const char *utf8)
{
    return tui_utf8_columns_n(utf8, SIZE_MAX);
}

int tui_utf8_columns_n(const char *utf8, size_t bytes)
{
    int n = 0;
    char ch[8];
    for (size_t i = 0; utf8 && i < bytes && utf8[i]; n++)
        i += next_char(utf8 + i, ch);
    return n;
}

size_t tui_utf8_offset(const char *utf8, int cols)
{
    size_t i = 0;
    char ch[8];
    for (int c = 0; utf8 && utf8[i] && c < cols; c++)
        i += next_char(utf8 + i, ch);
    return i;
}
