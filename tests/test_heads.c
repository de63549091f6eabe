/* Unit tests for the task heads (heads.h) and the metrics (metrics.h).
 *
 * Reference values: torch 1.13 in float64 on the float32 inputs below
 * (each input converted with torch.tensor(x, dtype=float32).double()), run
 * once by hand; the snippet is summarised next to each table.  The heads
 * compute in float, so a value is accepted within 1e-6 absolute plus 1e-6
 * relative of torch's: the logits, predictions and gradients here are sums of
 * at most a dozen float products of magnitude <= 2, whose rounding stays
 * below 4e-7, while a wrong formula is off by 1e-2 or more.
 *
 * Gradient checks compare each analytic gradient element with a central
 * difference of the head's loss,
 *
 *     numeric = (L(x+) - L(x-)) / (x+ - x-),
 *
 * where x+ and x- are the float values actually stored after perturbing and
 * L is recomputed in double from the float outputs the forward left in
 * ws->out (logits, logit or prediction), so the float rounding of the
 * returned loss is not in the way.  What remains is the rounding of those
 * outputs (about 6e-8 relative each; divided by the 2e-3 step that is ~3e-5
 * for derivatives of order 1) and the O(h^2 f''') truncation term (~1e-7
 * for these smooth functions at h = 1e-3).  The tolerance
 *
 *     |analytic - numeric| <= FD_ATOL * max|numeric| + FD_RTOL * |numeric|
 *
 * with FD_ATOL = 2e-3 and FD_RTOL = 2e-3 scales with the gradient, so it
 * also serves the tiny-norm similarity case whose gradients are ~1e8 (there
 * the step is scaled down with the inputs); it leaves a margin of several
 * times the worst error observed (each check prints its worst err/tol),
 * while a missing term, a wrong scale or a transposed index is an O(1)
 * error. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "test_util.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mtbert/error.h"
#include "mtbert/heads.h"
#include "mtbert/metrics.h"
#include "mtbert/rng.h"

#define FD_STEP 1e-3
#define FD_ATOL 2e-3
#define FD_RTOL 2e-3

#define B3 3
#define H4 4
#define C5 MTB_SST_CLASSES

/* ---------------------------------------------------------------- inputs */

static const float U[B3 * H4] = {0.5f, -1.0f, 0.25f, 2.0f,   -0.75f, 0.5f,
                                 1.5f, -0.25f, 1.25f, 0.125f, -0.5f, 0.75f};
static const float SST_W[C5 * H4] = {0.1f,  -0.2f, 0.3f,  0.05f, -0.4f,  0.25f, 0.15f,
                                     -0.1f, 0.2f,  0.35f, -0.3f, 0.45f,  -0.05f, -0.15f,
                                     0.4f,  0.2f,  0.3f,  0.1f,  -0.25f, -0.35f};
static const float SST_B[C5] = {0.01f, -0.02f, 0.03f, 0.0f, -0.04f};
static const int SST_LABELS[B3] = {2, 0, 4};

static const float PARA_W[H4] = {0.3f, -0.6f, 0.45f, 0.2f};
static const float PARA_B = -0.1f;
static const float PARA_LABELS[B3] = {1.0f, 0.0f, 1.0f};

/* Row 0: positive cosine; row 1: negative (relu clamps it); row 2: u = 0. */
static const float SIM_U[B3 * H4] = {0.5f, -1.0f, 0.25f, 2.0f,  1.0f, 0.5f,
                                     -0.25f, 0.75f, 0.0f, 0.0f, 0.0f, 0.0f};
static const float SIM_V[B3 * H4] = {0.75f, -0.5f, 1.0f, 1.5f, -0.5f, -1.25f,
                                     0.5f,  0.25f, 0.5f, -0.25f, 1.0f, 0.125f};
static const float SIM_LABELS[B3] = {3.5f, 1.0f, 2.0f};

/* Tiny norms: row 0 has |u| ~ 5.5e-9 < 1e-8, so torch clamps |u|^2 at 1e-16;
 * row 1 has |u|, |v| ~ 2.5e-5, which torch does not clamp (a clamp of the
 * product |u|^2 |v|^2 would have: its cosine would come out 0.045). */
static const float TINY_U[2 * H4] = {3e-9f, -2e-9f, 4e-9f, 1e-9f, 1e-5f, 2e-5f, -1e-5f, 0.5e-5f};
static const float TINY_V[2 * H4] = {0.75f, -0.5f, 1.0f, 1.5f, 2e-5f, 1e-5f, 0.0f, 1e-5f};
static const float TINY_LABELS[2] = {1.0f, 4.0f};

/* ------------------------------------------------------- torch references */

/* logits = U @ W.T + b;  loss = F.cross_entropy(logits, labels);
 * probs = F.softmax(logits, -1);  loss.backward() for du, dW, db. */
static const double SST_LOGITS[B3 * C5] = {
    0.43500000797212124,  -0.63250000402331352, 0.60499997995793819,  0.62500001303851604,
    -0.75249998271465302, 0.27250001486390829,  0.65500001423060894,  -0.50750002078711987,
    0.51250000577419996,  -0.5025000087916851,  -0.0025000041350722313, -0.63875001110136509,
    0.81124999932944775,  -0.13125000242143869, 0.21000002045184374};
static const double SST_LOSS = 1.4426767372799791;
static const double SST_PROBS[B3 * C5] = {
    0.24731635166781737, 0.085043958456490765, 0.29314526323049234, 0.29906720026355998,
    0.075427226381639734, 0.21476262027490484, 0.31483016219621535, 0.098448472627888139,
    0.27301679606362822,  0.098941948837363292, 0.16944595204693225, 0.089683248560943118,
    0.38232996269566183,  0.14897581997145135,  0.2095650167250114};
static const double SST_DU[B3 * H4] = {
    -0.047660696412341566, -0.10430626472806674, 0.13325933582459062,   -0.093603096388207602,
    -0.056244788418184477, 0.079717885887181678, -0.044470002396955866, -0.0021564654093542968,
    -0.062347335445987771, 0.0069857441671523175, 0.068928785593864686, 0.15933328508911318};
static const double SST_DW[C5 * H4] = {
    0.30813121689546513,  -0.20625143250816613,  -0.4002499858980515,   0.27267550410070257,
    -0.027165527239245743, 0.027860509570578271, 0.14955486954265806,   0.052880937594878337,
    0.016882910171302418, 0.26795673947346982,   -0.073401985532791869, -0.3838580398914137,
    0.043663592682790998, -0.047978941578438128, 0.13660136139186888,   0.21387068882993376,
    -0.34151219251031278, -0.041586874957443884, 0.18749574049631637,   -0.15556909063410093};
static const double SST_DB[C5] = {-0.12282502533678186, 0.16318578973788309,
                                  -0.075358767148652611, 0.24035327209954649,
                                  -0.20535526935199519};

/* logit = (U @ w.T + b).squeeze(-1);
 * loss = F.binary_cross_entropy_with_logits(logit, labels); backward. */
static const double PARA_LOGIT[B3] = {1.1625000312924385, -4.0978193283081055e-08,
                                      0.12500001862645149};
static const double PARA_LOSS = 0.53261162927434136;
static const double PARA_DU[B3 * H4] = {
    -0.023821332274087788, 0.047642664548175576, -0.035731996044695027, -0.015880887788319083,
    0.05000000096236662,   -0.10000000192473324, 0.0749999964764963,    0.033333333147068808,
    -0.046879064061583924, 0.093758128123167847, -0.07031859143535947,  -0.03125270859821988};
static const double PARA_DW[H4] = {-0.36003164214629046, 0.14320482680146179,
                                   0.30828065576942715, -0.31767319682665185};
static const double PARA_DB = -0.069001315169151048;

/* cos = F.cosine_similarity(u, v, dim=-1, eps=1e-8); pred = 5 * F.relu(cos);
 * loss = F.mse_loss(pred, labels); backward. */
static const double SIM_COS[B3] = {0.88792808807513235, -0.53229064742237697, 0.0};
static const double SIM_PRED[B3] = {4.439640440375662, 0.0, 0.0};
static const double SIM_LOSS = 1.9609747190631228;
static const double SIM_DU[B3 * H4] = {0.24390487506405933, 0.18639884760993147,
                                       0.54333281111831111, -0.035693396350837903,
                                       0, 0, 0, 0, 0, 0, 0, 0};
static const double SIM_DV[B3 * H4] = {-0.17633147940841326, -0.33191807888642466,
                                       -0.51602888826873849, 0.32154563892122368,
                                       0, 0, 0, 0, 0, 0, 0, 0};

/* The same on TINY_U, TINY_V.  torch's du row 0 (1.4157e8, -9.4377e7,
 * 1.8875e8, 4.1018e8) is NOT the derivative of its own forward: it clamps
 * |u|^2 under no_grad, so autograd keeps the -cos u / |u|^2_clamped term of
 * the unclamped formula.  mtbert uses the exact derivative there, v / n,
 * and the test checks that row against finite differences instead. */
static const double TINY_COS[2] = {0.43412156291561965, 0.73484692283495345};
static const double TINY_PRED[2] = {2.1706078145780983, 3.6742346141747673};
static const double TINY_LOSS = 0.73822287107658702;
static const double TINY_DU_ROW1[H4] = {-34046.250295076345, 11703.398538932495,
                                        -19151.015790980444, -17023.125147538172};
static const double TINY_DV[2 * H4] = {0.40208132911304556, -0.26805419791536711,
                                       0.53610839583073422, -0.64779766108213488,
                                       13299.3165215142,    -33248.291303785489,
                                       26598.633043028392,  6649.6582607570999};

/* ---------------------------------------------------------------- helpers */

static void assert_close_vec(const char *what, const float *got, const double *want, size_t n,
                             double atol, double rtol)
{
    for (size_t i = 0; i < n; i++) {
        double err = fabs((double)got[i] - want[i]);
        if (!(err <= atol + rtol * fabs(want[i]))) {
            print_error("%s[%zu]: got %.9g, want %.9g\n", what, i, got[i], want[i]);
            fail();
        }
    }
}

/* How each gradient check here judges, at step h (FD_STEP but for the
 * tiny norms; see the top of the file). */
static tu_fd_check head_fd(double h)
{
    return (tu_fd_check){h, FD_ATOL, FD_RTOL, true, 1e-3};
}

static void setup_heads(mtb_heads *h)
{
    assert_int_equal(mtb_heads_init(h, H4), 0);
    memcpy(h->sst_w, SST_W, sizeof SST_W);
    memcpy(h->sst_b, SST_B, sizeof SST_B);
    memcpy(h->para_w, PARA_W, sizeof PARA_W);
    h->para_b[0] = PARA_B;
}

/* Loss recomputed in double from the float outputs of the last forward. */
static double sst_loss_double(const mtb_head_ws *ws, const int *labels)
{
    double loss = 0.0;
    for (int i = 0; i < ws->B; i++) {
        const float *z = ws->out + (size_t)i * C5;
        double mx = z[0], s = 0.0;
        for (int k = 1; k < C5; k++)
            mx = z[k] > mx ? z[k] : mx;
        for (int k = 0; k < C5; k++)
            s += exp(z[k] - mx);
        loss += mx + log(s) - z[labels[i]];
    }
    return loss / ws->B;
}

static double para_loss_double(const mtb_head_ws *ws, const float *labels)
{
    double loss = 0.0;
    for (int i = 0; i < ws->B; i++) {
        const double x = ws->out[i], y = labels[i];
        loss += fmax(x, 0.0) - x * y + log1p(exp(-fabs(x)));
    }
    return loss / ws->B;
}

static double sim_loss_double(const mtb_head_ws *ws, const float *labels)
{
    double loss = 0.0;
    for (int i = 0; i < ws->B; i++) {
        const double d = (double)ws->out[i] - labels[i];
        loss += d * d;
    }
    return loss / ws->B;
}

/* ------------------------------------------------------------- parameters */

static void test_heads_layout_and_init(void **state)
{
    (void)state;
    mtb_heads h;
    assert_int_equal(mtb_heads_init(&h, 0), MTB_EFAIL);
    assert_int_equal(mtb_heads_init(&h, 6), 0);
    const size_t H = 6;
    assert_int_equal(h.H, 6);
    assert_int_equal(h.n_params, 5 * H + 5 + H + 1);
    assert_ptr_equal(h.sst_w, h.params);
    assert_ptr_equal(h.sst_b, h.params + 5 * H);
    assert_ptr_equal(h.para_w, h.params + 5 * H + 5);
    assert_ptr_equal(h.para_b, h.params + 6 * H + 5);
    assert_ptr_equal(h.g_sst_w, h.grads);
    assert_ptr_equal(h.g_sst_b, h.grads + 5 * H);
    assert_ptr_equal(h.g_para_w, h.grads + 5 * H + 5);
    assert_ptr_equal(h.g_para_b, h.grads + 6 * H + 5);
    for (size_t i = 0; i < h.n_params; i++)
        assert_true(h.params[i] == 0.0f && h.grads[i] == 0.0f);

    /* uniform(-1/sqrt(H), 1/sqrt(H)) in the order sst_w, sst_b, para_w, para_b:
     * the flat buffer replays the generator's draws in sequence. */
    mtb_rng r, replay;
    mtb_rng_seed(&r, 99);
    mtb_rng_seed(&replay, 99);
    mtb_heads_init_random(&h, &r);
    const float bound = 1.0f / sqrtf(6.0f);
    int positive = 0;
    for (size_t i = 0; i < h.n_params; i++) {
        float want = bound * (2.0f * mtb_rng_uniform(&replay) - 1.0f);
        assert_true(h.params[i] == want);
        assert_true(fabsf(h.params[i]) <= bound);
        positive += h.params[i] > 0.0f;
    }
    assert_true(positive > 0 && positive < (int)h.n_params);
    assert_memory_equal(r.s, replay.s, sizeof r.s);

    for (size_t i = 0; i < h.n_params; i++)
        h.grads[i] = 1.0f;
    mtb_heads_zero_grad(&h);
    for (size_t i = 0; i < h.n_params; i++)
        assert_true(h.grads[i] == 0.0f);
    mtb_heads_free(&h);
    assert_null(h.params);
    mtb_heads_free(&h); /* freeing twice is harmless */

    mtb_head_ws ws;
    assert_int_equal(mtb_head_ws_init(&ws, 0, 4), MTB_EFAIL);
    assert_int_equal(mtb_head_ws_init(&ws, 2, 4), 0);
    mtb_head_ws_free(&ws);
    mtb_head_ws_free(&ws);
}

/* -------------------------------------------------------------- sentiment */

static void test_sentiment_forward_backward_values(void **state)
{
    (void)state;
    mtb_heads h;
    setup_heads(&h);
    mtb_head_ws ws;
    assert_int_equal(mtb_head_ws_init(&ws, 8, H4), 0);
    /* With p == 0 backward must not read the dropout scale: poison it. */
    for (int i = 0; i < 8 * H4; i++)
        ws.scale[i] = NAN;

    float loss = mtb_sentiment_forward(&ws, &h, U, SST_LABELS, B3, 0.0f, NULL);
    assert_int_equal(ws.B, B3);
    assert_close_vec("logits", ws.out, SST_LOGITS, B3 * C5, 1e-6, 1e-6);
    tu_assert_close("loss", loss, SST_LOSS, 1e-6, 1e-6);
    assert_true(loss == (float)sst_loss_double(&ws, SST_LABELS));

    float probs[B3 * C5];
    mtb_sentiment_probs(&ws, probs);
    assert_close_vec("probs", probs, SST_PROBS, B3 * C5, 1e-6, 1e-6);
    for (int i = 0; i < B3; i++) {
        double s = 0.0;
        for (int k = 0; k < C5; k++) {
            assert_true(probs[i * C5 + k] > 0.0f);
            s += probs[i * C5 + k];
        }
        tu_assert_close("row sum", s, 1.0, 1e-6, 0.0);
    }

    float du[B3 * H4] = {0};
    mtb_sentiment_backward(&h, du, &ws, SST_LABELS);
    assert_close_vec("du", du, SST_DU, B3 * H4, 1e-6, 1e-6);
    assert_close_vec("dW", h.g_sst_w, SST_DW, C5 * H4, 1e-6, 1e-6);
    assert_close_vec("db", h.g_sst_b, SST_DB, C5, 1e-6, 1e-6);
    for (int j = 0; j < H4 + 1; j++)
        assert_true(h.g_para_w[j] == 0.0f); /* para_w and para_b untouched */

    /* Without labels: same logits, loss 0, and backward does nothing. */
    float logits[B3 * C5];
    memcpy(logits, ws.out, sizeof logits);
    mtb_heads_zero_grad(&h);
    assert_true(mtb_sentiment_forward(&ws, &h, U, NULL, B3, 0.0f, NULL) == 0.0f);
    assert_memory_equal(ws.out, logits, sizeof logits);
    float du0[B3 * H4] = {0};
    mtb_sentiment_backward(&h, du0, &ws, NULL);
    for (size_t i = 0; i < h.n_params; i++)
        assert_true(h.grads[i] == 0.0f);
    for (int i = 0; i < B3 * H4; i++)
        assert_true(du0[i] == 0.0f);

    mtb_head_ws_free(&ws);
    mtb_heads_free(&h);
}

/* Context of a gradient check: the head is rerun from scratch, with the
 * generator reseeded so a dropout mask replays exactly. */
typedef struct fd_ctx {
    mtb_head_ws *ws;
    mtb_heads *h;
    float *u, *v;
    const int *int_labels;
    const float *labels;
    int B, H;
    float p;
    uint64_t seed;
} fd_ctx;

static double sst_fd_loss(void *vc)
{
    fd_ctx *c = vc;
    mtb_rng r;
    mtb_rng_seed(&r, c->seed);
    mtb_sentiment_forward(c->ws, c->h, c->u, c->int_labels, c->B, c->p, &r);
    return sst_loss_double(c->ws, c->int_labels);
}

static double para_fd_loss(void *vc)
{
    fd_ctx *c = vc;
    mtb_rng r;
    mtb_rng_seed(&r, c->seed);
    mtb_paraphrase_forward(c->ws, c->h, c->u, c->labels, c->B, c->p, &r);
    return para_loss_double(c->ws, c->labels);
}

static double sim_fd_loss(void *vc)
{
    fd_ctx *c = vc;
    mtb_similarity_forward(c->ws, c->u, c->v, c->labels, c->B, c->H);
    return sim_loss_double(c->ws, c->labels);
}

/* A mask drawn with p = 0.3 over n elements should both drop and keep. */
static void assert_mask_mixed(const mtb_head_ws *ws, size_t n, float p)
{
    int dropped = 0, kept = 0;
    for (size_t i = 0; i < n; i++) {
        if (ws->scale[i] == 0.0f)
            dropped++;
        else if (ws->scale[i] == 1.0f / (1.0f - p))
            kept++;
        else
            fail_msg("scale[%zu] = %g", i, ws->scale[i]);
    }
    assert_true(dropped > 0 && kept > 0);
}

/* What the sentiment and the paraphrase gradient checks vary. */
typedef struct head_grad_case {
    const char *head, *w_name; /* names in the messages: "sst", "dW" */
    int B, H;
    uint64_t init_seed, dropout_seed;
    const int *int_labels;  /* [B], the sentiment's */
    const float *labels;    /* [B], the paraphrase's */
} head_grad_case;

static const int SST_GRAD_LABELS[5] = {0, 3, 4, 1, 2};
static const float PARA_GRAD_LABELS[6] = {1, 0, 0, 1, 1, 0};
static const head_grad_case SST_GRAD = {"sst", "dW", 5, 7, 7, 1234, SST_GRAD_LABELS, NULL};
static const head_grad_case PARA_GRAD = {"para", "dw", 6, 5, 11, 4321, NULL, PARA_GRAD_LABELS};

static void head_backward(const head_grad_case *k, mtb_heads *h, float *du, const mtb_head_ws *ws)
{
    if (k->int_labels)
        mtb_sentiment_backward(h, du, ws, k->int_labels);
    else
        mtb_paraphrase_backward(h, du, ws, k->labels);
}

/* Random head (logits of order 1) and inputs; the gradients of the inputs,
 * weight and bias against finite differences, with dropout p; then a second
 * backward adds the same again. */
static void head_grad_check(const head_grad_case *k, float p)
{
    const int B = k->B, H = k->H;
    const bool sst = k->int_labels != NULL;
    mtb_heads h;
    assert_int_equal(mtb_heads_init(&h, H), 0);
    mtb_rng r;
    mtb_rng_seed(&r, k->init_seed);
    mtb_heads_init_random(&h, &r);
    for (size_t i = 0; i < h.n_params; i++)
        h.params[i] *= 3.0f; /* logits of order 1, so the softmax is not flat */
    float *u = tu_alloc_floats(B * H), *du = tu_alloc_floats(B * H); /* [B, H] */
    tu_fill_uniform(u, B * H, -1.5f, 1.5f, &r);
    mtb_head_ws ws;
    assert_int_equal(mtb_head_ws_init(&ws, B, H), 0);
    fd_ctx c = {&ws, &h, u, NULL, k->int_labels, k->labels, B, H, p, k->dropout_seed};
    tu_loss_fn loss = sst ? sst_fd_loss : para_fd_loss;

    loss(&c);
    if (p > 0.0f) {
        assert_mask_mixed(&ws, B * H, p);
        for (int i = 0; sst && i < B * H; i++)
            assert_true(ws.dropped[i] == u[i] * ws.scale[i]);
    }
    head_backward(k, &h, du, &ws);
    float *w = sst ? h.sst_w : h.para_w, *gw = sst ? h.g_sst_w : h.g_para_w;
    float *b = sst ? h.sst_b : h.para_b, *gb = sst ? h.g_sst_b : h.g_para_b;
    const size_t n_out = sst ? C5 : 1;
    char name[40];
    snprintf(name, sizeof name, "%s du p=%.1f", k->head, p);
    tu_check_grad(name, u, du, B * H, head_fd(FD_STEP), loss, &c);
    snprintf(name, sizeof name, "%s %s p=%.1f", k->head, k->w_name, p);
    tu_check_grad(name, w, gw, n_out * H, head_fd(FD_STEP), loss, &c);
    snprintf(name, sizeof name, "%s db p=%.1f", k->head, p);
    tu_check_grad(name, b, gb, n_out, head_fd(FD_STEP), loss, &c);

    /* Accumulation: a second backward adds the same again. */
    float *du2 = tu_alloc_floats(B * H), *g1 = tu_alloc_floats(h.n_params);
    loss(&c);
    mtb_heads_zero_grad(&h);
    head_backward(k, &h, du2, &ws);
    memcpy(du, du2, B * H * sizeof *du);
    memcpy(g1, h.grads, h.n_params * sizeof *g1);
    head_backward(k, &h, du2, &ws);
    tu_assert_doubled(du, du2, B * H, 1e-6);
    tu_assert_doubled(g1, h.grads, h.n_params, 1e-6);

    free(du2);
    free(g1);
    free(u);
    free(du);
    mtb_head_ws_free(&ws);
    mtb_heads_free(&h);
}

static void test_sentiment_grad(void **state)
{
    (void)state;
    head_grad_check(&SST_GRAD, 0.0f);
}

static void test_sentiment_grad_dropout(void **state)
{
    (void)state;
    head_grad_check(&SST_GRAD, 0.3f);
}

/* ------------------------------------------------------------- paraphrase */

static void test_paraphrase_forward_backward_values(void **state)
{
    (void)state;
    mtb_heads h;
    setup_heads(&h);
    mtb_head_ws ws;
    assert_int_equal(mtb_head_ws_init(&ws, 4, H4), 0);
    for (int i = 0; i < 4 * H4; i++)
        ws.scale[i] = NAN;

    float loss = mtb_paraphrase_forward(&ws, &h, U, PARA_LABELS, B3, 0.0f, NULL);
    assert_close_vec("logit", ws.out, PARA_LOGIT, B3, 1e-6, 1e-6);
    tu_assert_close("loss", loss, PARA_LOSS, 1e-6, 1e-6);
    assert_true(loss == (float)para_loss_double(&ws, PARA_LABELS));

    float du[B3 * H4] = {0};
    mtb_paraphrase_backward(&h, du, &ws, PARA_LABELS);
    assert_close_vec("du", du, PARA_DU, B3 * H4, 1e-6, 1e-6);
    assert_close_vec("dw", h.g_para_w, PARA_DW, H4, 1e-6, 1e-6);
    tu_assert_close("db", h.g_para_b[0], PARA_DB, 1e-6, 1e-6);
    for (int j = 0; j < 5 * H4 + 5; j++)
        assert_true(h.grads[j] == 0.0f); /* the sentiment head is untouched */

    assert_true(mtb_paraphrase_forward(&ws, &h, U, NULL, B3, 0.0f, NULL) == 0.0f);
    assert_close_vec("logit (no labels)", ws.out, PARA_LOGIT, B3, 1e-6, 1e-6);

    /* Large logits of either sign: the stable forms stay finite and exact. */
    mtb_heads_zero_grad(&h);
    const float big[2 * H4] = {100.0f, 0, 0, 0, -100.0f, 0, 0, 0};
    const float big_labels[2] = {0.0f, 1.0f};
    loss = mtb_paraphrase_forward(&ws, &h, big, big_labels, 2, 0.0f, NULL);
    /* logits 29.9 and -30.1: loss = mean(x for the first, -x for the second)
     * up to e^-30 ~ 1e-13. */
    tu_assert_close("big loss", loss, (ws.out[0] - ws.out[1]) / 2.0, 1e-6, 1e-6);
    mtb_paraphrase_backward(&h, NULL, &ws, big_labels);
    tu_assert_close("big db", h.g_para_b[0], 0.0, 1e-6, 0.0); /* (1 - 0 + 0 - 1) / 2 */
    tu_assert_close("big dw0", h.g_para_w[0], (100.0 + 100.0) / 2, 1e-4, 1e-6);

    mtb_head_ws_free(&ws);
    mtb_heads_free(&h);
}

static void test_paraphrase_grad(void **state)
{
    (void)state;
    head_grad_check(&PARA_GRAD, 0.0f);
}

static void test_paraphrase_grad_dropout(void **state)
{
    (void)state;
    head_grad_check(&PARA_GRAD, 0.3f);
}

/* Dropout replays with the same seed and changes with another; p == 0
 * draws nothing from the generator. */
static void test_head_dropout_replay(void **state)
{
    (void)state;
    mtb_heads h;
    setup_heads(&h);
    mtb_head_ws a, b;
    assert_int_equal(mtb_head_ws_init(&a, B3, H4), 0);
    assert_int_equal(mtb_head_ws_init(&b, B3, H4), 0);
    mtb_rng r1, r2;
    mtb_rng_seed(&r1, 5);
    mtb_rng_seed(&r2, 5);
    float l1 = mtb_sentiment_forward(&a, &h, U, SST_LABELS, B3, 0.3f, &r1);
    float l2 = mtb_sentiment_forward(&b, &h, U, SST_LABELS, B3, 0.3f, &r2);
    assert_true(l1 == l2);
    assert_true(a.p == 0.3f);
    assert_memory_equal(a.scale, b.scale, B3 * H4 * sizeof *a.scale);
    assert_memory_equal(a.out, b.out, B3 * C5 * sizeof *a.out);

    mtb_rng before = r1;
    mtb_sentiment_forward(&a, &h, U, SST_LABELS, B3, 0.0f, &r1);
    assert_memory_equal(r1.s, before.s, sizeof r1.s);
    assert_true(a.p == 0.0f);
    assert_memory_equal(a.dropped, U, sizeof U);

    mtb_head_ws_free(&a);
    mtb_head_ws_free(&b);
    mtb_heads_free(&h);
}

/* ------------------------------------------------------------- similarity */

static void test_similarity_forward_backward_values(void **state)
{
    (void)state;
    mtb_head_ws ws;
    assert_int_equal(mtb_head_ws_init(&ws, 4, H4), 0);
    float loss = mtb_similarity_forward(&ws, SIM_U, SIM_V, SIM_LABELS, B3, H4);
    assert_close_vec("cos", ws.aux, SIM_COS, B3, 1e-6, 1e-6);
    assert_close_vec("pred", ws.out, SIM_PRED, B3, 1e-6, 1e-6);
    assert_true(ws.aux[1] < 0.0f && ws.out[1] == 0.0f); /* relu clamps */
    assert_true(ws.aux[2] == 0.0f && ws.out[2] == 0.0f); /* zero vector */
    tu_assert_close("loss", loss, SIM_LOSS, 1e-6, 1e-6);
    assert_true(loss == (float)sim_loss_double(&ws, SIM_LABELS));

    float du[B3 * H4] = {0}, dv[B3 * H4] = {0};
    mtb_similarity_backward(du, dv, &ws, SIM_U, SIM_V, SIM_LABELS, H4);
    assert_close_vec("du", du, SIM_DU, B3 * H4, 1e-6, 1e-6);
    assert_close_vec("dv", dv, SIM_DV, B3 * H4, 1e-6, 1e-6);
    /* Rows 1 and 2 get exactly nothing: relu is flat (and has gradient 0 at 0). */
    for (int i = H4; i < B3 * H4; i++)
        assert_true(du[i] == 0.0f && dv[i] == 0.0f);

    /* Either gradient may be skipped. */
    float du1[B3 * H4] = {0}, dv1[B3 * H4] = {0};
    mtb_similarity_backward(du1, NULL, &ws, SIM_U, SIM_V, SIM_LABELS, H4);
    mtb_similarity_backward(NULL, dv1, &ws, SIM_U, SIM_V, SIM_LABELS, H4);
    assert_memory_equal(du1, du, sizeof du);
    assert_memory_equal(dv1, dv, sizeof dv);

    /* Accumulation. */
    mtb_similarity_backward(du, dv, &ws, SIM_U, SIM_V, SIM_LABELS, H4);
    tu_assert_doubled(du1, du, B3 * H4, 1e-6);
    tu_assert_doubled(dv1, dv, B3 * H4, 1e-6);

    /* No labels: predictions only, loss 0, backward a no-op. */
    assert_true(mtb_similarity_forward(&ws, SIM_U, SIM_V, NULL, B3, H4) == 0.0f);
    assert_close_vec("pred (no labels)", ws.out, SIM_PRED, B3, 1e-6, 1e-6);
    float dz[B3 * H4] = {0};
    mtb_similarity_backward(dz, dz, &ws, SIM_U, SIM_V, NULL, H4);
    for (int i = 0; i < B3 * H4; i++)
        assert_true(dz[i] == 0.0f);

    mtb_head_ws_free(&ws);
}

static void test_similarity_tiny_norms(void **state)
{
    (void)state;
    mtb_head_ws ws;
    assert_int_equal(mtb_head_ws_init(&ws, 2, H4), 0);
    float loss = mtb_similarity_forward(&ws, TINY_U, TINY_V, TINY_LABELS, 2, H4);
    assert_close_vec("tiny cos", ws.aux, TINY_COS, 2, 1e-6, 1e-6);
    assert_close_vec("tiny pred", ws.out, TINY_PRED, 2, 1e-6, 1e-6);
    tu_assert_close("tiny loss", loss, TINY_LOSS, 1e-6, 1e-6);

    float du[2 * H4] = {0}, dv[2 * H4] = {0};
    mtb_similarity_backward(du, dv, &ws, TINY_U, TINY_V, TINY_LABELS, H4);
    /* Gradients of order 1e4 here: relative tolerance only, as above. */
    assert_close_vec("tiny du row 1", du + H4, TINY_DU_ROW1, H4, 0.0, 2e-6);
    assert_close_vec("tiny dv", dv, TINY_DV, 2 * H4, 1e-6, 2e-6);

    /* Row 0's du is the clamped branch: check it against finite differences,
     * with a step scaled to its 1e-9 entries (and row 1's at 1e-5). */
    float u[2 * H4], v[2 * H4];
    memcpy(u, TINY_U, sizeof u);
    memcpy(v, TINY_V, sizeof v);
    fd_ctx c = {&ws, NULL, u, v, NULL, TINY_LABELS, 2, H4, 0.0f, 0};
    tu_check_grad("sim tiny du row 0", u, du, H4, head_fd(1e-12), sim_fd_loss, &c);
    tu_check_grad("sim tiny du row 1", u + H4, du + H4, H4, head_fd(1e-8), sim_fd_loss, &c);
    tu_check_grad("sim tiny dv row 1", v + H4, dv + H4, H4, head_fd(1e-8), sim_fd_loss, &c);
    mtb_head_ws_free(&ws);
}

static void test_similarity_grad(void **state)
{
    (void)state;
    enum { B = 6, H = 5 };
    mtb_rng r;
    mtb_rng_seed(&r, 3);
    float *u = tu_alloc_floats(B * H), *v = tu_alloc_floats(B * H);
    float *du = tu_alloc_floats(B * H), *dv = tu_alloc_floats(B * H);
    /* v = u + noise keeps most cosines positive; row 5 is made negative. */
    tu_fill_uniform(u, B * H, -1.0f, 1.0f, &r);
    tu_fill_uniform(v, B * H, -0.6f, 0.6f, &r);
    for (int i = 0; i < B * H; i++)
        v[i] += i < (B - 1) * H ? u[i] : -u[i];
    const float labels[B] = {0.5f, 4.5f, 2.0f, 3.0f, 1.0f, 2.5f};
    mtb_head_ws ws;
    assert_int_equal(mtb_head_ws_init(&ws, B, H), 0);
    fd_ctx c = {&ws, NULL, u, v, NULL, labels, B, H, 0.0f, 0};
    sim_fd_loss(&c);
    int positive = 0;
    for (int i = 0; i < B; i++) {
        /* Away from the relu kink, so +-h cannot cross it. */
        assert_true(fabsf(ws.aux[i]) > 0.05f);
        positive += ws.aux[i] > 0.0f;
    }
    assert_true(positive >= 2 && positive < B);
    mtb_similarity_backward(du, dv, &ws, u, v, labels, H);
    tu_check_grad("sim du", u, du, B * H, head_fd(FD_STEP), sim_fd_loss, &c);
    tu_check_grad("sim dv", v, dv, B * H, head_fd(FD_STEP), sim_fd_loss, &c);
    free(u);
    free(v);
    free(du);
    free(dv);
    mtb_head_ws_free(&ws);
}

static void test_empty_batch(void **state)
{
    (void)state;
    mtb_heads h;
    setup_heads(&h);
    mtb_head_ws ws;
    assert_int_equal(mtb_head_ws_init(&ws, 2, H4), 0);
    assert_true(mtb_sentiment_forward(&ws, &h, U, SST_LABELS, 0, 0.0f, NULL) == 0.0f);
    mtb_sentiment_backward(&h, NULL, &ws, SST_LABELS);
    assert_true(mtb_paraphrase_forward(&ws, &h, U, PARA_LABELS, 0, 0.0f, NULL) == 0.0f);
    mtb_paraphrase_backward(&h, NULL, &ws, PARA_LABELS);
    assert_true(mtb_similarity_forward(&ws, SIM_U, SIM_V, SIM_LABELS, 0, H4) == 0.0f);
    mtb_similarity_backward(NULL, NULL, &ws, SIM_U, SIM_V, SIM_LABELS, H4);
    for (size_t i = 0; i < h.n_params; i++)
        assert_true(h.grads[i] == 0.0f);
    mtb_head_ws_free(&ws);
    mtb_heads_free(&h);
}

/* ---------------------------------------------------------------- metrics */

static void test_accuracy(void **state)
{
    (void)state;
    const int pred[8] = {0, 1, 2, 3, 4, 1, 1, 0};
    const int gold[8] = {0, 1, 3, 3, 0, 1, 2, 0};
    assert_true(mtb_accuracy(pred, gold, 8) == 5.0 / 8.0);
    assert_true(mtb_accuracy(pred, gold, 2) == 1.0);
    assert_true(mtb_accuracy(pred + 2, gold + 2, 1) == 0.0);
    assert_true(mtb_accuracy(pred, gold, 0) == 0.0);
}

static void test_pearson(void **state)
{
    (void)state;
    /* numpy.corrcoef (and torch.corrcoef) in float64 on these float32 values. */
    const float x[6] = {1.0f, 2.5f, 3.0f, 4.5f, 2.0f, 0.5f};
    const float y[6] = {0.8f, 2.0f, 3.5f, 4.0f, 2.5f, 1.5f};
    tu_assert_close("pearson", mtb_pearson(x, y, 6), 0.90437247602409154, 1e-14, 0.0);
    tu_assert_close("symmetric", mtb_pearson(y, x, 6), 0.90437247602409154, 1e-14, 0.0);

    /* Perfect and anti correlation (an affine map with rounding-prone steps). */
    float a[50], b[50], c[50], k[50];
    for (int i = 0; i < 50; i++) {
        a[i] = 0.1f * (float)i + 3.0f;
        b[i] = 2.0f * a[i] - 1.0f;
        c[i] = -0.5f * a[i] + 7.0f;
        k[i] = 2.75f;
    }
    tu_assert_close("perfect", mtb_pearson(a, b, 50), 1.0, 1e-6, 0.0);
    tu_assert_close("anti", mtb_pearson(a, c, 50), -1.0, 1e-6, 0.0);
    assert_true(mtb_pearson(a, a, 50) <= 1.0 && mtb_pearson(a, a, 50) > 1.0 - 1e-12);
    assert_true(mtb_pearson(a, b, 50) <= 1.0 && mtb_pearson(a, c, 50) >= -1.0);
    assert_true(mtb_pearson(x, x, 6) == 1.0);

    /* A large offset (exact in float: x holds multiples of 0.5) changes
     * nothing; the two-pass form keeps full precision. */
    float xo[6];
    for (int i = 0; i < 6; i++)
        xo[i] = x[i] + 65536.0f;
    tu_assert_close("offset", mtb_pearson(xo, y, 6), 0.90437247602409154, 1e-12, 0.0);

    assert_true(isnan(mtb_pearson(a, k, 50)));
    assert_true(isnan(mtb_pearson(k, a, 50)));
    assert_true(isnan(mtb_pearson(x, y, 1)));
    assert_true(isnan(mtb_pearson(x, y, 0)));
}

/* ------------------------------------------------------------------- main */

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_heads_layout_and_init),
        cmocka_unit_test(test_sentiment_forward_backward_values),
        cmocka_unit_test(test_sentiment_grad),
        cmocka_unit_test(test_sentiment_grad_dropout),
        cmocka_unit_test(test_paraphrase_forward_backward_values),
        cmocka_unit_test(test_paraphrase_grad),
        cmocka_unit_test(test_paraphrase_grad_dropout),
        cmocka_unit_test(test_head_dropout_replay),
        cmocka_unit_test(test_similarity_forward_backward_values),
        cmocka_unit_test(test_similarity_tiny_norms),
        cmocka_unit_test(test_similarity_grad),
        cmocka_unit_test(test_empty_batch),
        cmocka_unit_test(test_accuracy),
        cmocka_unit_test(test_pearson),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
