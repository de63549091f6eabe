/* Screen layout of the TUI: where each pane goes for a given terminal size.
 *
 * Pure arithmetic, no curses, so that every rectangle can be tested exactly
 * and the pane layer only ever draws inside what this module hands it.
 *
 * Rules (x grows rightwards, y downwards, (0,0) is the top-left cell):
 *
 *   too small   cols < TUI_MIN_COLS or rows < TUI_MIN_ROWS: too_small is
 *               set and no pane is visible; tui_too_small_message says why.
 *   FOOTER      the last row, full width:        {0, rows-1, cols, 1}
 *   PROMPT      the 5 rows above it, full width: {0, rows-6, cols, 5}
 *   chart area  everything above the prompt:     {0, 0, cols, H}, H = rows-6
 *
 *   The chart area is split into bands that tile it exactly:
 *     top band height    T = (6*H + 5) / 10   (60% of H, rounded half up)
 *     bottom band height B = H - T
 *
 *   wide   (cols >= 120):
 *     LOSS     {0,      0, L,          T}   L = cols*55/100
 *     CONFLICT {L,      0, cols-L,     T}
 *     METRICS  {0,      T, 30,         B}
 *     LAYERS   {30,     T, cols-30-G,  B}   G = cols*35/100
 *     LOG      {cols-G, T, G,          B}
 *   medium (80 <= cols < 120), LOG hidden:
 *     LOSS     {0,      0, cols/2,      T}
 *     CONFLICT {cols/2, 0, cols-cols/2, T}
 *     METRICS  {0,      T, 30,          B}
 *     LAYERS   {30,     T, cols-30,     B}
 *   narrow (cols < 80), LAYERS and LOG hidden, three full-width stripes:
 *     M = H/3 rows for METRICS at the bottom, the rest split with the odd
 *     row going to LOSS: A = (H-M+1)/2
 *     LOSS     {0, 0,   cols, A}
 *     CONFLICT {0, A,   cols, H-M-A}
 *     METRICS  {0, H-M, cols, M}
 *   zoomed: the zoomed pane gets the whole chart area {0,0,cols,H}; the
 *     other chart panes are hidden, PROMPT and FOOTER stay.
 *
 * Divisions truncate.  With the minimum 60x18 every visible pane is at
 * least 3x3 (a border plus one cell inside).  Hidden panes have an all-zero
 * rectangle. */
#ifndef MTBERT_TUI_LAYOUT_H
#define MTBERT_TUI_LAYOUT_H

#include <stdbool.h>
#include <stddef.h>

#define TUI_MIN_COLS 60
#define TUI_MIN_ROWS 18

/* Rows taken by the prompt pane (output lines plus the input line). */
#define TUI_PROMPT_ROWS 5
/* Fixed width of the metrics pane in the wide and medium layouts. */
#define TUI_METRICS_COLS 30

typedef struct tui_rect {
    int x, y, w, h;
} tui_rect;

typedef enum {
    TUI_PANE_LOSS,
    TUI_PANE_CONFLICT,
    TUI_PANE_LAYERS,
    TUI_PANE_METRICS,
    TUI_PANE_LOG,
    TUI_PANE_PROMPT,
    TUI_PANE_FOOTER,
    TUI_N_PANES
} tui_pane;

typedef struct tui_layout {
    int cols, rows;
    bool too_small;
    tui_rect pane[TUI_N_PANES];
    bool visible[TUI_N_PANES];
} tui_layout;

/* Fills l for a cols x rows terminal.  zoomed is -1 for the normal layout
 * or one of TUI_PANE_LOSS..TUI_PANE_LOG; any other value counts as -1, so a
 * stale zoom state can never hide everything.  A pane that the width class
 * hides (LOG on a medium terminal) can still be zoomed. */
void tui_layout_compute(tui_layout *l, int cols, int rows, int zoomed);

/* Title shown in the pane's border; "" for the footer and out-of-range ids. */
const char *tui_pane_name(tui_pane p);

/* "Terminal too small: 50x15, need at least 60x18 (F10 quits)", truncated
 * to cap. */
void tui_too_small_message(int cols, int rows, char *buf, size_t cap);

/* text in lines of at most width columns (ASCII), broken between words
 * (a word longer than a line is cut); returns the lines used, at most
 * max_lines. */
#define TUI_WRAP_COLS 256
/* A pane title (" Name: details ") cut to width columns: first to " Name ",
 * then to whole words.  title has room for TUI_WRAP_COLS bytes. */
void tui_fit_title(char *title, int width);
/* Runs of spaces in s down to one space each (in place). */
void tui_squeeze_spaces(char *s);
int tui_wrap_words(const char *text, int width, char lines[][TUI_WRAP_COLS], int max_lines);

#endif
