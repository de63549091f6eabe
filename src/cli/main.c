/* mtbert: command dispatch. */
#include <getopt.h>
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "mtbert/blas_kernel.h"

typedef struct command {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *summary;
} command;

static const command commands[] = {
    {"tokenize", cmd_tokenize, "print the WordPiece ids of texts"},
    {"encode", cmd_encode, "print sentence encodings from a BERT checkpoint"},
    {"train", cmd_train, "fine-tune on SST, Quora and STS (a multitask method or one task)"},
    {"export", cmd_export, "a run's metrics as tidy CSV"},
    {"plot", cmd_plot, "figures of runs' losses, dev metrics and conflicts (SVG, PNG)"},
    {"eval", cmd_eval, "accuracy and correlation of a trained model on dev files"},
    {"predict", cmd_predict, "write the course's prediction files for test splits"},
    {"experiment", cmd_experiment, "train a grid of runs (the seed's tables) and tabulate them"},
    {"bench", cmd_bench, "time training steps on a synthetic workload"},
    {"repl", cmd_repl, "score typed sentences and pairs with a trained model"},
    {"score", cmd_score, "sentiment of a text, or paraphrase and similarity of two"},
    {"tui", cmd_tui, "the workbench: live curves, gradient conflicts, a prompt"},
    {"info", cmd_info, "the CPU, OpenBLAS kernel and product plan a run gets here, and why"},
};

static void usage(FILE *out)
{
    fprintf(out,
            "Usage: mtbert [--help] [--version] [COMMAND [ARGS...]]\n"
            "\n"
            "A terminal workbench for multitask fine-tuning of BERT.  Without a command it\n"
            "opens the workbench on the bundled demo (headless without a terminal).\n"
            "\n"
            "Commands:\n");
    for (size_t i = 0; i < sizeof commands / sizeof *commands; i++)
        fprintf(out, "  %-10s %s\n", commands[i].name, commands[i].summary);
    fprintf(out,
            "\n"
            "Run 'mtbert COMMAND --help' for a command's options, 'man mtbert' for everything.\n"
            "Exit status: 0 success, 1 failure, 2 bad usage or bad input, 130/143 when\n"
            "training stopped on SIGINT/SIGTERM after saving its checkpoint.\n");
}

/* Without arguments: train a small fresh model on the bundled demo data in
 * PCGrad mode, the quickest way to see mtbert do its job: in the workbench
 * on a terminal, headless otherwise. */
static int run_demo(void)
{
    const char *demo = cli_demo_dir();
    if (!demo) {
        fprintf(stderr, "mtbert: the demo data (data/demo) was not found; set MTBERT_DATA_DIR "
                        "or run a command:\n\n");
        usage(stderr);
        return FE_USAGE;
    }
    char files[8][4200];
    static const char *names[] = {"sst-train.csv", "para-train.csv", "sts-train.csv",
                                  "sst-dev.csv", "para-dev.csv", "sts-dev.csv", "vocab.txt"};
    for (int i = 0; i < 7; i++)
        snprintf(files[i], sizeof files[i], "%s/%s", demo, names[i]);
    /* Runs go where user data belongs, not into whatever folder the demo
     * was started from: $XDG_DATA_HOME/mtbert/runs, else ~/.local/share. */
    char out[4096], stamp[32];
    const char *data_home = getenv("XDG_DATA_HOME"), *home = getenv("HOME");
    time_t now = time(NULL);
    strftime(stamp, sizeof stamp, "%Y%m%d-%H%M%S", localtime(&now));
    if (data_home && data_home[0] == '/')
        snprintf(out, sizeof out, "%s/mtbert/runs/demo-%s-%ld", data_home, stamp, (long)getpid());
    else if (home && home[0])
        snprintf(out, sizeof out, "%s/.local/share/mtbert/runs/demo-%s-%ld", home, stamp,
                 (long)getpid());
    else
        snprintf(out, sizeof out, "runs/demo-%s-%ld", stamp, (long)getpid());
    const bool tty = isatty(STDIN_FILENO) && isatty(STDOUT_FILENO);
    char *args[] = {tty ? "tui" : "train", "--out", out, "--mode", "pcgrad", "--config", "tiny",
                    "--vocab", files[6],
                    "--sst-train", files[0], "--para-train", files[1], "--sts-train", files[2],
                    "--sst-dev", files[3], "--para-dev", files[4], "--sts-dev", files[5],
                    "--lr", "2e-4", "--dropout", "0.1", "--pooling", "mean", "--max-length", "48",
                    "--epochs", tty ? "50" : "4", "--eval-every", "50", NULL};
    fprintf(stderr, "mtbert demo: a tiny fresh BERT learns sentiment, paraphrase and similarity "
                    "at once (PCGrad) on %s; the run is saved to %s\n", demo, out);
    const int n = (int)(sizeof args / sizeof *args) - 1;
    const int status = tty ? cmd_tui(n, args) : cmd_train(n, args);
    char marker[4200];
    struct stat st;
    snprintf(marker, sizeof marker, "%s/trainer.json", out);
    if (stat(marker, &st) == 0)
        fprintf(stderr, "mtbert demo: saved the run in %s (mtbert tui --resume %s continues it)\n",
                out, out);
    return status;
}

int main(int argc, char **argv)
{
    /* Before any thread or product: may restart the program on a better
     * OpenBLAS kernel (blas_kernel.h). */
    mtb_blas_kernel_apply(argv);
    if (fe_engine_setup() != 0)
        return FE_USAGE;
    opterr = 0; /* commands say what went wrong themselves, once */
    /* Past a file-size limit (ulimit -f) a write should fail with EFBIG, which
     * the saves report with the file's name, not kill the process unannounced. */
    signal(SIGXFSZ, SIG_IGN);
    /* Large buffers (workspaces, gradients) straight from mmap, returned to
     * the system when freed.  glibc would raise this threshold after the
     * first such free and then keep every later evaluation's freed
     * workspace in the heap: memory grew with each evaluation. */
    mallopt(M_MMAP_THRESHOLD, 1 << 20);
    if (argc < 2)
        return run_demo();
    const char *name = argv[1];
    if (strcmp(name, "--help") == 0 || strcmp(name, "-h") == 0 || strcmp(name, "help") == 0) {
        usage(stdout);
        return FE_OK;
    }
    if (strcmp(name, "--version") == 0 || strcmp(name, "-V") == 0) {
        printf("mtbert %s\n", MTBERT_VERSION);
        cli_print_kernel_line(stdout);
        return FE_OK;
    }
    for (size_t i = 0; i < sizeof commands / sizeof *commands; i++)
        if (strcmp(name, commands[i].name) == 0)
            return commands[i].run(argc - 1, argv + 1);
    fprintf(stderr, "mtbert: unknown command '%s'\n", name);
    usage(stderr);
    return FE_USAGE;
}
