/* Themes (parsing theme files, finding them by name, fitting colours to
 * the terminal) and the user configuration file; formats in theme.h. */
#include "theme.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <pwd.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

/* ------------------------------------------------------------------ names */

static const char *const slot_names[TUI_N_SLOTS] = {
    [TUI_C_DEFAULT] = "default",
    [TUI_C_TITLE] = "title",
    [TUI_C_BORDER] = "border",
    [TUI_C_AXIS] = "axis",
    [TUI_C_LABEL] = "label",
    [TUI_C_SST] = "sst",
    [TUI_C_PARA] = "para",
    [TUI_C_STS] = "sts",
    [TUI_C_PAIR_SST_PARA] = "pair-sst-para",
    [TUI_C_PAIR_SST_STS] = "pair-sst-sts",
    [TUI_C_PAIR_PARA_STS] = "pair-para-sts",
    [TUI_C_POSITIVE] = "positive",
    [TUI_C_NEGATIVE] = "negative",
    [TUI_C_WARNING] = "warning",
    [TUI_C_ERROR] = "error",
    [TUI_C_FOOTER] = "footer",
    [TUI_C_KEY] = "key",
    [TUI_C_PROMPT] = "prompt",
    [TUI_C_HIGHLIGHT] = "highlight",
    [TUI_C_COMPARE_1] = "compare-1",
    [TUI_C_COMPARE_2] = "compare-2",
    [TUI_C_COMPARE_3] = "compare-3",
    [TUI_C_COMPARE_4] = "compare-4",
};

/* Index = colour number, so the basic and bright names come out in the
 * terminal's own order. */
static const char *const colour_names[16] = {
    "black",        "red",        "green",        "yellow",        "blue",        "magenta",
    "cyan",         "white",      "bright-black", "bright-red",    "bright-green", "bright-yellow",
    "bright-blue",  "bright-magenta", "bright-cyan", "bright-white",
};

static const struct {
    const char *name;
    int flag;
} attr_names[] = {
    {"bold", TUI_A_BOLD},
    {"dim", TUI_A_DIM},
    {"underline", TUI_A_UNDERLINE},
    {"reverse", TUI_A_REVERSE},
};

int tui_slot_parse(const char *name)
{
    if (!name)
        return -1;
    for (int i = 0; i < TUI_N_SLOTS; i++)
        if (strcasecmp(name, slot_names[i]) == 0)
            return i;
    return -1;
}

const char *tui_slot_name(tui_slot s)
{
    if ((unsigned)s >= TUI_N_SLOTS)
        return "";
    return slot_names[s];
}

/* -1 for "default", 0-255, or -2 when the word is no colour. */
static int colour_parse(const char *w)
{
    if (strcasecmp(w, "default") == 0)
        return -1;
    for (int i = 0; i < 16; i++)
        if (strcasecmp(w, colour_names[i]) == 0)
            return i;
    /* Hand-rolled rather than strtol so that "+5", " 5", "0x10" and "5.0"
     * are all refused instead of half-accepted. */
    size_t n = strlen(w);
    if (n == 0 || n > 3)
        return -2;
    int v = 0;
    for (size_t i = 0; i < n; i++) {
        if (w[i] < '0' || w[i] > '9')
            return -2;
        v = v * 10 + (w[i] - '0');
    }
    return v <= 255 ? v : -2;
}

static int attr_parse(const char *w)
{
    for (size_t i = 0; i < sizeof attr_names / sizeof attr_names[0]; i++)
        if (strcasecmp(w, attr_names[i].name) == 0)
            return attr_names[i].flag;
    return 0;
}

/* ----------------------------------------------------------- built-ins */

#define ST(f, b, a) {(short)(f), (short)(b), (a)}
enum { D = -1 }; /* the terminal's default colour */

/* Must stay equal to themes/default.theme; test_theme compares the two. */
static const tui_theme builtin_default = {
    "Dark",
    {
        [TUI_C_DEFAULT] = ST(D, D, 0),
        [TUI_C_TITLE] = ST(15, D, TUI_A_BOLD),
        [TUI_C_BORDER] = ST(8, D, 0),
        [TUI_C_AXIS] = ST(8, D, 0),
        [TUI_C_LABEL] = ST(7, D, 0),
        [TUI_C_SST] = ST(14, D, 0),
        [TUI_C_PARA] = ST(13, D, 0),
        [TUI_C_STS] = ST(11, D, 0),
        [TUI_C_PAIR_SST_PARA] = ST(111, D, 0),
        [TUI_C_PAIR_SST_STS] = ST(120, D, 0),
        [TUI_C_PAIR_PARA_STS] = ST(218, D, 0),
        [TUI_C_POSITIVE] = ST(10, D, 0),
        [TUI_C_NEGATIVE] = ST(9, D, 0),
        [TUI_C_WARNING] = ST(3, D, TUI_A_BOLD),
        [TUI_C_ERROR] = ST(9, D, TUI_A_BOLD),
        [TUI_C_FOOTER] = ST(7, 236, 0),
        [TUI_C_KEY] = ST(0, 6, TUI_A_BOLD),
        [TUI_C_PROMPT] = ST(10, D, TUI_A_BOLD),
        [TUI_C_HIGHLIGHT] = ST(0, 3, 0),
        [TUI_C_COMPARE_1] = ST(208, D, 0),
        [TUI_C_COMPARE_2] = ST(177, D, 0),
        [TUI_C_COMPARE_3] = ST(250, D, 0),
        [TUI_C_COMPARE_4] = ST(67, D, 0),
    },
};

/* Must stay equal to themes/mono.theme.  Without colour the three tasks
 * (and the three pairs) are told apart by weight: bold, plain, dim. */
static const tui_theme builtin_mono = {
    "Mono",
    {
        [TUI_C_DEFAULT] = ST(D, D, 0),
        [TUI_C_TITLE] = ST(D, D, TUI_A_BOLD),
        [TUI_C_BORDER] = ST(D, D, 0),
        [TUI_C_AXIS] = ST(D, D, TUI_A_DIM),
        [TUI_C_LABEL] = ST(D, D, 0),
        [TUI_C_SST] = ST(D, D, TUI_A_BOLD),
        [TUI_C_PARA] = ST(D, D, 0),
        [TUI_C_STS] = ST(D, D, TUI_A_DIM),
        [TUI_C_PAIR_SST_PARA] = ST(D, D, TUI_A_BOLD),
        [TUI_C_PAIR_SST_STS] = ST(D, D, 0),
        [TUI_C_PAIR_PARA_STS] = ST(D, D, TUI_A_DIM),
        [TUI_C_POSITIVE] = ST(D, D, TUI_A_BOLD),
        [TUI_C_NEGATIVE] = ST(D, D, TUI_A_UNDERLINE),
        [TUI_C_WARNING] = ST(D, D, TUI_A_BOLD),
        [TUI_C_ERROR] = ST(D, D, TUI_A_BOLD | TUI_A_REVERSE),
        [TUI_C_FOOTER] = ST(D, D, 0),
        [TUI_C_KEY] = ST(D, D, TUI_A_REVERSE),
        [TUI_C_PROMPT] = ST(D, D, TUI_A_BOLD),
        [TUI_C_HIGHLIGHT] = ST(D, D, TUI_A_REVERSE),
        [TUI_C_COMPARE_1] = ST(D, D, TUI_A_UNDERLINE),
        [TUI_C_COMPARE_2] = ST(D, D, TUI_A_BOLD | TUI_A_UNDERLINE),
        [TUI_C_COMPARE_3] = ST(D, D, TUI_A_DIM | TUI_A_UNDERLINE),
        [TUI_C_COMPARE_4] = ST(D, D, TUI_A_REVERSE | TUI_A_DIM),
    },
};

void tui_theme_default(tui_theme *t)
{
    *t = builtin_default;
}

void tui_theme_monochrome(tui_theme *t)
{
    *t = builtin_mono;
}

/* ------------------------------------------------------ key = value files */

static bool is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f';
}

static char *trim(char *s)
{
    while (is_space(*s))
        s++;
    size_t n = strlen(s);
    while (n > 0 && is_space(s[n - 1]))
        s[--n] = '\0';
    return s;
}

/* Called once per `key = value` line with both sides trimmed; returns 0 or
 * an error already recorded in err. */
typedef int (*kv_fn)(void *ctx, const char *path, int line, char *key, char *value,
                     mtb_error *err);

static int open_error(const char *path, int e, mtb_error *err)
{
    /* A path that is not there is the user's typo; anything else (a
     * permission problem aside) is the system's. */
    int code = (e == ENOENT || e == ENOTDIR || e == EACCES) ? MTB_EINPUT : MTB_EFAIL;
    return mtb_error_set(err, code, "%s: cannot open: %s", path, strerror(e));
}

static int parse_kv_stream(FILE *f, const char *path, kv_fn fn, void *ctx, mtb_error *err)
{
    char *buf = NULL;
    size_t cap = 0;
    int line = 0;
    int rc = 0;
    errno = 0;
    while (getline(&buf, &cap, f) >= 0) {
        line++;
        char *hash = strchr(buf, '#');
        if (hash)
            *hash = '\0';
        char *s = trim(buf);
        if (*s == '\0')
            continue;
        char *eq = strchr(s, '=');
        if (!eq) {
            rc = mtb_error_set(err, MTB_EINPUT, "%s:%d: expected 'key = value'", path, line);
            break;
        }
        *eq = '\0';
        char *key = trim(s);
        char *value = trim(eq + 1);
        if (*key == '\0') {
            rc = mtb_error_set(err, MTB_EINPUT, "%s:%d: expected 'key = value'", path, line);
            break;
        }
        rc = fn(ctx, path, line, key, value, err);
        if (rc)
            break;
        errno = 0;
    }
    if (rc == 0 && ferror(f)) {
        int e = errno ? errno : EIO;
        /* fopen happily opens a folder; reading it is where that shows. */
        rc = mtb_error_set(err, e == EISDIR ? MTB_EINPUT : MTB_EFAIL, "%s: cannot read: %s",
                           path, strerror(e));
    }
    free(buf);
    return rc;
}

/* --------------------------------------------------------------- themes */

struct theme_ctx {
    tui_theme theme;
    bool named;
};

static int theme_line(void *ctx_, const char *path, int line, char *key, char *value,
                      mtb_error *err)
{
    struct theme_ctx *ctx = ctx_;
    if (strcasecmp(key, "name") == 0) {
        size_t n = strlen(value);
        if (n == 0)
            return mtb_error_set(err, MTB_EINPUT, "%s:%d: missing value for 'name'", path, line);
        if (n >= sizeof ctx->theme.name)
            return mtb_error_set(err, MTB_EINPUT, "%s:%d: theme name longer than %zu bytes",
                                 path, line, sizeof ctx->theme.name - 1);
        memcpy(ctx->theme.name, value, n + 1);
        ctx->named = true;
        return 0;
    }

    int slot = tui_slot_parse(key);
    if (slot < 0)
        return mtb_error_set(err, MTB_EINPUT, "%s:%d: unknown slot '%s'", path, line, key);

    char *save = NULL;
    char *w = strtok_r(value, " \t", &save);
    if (!w)
        return mtb_error_set(err, MTB_EINPUT, "%s:%d: missing colour for slot '%s'", path, line,
                             slot_names[slot]);
    tui_style st = {-1, -1, 0};
    int c = colour_parse(w);
    if (c == -2)
        return mtb_error_set(err, MTB_EINPUT, "%s:%d: unknown colour '%s'", path, line, w);
    st.fg = (short)c;

    bool have_bg = false;
    while ((w = strtok_r(NULL, " \t", &save)) != NULL) {
        if (strcasecmp(w, "on") == 0) {
            if (have_bg)
                return mtb_error_set(err, MTB_EINPUT, "%s:%d: background given twice", path,
                                     line);
            w = strtok_r(NULL, " \t", &save);
            if (!w)
                return mtb_error_set(err, MTB_EINPUT, "%s:%d: 'on' needs a background colour",
                                     path, line);
            c = colour_parse(w);
            if (c == -2)
                return mtb_error_set(err, MTB_EINPUT, "%s:%d: unknown colour '%s'", path, line,
                                     w);
            st.bg = (short)c;
            have_bg = true;
            continue;
        }
        int a = attr_parse(w);
        if (!a) {
            /* A second colour is the likeliest slip ("red blue"), so say so. */
            const char *hint = colour_parse(w) != -2 ? " (a background needs 'on')" : "";
            return mtb_error_set(err, MTB_EINPUT, "%s:%d: unknown attribute '%s'%s", path, line,
                                 w, hint);
        }
        st.attrs |= a;
    }
    ctx->theme.slot[slot] = st;
    return 0;
}

int tui_theme_load_file(tui_theme *t, const char *path, mtb_error *err)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return open_error(path, errno, err);
    struct theme_ctx ctx;
    tui_theme_default(&ctx.theme);
    ctx.named = false;
    int rc = parse_kv_stream(f, path, theme_line, &ctx, err);
    fclose(f);
    if (rc)
        return rc;
    if (!ctx.named) {
        const char *base = strrchr(path, '/');
        base = base ? base + 1 : path;
        size_t n = strlen(base);
        if (n > 6 && strcmp(base + n - 6, ".theme") == 0)
            n -= 6;
        if (n >= sizeof ctx.theme.name)
            n = sizeof ctx.theme.name - 1;
        memcpy(ctx.theme.name, base, n);
        ctx.theme.name[n] = '\0';
    }
    *t = ctx.theme;
    return 0;
}

static bool ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && strcmp(s + n - m, suffix) == 0;
}

int tui_theme_resolve(tui_theme *t, const char *name_or_path, const char *const *search_dirs,
                      int n_dirs, mtb_error *err)
{
    if (!name_or_path || !*name_or_path)
        return mtb_error_set(err, MTB_EINPUT, "empty theme name");
    if (strchr(name_or_path, '/') || ends_with(name_or_path, ".theme"))
        return tui_theme_load_file(t, name_or_path, err);

    char tried[768] = "";
    size_t used = 0;
    for (int i = 0; search_dirs && i < n_dirs; i++) {
        const char *dir = search_dirs[i];
        if (!dir || !*dir)
            continue;
        char path[4096];
        int n = snprintf(path, sizeof path, "%s/%s.theme", dir, name_or_path);
        if (n < 0 || (size_t)n >= sizeof path)
            continue;
        struct stat sb;
        if (stat(path, &sb) == 0)
            return tui_theme_load_file(t, path, err);
        if (used < sizeof tried) {
            int k = snprintf(tried + used, sizeof tried - used, "%s%s", used ? ", " : "", path);
            if (k > 0)
                used += (size_t)k;
        }
    }

    if (strcmp(name_or_path, "default") == 0) {
        tui_theme_default(t);
        return 0;
    }
    if (strcmp(name_or_path, "mono") == 0) {
        tui_theme_monochrome(t);
        return 0;
    }
    if (used == 0)
        return mtb_error_set(err, MTB_EINPUT, "theme '%s' not found (no theme folders to search)",
                             name_or_path);
    return mtb_error_set(err, MTB_EINPUT, "theme '%s' not found (looked for %s)", name_or_path,
                         tried);
}

/* ------------------------------------------------------------- degrading */

/* The xterm palette: 0-15 as xterm draws them, then the 6x6x6 cube and the
 * 24-step grey ramp.  Only the RGB matters here, to judge hue and
 * brightness. */
static void xterm_rgb(int c, int rgb[3])
{
    static const unsigned char basic[16][3] = {
        {0, 0, 0},       {205, 0, 0},   {0, 205, 0},   {205, 205, 0},
        {0, 0, 238},     {205, 0, 205}, {0, 205, 205}, {229, 229, 229},
        {127, 127, 127}, {255, 0, 0},   {0, 255, 0},   {255, 255, 0},
        {92, 92, 255},   {255, 0, 255}, {0, 255, 255}, {255, 255, 255},
    };
    static const int level[6] = {0, 95, 135, 175, 215, 255};
    if (c < 16) {
        for (int i = 0; i < 3; i++)
            rgb[i] = basic[c][i];
    } else if (c < 232) {
        int i = c - 16;
        rgb[0] = level[i / 36];
        rgb[1] = level[i / 6 % 6];
        rgb[2] = level[i % 6];
    } else {
        rgb[0] = rgb[1] = rgb[2] = 8 + 10 * (c - 232);
    }
}

/* Chroma below this counts as grey.  Adjacent cube levels above the first
 * differ by 40, so a tint one step off grey like 146 (175,175,215) counts
 * as grey, while anything with a clear hue, even a dark one like 52
 * (95,0,0), keeps it. */
#define GREY_CHROMA 48

/* Maps 16-255 to 0-7 (bright16 false) or 0-15 (bright16 true).
 *
 * Plain nearest-RGB against the basic palette goes wrong exactly where it
 * matters: mid grey 244 (128,128,128) lands on yellow, and dark shades all
 * collapse to black and vanish on a dark background.  So greys go by
 * brightness alone, and coloured entries keep their hue: a channel counts
 * as lit when it is at least halfway between the entry's weakest and
 * strongest channel, and the lit channels name the basic colour (red = 1,
 * green = 2, blue = 4, the terminal's own numbering). */
static int nearest_basic(int c, bool bright16)
{
    int rgb[3];
    xterm_rgb(c, rgb);
    int mx = rgb[0], mn = rgb[0];
    for (int i = 1; i < 3; i++) {
        if (rgb[i] > mx)
            mx = rgb[i];
        if (rgb[i] < mn)
            mn = rgb[i];
    }
    int sum = rgb[0] + rgb[1] + rgb[2];
    if (mx - mn < GREY_CHROMA) {
        if (!bright16)
            return sum >= 3 * 128 ? 7 : 0;
        /* Nearest of the four greys xterm has among 0-15: 0, 127, 229, 255
         * (boundaries at the midpoints, in sums of three channels). */
        if (2 * sum < 3 * (0 + 127))
            return 0;
        if (2 * sum < 3 * (127 + 229))
            return 8;
        if (2 * sum < 3 * (229 + 255))
            return 7;
        return 15;
    }
    int hue = 0;
    for (int i = 0; i < 3; i++)
        if (2 * rgb[i] >= mx + mn)
            hue |= 1 << i;
    /* xterm draws 1-6 at 205 and 9-14 at 255; the cube's 215 is the normal
     * one and only its 255 the bright one. */
    if (bright16 && mx > 230)
        hue += 8;
    return hue;
}

static short degrade_colour(short c, int ncolors, bool *bold)
{
    if (c < 0 || c > 255)
        return -1;
    if (ncolors >= 256)
        return c;
    if (ncolors < 8)
        return -1;
    if (ncolors >= 16)
        return c < 16 ? c : (short)nearest_basic(c, true);
    if (c < 8)
        return c;
    if (c < 16) {
        *bold = true;
        return (short)(c - 8);
    }
    return (short)nearest_basic(c, false);
}

static bool is_light(int c)
{
    int rgb[3];
    xterm_rgb(c, rgb);
    return 299 * rgb[0] + 587 * rgb[1] + 114 * rgb[2] >= 128 * 1000;
}

tui_style tui_style_degrade(tui_style s, int ncolors)
{
    tui_style out = s;
    bool fg_bold = false, bg_bold = false;
    out.fg = degrade_colour(s.fg, ncolors, &fg_bold);
    out.bg = degrade_colour(s.bg, ncolors, &bg_bold);
    if (fg_bold)
        out.attrs |= TUI_A_BOLD;
    if (out.fg >= 0 && out.fg == out.bg && s.fg != s.bg)
        out.fg = is_light(out.bg) ? 0 : 7;
    return out;
}

/* --------------------------------------------------------------- config */

static int config_line(void *ctx_, const char *path, int line, char *key, char *value,
                       mtb_error *err)
{
    tui_user_config *c = ctx_;
    size_t n = strlen(value);
    if (strcasecmp(key, "theme") == 0 || strcasecmp(key, "glyphs") == 0 ||
        strcasecmp(key, "smoothing") == 0) {
        if (n == 0)
            return mtb_error_set(err, MTB_EINPUT, "%s:%d: missing value for '%s'", path, line,
                                 key);
    } else {
        return mtb_error_set(err, MTB_EINPUT,
                             "%s:%d: unknown key '%s' (known: theme, glyphs, smoothing)", path,
                             line, key);
    }

    if (strcasecmp(key, "theme") == 0) {
        if (n >= sizeof c->theme)
            return mtb_error_set(err, MTB_EINPUT, "%s:%d: theme longer than %zu bytes", path,
                                 line, sizeof c->theme - 1);
        memcpy(c->theme, value, n + 1);
        return 0;
    }
    if (strcasecmp(key, "glyphs") == 0) {
        static const char *const sets[] = {"braille", "block", "ascii"};
        for (size_t i = 0; i < sizeof sets / sizeof sets[0]; i++) {
            if (strcasecmp(value, sets[i]) == 0) {
                snprintf(c->glyphs, sizeof c->glyphs, "%s", sets[i]);
                return 0;
            }
        }
        return mtb_error_set(err, MTB_EINPUT,
                             "%s:%d: unknown glyphs '%s' (braille, block or ascii)", path, line,
                             value);
    }
    char *end = NULL;
    errno = 0;
    double v = strtod(value, &end);
    /* The same range as --smoothing: the weight of each new point, where 0
     * would freeze the curve at its first point and 1 means raw values. */
    if (end == value || *end != '\0' || errno == ERANGE || !isfinite(v) || v <= 0.0 || v > 1.0)
        return mtb_error_set(err, MTB_EINPUT,
                             "%s:%d: smoothing must be a number in (0, 1], not '%s'", path, line,
                             value);
    c->smoothing = v;
    return 0;
}

static void config_defaults(tui_user_config *c)
{
    memset(c, 0, sizeof *c);
    c->smoothing = -1.0;
}

int tui_config_load(tui_user_config *c, const char *path, mtb_error *err)
{
    config_defaults(c);
    FILE *f = fopen(path, "r");
    if (!f) {
        if (errno == ENOENT)
            return 0;
        return open_error(path, errno, err);
    }
    tui_user_config tmp;
    config_defaults(&tmp);
    int rc = parse_kv_stream(f, path, config_line, &tmp, err);
    fclose(f);
    if (rc == 0)
        *c = tmp;
    return rc;
}

/* ------------------------------------------------------------ XDG paths */

/* Length of dir without trailing slashes, so that "/home/u/" and "/" join
 * without doubling the separator. */
static int dir_len(const char *dir)
{
    size_t n = strlen(dir);
    while (n > 0 && dir[n - 1] == '/')
        n--;
    return n > (size_t)INT_MAX ? INT_MAX : (int)n;
}

void tui_xdg_path(char *buf, size_t cap, const char *kind, const char *file)
{
    if (!buf || cap == 0)
        return;
    buf[0] = '\0';
    const char *var, *fallback;
    if (kind && strcmp(kind, "config") == 0) {
        var = "XDG_CONFIG_HOME";
        fallback = ".config";
    } else if (kind && strcmp(kind, "state") == 0) {
        var = "XDG_STATE_HOME";
        fallback = ".local/state";
    } else {
        return;
    }
    const char *sep = file && *file ? "/" : "";
    const char *name = file ? file : "";

    int n;
    const char *base = getenv(var);
    if (base && base[0] == '/') {
        n = snprintf(buf, cap, "%.*s/mtbert%s%s", dir_len(base), base, sep, name);
    } else {
        const char *home = getenv("HOME");
        if (!home || !*home) {
            const struct passwd *pw = getpwuid(getuid());
            home = pw ? pw->pw_dir : NULL;
        }
        if (!home || !*home)
            return;
        n = snprintf(buf, cap, "%.*s/%s/mtbert%s%s", dir_len(home), home, fallback, sep, name);
    }
    if (n < 0 || (size_t)n >= cap)
        buf[0] = '\0';
}
