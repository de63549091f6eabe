/* The three task heads: forward, loss and backward.
 *
 * Batches are small (B up to a few hundred, H = 768), so the head matmuls
 * are plain loops: (B, H) x (H, 5) is a few hundred thousand flops, well
 * below the point where a BLAS call pays for itself.  Dot products run in
 * float like torch's; the per-example losses and their mean are computed in
 * double from the float logits and rounded once at the end.
 *
 * Preconditions the callers guarantee (the data loader validates labels):
 * B <= the max_B the workspace was sized for, sentiment labels in [0, 5),
 * paraphrase labels 0 or 1 (any real in [0, 1] works), similarity labels
 * finite. */
#include "mtbert/heads.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "mtbert/data.h"
#include "mtbert/error.h"
#include "ops.h"

/* torch.nn.functional.cosine_similarity's eps (1e-8), squared: each squared
 * norm is clamped from below at this value. */
#define COS_EPS2 1e-16

/* ------------------------------------------------------------- parameters */

int mtb_heads_init(mtb_heads *h, int H)
{
    memset(h, 0, sizeof *h);
    if (H <= 0)
        return MTB_EFAIL;
    const size_t n = 5 * (size_t)H + 5 + (size_t)H + 1;
    float *params = calloc(n, sizeof *params);
    float *grads = calloc(n, sizeof *grads);
    if (!params || !grads) {
        free(params);
        free(grads);
        return MTB_EFAIL;
    }
    h->H = H;
    h->n_params = n;
    h->params = params;
    h->grads = grads;
    const size_t off_sst_b = 5 * (size_t)H, off_para_w = off_sst_b + 5,
                 off_para_b = off_para_w + (size_t)H;
    h->sst_w = params;
    h->sst_b = params + off_sst_b;
    h->para_w = params + off_para_w;
    h->para_b = params + off_para_b;
    h->g_sst_w = grads;
    h->g_sst_b = grads + off_sst_b;
    h->g_para_w = grads + off_para_w;
    h->g_para_b = grads + off_para_b;
    return 0;
}

void mtb_heads_init_random(mtb_heads *h, mtb_rng *rng)
{
    /* The flat buffer is laid out sst_w, sst_b, para_w, para_b, which is the
     * order the draws are taken in. */
    const float bound = 1.0f / sqrtf((float)h->H);
    for (size_t i = 0; i < h->n_params; i++)
        h->params[i] = bound * (2.0f * mtb_rng_uniform(rng) - 1.0f);
}

void mtb_heads_free(mtb_heads *h)
{
    free(h->params);
    free(h->grads);
    memset(h, 0, sizeof *h);
}

void mtb_heads_zero_grad(mtb_heads *h)
{
    if (h->grads)
        memset(h->grads, 0, h->n_params * sizeof *h->grads);
}

void mtb_heads_scale_grads(mtb_heads *h, const int *task_ids, const double *weight, int n_tasks)
{
    for (int k = 0; k < n_tasks; k++) {
        const float w = (float)weight[k];
        float *g = NULL;
        size_t len = 0;
        if (task_ids[k] == MTB_TASK_SST) {
            g = h->g_sst_w;
            len = (size_t)(h->g_sst_b - h->g_sst_w) + 5;
        } else if (task_ids[k] == MTB_TASK_PARA) {
            g = h->g_para_w;
            len = (size_t)(h->g_para_b - h->g_para_w) + 1;
        }
        for (size_t i = 0; i < len; i++)
            g[i] *= w;
    }
}

/* -------------------------------------------------------------- workspace */

int mtb_head_ws_init(mtb_head_ws *ws, int max_B, int H)
{
    memset(ws, 0, sizeof *ws);
    if (max_B <= 0 || H <= 0)
        return MTB_EFAIL;
    const size_t BH = (size_t)max_B * (size_t)H;
    ws->dropped = malloc(BH * sizeof *ws->dropped);
    ws->scale = malloc(BH * sizeof *ws->scale);
    ws->out = malloc((size_t)max_B * MTB_SST_CLASSES * sizeof *ws->out);
    ws->aux = malloc((size_t)max_B * sizeof *ws->aux);
    if (!ws->dropped || !ws->scale || !ws->out || !ws->aux) {
        mtb_head_ws_free(ws);
        return MTB_EFAIL;
    }
    return 0;
}

void mtb_head_ws_free(mtb_head_ws *ws)
{
    free(ws->dropped);
    free(ws->scale);
    free(ws->out);
    free(ws->aux);
    memset(ws, 0, sizeof *ws);
}

/* ---------------------------------------------------------------- helpers */

/* dropped = dropout(u); with p == 0 a plain copy and scale is left alone. */
static void head_dropout(mtb_head_ws *ws, const float *u, size_t n, float p, mtb_rng *rng)
{
    ws->p = p > 0.0f ? p : 0.0f;
    if (ws->p > 0.0f)
        mtb_dropout_forward(ws->dropped, ws->scale, u, n, p, rng);
    else
        memcpy(ws->dropped, u, n * sizeof *u);
}

static float dotf(const float *a, const float *b, int n)
{
    float s = 0.0f;
    for (int j = 0; j < n; j++)
        s += a[j] * b[j];
    return s;
}

/* du_row += g * w_row, times the dropout scale when dropout was applied. */
static void add_input_grad(float *du_row, float g, const float *w_row, const float *scale_row,
                           int H)
{
    if (scale_row)
        for (int j = 0; j < H; j++)
            du_row[j] += g * w_row[j] * scale_row[j];
    else
        for (int j = 0; j < H; j++)
            du_row[j] += g * w_row[j];
}

/* Log-sum-exp of one row of logits, shifted by the maximum. */
static double logsumexp(const float *x, int n)
{
    double mx = x[0];
    for (int k = 1; k < n; k++)
        if (x[k] > mx)
            mx = x[k];
    double s = 0.0;
    for (int k = 0; k < n; k++)
        s += exp((double)x[k] - mx);
    return mx + log(s);
}

static double sigmoid(double x)
{
    /* exp of a non-positive number only, so neither branch overflows. */
    if (x >= 0.0)
        return 1.0 / (1.0 + exp(-x));
    double e = exp(x);
    return e / (1.0 + e);
}

/* -------------------------------------------------------------- sentiment */

float mtb_sentiment_forward(mtb_head_ws *ws, const mtb_heads *h, const float *u, const int *labels,
                            int B, float p, mtb_rng *rng)
{
    const int H = h->H, C = MTB_SST_CLASSES;
    ws->B = B > 0 ? B : 0;
    if (B <= 0) {
        ws->p = p > 0.0f ? p : 0.0f;
        return 0.0f;
    }
    head_dropout(ws, u, (size_t)B * H, p, rng);

    for (int i = 0; i < B; i++) {
        const float *x = ws->dropped + (size_t)i * H;
        float *logits = ws->out + (size_t)i * C;
        for (int k = 0; k < C; k++)
            logits[k] = h->sst_b[k] + dotf(x, h->sst_w + (size_t)k * H, H);
    }
    if (!labels)
        return 0.0f;

    double loss = 0.0;
    for (int i = 0; i < B; i++) {
        const float *logits = ws->out + (size_t)i * C;
        loss += logsumexp(logits, C) - (double)logits[labels[i]];
    }
    return (float)(loss / B);
}

void mtb_sentiment_backward(mtb_heads *h, float *du, const mtb_head_ws *ws, const int *labels)
{
    const int H = h->H, C = MTB_SST_CLASSES, B = ws->B;
    if (B <= 0 || !labels)
        return;
    for (int i = 0; i < B; i++) {
        const float *logits = ws->out + (size_t)i * C;
        const float *x = ws->dropped + (size_t)i * H;
        const double lse = logsumexp(logits, C);
        float dlogits[MTB_SST_CLASSES];
        for (int k = 0; k < C; k++) {
            double prob = exp((double)logits[k] - lse);
            dlogits[k] = (float)((prob - (k == labels[i] ? 1.0 : 0.0)) / B);
        }
        for (int k = 0; k < C; k++) {
            float *gw = h->g_sst_w + (size_t)k * H;
            const float g = dlogits[k];
            for (int j = 0; j < H; j++)
                gw[j] += g * x[j];
            h->g_sst_b[k] += g;
        }
        if (du) {
            float *du_row = du + (size_t)i * H;
            const float *scale_row = ws->p > 0.0f ? ws->scale + (size_t)i * H : NULL;
            for (int k = 0; k < C; k++)
                add_input_grad(du_row, dlogits[k], h->sst_w + (size_t)k * H, scale_row, H);
        }
    }
}

void mtb_sentiment_probs(const mtb_head_ws *ws, float *probs)
{
    const int C = MTB_SST_CLASSES;
    for (int i = 0; i < ws->B; i++) {
        const float *logits = ws->out + (size_t)i * C;
        const double lse = logsumexp(logits, C);
        for (int k = 0; k < C; k++)
            probs[(size_t)i * C + k] = (float)exp((double)logits[k] - lse);
    }
}

/* ------------------------------------------------------------- paraphrase */

float mtb_paraphrase_forward(mtb_head_ws *ws, const mtb_heads *h, const float *u,
                             const float *labels, int B, float p, mtb_rng *rng)
{
    const int H = h->H;
    ws->B = B > 0 ? B : 0;
    if (B <= 0) {
        ws->p = p > 0.0f ? p : 0.0f;
        return 0.0f;
    }
    head_dropout(ws, u, (size_t)B * H, p, rng);

    for (int i = 0; i < B; i++)
        ws->out[i] = h->para_b[0] + dotf(ws->dropped + (size_t)i * H, h->para_w, H);
    if (!labels)
        return 0.0f;

    /* BCE with logits, stable for either sign of x:
     * -[y log s(x) + (1-y) log(1-s(x))] = max(x,0) - x y + log(1 + e^-|x|). */
    double loss = 0.0;
    for (int i = 0; i < B; i++) {
        const double x = ws->out[i], y = labels[i];
        loss += (x > 0.0 ? x : 0.0) - x * y + log1p(exp(-fabs(x)));
    }
    return (float)(loss / B);
}

void mtb_paraphrase_backward(mtb_heads *h, float *du, const mtb_head_ws *ws, const float *labels)
{
    const int H = h->H, B = ws->B;
    if (B <= 0 || !labels)
        return;
    for (int i = 0; i < B; i++) {
        const float *x = ws->dropped + (size_t)i * H;
        const float g = (float)((sigmoid(ws->out[i]) - (double)labels[i]) / B);
        for (int j = 0; j < H; j++)
            h->g_para_w[j] += g * x[j];
        h->g_para_b[0] += g;
        if (du) {
            const float *scale_row = ws->p > 0.0f ? ws->scale + (size_t)i * H : NULL;
            add_input_grad(du + (size_t)i * H, g, h->para_w, scale_row, H);
        }
    }
}

/* ------------------------------------------------------------- similarity */

/* The three sums of one row pair, in double, so squared norms near the
 * 1e-16 clamp neither underflow nor lose their low bits. */
static void row_sums(const float *u, const float *v, int H, double *uv, double *uu, double *vv)
{
    double a = 0.0, b = 0.0, c = 0.0;
    for (int j = 0; j < H; j++) {
        a += (double)u[j] * v[j];
        b += (double)u[j] * u[j];
        c += (double)v[j] * v[j];
    }
    *uv = a;
    *uu = b;
    *vv = c;
}

static double clamp_eps2(double x)
{
    return x > COS_EPS2 ? x : COS_EPS2;
}

/* torch 1.13's cosine_similarity clamps each squared norm separately:
 * cos = u.v / sqrt(max(|u|^2, eps^2) max(|v|^2, eps^2)). */
float mtb_similarity_forward(mtb_head_ws *ws, const float *u, const float *v, const float *labels,
                             int B, int H)
{
    ws->B = B > 0 ? B : 0;
    ws->p = 0.0f;
    if (B <= 0)
        return 0.0f;
    double loss = 0.0;
    for (int i = 0; i < B; i++) {
        double uv, uu, vv;
        row_sums(u + (size_t)i * H, v + (size_t)i * H, H, &uv, &uu, &vv);
        const float cosv = (float)(uv / sqrt(clamp_eps2(uu) * clamp_eps2(vv)));
        const float pred = 5.0f * (cosv > 0.0f ? cosv : 0.0f);
        ws->aux[i] = cosv;
        ws->out[i] = pred;
        if (labels) {
            const double d = (double)pred - labels[i];
            loss += d * d;
        }
    }
    return labels ? (float)(loss / B) : 0.0f;
}

/* With n = sqrt(max(uu, eps^2) max(vv, eps^2)) and cos = uv / n:
 *  - |u|^2 >= eps^2:  d cos / du = v / n - uv vv u / n^3 = v / n - cos u / uu;
 *  - |u|^2 <  eps^2:  u's factor of n is the constant eps, d cos / du = v / n;
 * and the same for v.  (At |u|^2 == eps^2 exactly, torch's clamp_min passes
 * the gradient, so that point takes the first form.)  This is the exact
 * derivative of the forward above.  torch's autograd differs in the clamped
 * case only: it clamps under no_grad, so it keeps the -cos u / eps^2 term
 * there; no encoder output comes near a norm of 1e-8.
 * relu's gradient is taken as 0 at cos == 0, as torch does, so a zero
 * vector (cos exactly 0) receives no gradient. */
void mtb_similarity_backward(float *du, float *dv, const mtb_head_ws *ws, const float *u,
                             const float *v, const float *labels, int H)
{
    const int B = ws->B;
    if (B <= 0 || !labels || (!du && !dv))
        return;
    for (int i = 0; i < B; i++) {
        const float cosv = ws->aux[i];
        if (!(cosv > 0.0f))
            continue; /* relu is flat here: no gradient reaches u or v */
        const double dpred = 2.0 * ((double)ws->out[i] - labels[i]) / B;
        const double dcos = 5.0 * dpred;

        const float *ui = u + (size_t)i * H, *vi = v + (size_t)i * H;
        double uv, uu, vv;
        row_sums(ui, vi, H, &uv, &uu, &vv);
        const double inv_n = 1.0 / sqrt(clamp_eps2(uu) * clamp_eps2(vv));
        /* du = k_cross v - k_self_u u and dv = k_cross u - k_self_v v. */
        const float k_cross = (float)(dcos * inv_n);
        const float k_self_u = uu >= COS_EPS2 ? (float)(dcos * cosv / uu) : 0.0f;
        const float k_self_v = vv >= COS_EPS2 ? (float)(dcos * cosv / vv) : 0.0f;
        if (du) {
            float *d = du + (size_t)i * H;
            for (int j = 0; j < H; j++)
                d[j] += k_cross * vi[j] - k_self_u * ui[j];
        }
        if (dv) {
            float *d = dv + (size_t)i * H;
            for (int j = 0; j < H; j++)
                d[j] += k_cross * ui[j] - k_self_v * vi[j];
        }
    }
}
