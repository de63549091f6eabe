/* An in-memory grid of character cells that drawing code renders into, so
 * that drawing can be tested without curses; the pane layer copies the
 * cells to the screen.
 *
 * Every cell is one terminal column and holds one code point as UTF-8
 * (never an empty string: a blank cell is " ").  Text is laid out one cell
 * per code point, which is right for the box-drawing, block and Braille
 * characters the plots use and for ordinary text; wide (CJK) and combining
 * characters are not measured.  Bytes that are not valid UTF-8 and control
 * characters are stored as '?', so nothing written here can move the
 * terminal's cursor. */
#ifndef MTBERT_TUI_CANVAS_H
#define MTBERT_TUI_CANVAS_H

#include <stddef.h>

typedef struct tui_cell {
    char ch[8];  /* UTF-8, NUL-terminated, one column wide */
    short color; /* theme slot, 0 = default */
} tui_cell;

typedef struct tui_canvas {
    int w, h;
    tui_cell *cells; /* row-major, w * h */
} tui_canvas;

/* 0, or -1 when w or h is not positive or memory runs out (c is then
 * zeroed).  The cells start blank. */
int tui_canvas_init(tui_canvas *c, int w, int h);
/* Leaves c zeroed, so it may be freed twice or initialised again. */
void tui_canvas_free(tui_canvas *c);
/* Every cell to " " with colour 0. */
void tui_canvas_clear(tui_canvas *c);

/* The cell at (x, y), or NULL outside the canvas. */
const tui_cell *tui_canvas_at(const tui_canvas *c, int x, int y);

/* Sets one cell to the first code point of utf8_char (NULL or "" gives a
 * blank); nothing happens outside the canvas. */
void tui_canvas_put(tui_canvas *c, int x, int y, const char *utf8_char, short color);
/* Writes one cell per code point from (x, y) rightwards, clipped to the
 * canvas; returns the cells actually written. */
int tui_canvas_text(tui_canvas *c, int x, int y, const char *utf8, short color);
/* The same for at most the first max_cols code points of utf8. */
int tui_canvas_text_n(tui_canvas *c, int x, int y, const char *utf8, int max_cols, short color);
/* Sets every cell of the rectangle (clipped) as tui_canvas_put would. */
void tui_canvas_fill(tui_canvas *c, int x, int y, int w, int h, const char *utf8_char,
                     short color);

/* Row y's characters concatenated into buf (truncated to cap - 1 bytes,
 * always terminated when cap > 0).  Returns the length of the whole row
 * string, as snprintf does, or -1 when y is outside the canvas. */
int tui_canvas_row_string(const tui_canvas *c, int y, char *buf, size_t cap);

/* Columns that text takes when written with tui_canvas_text (its code
 * points, each invalid byte counting as one). */
int tui_utf8_columns(const char *utf8);
/* The same for the characters that start in its first `bytes` bytes. */
int tui_utf8_columns_n(const char *utf8, size_t bytes);
/* The bytes its first cols columns take (all of it when it is shorter). */
size_t tui_utf8_offset(const char *utf8, int cols);

#endif
