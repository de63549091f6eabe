#!/usr/bin/python3
"""Generate tests/fixtures/train-parity.safetensors: a reference for
multitask TRAINING (20 AdamW steps, plain sum and PCGrad) on the tiny BERT.

Run by hand from the project root (after make_fixtures.py):

    /usr/bin/python3 tests/reference/make_train_fixtures.py

Deterministic (fixed seeds); running it twice gives a byte-identical file.
Needs torch + numpy only.  See the "Training parity" section of README.md.

Model: tests/fixtures/tiny-bert loaded by bert_ref, converted to float64, all
dropout off.  Heads (CS224N minBERT multitask model):

    sentiment   logits = enc Ws^T + bs              cross-entropy (mean)
    paraphrase  [CLS] a [SEP] b [SEP] (types 0 | 1), logit = enc wp^T + bp,
                BCE-with-logits (mean)
    similarity  a, b encoded separately, pred = 5 relu(cos(u, v)), MSE (mean)

Two runs of 20 steps from the same start, AdamW (lr 1e-3, betas 0.9/0.999,
eps 1e-8, weight decay 0.01) over every encoder parameter (pooler included)
and the 4 head tensors:

    sum     pooling cls : total = sum of the three losses, one backward
    pcgrad  pooling mean: one backward per task, PCGrad on the flat encoder
            gradient in the fixed order [sst, para, sts], heads get their
            own task's gradient only

Every parameter gets a gradient tensor before each optimizer step (zeros
where the loss does not depend on it, e.g. the pooler), so weight decay and
the Adam moments treat all parameters alike, as a C loop over one flat
parameter vector does.
"""

import math
import os
import random
import sys

import torch
import torch.nn as nn
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import bert_ref  # noqa: E402
import safetensors_io as st  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(HERE))
FIX = os.path.join(ROOT, "tests", "fixtures")
TINY = os.path.join(FIX, "tiny-bert")
OUT = os.path.join(FIX, "train-parity.safetensors")

SEED = 20240723
STEPS = 20
B = 4
NUM_LABELS = 5
LR, BETAS, EPS, WD = 1e-3, (0.9, 0.999), 1e-8, 0.01
TASKS = ("sst", "para", "sts")
PAIRS = ((0, 1), (0, 2), (1, 2))

PAD, UNK, CLS, SEP = 0, 100, 101, 102
WORD_LO, WORD_HI = 208, 275        # whole words (inclusive)
REAL_LO, REAL_HI = 104, 280        # every real (non-special) token


# ------------------------------------------------------------------- data

def make_data(rng):
    """20 steps of batches as plain Python lists (ints / floats rounded to
    float32 by the caller)."""

    def token():
        # mostly whole words, sometimes punctuation / digits / letters / pieces
        if rng.random() < 0.85:
            return rng.randint(WORD_LO, WORD_HI)
        return rng.randint(REAL_LO, REAL_HI)

    def words(lo, hi):
        return [token() for _ in range(rng.randint(lo, hi))]

    steps = []
    for _ in range(STEPS):
        sst = [[CLS] + words(1, 10) + [SEP] for _ in range(B)]     # length 3..12
        sst_label = [rng.randint(0, NUM_LABELS - 1) for _ in range(B)]

        para, para_types = [], []
        for _ in range(B):
            a, b = words(1, 6), words(1, 6)
            para.append([CLS] + a + [SEP] + b + [SEP])
            para_types.append([0] * (len(a) + 2) + [1] * (len(b) + 1))
        para_label = [float(rng.randint(0, 1)) for _ in range(B)]

        sts_a, sts_b = [], []
        for k in range(B):
            a = words(1, 8)
            if k % 2 == 0:
                # share words: a shuffled copy of a with some words replaced,
                # dropped or added
                b = list(a)
                rng.shuffle(b)
                b = [w if rng.random() < 0.7 else token() for w in b]
                if len(b) > 1 and rng.random() < 0.5:
                    del b[rng.randrange(len(b))]
                if rng.random() < 0.5:
                    b.insert(rng.randrange(len(b) + 1), token())
                while b == a:  # never identical: cos = 1 has a zero gradient
                    b[rng.randrange(len(b))] = token()
            else:
                b = words(1, 8)
            sts_a.append([CLS] + a + [SEP])
            sts_b.append([CLS] + b + [SEP])
        sts_label = [rng.randint(0, 500) / 100.0 for _ in range(B)]
        steps.append(dict(sst=sst, sst_label=sst_label, para=para, para_types=para_types,
                          para_label=para_label, sts_a=sts_a, sts_b=sts_b,
                          sts_label=sts_label))
    return steps


def pad(rows, value=0):
    T = max(len(r) for r in rows)
    out = torch.full((len(rows), T), value, dtype=torch.int64)
    for i, r in enumerate(rows):
        out[i, :len(r)] = torch.tensor(r, dtype=torch.int64)
    return out, torch.tensor([len(r) for r in rows], dtype=torch.int64)


def data_tensors(steps):
    """The fixture's per-step tensors, in file order."""
    items = []
    for s, d in enumerate(steps):
        p = "step%02d." % s
        ids, ln = pad(d["sst"])
        items += [(p + "sst.ids", ids, "I64"), (p + "sst.len", ln, "I64"),
                  (p + "sst.label", torch.tensor(d["sst_label"], dtype=torch.int64), "I64")]
        ids, ln = pad(d["para"])
        types, _ = pad(d["para_types"])
        items += [(p + "para.ids", ids, "I64"), (p + "para.types", types, "I64"),
                  (p + "para.len", ln, "I64"),
                  (p + "para.label", torch.tensor(d["para_label"], dtype=torch.float32), "F32")]
        a, la = pad(d["sts_a"])
        b, lb = pad(d["sts_b"])
        items += [(p + "sts.a.ids", a, "I64"), (p + "sts.a.len", la, "I64"),
                  (p + "sts.b.ids", b, "I64"), (p + "sts.b.len", lb, "I64"),
                  (p + "sts.label", torch.tensor(d["sts_label"], dtype=torch.float32), "F32")]
    return items


def batches_from(tensors, dtype):
    """Per-step batches read from a {name: tensor} mapping (the fixture's
    names), labels converted to `dtype`.  Masks come from the lengths."""

    def mask(ids, ln):
        return (torch.arange(ids.shape[1]).unsqueeze(0) < ln.unsqueeze(1)).to(torch.int64)

    out = []
    for s in range(STEPS):
        p = "step%02d." % s
        g = lambda n: tensors[p + n]  # noqa: E731
        out.append(dict(
            sst=(g("sst.ids"), mask(g("sst.ids"), g("sst.len"))),
            sst_label=g("sst.label").to(torch.int64),
            para=(g("para.ids"), g("para.types"), mask(g("para.ids"), g("para.len"))),
            para_label=g("para.label").to(dtype),
            sts_a=(g("sts.a.ids"), mask(g("sts.a.ids"), g("sts.a.len"))),
            sts_b=(g("sts.b.ids"), mask(g("sts.b.ids"), g("sts.b.len"))),
            sts_label=g("sts.label").to(dtype),
        ))
    return out


# ------------------------------------------------------------------ model

def init_heads(gen):
    """uniform(-1/sqrt(H), 1/sqrt(H)) for all four tensors, rounded to F32."""
    H = 32
    bound = 1.0 / math.sqrt(H)

    def u(*shape):
        r = torch.rand(shape, generator=gen, dtype=torch.float64)
        return ((2.0 * r - 1.0) * bound).to(torch.float32)

    return [("init.sst.weight", u(NUM_LABELS, H)), ("init.sst.bias", u(NUM_LABELS)),
            ("init.para.weight", u(1, H)), ("init.para.bias", u(1))]


def build(heads, dtype):
    """(encoder, head params dict) in `dtype`, dropout off, from tiny-bert and
    the F32 initial heads."""
    enc, _, _ = bert_ref.load_hf_folder(TINY, dtype=torch.float64)
    for m in enc.modules():
        if isinstance(m, nn.Dropout):
            m.p = 0.0
    enc = enc.to(dtype)
    enc.eval()
    hp = {n[len("init."):]: nn.Parameter(t.to(dtype).clone()) for n, t in heads}
    return enc, hp


def encode(enc, ids, types, mask, pooling):
    hidden, pooled = enc(ids, types, mask)
    return bert_ref.pool(hidden, pooled, mask, pooling)


def task_loss(task, enc, hp, d, pooling):
    if task == "sst":
        ids, m = d["sst"]
        e = encode(enc, ids, torch.zeros_like(ids), m, pooling)
        logits = e @ hp["sst.weight"].t() + hp["sst.bias"]
        return F.cross_entropy(logits, d["sst_label"])
    if task == "para":
        ids, types, m = d["para"]
        e = encode(enc, ids, types, m, pooling)
        logit = e @ hp["para.weight"].t() + hp["para.bias"]
        return F.binary_cross_entropy_with_logits(logit.squeeze(-1), d["para_label"])
    if task == "sts":
        (ia, ma), (ib, mb) = d["sts_a"], d["sts_b"]
        u = encode(enc, ia, torch.zeros_like(ia), ma, pooling)
        v = encode(enc, ib, torch.zeros_like(ib), mb, pooling)
        pred = 5.0 * F.relu(F.cosine_similarity(u, v, dim=-1))
        return F.mse_loss(pred, d["sts_label"])
    raise ValueError(task)


def fill_missing_grads(params):
    for p in params:
        if p.grad is None:
            p.grad = torch.zeros_like(p)


def run(mode, pooling, heads, batches, dtype):
    """Train 20 steps; returns a dict of recorded tensors (in `dtype`)."""
    enc, hp = build(heads, dtype)
    enc_params = list(enc.parameters())  # state-dict order
    all_params = enc_params + list(hp.values())
    opt = torch.optim.AdamW(all_params, lr=LR, betas=BETAS, eps=EPS, weight_decay=WD,
                            foreach=False)
    n = sum(p.numel() for p in enc_params)
    losses = torch.zeros(STEPS, 3, dtype=torch.float64)
    cos = torch.zeros(STEPS, 3, dtype=torch.float64)
    norm = torch.zeros(STEPS, 3, dtype=torch.float64)
    projected = torch.zeros(STEPS, 3, 3, dtype=torch.int64)
    margin = []       # |dot(g_i', g_j)| / (|g_i'| |g_j|) of every decision taken
    head_of = {"sst": ("sst.weight", "sst.bias"), "para": ("para.weight", "para.bias"),
               "sts": ()}

    for s, d in enumerate(batches):
        opt.zero_grad(set_to_none=True)
        if mode == "sum":
            ls = [task_loss(t, enc, hp, d, pooling) for t in TASKS]
            (ls[0] + ls[1] + ls[2]).backward()
            losses[s] = torch.tensor([l.item() for l in ls], dtype=torch.float64)
        else:
            g = []            # flat encoder gradient per task
            head_grads = {}
            for k, t in enumerate(TASKS):
                opt.zero_grad(set_to_none=True)
                l = task_loss(t, enc, hp, d, pooling)
                l.backward()
                losses[s, k] = l.item()
                g.append(torch.cat([(p.grad if p.grad is not None else torch.zeros_like(p))
                                    .reshape(-1) for p in enc_params]).detach().clone())
                for hn in head_of[t]:
                    head_grads[hn] = hp[hn].grad.detach().clone()
            assert g[0].numel() == n
            for k in range(3):
                norm[s, k] = g[k].norm().item()
            for k, (i, j) in enumerate(PAIRS):
                den = norm[s, i] * norm[s, j]
                cos[s, k] = (g[i] @ g[j]).item() / den if den > 0 else 0.0
            merged = torch.zeros_like(g[0])
            for i in range(3):
                gi = g[i].clone()
                for j in range(3):
                    if j == i:
                        continue
                    nj2 = g[j] @ g[j]
                    if nj2.item() == 0.0:
                        continue
                    dot = gi @ g[j]
                    margin.append(abs(dot.item()) / max(gi.norm().item() * nj2.sqrt().item(),
                                                        1e-300))
                    if dot.item() < 0.0:
                        gi = gi - (dot / nj2) * g[j]
                        projected[s, i, j] = 1
                merged += gi
            opt.zero_grad(set_to_none=True)
            off = 0
            for p in enc_params:
                p.grad = merged[off:off + p.numel()].view_as(p).clone()
                off += p.numel()
            for hn, gr in head_grads.items():
                hp[hn].grad = gr
        fill_missing_grads(all_params)
        opt.step()

    sd = dict(enc.named_parameters())
    out = {"loss": losses,
           "final.sst.weight": hp["sst.weight"].detach().clone(),
           "final.sst.bias": hp["sst.bias"].detach().clone(),
           "final.para.weight": hp["para.weight"].detach().clone(),
           "final.para.bias": hp["para.bias"].detach().clone(),
           "final.layer1_out_ln_weight":
               sd["encoder.layer.1.output.LayerNorm.weight"].detach().clone()}
    if mode == "pcgrad":
        out.update({"cos": cos, "norm": norm, "projected": projected})
        out["_margin"] = min(margin)
    return out


# ------------------------------------------------------------------- main

MODES = (("sum", "cls"), ("pcgrad", "mean"))
RESULT_ORDER = ("loss", "cos", "norm", "projected", "final.sst.weight", "final.sst.bias",
                "final.para.weight", "final.para.bias", "final.layer1_out_ln_weight")


def main():
    torch.use_deterministic_algorithms(True)
    torch.set_num_threads(1)
    rng = random.Random(SEED)
    gen = torch.Generator().manual_seed(SEED)

    steps = make_data(rng)
    data_items = data_tensors(steps)
    heads = init_heads(gen)

    stored = {n: t for n, t, _ in data_items}
    b64 = batches_from(stored, torch.float64)
    results = {m: run(m, pool, heads, b64, torch.float64) for m, pool in MODES}

    items = list(data_items)
    items += [(n, t, "F32") for n, t in heads]
    for m, _ in MODES:
        r = results[m]
        for k in RESULT_ORDER:
            if k in r:
                items.append(("%s.%s" % (m, k), r[k], "I64" if k == "projected" else "F32"))
    meta = {
        "format": "pt",
        "what": "mtbert multitask training parity (tests/reference/make_train_fixtures.py)",
        "model": "tests/fixtures/tiny-bert, float64, dropout off",
        "optimizer": "AdamW lr=1e-3 betas=(0.9,0.999) eps=1e-8 weight_decay=0.01",
        "steps": str(STEPS),
        "sum": "pooling=cls; total = sst + para + sts",
        "pcgrad": "pooling=mean; order sst,para,sts",
    }
    st.save_file(items, OUT, metadata=meta)

    # ---- read back and replay from the file alone: must match bit for bit
    assert not st.check_file(OUT), st.check_file(OUT)
    back = st.load_file(OUT)
    heads_back = [(n, back[n]) for n, _ in heads]
    b64b = batches_from(back, torch.float64)
    for m, pool in MODES:
        r = run(m, pool, heads_back, b64b, torch.float64)
        for k, v in r.items():
            if k.startswith("_"):
                continue
            assert torch.equal(v.to(back["%s.%s" % (m, k)].dtype), back["%s.%s" % (m, k)]), (m, k)
    for s in range(STEPS):  # structural checks on the stored data
        p = "step%02d." % s
        for grp in ("sst", "para", "sts.a", "sts.b"):
            ids, ln = back[p + grp + ".ids"], back[p + grp + ".len"]
            assert ids.shape[0] == B and ids.shape[1] == int(ln.max())
            for i in range(B):
                L = int(ln[i])
                assert ids[i, 0] == CLS and ids[i, L - 1] == SEP
                assert (ids[i, L:] == PAD).all()
                inner = ids[i, 1:L - 1]
                real = (inner >= REAL_LO) & (inner <= REAL_HI)
                assert int((~real).sum()) == (1 if grp == "para" else 0)
        assert all(3 <= int(x) <= 12 for x in back[p + "sst.len"])
        t = back[p + "para.types"]
        for i in range(B):
            L = int(back[p + "para.len"][i])
            ids = back[p + "para.ids"][i]
            sep1 = int((ids[:L] == SEP).nonzero()[0])
            assert (t[i, :sep1 + 1] == 0).all() and (t[i, sep1 + 1:L] == 1).all()
            assert (t[i, L:] == 0).all()

    # ---- float32 rerun: what tolerance is realistic for a float32 C loop
    b32 = batches_from(stored, torch.float32)
    res32 = {m: run(m, pool, heads, b32, torch.float32) for m, pool in MODES}

    # ---- report
    torch.set_printoptions(precision=6, linewidth=120)
    print("wrote %s (%d bytes, %d tensors)" % (os.path.relpath(OUT, ROOT), os.path.getsize(OUT),
                                               len(items)))
    for line in st.describe(OUT):
        if not line.startswith("step") or line.startswith("step00."):
            print("  " + line)
    print("  (step01.* .. step19.* like step00.*, T varies per step)")
    Ts = {g: [int(back["step%02d.%s.ids" % (s, g)].shape[1]) for s in range(STEPS)]
          for g in ("sst", "para", "sts.a", "sts.b")}
    for g, v in Ts.items():
        print("  T %-5s per step: %s" % (g, v))
    for m, pool in MODES:
        L = results[m]["loss"]
        print("\n%s (pooling %s) losses [sst, para, sts], float64:" % (m, pool))
        for s in list(range(3)) + list(range(STEPS - 3, STEPS)):
            print("  step %2d: %.9f %.9f %.9f" % (s, *L[s].tolist()))
        print("  total step 0 = %.6f, step %d = %.6f"
              % (L[0].sum().item(), STEPS - 1, L[-1].sum().item()))
    r = results["pcgrad"]
    pr = r["projected"]
    print("\npcgrad: %d projections over %d steps (%d steps with at least one)"
          % (int(pr.sum()), STEPS, int((pr.sum((1, 2)) > 0).sum())))
    print("  per pair [i][j] totals:", pr.sum(0).tolist())
    print("  cos (sst,para) (sst,sts) (para,sts) per step, * = negative:")
    for s in range(STEPS):
        c = r["cos"][s].tolist()
        print("  step %2d: %s   norms %s   projected %s" % (
            s, " ".join("%+.4f%s" % (x, "*" if x < 0 else " ") for x in c),
            " ".join("%.4f" % x for x in r["norm"][s].tolist()),
            "".join(str(int(v)) for v in pr[s].reshape(-1).tolist())))
    neg = int((r["cos"] < 0).sum())
    print("  negative cosines: %d of %d; min cos %.4f, max |cos| %.4f"
          % (neg, STEPS * 3, r["cos"].min().item(), r["cos"].abs().max().item()))
    print("  smallest |cos(g_i', g_j)| at a projection decision: %.3g" % r["_margin"])
    assert pr.sum() > 0, "no conflicts: adjust the data"
    assert r["_margin"] > 1e-3, "a projection decision is too close to 0 for float32"

    print("\nfloat32 rerun vs float64:")
    for m, _ in MODES:
        a, b = res32[m], results[m]
        dl = (a["loss"].double() - b["loss"]).abs()
        rel = dl / b["loss"].abs().clamp_min(1e-12)
        print("  %-6s loss: max abs %.3g, max rel %.3g (step 0: max rel %.3g)"
              % (m, dl.max().item(), rel.max().item(), rel[0].max().item()))
        for k in RESULT_ORDER:
            if k.startswith("final."):
                dk = (a[k].double() - b[k]).abs().max().item()
                print("  %-6s %-27s max abs diff %.3g (max |value| %.3g)"
                      % (m, k, dk, b[k].abs().max().item()))
        if m == "pcgrad":
            print("  pcgrad cos max abs diff %.3g, norm max rel diff %.3g, "
                  "projection decisions differing: %d"
                  % ((a["cos"].double() - b["cos"]).abs().max().item(),
                     ((a["norm"].double() - b["norm"]).abs() / b["norm"]).max().item(),
                     int((a["projected"] != b["projected"]).sum())))


if __name__ == "__main__":
    main()
