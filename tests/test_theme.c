/* Unit tests for colour themes, the TUI config file and XDG paths
 * (src/tui/theme.h).
 *
 * The shipped theme files are read from "$srcdir/../themes" ($srcdir is the
 * tests folder, "tests" when unset), so the built-in tables and the files
 * users copy from cannot drift apart unnoticed.  Everything else is written
 * to a fresh folder under $TMPDIR and removed afterwards. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "test_util.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "theme.h"


static void shipped_theme(char *buf, size_t cap, const char *file)
{
    const char *srcdir = getenv("srcdir");
    snprintf(buf, cap, "%s/../themes/%s", srcdir && *srcdir ? srcdir : "tests", file);
}

static void assert_style(tui_style s, int fg, int bg, int attrs)
{
    if (s.fg != fg || s.bg != bg || s.attrs != attrs)
        fail_msg("style {%d, %d, 0x%x}, want {%d, %d, 0x%x}", s.fg, s.bg, s.attrs, fg, bg, attrs);
}

static void assert_same_theme(const tui_theme *a, const tui_theme *b)
{
    assert_string_equal(a->name, b->name);
    for (int i = 0; i < TUI_N_SLOTS; i++) {
        const tui_style *x = &a->slot[i], *y = &b->slot[i];
        if (x->fg != y->fg || x->bg != y->bg || x->attrs != y->attrs)
            fail_msg("slot %s: {%d, %d, 0x%x} vs {%d, %d, 0x%x}", tui_slot_name((tui_slot)i),
                     x->fg, x->bg, x->attrs, y->fg, y->bg, y->attrs);
    }
}

/* A shipped theme is also documentation, so each one spells out every slot
 * rather than leaning on the defaults. */
static void assert_sets_every_slot(const char *path)
{
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    bool seen[TUI_N_SLOTS] = {false};
    char line[512];
    while (fgets(line, sizeof line, f)) {
        char key[64];
        if (line[0] == '#' || sscanf(line, " %63[a-z0-9-] =", key) != 1)
            continue;
        int s = tui_slot_parse(key);
        if (s >= 0)
            seen[s] = true;
    }
    fclose(f);
    for (int i = 0; i < TUI_N_SLOTS; i++)
        if (!seen[i])
            fail_msg("%s does not set slot %s", path, tui_slot_name((tui_slot)i));
}

/* ------------------------------------------------------- shipped themes */

static void test_default_matches_file(void **state)
{
    (void)state;
    char path[512];
    shipped_theme(path, sizeof path, "default.theme");
    tui_theme builtin, loaded;
    tui_theme_default(&builtin);
    /* Start from something else so that a slot the loader forgot to fill
     * cannot pass by accident. */
    tui_theme_monochrome(&loaded);
    mtb_error err = {0};
    if (tui_theme_load_file(&loaded, path, &err))
        fail_msg("%s", err.msg);
    assert_same_theme(&builtin, &loaded);
    assert_string_equal(builtin.name, "Dark");
    assert_sets_every_slot(path);

    /* The task, pair and compared-run colours are what the charts are read
     * by: all ten must differ. */
    static const tui_slot curves[] = {TUI_C_SST,           TUI_C_PARA,          TUI_C_STS,
                                      TUI_C_PAIR_SST_PARA, TUI_C_PAIR_SST_STS, TUI_C_PAIR_PARA_STS,
                                      TUI_C_COMPARE_1,     TUI_C_COMPARE_2,    TUI_C_COMPARE_3,
                                      TUI_C_COMPARE_4};
    const size_t n_curves = sizeof curves / sizeof curves[0];
    for (size_t i = 0; i < n_curves; i++)
        for (size_t j = i + 1; j < n_curves; j++)
            assert_int_not_equal(builtin.slot[curves[i]].fg, builtin.slot[curves[j]].fg);
}

static void test_mono_matches_file(void **state)
{
    (void)state;
    char path[512];
    shipped_theme(path, sizeof path, "mono.theme");
    tui_theme builtin, loaded;
    tui_theme_monochrome(&builtin);
    mtb_error err = {0};
    if (tui_theme_load_file(&loaded, path, &err))
        fail_msg("%s", err.msg);
    assert_same_theme(&builtin, &loaded);
    assert_string_equal(builtin.name, "Mono");
    assert_sets_every_slot(path);
    for (int i = 0; i < TUI_N_SLOTS; i++) {
        assert_int_equal(builtin.slot[i].fg, -1);
        assert_int_equal(builtin.slot[i].bg, -1);
    }
    assert_style(builtin.slot[TUI_C_TITLE], -1, -1, TUI_A_BOLD);
    assert_style(builtin.slot[TUI_C_AXIS], -1, -1, TUI_A_DIM);
    assert_style(builtin.slot[TUI_C_HIGHLIGHT], -1, -1, TUI_A_REVERSE);
    assert_style(builtin.slot[TUI_C_KEY], -1, -1, TUI_A_REVERSE);
}

static void test_light_parses(void **state)
{
    (void)state;
    char path[512];
    shipped_theme(path, sizeof path, "light.theme");
    tui_theme t;
    mtb_error err = {0};
    if (tui_theme_load_file(&t, path, &err))
        fail_msg("%s", err.msg);
    assert_string_equal(t.name, "Light");
    assert_sets_every_slot(path);
    assert_style(t.slot[TUI_C_SST], 30, -1, 0);
    assert_style(t.slot[TUI_C_FOOTER], 0, 252, 0);
    assert_style(t.slot[TUI_C_KEY], 7, 24, TUI_A_BOLD);
    /* Bright 8-15 colours are for dark backgrounds; a light theme that used
     * them would wash out. */
    for (int i = 0; i < TUI_N_SLOTS; i++)
        if (t.slot[i].fg >= 8 && t.slot[i].fg <= 15)
            fail_msg("light theme uses bright colour %d for %s", t.slot[i].fg,
                     tui_slot_name((tui_slot)i));
}

/* ------------------------------------------------------------- slot names */

static void test_slot_names(void **state)
{
    (void)state;
    static const char *const want[TUI_N_SLOTS] = {
        "default",      "title",        "border",        "axis",     "label",
        "sst",          "para",         "sts",           "pair-sst-para", "pair-sst-sts",
        "pair-para-sts", "positive",    "negative",      "warning",  "error",
        "footer",       "key",          "prompt",        "highlight", "compare-1",
        "compare-2",    "compare-3",    "compare-4",
    };
    for (int i = 0; i < TUI_N_SLOTS; i++) {
        assert_string_equal(tui_slot_name((tui_slot)i), want[i]);
        assert_int_equal(tui_slot_parse(want[i]), i);
    }
    assert_int_equal(tui_slot_parse("PAIR-SST-PARA"), TUI_C_PAIR_SST_PARA);
    assert_int_equal(tui_slot_parse("pair_sst_para"), -1);
    assert_int_equal(tui_slot_parse("titl"), -1);
    assert_int_equal(tui_slot_parse(""), -1);
    assert_int_equal(tui_slot_parse(NULL), -1);
    assert_string_equal(tui_slot_name(TUI_N_SLOTS), "");
    assert_string_equal(tui_slot_name((tui_slot)-1), "");
}

/* ------------------------------------------------------------ file syntax */

static void test_syntax(void **state)
{
    (void)state;
    char path[512];
    tu_temp_path(path, sizeof path, "syntax.theme");
    tu_write_text(path, "# leading comment\n"
                     "\n"
                     "   \t\n"
                     "name =   Solar  flare  \n"
                     "title=red\n"
                     "\tborder\t=\t244\t# trailing comment\n"
                     "axis = bright-blue on 17 dim\r\n"
                     "key = black bold on cyan\n"
                     "label = Bright-White UNDERLINE Reverse\n"
                     "sst = 0 on 255 bold dim underline reverse\n"
                     "para = default on black\n"
                     "sts = green\n"
                     "sts = yellow bold\n"
                     "positive = 007\n");
    tui_theme t, def;
    tui_theme_default(&def);
    mtb_error err = {0};
    if (tui_theme_load_file(&t, path, &err))
        fail_msg("%s", err.msg);
    assert_string_equal(t.name, "Solar  flare");
    assert_style(t.slot[TUI_C_TITLE], 1, -1, 0);
    assert_style(t.slot[TUI_C_BORDER], 244, -1, 0);
    assert_style(t.slot[TUI_C_AXIS], 12, 17, TUI_A_DIM);
    assert_style(t.slot[TUI_C_KEY], 0, 6, TUI_A_BOLD);
    assert_style(t.slot[TUI_C_LABEL], 15, -1, TUI_A_UNDERLINE | TUI_A_REVERSE);
    assert_style(t.slot[TUI_C_SST], 0, 255,
                 TUI_A_BOLD | TUI_A_DIM | TUI_A_UNDERLINE | TUI_A_REVERSE);
    assert_style(t.slot[TUI_C_PARA], -1, 0, 0);
    assert_style(t.slot[TUI_C_STS], 3, -1, TUI_A_BOLD);
    assert_style(t.slot[TUI_C_POSITIVE], 7, -1, 0);
    static const tui_slot untouched[] = {TUI_C_DEFAULT,       TUI_C_PAIR_SST_PARA,
                                         TUI_C_PAIR_SST_STS,  TUI_C_PAIR_PARA_STS,
                                         TUI_C_NEGATIVE,      TUI_C_WARNING,
                                         TUI_C_ERROR,         TUI_C_FOOTER,
                                         TUI_C_PROMPT,        TUI_C_HIGHLIGHT};
    for (size_t i = 0; i < sizeof untouched / sizeof untouched[0]; i++) {
        tui_slot s = untouched[i];
        assert_style(t.slot[s], def.slot[s].fg, def.slot[s].bg, def.slot[s].attrs);
    }
}

static void test_every_colour_word(void **state)
{
    (void)state;
    static const char *const names[] = {
        "black",        "red",        "green",        "yellow",        "blue",
        "magenta",      "cyan",       "white",        "bright-black",  "bright-red",
        "bright-green", "bright-yellow", "bright-blue", "bright-magenta", "bright-cyan",
        "bright-white",
    };
    char path[512];
    tu_temp_path(path, sizeof path, "colours.theme");
    for (int c = 0; c < 16; c++) {
        char text[128];
        snprintf(text, sizeof text, "title = %s on %d\n", names[c], 255 - c);
        tu_write_text(path, text);
        tui_theme t;
        mtb_error err = {0};
        if (tui_theme_load_file(&t, path, &err))
            fail_msg("%s", err.msg);
        assert_style(t.slot[TUI_C_TITLE], c, 255 - c, 0);
    }
}

static void test_name_from_file(void **state)
{
    (void)state;
    char path[512];
    tu_temp_path(path, sizeof path, "ocean.theme");
    tu_write_text(path, "title = blue\n");
    tui_theme t;
    mtb_error err = {0};
    assert_int_equal(tui_theme_load_file(&t, path, &err), 0);
    assert_string_equal(t.name, "ocean");

    tu_temp_path(path, sizeof path, "plain");
    tu_write_text(path, "");
    assert_int_equal(tui_theme_load_file(&t, path, &err), 0);
    assert_string_equal(t.name, "plain");
    tui_theme def;
    tui_theme_default(&def);
    strcpy(def.name, "plain");
    assert_same_theme(&t, &def);
}

/* ----------------------------------------------------------- theme errors */

static void test_errors(void **state)
{
    (void)state;
    static const struct {
        const char *text;
        const char *msg; /* after "PATH:" */
    } cases[] = {
        {"title = purpel\n", "1: unknown colour 'purpel'"},
        {"# c\n\ntitle = red on purpel\n", "3: unknown colour 'purpel'"},
        {"boarder = red\n", "1: unknown slot 'boarder'"},
        {"title = red\nborder = red blink\n", "2: unknown attribute 'blink'"},
        {"title = red blue\n", "1: unknown attribute 'blue' (a background needs 'on')"},
        {"title = red on\n", "1: 'on' needs a background colour"},
        {"title = red on blue on green\n", "1: background given twice"},
        {"title =\n", "1: missing colour for slot 'title'"},
        {"title = # nothing\n", "1: missing colour for slot 'title'"},
        {"title red\n", "1: expected 'key = value'"},
        {"= red\n", "1: expected 'key = value'"},
        {"title = 256\n", "1: unknown colour '256'"},
        {"title = -1\n", "1: unknown colour '-1'"},
        {"title = 1000\n", "1: unknown colour '1000'"},
        {"title = 0x10\n", "1: unknown colour '0x10'"},
        {"title = bold\n", "1: unknown colour 'bold'"},
        {"title = bright_red\n", "1: unknown colour 'bright_red'"},
        {"name =\n", "1: missing value for 'name'"},
        {"name = 0123456789012345678901234567890123456789012345678901234567890123\n",
         "1: theme name longer than 63 bytes"},
    };
    char path[512];
    tu_temp_path(path, sizeof path, "bad.theme");
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        tu_write_text(path, cases[i].text);
        tui_theme t, before;
        tui_theme_monochrome(&t);
        before = t;
        mtb_error err = {0};
        int rc = tui_theme_load_file(&t, path, &err);
        char want[1024];
        snprintf(want, sizeof want, "%s:%s", path, cases[i].msg);
        if (rc != MTB_EINPUT || strcmp(err.msg, want) != 0)
            fail_msg("case %zu: rc %d \"%s\", want \"%s\"", i, rc, err.msg, want);
        assert_int_equal(err.code, MTB_EINPUT);
        /* A broken file must not leave a half-applied theme behind. */
        assert_same_theme(&t, &before);
    }

    /* The longest name that fits is accepted. */
    tu_write_text(path, "name = 012345678901234567890123456789012345678901234567890123456789012\n");
    tui_theme t;
    mtb_error err = {0};
    assert_int_equal(tui_theme_load_file(&t, path, &err), 0);
    assert_int_equal(strlen(t.name), 63);
}

static void test_missing_file(void **state)
{
    (void)state;
    char path[512], want[1024];
    tu_temp_path(path, sizeof path, "nope.theme");
    tui_theme t;
    mtb_error err = {0};
    assert_int_equal(tui_theme_load_file(&t, path, &err), MTB_EINPUT);
    snprintf(want, sizeof want, "%s: cannot open: No such file or directory", path);
    assert_string_equal(err.msg, want);
    /* err may be NULL: the code alone still comes back. */
    assert_int_equal(tui_theme_load_file(&t, path, NULL), MTB_EINPUT);

    /* A folder opens but cannot be read: still the user's mistake. */
    assert_int_equal(tui_theme_load_file(&t, tu_dir(), &err), MTB_EINPUT);
    snprintf(want, sizeof want, "%s: cannot read: Is a directory", tu_dir());
    assert_string_equal(err.msg, want);
    tui_user_config c;
    assert_int_equal(tui_config_load(&c, tu_dir(), &err), MTB_EINPUT);
    assert_string_equal(err.msg, want);
}

/* ------------------------------------------------------------------ resolve */

static void make_dir(char *buf, size_t cap, const char *name)
{
    tu_temp_path(buf, cap, name);
    if (mkdir(buf, 0700) != 0)
        fail_msg("mkdir %s failed", buf);
}

static void test_resolve(void **state)
{
    (void)state;
    char a[512], b[512], p[600];
    make_dir(a, sizeof a, "user");
    make_dir(b, sizeof b, "installed");
    snprintf(p, sizeof p, "%s/ocean.theme", b);
    tu_write_text(p, "name = Ocean (installed)\ntitle = blue\n");
    snprintf(p, sizeof p, "%s/forest.theme", b);
    tu_write_text(p, "name = Forest (installed)\n");
    snprintf(p, sizeof p, "%s/forest.theme", a);
    tu_write_text(p, "name = Forest (user)\ntitle = green\n");
    snprintf(p, sizeof p, "%s/broken.theme", a);
    tu_write_text(p, "title = green\ntitle = greem\n");

    const char *dirs[] = {NULL, a, "", b};
    tui_theme t;
    mtb_error err = {0};

    if (tui_theme_resolve(&t, "ocean", dirs, 4, &err))
        fail_msg("%s", err.msg);
    assert_string_equal(t.name, "Ocean (installed)");
    assert_style(t.slot[TUI_C_TITLE], 4, -1, 0);

    /* The first folder wins, so a user's theme shadows an installed one. */
    assert_int_equal(tui_theme_resolve(&t, "forest", dirs, 4, &err), 0);
    assert_string_equal(t.name, "Forest (user)");

    /* A path is read as is, whatever the folders hold. */
    snprintf(p, sizeof p, "%s/forest.theme", b);
    assert_int_equal(tui_theme_resolve(&t, p, dirs, 4, &err), 0);
    assert_string_equal(t.name, "Forest (installed)");
    assert_int_equal(tui_theme_resolve(&t, p, NULL, 0, &err), 0);
    assert_string_equal(t.name, "Forest (installed)");

    /* A name ending in .theme is a path too (relative to the current
     * folder), not a name to search for. */
    assert_int_equal(tui_theme_resolve(&t, "forest.theme", dirs, 4, &err), MTB_EINPUT);
    assert_string_equal(err.msg, "forest.theme: cannot open: No such file or directory");

    /* A broken file that is found reports its own line. */
    assert_int_equal(tui_theme_resolve(&t, "broken", dirs, 4, &err), MTB_EINPUT);
    char want[1200];
    snprintf(want, sizeof want, "%s/broken.theme:2: unknown colour 'greem'", a);
    assert_string_equal(err.msg, want);

    /* Not found: every path tried is named. */
    assert_int_equal(tui_theme_resolve(&t, "sunset", dirs, 4, &err), MTB_EINPUT);
    snprintf(want, sizeof want,
             "theme 'sunset' not found (looked for %s/sunset.theme, %s/sunset.theme)", a, b);
    assert_string_equal(err.msg, want);
    assert_int_equal(tui_theme_resolve(&t, "sunset", NULL, 0, &err), MTB_EINPUT);
    assert_string_equal(err.msg, "theme 'sunset' not found (no theme folders to search)");

    assert_int_equal(tui_theme_resolve(&t, "", dirs, 4, &err), MTB_EINPUT);
    assert_string_equal(err.msg, "empty theme name");
    assert_int_equal(tui_theme_resolve(&t, NULL, dirs, 4, &err), MTB_EINPUT);
}

static void test_resolve_builtin_fallback(void **state)
{
    (void)state;
    char a[512], p[600];
    make_dir(a, sizeof a, "fallback");
    const char *dirs[] = {a};
    tui_theme t, want;
    mtb_error err = {0};

    assert_int_equal(tui_theme_resolve(&t, "default", dirs, 1, &err), 0);
    tui_theme_default(&want);
    assert_same_theme(&t, &want);
    assert_int_equal(tui_theme_resolve(&t, "mono", NULL, 0, &err), 0);
    tui_theme_monochrome(&want);
    assert_same_theme(&t, &want);

    /* A file of that name, where there is one, still wins. */
    snprintf(p, sizeof p, "%s/mono.theme", a);
    tu_write_text(p, "name = My mono\n");
    assert_int_equal(tui_theme_resolve(&t, "mono", dirs, 1, &err), 0);
    assert_string_equal(t.name, "My mono");

    /* And the shipped folder resolves all three by name. */
    char shipped[512];
    shipped_theme(shipped, sizeof shipped, "");
    const char *sdirs[] = {shipped};
    static const char *const names[] = {"default", "light", "mono"};
    static const char *const titles[] = {"Dark", "Light", "Mono"};
    for (int i = 0; i < 3; i++) {
        if (tui_theme_resolve(&t, names[i], sdirs, 1, &err))
            fail_msg("%s", err.msg);
        assert_string_equal(t.name, titles[i]);
    }
}

/* -------------------------------------------------------------- degrading */

static tui_style S(int fg, int bg, int attrs)
{
    tui_style s = {(short)fg, (short)bg, attrs};
    return s;
}

static void test_degrade_cases(void **state)
{
    (void)state;
    static const struct {
        int ncolors, fg, bg, attrs;
        int want_fg, want_bg, want_attrs;
    } cases[] = {
        /* plenty of colours: untouched */
        {256, 196, 21, TUI_A_DIM, 196, 21, TUI_A_DIM},
        {16777216, 244, -1, 0, 244, -1, 0},
        /* 8 colours: the brief's examples */
        {8, 196, -1, 0, 1, -1, 0},   /* (255,0,0) red */
        {8, 21, -1, 0, 4, -1, 0},    /* (0,0,255) blue */
        {8, 9, -1, 0, 1, -1, TUI_A_BOLD},
        {8, 15, -1, TUI_A_UNDERLINE, 7, -1, TUI_A_UNDERLINE | TUI_A_BOLD},
        {8, 8, -1, 0, 0, -1, TUI_A_BOLD},
        /* greys by brightness: mean >= 128 is white */
        {8, 244, -1, 0, 7, -1, 0},   /* 128 */
        {8, 243, -1, 0, 0, -1, 0},   /* 118 */
        {8, 232, -1, 0, 0, -1, 0},
        {8, 255, -1, 0, 7, -1, 0},
        {8, 16, -1, 0, 0, -1, 0},    /* cube black */
        {8, 231, -1, 0, 7, -1, 0},   /* cube white */
        {8, 146, -1, 0, 7, -1, 0},   /* (175,175,215): too little hue, light */
        {8, 60, -1, 0, 0, -1, 0},    /* (95,95,135): too little hue, dark */
        /* coloured entries keep their hue, dark ones included */
        {8, 208, -1, 0, 3, -1, 0},   /* orange (255,135,0) */
        {8, 93, -1, 0, 5, -1, 0},    /* (135,0,255) */
        {8, 30, -1, 0, 6, -1, 0},    /* (0,135,135) */
        {8, 22, -1, 0, 2, -1, 0},    /* (0,95,0) */
        {8, 52, -1, 0, 1, -1, 0},    /* (95,0,0) */
        {8, 111, -1, 0, 4, -1, 0},   /* (135,175,255) */
        {8, 120, -1, 0, 2, -1, 0},   /* (135,255,135) */
        {8, 218, -1, 0, 5, -1, 0},   /* (255,175,215) */
        {8, 229, -1, 0, 3, -1, 0},   /* (255,255,175) */
        /* a bright background loses the bright bit but gains no bold */
        {8, -1, 12, 0, -1, 4, 0},
        {8, 0, 236, 0, 7, 0, 0},     /* black on dark grey would vanish: white */
        /* 16 colours */
        {16, 196, -1, 0, 9, -1, 0},
        {16, 160, -1, 0, 1, -1, 0},  /* (215,0,0): the normal shade */
        {16, 9, 12, 0, 9, 12, 0},
        {16, 244, -1, 0, 8, -1, 0},
        {16, 232, -1, 0, 0, -1, 0},
        {16, 250, -1, 0, 7, -1, 0},  /* 188 */
        {16, 231, -1, 0, 15, -1, 0},
        {16, 51, -1, 0, 14, -1, 0},  /* (0,255,255) */
        {88, 51, -1, 0, 14, -1, 0},  /* 88-colour palettes differ: treat as 16 */
        /* no colours: attributes alone */
        {2, 196, 21, TUI_A_BOLD, -1, -1, TUI_A_BOLD},
        {0, 9, -1, 0, -1, -1, 0},
        /* out-of-range numbers are treated as the default colour */
        {256, 300, -7, 0, -1, -1, 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        tui_style got = tui_style_degrade(S(cases[i].fg, cases[i].bg, cases[i].attrs),
                                          cases[i].ncolors);
        if (got.fg != cases[i].want_fg || got.bg != cases[i].want_bg ||
            got.attrs != cases[i].want_attrs)
            fail_msg("case %zu (%d colours, %d on %d): got {%d, %d, 0x%x}, want {%d, %d, 0x%x}",
                     i, cases[i].ncolors, cases[i].fg, cases[i].bg, got.fg, got.bg, got.attrs,
                     cases[i].want_fg, cases[i].want_bg, cases[i].want_attrs);
    }
}

static void test_degrade_keeps_text_visible(void **state)
{
    (void)state;
    /* Text that was readable stays readable: the rescue picks black on a
     * light background and white on a dark one. */
    assert_style(tui_style_degrade(S(9, 1, 0), 8), 7, 1, TUI_A_BOLD);
    assert_style(tui_style_degrade(S(11, 3, 0), 8), 0, 3, TUI_A_BOLD);
    assert_style(tui_style_degrade(S(196, 160, 0), 8), 7, 1, 0);
    assert_style(tui_style_degrade(S(231, 15, 0), 8), 0, 7, 0);
    assert_style(tui_style_degrade(S(231, 15, 0), 16), 0, 15, 0);
    /* A theme that asks for fg == bg gets what it asked for. */
    assert_style(tui_style_degrade(S(1, 1, 0), 8), 1, 1, 0);

    for (int n = 8; n <= 16; n += 8) {
        for (int fg = -1; fg < 256; fg++) {
            for (int bg = -1; bg < 256; bg++) {
                tui_style s = tui_style_degrade(S(fg, bg, 0), n);
                if (s.fg < -1 || s.fg >= n || s.bg < -1 || s.bg >= n)
                    fail_msg("%d colours: %d on %d became %d on %d", n, fg, bg, s.fg, s.bg);
                if (fg != bg && s.fg >= 0 && s.fg == s.bg)
                    fail_msg("%d colours: %d on %d became invisible", n, fg, bg);
            }
        }
    }
}

static void test_degrade_shipped_themes(void **state)
{
    (void)state;
    /* On 8 colours the default theme must still tell the three tasks apart,
     * and the three pairs apart. */
    tui_theme t;
    tui_theme_default(&t);
    int task[3], pair[3];
    for (int i = 0; i < 3; i++) {
        task[i] = tui_style_degrade(t.slot[TUI_C_SST + i], 8).fg;
        pair[i] = tui_style_degrade(t.slot[TUI_C_PAIR_SST_PARA + i], 8).fg;
    }
    for (int i = 0; i < 3; i++) {
        for (int j = i + 1; j < 3; j++) {
            assert_int_not_equal(task[i], task[j]);
            assert_int_not_equal(pair[i], pair[j]);
        }
    }
    tui_theme_monochrome(&t);
    for (int i = 0; i < TUI_N_SLOTS; i++) {
        tui_style s = tui_style_degrade(t.slot[i], 8);
        assert_style(s, t.slot[i].fg, t.slot[i].bg, t.slot[i].attrs);
    }
}

/* ---------------------------------------------------------------- config */

static void assert_config_unset(const tui_user_config *c)
{
    assert_string_equal(c->theme, "");
    assert_string_equal(c->glyphs, "");
    assert_true(c->smoothing == -1.0);
}

static void test_config_all_keys(void **state)
{
    (void)state;
    char path[512];
    tu_temp_path(path, sizeof path, "config");
    tu_write_text(path, "# mtbert\n"
                     "theme = ~/my themes/x.theme   # spaces inside are kept\n"
                     "\n"
                     "glyphs = Block\n"
                     "smoothing=0.25\n");
    tui_user_config c;
    mtb_error err = {0};
    if (tui_config_load(&c, path, &err))
        fail_msg("%s", err.msg);
    assert_string_equal(c.theme, "~/my themes/x.theme");
    assert_string_equal(c.glyphs, "block");
    assert_true(c.smoothing == 0.25);

    tu_write_text(path, "smoothing = 1\nglyphs = ascii\nglyphs = braille\n");
    assert_int_equal(tui_config_load(&c, path, &err), 0);
    assert_string_equal(c.theme, "");
    assert_string_equal(c.glyphs, "braille");
    assert_true(c.smoothing == 1.0);

    tu_write_text(path, "");
    assert_int_equal(tui_config_load(&c, path, &err), 0);
    assert_config_unset(&c);
}

static void test_config_missing_file(void **state)
{
    (void)state;
    char path[512];
    tu_temp_path(path, sizeof path, "no-such-config");
    tui_user_config c;
    memset(&c, 'x', sizeof c);
    mtb_error err = {0};
    assert_int_equal(tui_config_load(&c, path, &err), 0);
    assert_config_unset(&c);
}

static void test_config_errors(void **state)
{
    (void)state;
    char long_theme[300];
    memset(long_theme, 'a', sizeof long_theme);
    memcpy(long_theme, "theme = ", 8);
    memcpy(long_theme + 8 + 256, "\n", 2);
    static const struct {
        const char *text;
        const char *msg;
    } cases[] = {
        {"theme = light\ncolour = red\n",
         "2: unknown key 'colour' (known: theme, glyphs, smoothing)"},
        {"glyphs = dots\n", "1: unknown glyphs 'dots' (braille, block or ascii)"},
        {"smoothing = 0\n", "1: smoothing must be a number in (0, 1], not '0'"},
        {"smoothing = 1.5\n", "1: smoothing must be a number in (0, 1], not '1.5'"},
        {"smoothing = -0.5\n", "1: smoothing must be a number in (0, 1], not '-0.5'"},
        {"smoothing = 0.5x\n", "1: smoothing must be a number in (0, 1], not '0.5x'"},
        {"smoothing = nan\n", "1: smoothing must be a number in (0, 1], not 'nan'"},
        {"\n\ntheme =\n", "3: missing value for 'theme'"},
        {"theme\n", "1: expected 'key = value'"},
        {NULL, "1: theme longer than 255 bytes"},
    };
    char path[512];
    tu_temp_path(path, sizeof path, "config");
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        tu_write_text(path, cases[i].text ? cases[i].text : long_theme);
        tui_user_config c;
        mtb_error err = {0};
        int rc = tui_config_load(&c, path, &err);
        char want[1024];
        snprintf(want, sizeof want, "%s:%s", path, cases[i].msg);
        if (rc != MTB_EINPUT || strcmp(err.msg, want) != 0)
            fail_msg("case %zu: rc %d \"%s\", want \"%s\"", i, rc, err.msg, want);
        /* Nothing from the good lines before the bad one leaks through. */
        assert_config_unset(&c);
    }

    /* 255 bytes fit. */
    memcpy(long_theme + 8 + 255, "\n", 2);
    tu_write_text(path, long_theme);
    tui_user_config c;
    mtb_error err = {0};
    assert_int_equal(tui_config_load(&c, path, &err), 0);
    assert_int_equal(strlen(c.theme), 255);
}

/* -------------------------------------------------------------- XDG paths */

static void set_env(const char *name, const char *value)
{
    if (value)
        setenv(name, value, 1);
    else
        unsetenv(name);
}

static void test_xdg_paths(void **state)
{
    (void)state;
    char buf[512];
    set_env("HOME", "/home/ada");

    set_env("XDG_CONFIG_HOME", "/etc/xdg-ada");
    tui_xdg_path(buf, sizeof buf, "config", "config");
    assert_string_equal(buf, "/etc/xdg-ada/mtbert/config");
    set_env("XDG_CONFIG_HOME", "/etc/xdg-ada/");
    tui_xdg_path(buf, sizeof buf, "config", "themes");
    assert_string_equal(buf, "/etc/xdg-ada/mtbert/themes");
    set_env("XDG_CONFIG_HOME", NULL);
    tui_xdg_path(buf, sizeof buf, "config", "config");
    assert_string_equal(buf, "/home/ada/.config/mtbert/config");
    /* The XDG spec says relative or empty values are to be ignored. */
    set_env("XDG_CONFIG_HOME", "");
    tui_xdg_path(buf, sizeof buf, "config", "config");
    assert_string_equal(buf, "/home/ada/.config/mtbert/config");
    set_env("XDG_CONFIG_HOME", "relative/dir");
    tui_xdg_path(buf, sizeof buf, "config", "config");
    assert_string_equal(buf, "/home/ada/.config/mtbert/config");

    set_env("XDG_STATE_HOME", "/var/state");
    tui_xdg_path(buf, sizeof buf, "state", "history");
    assert_string_equal(buf, "/var/state/mtbert/history");
    set_env("XDG_STATE_HOME", NULL);
    tui_xdg_path(buf, sizeof buf, "state", "history");
    assert_string_equal(buf, "/home/ada/.local/state/mtbert/history");

    tui_xdg_path(buf, sizeof buf, "state", NULL);
    assert_string_equal(buf, "/home/ada/.local/state/mtbert");
    tui_xdg_path(buf, sizeof buf, "config", "");
    assert_string_equal(buf, "/home/ada/.config/mtbert");

    set_env("HOME", "/");
    tui_xdg_path(buf, sizeof buf, "config", "config");
    assert_string_equal(buf, "/.config/mtbert/config");
    set_env("HOME", "/home/ada");

    /* Unknown kind, or no room: an empty string rather than a wrong path. */
    strcpy(buf, "junk");
    tui_xdg_path(buf, sizeof buf, "cache", "x");
    assert_string_equal(buf, "");
    strcpy(buf, "junk");
    tui_xdg_path(buf, sizeof buf, NULL, "x");
    assert_string_equal(buf, "");
    char small[20];
    tui_xdg_path(small, sizeof small, "config", "config");
    assert_string_equal(small, "");
    char exact[sizeof "/home/ada/.config/mtbert/config"];
    tui_xdg_path(exact, sizeof exact, "config", "config");
    assert_string_equal(exact, "/home/ada/.config/mtbert/config");

    /* Without $HOME the password database names the home folder. */
    set_env("HOME", NULL);
    tui_xdg_path(buf, sizeof buf, "config", "config");
    size_t n = strlen(buf);
    if (n > 0) {
        assert_true(buf[0] == '/');
        const char *tail = "/.config/mtbert/config";
        assert_true(n >= strlen(tail));
        assert_string_equal(buf + n - strlen(tail), tail);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_default_matches_file),
        cmocka_unit_test(test_mono_matches_file),
        cmocka_unit_test(test_light_parses),
        cmocka_unit_test(test_slot_names),
        cmocka_unit_test(test_syntax),
        cmocka_unit_test(test_every_colour_word),
        cmocka_unit_test(test_name_from_file),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_missing_file),
        cmocka_unit_test(test_resolve),
        cmocka_unit_test(test_resolve_builtin_fallback),
        cmocka_unit_test(test_degrade_cases),
        cmocka_unit_test(test_degrade_keeps_text_visible),
        cmocka_unit_test(test_degrade_shipped_themes),
        cmocka_unit_test(test_config_all_keys),
        cmocka_unit_test(test_config_missing_file),
        cmocka_unit_test(test_config_errors),
        cmocka_unit_test(test_xdg_paths),
    };
    return cmocka_run_group_tests(tests, tu_temp_dir_setup, tu_temp_dir_teardown);
}
