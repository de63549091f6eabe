/* Colour themes and the user's TUI configuration file.
 *
 * A theme is a table: one tui_style (foreground, background, attributes)
 * per slot, where a slot is a role on screen (a border, a task's curve, a
 * key hint).  Curses is not used here; the pane layer maps a tui_style to
 * curses colour pairs and attributes, after tui_style_degrade has fitted it
 * to the terminal.
 *
 * Theme file format (themes/README.md says the same for users):
 *
 *   # a comment: '#' starts a comment that runs to the end of the line
 *   name = Dark
 *   title  = bright-white bold
 *   key    = black on cyan bold
 *   border = 244
 *
 *   - One `key = value` per line; blank lines are ignored; spaces around
 *     keys, values and words do not matter.
 *   - `name = TEXT` sets the theme's display name (at most 63 bytes).  A
 *     file without one is named after the file, less ".theme".
 *   - `SLOT = FG [on BG] [bold] [dim] [underline] [reverse]`: FG comes
 *     first; `on BG` and the attributes follow in any order.
 *   - Slots: default title border axis label sst para sts pair-sst-para
 *     pair-sst-sts pair-para-sts positive negative warning error footer key
 *     prompt highlight.
 *   - Colours: default (the terminal's own), black red green yellow blue
 *     magenta cyan white (0-7), bright-black ... bright-white (8-15), or a
 *     number 0-255 (the xterm 256-colour palette).
 *   - Slot, colour and attribute words are matched ignoring case.
 *   - A slot the file does not set keeps the built-in default theme's
 *     style, so a theme may change just a few slots.  A slot set twice
 *     takes the later line.
 *   - Mistakes are MTB_EINPUT errors "PATH:LINE: unknown colour 'purpel'"
 *     (likewise unknown slot, unknown attribute, missing '=', missing
 *     colour, 'on' without a colour).
 *
 * Configuration file ($XDG_CONFIG_HOME/mtbert/config), same syntax:
 *
 *   theme = light            # a theme name or path, as for --theme
 *   glyphs = braille         # braille | block | ascii
 *   smoothing = 0.3          # EMA weight of new curve points, (0, 1]; 1 = raw
 */
#ifndef MTBERT_TUI_THEME_H
#define MTBERT_TUI_THEME_H

#include <stddef.h>

#include "mtbert/error.h"

typedef enum {
    TUI_C_DEFAULT,
    TUI_C_TITLE,
    TUI_C_BORDER,
    TUI_C_AXIS,
    TUI_C_LABEL,
    TUI_C_SST,
    TUI_C_PARA,
    TUI_C_STS,
    TUI_C_PAIR_SST_PARA,
    TUI_C_PAIR_SST_STS,
    TUI_C_PAIR_PARA_STS,
    TUI_C_POSITIVE,
    TUI_C_NEGATIVE,
    TUI_C_WARNING,
    TUI_C_ERROR,
    TUI_C_FOOTER,
    TUI_C_KEY,
    TUI_C_PROMPT,
    TUI_C_HIGHLIGHT,
    TUI_C_COMPARE_1, /* saved runs overlaid with --compare, one colour each */
    TUI_C_COMPARE_2,
    TUI_C_COMPARE_3,
    TUI_C_COMPARE_4,
    TUI_N_SLOTS
} tui_slot;

/* Attribute flags of tui_style.attrs (ours, not curses'). */
#define TUI_A_BOLD 0x1
#define TUI_A_DIM 0x2
#define TUI_A_UNDERLINE 0x4
#define TUI_A_REVERSE 0x8

typedef struct tui_style {
    short fg, bg; /* -1 default, 0-7 basic, 8-15 bright, 16-255 xterm palette */
    int attrs;    /* TUI_A_* */
} tui_style;

typedef struct tui_theme {
    char name[64];
    tui_style slot[TUI_N_SLOTS];
} tui_theme;

/* The built-in dark theme; identical to themes/default.theme. */
void tui_theme_default(tui_theme *t);

/* The built-in monochrome theme (every colour default; bold titles, dim
 * axes, reverse key hints and highlight); identical to themes/mono.theme. */
void tui_theme_monochrome(tui_theme *t);

/* Loads a theme file over the built-in default theme.  On error *t is left
 * as it was.  A file that does not exist (or is a folder) is MTB_EINPUT,
 * any other failure to read it MTB_EFAIL. */
int tui_theme_load_file(tui_theme *t, const char *path, mtb_error *err);

/* Finds and loads a theme given on the command line or in the config file.
 * A value containing '/' or ending in ".theme" is a path and is loaded as
 * is.  Otherwise NAME.theme is tried in each of search_dirs in order (NULL
 * or empty entries skipped); the first that exists wins.  When none exists,
 * "default" and "mono" fall back to the built-in themes, so the TUI works
 * from an uninstalled build; any other name is MTB_EINPUT listing every
 * path tried. */
int tui_theme_resolve(tui_theme *t, const char *name_or_path, const char *const *search_dirs,
                      int n_dirs, mtb_error *err);

/* Fits a style to a terminal with ncolors colours:
 *   ncolors >= 256  unchanged;
 *   16..255         16-255 become the closest of 0-15;
 *   8..15           8-15 become c-8, and a foreground gains bold (most
 *                   terminals draw bold as the bright colour; a background
 *                   just loses the bright bit); 16-255 become the closest
 *                   of 0-7;
 *   below 8         every colour becomes -1, attributes alone remain.
 * "Closest" goes by the xterm palette's RGB, but by hue and brightness
 * rather than straight RGB distance (see theme.c): greys go to black or
 * white by brightness (mean of R,G,B >= 128 is white, so 244 = rgb(128,128,
 * 128) is white and 243 = rgb(118,118,118) black), other colours to the
 * basic colour whose channels they lean towards (196 red, 21 blue, 208
 * orange yellow).  If degrading makes the foreground equal a background it
 * differed from, the text would vanish, so the foreground becomes black on
 * a light background (green, yellow, cyan, white) and white otherwise. */
tui_style tui_style_degrade(tui_style s, int ncolors);

/* "pair-sst-para" -> TUI_C_PAIR_SST_PARA; -1 for an unknown name. */
int tui_slot_parse(const char *name);

/* TUI_C_PAIR_SST_PARA -> "pair-sst-para"; "" for an out-of-range value. */
const char *tui_slot_name(tui_slot s);

typedef struct tui_user_config {
    char theme[256];  /* "" when unset */
    char glyphs[16];  /* braille | block | ascii | "" when unset */
    double smoothing; /* EMA weight of new points in (0, 1]; -1 when unset */
} tui_user_config;

/* Reads the user's configuration.  *c is first set to "unset" everywhere;
 * a file that does not exist is success with those defaults (most users
 * never write one).  Unknown keys and bad values are MTB_EINPUT naming
 * PATH:LINE; on error *c keeps the defaults, so a caller that goes on
 * anyway does not half-apply a broken file. */
int tui_config_load(tui_user_config *c, const char *path, mtb_error *err);

/* kind "config": $XDG_CONFIG_HOME/mtbert/FILE, else ~/.config/mtbert/FILE;
 * kind "state":  $XDG_STATE_HOME/mtbert/FILE,  else ~/.local/state/mtbert/FILE.
 * A relative or empty $XDG_* is ignored, as the XDG spec asks.  The home
 * directory is $HOME, else the password database.  A NULL or empty file
 * gives the mtbert directory itself.  buf is "" for an unknown kind, when
 * no home directory can be found, or when the path does not fit in cap. */
void tui_xdg_path(char *buf, size_t cap, const char *kind, const char *file);

#endif
