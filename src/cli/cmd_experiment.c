/* mtbert experiment: a grid of training runs on the same data, budget and
 * options (by default the seed project's Tables 1 and 2), each in its own
 * folder, and a table of their dev metrics (mean +- sd over seeds) as
 * Markdown and CSV.
 *
 * Each run is `mtbert train` in a child process, so a run is exactly what
 * the user would get from that command (same checkpoints, metrics file,
 * Ctrl-C behaviour), and the experiment only decides what to run next: a
 * run with a result.json is done, one with a checkpoint resumes, any other
 * starts.  Ctrl-C reaches the run in progress, which saves its checkpoint;
 * the next invocation resumes it. */
#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "mtbert/file.h"
#include "mtbert/trainer.h"

#define MAX_LIST 32
#define MAX_RUNS 512

typedef struct grid {
    char *modes[MAX_LIST];
    int n_modes;
    char *poolings[MAX_LIST];
    int n_poolings;
    char *seeds[MAX_LIST];
    int n_seeds;
    bool seed_tables; /* no --methods: Tables 1 and 2 of the seed project */
} grid;

typedef struct run_spec {
    char mode[32], pooling[8], seed[24];
    char name[96]; /* its folder under --out */
} run_spec;

typedef struct run_result {
    bool done;
    double metric[MTB_N_TASKS]; /* SST acc, Quora acc, STS r; NAN where not measured */
    double seconds;
    long steps;
} run_result;

static volatile sig_atomic_t got_signal;
static volatile pid_t child_pid;

/* The run in progress saves its checkpoint on SIGINT/SIGTERM; a signal sent
 * to the experiment alone is passed on to it. */
static void on_signal(int sig)
{
    got_signal = sig;
    if (child_pid > 0)
        kill(child_pid, sig);
}

static void usage(FILE *out)
{
    fprintf(out,
            "Usage: mtbert experiment [--methods LIST] [--poolings LIST] [--seeds LIST]\n"
            "                         [--out DIR] [TRAIN OPTIONS]\n"
            "\n"
            "Trains a grid of runs on the same data, budget and options and tabulates\n"
            "their dev metrics.  Without --methods: the seed project's Table 1 (each task\n"
            "alone) and Table 2 (sum, PCGrad, PCGrad with mean pooling), [CLS] pooling\n"
            "elsewhere.  With --methods: every method x pooling x seed.\n"
            "\n"
            "      --methods LIST   comma-separated modes: sum, pcgrad, mgda, cagrad,\n"
            "                       gradvac, imtl, nashmtl, aligned, upgrad, uw, dwa, famo,\n"
            "                       single:sst, single:para, single:sts\n"
            "      --poolings LIST  cls, mean or cls,mean (default cls)\n"
            "      --seeds LIST     seeds, e.g. 1,2,3 (default 11711); the table gives\n"
            "                       mean +- sd over them\n"
            "      --out DIR        the experiment's folder (default experiments/DATE-TIME):\n"
            "                       results.md, results.csv, runs.csv and a folder per run\n"
            "                       (checkpoint/, metrics.jsonl, result.json)\n"
            "  -h, --help           show this help\n"
            "\n"
            "Every other option is passed to each run's `mtbert train` (see mtbert train\n"
            "--help), except --mode, --pooling, --seed, --out, --metrics and --resume,\n"
            "which the experiment sets.  Validation data is needed (dev files, --data-dir\n"
            "with them, or --val-split).  Running the same command again resumes: a\n"
            "finished run is not trained again, an interrupted one continues from its\n"
            "checkpoint; Ctrl-C loses at most the steps since that run's last save.\n"
            "\n"
            "The table's mean is the course's overall score, (SST acc + Quora acc +\n"
            "(STS r + 1) / 2) / 3, over the tasks a run trained.\n");
}

static bool split_list(const char *text, char **items, int *n, const char *what)
{
    char *copy = strdup(text), *save = NULL;
    if (!copy)
        return false;
    for (char *tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        if (*n >= MAX_LIST) {
            fprintf(stderr, "mtbert experiment: at most %d %s\n", MAX_LIST, what);
            free(copy);
            return false;
        }
        items[(*n)++] = strdup(tok);
    }
    free(copy);
    return *n > 0;
}

static void grid_free(grid *g)
{
    for (int i = 0; i < g->n_modes; i++)
        free(g->modes[i]);
    for (int i = 0; i < g->n_poolings; i++)
        free(g->poolings[i]);
    for (int i = 0; i < g->n_seeds; i++)
        free(g->seeds[i]);
}

static void spec_set(run_spec *r, const char *mode, const char *pooling, const char *seed)
{
    snprintf(r->mode, sizeof r->mode, "%s", mode);
    snprintf(r->pooling, sizeof r->pooling, "%s", pooling);
    snprintf(r->seed, sizeof r->seed, "%s", seed);
    snprintf(r->name, sizeof r->name, "%s-%s-s%s", mode, pooling, seed);
    for (char *c = r->name; *c; c++)
        if (*c == ':')
            *c = '-';
}

static int plan_runs(const grid *g, run_spec *runs)
{
    int n = 0;
    for (int s = 0; s < g->n_seeds; s++) {
        if (g->seed_tables) {
            static const char *const table[][2] = {
                {"single:sst", "cls"}, {"single:para", "cls"}, {"single:sts", "cls"},
                {"sum", "cls"},        {"pcgrad", "cls"},      {"pcgrad", "mean"},
            };
            for (size_t i = 0; i < sizeof table / sizeof table[0]; i++)
                spec_set(&runs[n++], table[i][0], table[i][1], g->seeds[s]);
            continue;
        }
        for (int m = 0; m < g->n_modes; m++)
            for (int p = 0; p < g->n_poolings && n < MAX_RUNS; p++)
                spec_set(&runs[n++], g->modes[m], g->poolings[p], g->seeds[s]);
    }
    return n;
}

/* ------------------------------------------------------------ results */

static bool file_exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0;
}

static void run_path(char *buf, size_t cap, const char *out, const run_spec *r, const char *file)
{
    if (file)
        snprintf(buf, cap, "%s/%s/%s", out, r->name, file);
    else
        snprintf(buf, cap, "%s/%s", out, r->name);
}

static double number_or_nan(const json_t *v)
{
    return json_is_number(v) ? json_number_value(v) : NAN;
}

/* The last evaluation in a run's metrics file and the time its checkpoint
 * recorded, into r; false when the run evaluated nothing. */
static bool collect(const char *out, const run_spec *spec, run_result *r)
{
    char path[4400];
    run_path(path, sizeof path, out, spec, "metrics.jsonl");
    FILE *f = fopen(path, "r");
    if (!f)
        return false;
    char *line = NULL;
    size_t cap = 0;
    json_t *last = NULL;
    while (getline(&line, &cap, f) > 0) {
        if (!strstr(line, "\"eval\""))
            continue;
        json_error_t jerr;
        json_t *o = json_loads(line, 0, &jerr);
        if (o && json_object_get(o, "eval")) {
            json_decref(last);
            last = o;
        } else {
            json_decref(o);
        }
    }
    free(line);
    fclose(f);
    if (!last)
        return false;
    const json_t *e = json_object_get(last, "eval");
    r->metric[MTB_TASK_SST] = number_or_nan(json_object_get(e, "sst_acc"));
    r->metric[MTB_TASK_PARA] = number_or_nan(json_object_get(e, "para_acc"));
    r->metric[MTB_TASK_STS] = number_or_nan(json_object_get(e, "sts_corr"));
    r->steps = (long)json_integer_value(json_object_get(last, "step"));
    json_decref(last);
    /* a single-task run's other heads never trained: not its result */
    mtb_mode mode;
    mtb_task single = MTB_TASK_SST;
    if (mtb_mode_parse(spec->mode, &mode, &single) == 0 && mode == MTB_MODE_SINGLE)
        for (int t = 0; t < MTB_N_TASKS; t++)
            if (t != (int)single)
                r->metric[t] = NAN;
    run_path(path, sizeof path, out, spec, "checkpoint/trainer.json");
    mtb_error err = {0};
    json_t *tj = mtb_json_load_file(path, &err);
    r->seconds = tj ? number_or_nan(json_object_get(tj, "elapsed")) : NAN;
    json_decref(tj);
    r->done = true;
    return true;
}

static int save_result(const char *out, const run_spec *spec, const run_result *r)
{
    json_t *o = json_pack("{s:s, s:s, s:s, s:I, s:o, s:o, s:o, s:o}", "mode", spec->mode,
                          "pooling", spec->pooling, "seed", spec->seed, "steps",
                          (json_int_t)r->steps, "sst_acc",
                          isnan(r->metric[0]) ? json_null() : json_real(r->metric[0]),
                          "para_acc", isnan(r->metric[1]) ? json_null() : json_real(r->metric[1]),
                          "sts_corr", isnan(r->metric[2]) ? json_null() : json_real(r->metric[2]),
                          "seconds", isnan(r->seconds) ? json_null() : json_real(r->seconds));
    char path[4400];
    run_path(path, sizeof path, out, spec, "result.json");
    mtb_error err = {0};
    int rc = mtb_json_save_file(o, path, JSON_INDENT(2), &err);
    json_decref(o);
    return rc ? fe_report(&err) : FE_OK;
}

static bool load_result(const char *out, const run_spec *spec, run_result *r)
{
    char path[4400];
    run_path(path, sizeof path, out, spec, "result.json");
    if (!file_exists(path))
        return false;
    mtb_error err = {0};
    json_t *o = mtb_json_load_file(path, &err);
    if (!o)
        return false;
    r->metric[0] = number_or_nan(json_object_get(o, "sst_acc"));
    r->metric[1] = number_or_nan(json_object_get(o, "para_acc"));
    r->metric[2] = number_or_nan(json_object_get(o, "sts_corr"));
    r->seconds = number_or_nan(json_object_get(o, "seconds"));
    r->steps = (long)json_integer_value(json_object_get(o, "steps"));
    r->done = true;
    json_decref(o);
    return true;
}

/* The course's overall score over the tasks measured: STS's r enters as
 * (r + 1) / 2, so all three lie in [0, 1]. */
static double overall(const run_result *r)
{
    double s = 0.0;
    for (int t = 0; t < MTB_N_TASKS; t++) {
        if (isnan(r->metric[t]))
            return NAN;
        s += t == MTB_TASK_STS ? (r->metric[t] + 1.0) / 2.0 : r->metric[t];
    }
    return s / MTB_N_TASKS;
}

typedef struct stat_cell {
    double mean, sd;
    int n;
} stat_cell;

static stat_cell summarise(const double *x, int n)
{
    stat_cell c = {NAN, NAN, 0};
    double s = 0.0;
    for (int i = 0; i < n; i++)
        if (!isnan(x[i])) {
            s += x[i];
            c.n++;
        }
    if (c.n == 0)
        return c;
    c.mean = s / c.n;
    if (c.n > 1) {
        double v = 0.0;
        for (int i = 0; i < n; i++)
            if (!isnan(x[i]))
                v += (x[i] - c.mean) * (x[i] - c.mean);
        c.sd = sqrt(v / (c.n - 1));
    }
    return c;
}

static void cell_text(const stat_cell *c, char *buf, size_t cap, bool is_time)
{
    if (c->n == 0) {
        snprintf(buf, cap, "-");
        return;
    }
    if (is_time) {
        fe_format_duration(c->mean, buf, cap);
        return;
    }
    if (c->n > 1)
        snprintf(buf, cap, "%.3f ± %.3f", c->mean, c->sd);
    else
        snprintf(buf, cap, "%.3f", c->mean);
}

static void csv_number(FILE *f, double x)
{
    if (isnan(x))
        fputs(",", f);
    else
        fprintf(f, ",%.6g", x);
}

/* results.md and results.csv (one row per mode and pooling, over seeds),
 * runs.csv (one row per finished run).  Rows appear in the grid's order. */
static int write_tables(const char *out, const run_spec *runs, const run_result *res, int n,
                        FILE *echo)
{
    char md_path[4200], csv_path[4200], runs_path[4200];
    snprintf(md_path, sizeof md_path, "%s/results.md", out);
    snprintf(csv_path, sizeof csv_path, "%s/results.csv", out);
    snprintf(runs_path, sizeof runs_path, "%s/runs.csv", out);
    FILE *md = fopen(md_path, "w"), *csv = fopen(csv_path, "w"), *rcsv = fopen(runs_path, "w");
    if (!md || !csv || !rcsv) {
        fprintf(stderr, "mtbert experiment: cannot write the tables in %s\n", out);
        if (md)
            fclose(md);
        if (csv)
            fclose(csv);
        if (rcsv)
            fclose(rcsv);
        return FE_FAIL;
    }
    static const char *const header =
        "| mode | pooling | seeds | SST acc | Quora acc | STS r | mean | time |\n"
        "|---|---|---|---|---|---|---|---|\n";
    fputs(header, md);
    if (echo)
        fputs(header, echo);
    fputs("mode,pooling,seeds,sst_acc,sst_acc_sd,para_acc,para_acc_sd,sts_corr,sts_corr_sd,"
          "mean,mean_sd,seconds\n", csv);
    fputs("mode,pooling,seed,steps,sst_acc,para_acc,sts_corr,mean,seconds\n", rcsv);
    bool *seen = calloc((size_t)n, sizeof *seen);
    for (int i = 0; seen && i < n; i++) {
        if (seen[i])
            continue;
        double col[5][MAX_LIST] = {{0}};
        int k = 0;
        for (int j = i; j < n; j++) {
            if (strcmp(runs[j].mode, runs[i].mode) || strcmp(runs[j].pooling, runs[i].pooling))
                continue;
            seen[j] = true;
            if (!res[j].done || k >= MAX_LIST)
                continue;
            for (int t = 0; t < MTB_N_TASKS; t++)
                col[t][k] = res[j].metric[t];
            col[3][k] = overall(&res[j]);
            col[4][k] = res[j].seconds;
            k++;
            fprintf(rcsv, "%s,%s,%s,%ld", runs[j].mode, runs[j].pooling, runs[j].seed,
                    res[j].steps);
            for (int c = 0; c < 3; c++)
                csv_number(rcsv, res[j].metric[c]);
            csv_number(rcsv, col[3][k - 1]);
            csv_number(rcsv, res[j].seconds);
            fputc('\n', rcsv);
        }
        if (k == 0)
            continue;
        char cells[5][64];
        stat_cell st[5];
        for (int c = 0; c < 5; c++) {
            st[c] = summarise(col[c], k);
            cell_text(&st[c], cells[c], sizeof cells[c], c == 4);
        }
        char line[512];
        snprintf(line, sizeof line, "| %.31s | %.7s | %d | %s | %s | %s | %s | %s |\n", runs[i].mode,
                 runs[i].pooling, k, cells[0], cells[1], cells[2], cells[3], cells[4]);
        fputs(line, md);
        if (echo)
            fputs(line, echo);
        fprintf(csv, "%s,%s,%d", runs[i].mode, runs[i].pooling, k);
        for (int c = 0; c < 4; c++) {
            csv_number(csv, st[c].mean);
            csv_number(csv, st[c].sd);
        }
        csv_number(csv, st[4].mean);
        fputc('\n', csv);
    }
    free(seen);
    const bool bad = ferror(md) || ferror(csv) || ferror(rcsv);
    if ((fclose(md) | fclose(csv) | fclose(rcsv)) != 0 || bad) {
        fprintf(stderr, "mtbert experiment: write error in %s\n", out);
        return FE_FAIL;
    }
    return FE_OK;
}

/* ------------------------------------------------------------- running */

static const char *self_path(void)
{
    static char buf[4096];
    ssize_t n = readlink("/proc/self/exe", buf, sizeof buf - 1);
    if (n <= 0)
        return NULL;
    buf[n] = '\0';
    return buf;
}

/* Runs `mtbert train PASS... --mode --pooling --seed --out --metrics
 * [--resume]` and returns its exit status (128 + signal if it died of one). */
static int run_child(const char *exe, char **pass, int n_pass, const char *out,
                     const run_spec *r, bool resume)
{
    char dir[4200], ckpt[4300], metrics[4300];
    run_path(dir, sizeof dir, out, r, NULL);
    run_path(ckpt, sizeof ckpt, out, r, "checkpoint");
    run_path(metrics, sizeof metrics, out, r, "metrics.jsonl");
    if (!mtb_mkdir_p(dir, 0755)) { /* train writes the metrics before its first save */
        fprintf(stderr, "mtbert experiment: cannot create %s: %s\n", dir, strerror(errno));
        return FE_FAIL;
    }
    char **argv = calloc((size_t)n_pass + 20, sizeof *argv);
    if (!argv)
        return FE_FAIL;
    int a = 0;
    argv[a++] = "mtbert";
    argv[a++] = "train";
    for (int i = 0; i < n_pass; i++)
        argv[a++] = pass[i];
    argv[a++] = "--mode";
    argv[a++] = (char *)r->mode;
    argv[a++] = "--pooling";
    argv[a++] = (char *)r->pooling;
    argv[a++] = "--seed";
    argv[a++] = (char *)r->seed;
    argv[a++] = "--out";
    argv[a++] = ckpt;
    argv[a++] = "--metrics";
    argv[a++] = metrics;
    if (resume) {
        argv[a++] = "--resume";
        argv[a++] = ckpt;
    } else {
        argv[a++] = "--force"; /* a metrics file of ours without a checkpoint: a start's */
    }
    argv[a] = NULL;
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) {
        free(argv);
        fprintf(stderr, "mtbert experiment: cannot start a run: %s\n", strerror(errno));
        return FE_FAIL;
    }
    if (pid == 0) {
        execv(exe, argv);
        fprintf(stderr, "mtbert experiment: cannot run %s: %s\n", exe, strerror(errno));
        _exit(FE_FAIL);
    }
    child_pid = pid;
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    child_pid = 0;
    free(argv);
    if (WIFEXITED(status))
        return WEXITSTATUS(status);
    return WIFSIGNALED(status) ? 128 + WTERMSIG(status) : FE_FAIL;
}

/* The experiment's record: the grid's options and the pass-through ones.
 * A folder holding another experiment is refused, so a resumed grid is
 * always the same grid. */
static int check_record(const char *out, char **argv, int argc)
{
    json_t *args = json_array();
    for (int i = 0; i < argc; i++)
        json_array_append_new(args, json_string(argv[i]));
    char path[4200];
    snprintf(path, sizeof path, "%s/experiment.json", out);
    mtb_error err = {0};
    if (file_exists(path)) {
        json_t *old = mtb_json_load_file(path, &err);
        json_t *old_args = old ? json_object_get(old, "args") : NULL;
        const bool same = old_args && json_equal(old_args, args);
        if (!same) {
            char *was = old_args ? json_dumps(old_args, JSON_COMPACT) : NULL;
            fprintf(stderr, "mtbert experiment: %s holds an experiment with other options "
                    "(%s); repeat them to resume it, or give a new --out\n", out,
                    was ? was : "unreadable record");
            free(was);
        }
        json_decref(old);
        json_decref(args);
        return same ? -1 : FE_USAGE;
    }
    json_t *o = json_pack("{s:i, s:o}", "mtbert_experiment_format", 1, "args", args);
    int rc = mtb_json_save_file(o, path, JSON_INDENT(2), &err);
    json_decref(o);
    return rc ? fe_report(&err) : -1;
}

static bool is_option(const char *arg, const char *name, const char **value, int *argi,
                      int argc, char **argv)
{
    const size_t len = strlen(name);
    if (strncmp(arg, name, len) != 0)
        return false;
    if (arg[len] == '=') {
        *value = arg + len + 1;
        return true;
    }
    if (arg[len] != '\0')
        return false;
    *value = *argi + 1 < argc ? argv[++*argi] : NULL;
    return true;
}

/* ------------------------------------------------------- the command line */

/* The experiment's command line: its grid, its folder, and the options
 * passed on to each run's `mtbert train`. */
typedef struct experiment_args {
    grid g;
    const char *out; /* NULL: experiments/DATE-TIME */
    char **pass;
    int n_pass;
} experiment_args;

/* Each check below: -1 when the values are good, else the exit status
 * after the message. */
static int check_modes(const grid *g)
{
    for (int m = 0; m < g->n_modes; m++) {
        mtb_mode mode;
        mtb_task task;
        if (mtb_mode_parse(g->modes[m], &mode, &task)) {
            char names[256];
            return fe_usage_error("experiment", "--methods: '%s' is not a mode (%s, "
                                  "single:TASK)", g->modes[m],
                                  mtb_merge_names(names, sizeof names));
        }
    }
    return -1;
}

static int check_poolings(const grid *g)
{
    for (int p = 0; p < g->n_poolings; p++)
        if (strcmp(g->poolings[p], "cls") && strcmp(g->poolings[p], "mean"))
            return fe_usage_error("experiment", "--poolings takes cls and mean, not '%s'",
                                  g->poolings[p]);
    return -1;
}

static int check_seeds(const grid *g)
{
    for (int s = 0; s < g->n_seeds; s++) {
        long l;
        if (!fe_parse_long(g->seeds[s], 0, 1L << 62, &l))
            return fe_usage_error("experiment", "--seeds takes non-negative integers, not '%s'",
                                  g->seeds[s]);
    }
    return -1;
}

/* The options the experiment sets for each run itself. */
static int refuse_reserved(const char *arg)
{
    static const char *const reserved[] = {"--mode", "--pooling", "--seed", "--out",
                                           "--metrics", "--resume"};
    for (size_t r = 0; r < sizeof reserved / sizeof reserved[0]; r++) {
        const size_t len = strlen(reserved[r]);
        if (strncmp(arg, reserved[r], len) == 0 && (arg[len] == '\0' || arg[len] == '='))
            return fe_usage_error("experiment", "%s is set by the experiment for each run (use "
                                  "--methods, --poolings, --seeds, --out)", reserved[r]);
    }
    return -1;
}

/* The grid's defaults, and the validation data its table needs. */
static int complete_grid(experiment_args *a)
{
    grid *g = &a->g;
    g->seed_tables = g->n_modes == 0;
    if (g->n_poolings == 0)
        g->poolings[g->n_poolings++] = strdup("cls");
    if (g->n_seeds == 0)
        g->seeds[g->n_seeds++] = strdup("11711");
    if (g->seed_tables && g->n_poolings != 1)
        return fe_usage_error("experiment", "--poolings needs --methods (the seed's tables "
                              "fix their poolings)");
    bool has_val = false;
    for (int i = 0; i < a->n_pass; i++)
        has_val |= strstr(a->pass[i], "-dev") || strstr(a->pass[i], "--val-split") ||
                   strstr(a->pass[i], "--data-dir");
    if (!has_val)
        return fe_usage_error("experiment", "the table needs validation data: give "
                              "--sst-dev/--para-dev/--sts-dev, --data-dir with dev files, or "
                              "--val-split F");
    return -1;
}

/* argv into a: -1 to go on, else the exit status (0 after --help). */
static int parse_experiment(int argc, char **argv, experiment_args *a)
{
    grid *g = &a->g;
    for (int i = 1; i < argc; i++) {
        const char *v = NULL, *arg = argv[i];
        if (strcmp(arg, "-h") == 0 || strcmp(arg, "--help") == 0) {
            usage(stdout);
            return FE_OK;
        }
        bool ok = true;
        int status = -1;
        if (is_option(arg, "--methods", &v, &i, argc, argv)) {
            ok = v && split_list(v, g->modes, &g->n_modes, "methods");
            status = ok ? check_modes(g) : -1;
        } else if (is_option(arg, "--poolings", &v, &i, argc, argv)) {
            ok = v && split_list(v, g->poolings, &g->n_poolings, "poolings");
            status = ok ? check_poolings(g) : -1;
        } else if (is_option(arg, "--seeds", &v, &i, argc, argv)) {
            ok = v && split_list(v, g->seeds, &g->n_seeds, "seeds");
            status = ok ? check_seeds(g) : -1;
        } else if (is_option(arg, "--out", &v, &i, argc, argv)) {
            ok = v && *v;
            a->out = v;
        } else if ((status = refuse_reserved(arg)) < 0) {
            a->pass[a->n_pass++] = argv[i];
        }
        if (status >= 0)
            return status;
        if (!ok)
            return fe_usage_error("experiment", "%s needs a value", arg);
    }
    return complete_grid(a);
}

/* ---------------------------------------------------------- the grid run */

/* experiments/DATE-TIME: the folder of an experiment given no --out. */
static const char *default_out_dir(char *buf, size_t cap)
{
    char stamp[32];
    time_t now = time(NULL);
    strftime(stamp, sizeof stamp, "%Y%m%d-%H%M%S", localtime(&now));
    snprintf(buf, cap, "experiments/%s", stamp);
    return buf;
}

/* out made, and holding this experiment's record: -1 to go on, else the
 * exit status. */
static int open_experiment_dir(const char *out, int argc, char **argv)
{
    if (!mtb_mkdir_p(out, 0755)) {
        fprintf(stderr, "mtbert experiment: cannot create %s: %s\n", out, strerror(errno));
        return FE_FAIL;
    }
    return check_record(out, argv + 1, argc - 1);
}

/* Run i of the grid: trained, resumed, or done before; its result in
 * res[i] and the tables brought up to date.  -1 to go on, else the
 * experiment's exit status. */
static int run_one(const char *exe, const experiment_args *a, const char *out,
                   const run_spec *runs, run_result *res, int n_runs, int i)
{
    if (load_result(out, &runs[i], &res[i])) {
        fprintf(stderr, "run %d/%d %s: done before\n", i + 1, n_runs, runs[i].name);
        return -1;
    }
    char ckpt[4400];
    run_path(ckpt, sizeof ckpt, out, &runs[i], "checkpoint/trainer.json");
    const bool resume = file_exists(ckpt);
    fprintf(stderr, "run %d/%d %s: %s\n", i + 1, n_runs, runs[i].name,
            resume ? "resuming from its checkpoint" : "training");
    const int rc = run_child(exe, a->pass, a->n_pass, out, &runs[i], resume);
    if (rc == 130 || rc == 143 || got_signal) {
        fprintf(stderr, "mtbert experiment: interrupted during %s, which saved its "
                "checkpoint; run the same command again to resume\n", runs[i].name);
        return rc == 143 ? 143 : 130;
    }
    if (rc != 0) {
        fprintf(stderr, "mtbert experiment: run %s failed (exit status %d); its folder is "
                "%s/%s\n", runs[i].name, rc, out, runs[i].name);
        return rc == FE_USAGE ? FE_USAGE : FE_FAIL;
    }
    if (!collect(out, &runs[i], &res[i])) {
        fprintf(stderr, "mtbert experiment: run %s evaluated nothing: no validation data "
                "(give dev files or --val-split)\n", runs[i].name);
        return FE_USAGE;
    }
    int status = save_result(out, &runs[i], &res[i]);
    if (status == FE_OK)
        status = write_tables(out, runs, res, n_runs, NULL);
    return status != FE_OK ? status : -1;
}

/* The tables of the runs finished, on stdout too when all went well. */
static int finish_tables(const char *out, const run_spec *runs, const run_result *res,
                         int n_runs, int status)
{
    int finished = 0;
    for (int i = 0; i < n_runs; i++)
        finished += res[i].done;
    if (finished == 0)
        return status;
    const int st = write_tables(out, runs, res, n_runs, status == FE_OK ? stdout : NULL);
    if (status == FE_OK)
        status = st;
    fprintf(stderr, "mtbert experiment: %d of %d runs finished; tables in %s/results.md, "
            "results.csv and runs.csv\n", finished, n_runs, out);
    return status;
}

/* The planned runs one after another, until one fails or a signal stops
 * the experiment; then the tables. */
static int run_experiment(const experiment_args *a, int argc, char **argv)
{
    static run_spec runs[MAX_RUNS];
    static run_result res[MAX_RUNS];
    const int n_runs = plan_runs(&a->g, runs);
    memset(res, 0, sizeof res);
    char default_out[64];
    const char *out = a->out ? a->out : default_out_dir(default_out, sizeof default_out);
    int status = open_experiment_dir(out, argc, argv);
    if (status >= 0)
        return status;
    const char *exe = self_path();
    if (!exe) {
        fprintf(stderr, "mtbert experiment: cannot find the mtbert executable (/proc/self/exe)\n");
        return FE_FAIL;
    }
    fe_on_stop_signals(on_signal);

    fprintf(stderr, "mtbert experiment: %d runs in %s\n", n_runs, out);
    status = FE_OK;
    for (int i = 0; i < n_runs && !got_signal && status == FE_OK; i++) {
        const int st = run_one(exe, a, out, runs, res, n_runs, i);
        if (st >= 0)
            status = st;
    }
    return finish_tables(out, runs, res, n_runs, status);
}

int cmd_experiment(int argc, char **argv)
{
    experiment_args a = {.pass = calloc((size_t)argc + 1, sizeof(char *))};
    if (!a.pass)
        return FE_FAIL;
    int status = parse_experiment(argc, argv, &a);
    if (status < 0)
        status = run_experiment(&a, argc, argv);
    grid_free(&a.g);
    free(a.pass);
    return status;
}
