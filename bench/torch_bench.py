#!/usr/bin/python3
"""PyTorch counterpart of `mtbert bench`: times full multitask training steps
(the CS224N minBERT model: one BERT encoder, SST / paraphrase / STS heads) so
that a harness can print mtbert and PyTorch side by side.

One step, in sum mode, is: forward of the SST batch, the paraphrase batch and
both sentences of the STS batch; loss = sst + para + sts; one backward; an
AdamW step; zero_grad(set_to_none=True).  Dropout is on (hidden 0.1,
attention 0.1, head 0.3).

Workloads:
  --synthetic (default)  the shapes of `mtbert bench --batch B --seq T`: an SST
                         batch of B x T random ids, a paraphrase batch of
                         B x 2T (token type 1 from position T on) and two STS
                         batches of B x T, no padding.
  --batches FILE         replays batches written by mtbert, one line per
                         sequence:  STEP TASK ROLE LABEL TYPE1_FROM ID ID ...
                         ('#' starts a comment line).  The lines of one
                         (step, task, role) form one batch, in file order,
                         padded with id 0 to its longest sequence.

The encoder is tests/reference/bert_ref.py.  Run with /usr/bin/python3.
The last line of stdout is "tokens/s=%.0f ms/step=%.1f", as mtbert's.
"""

import argparse
import ctypes
import ctypes.util
import os
import re
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "reference"))

import torch  # noqa: E402
import torch.nn as nn  # noqa: E402
import torch.nn.functional as F  # noqa: E402

import bert_ref  # noqa: E402

PROG = "torch_bench.py"

# name -> (layers, hidden), as mtbert's mtb_config_named
SIZES = {
    "tiny": (2, 128),
    "mini": (4, 256),
    "small": (4, 512),
    "medium": (8, 512),
    "base": (12, 768),
}
VOCAB = 30522
MAX_POS = 512
CLS_ID, SEP_ID = 101, 102
TASKS = ("sst", "para", "sts")


class InputError(Exception):
    """A problem with the command line or the batches file: exit status 2."""


def fail(msg):
    print("%s: %s" % (PROG, msg), file=sys.stderr)
    sys.exit(2)


# ------------------------------------------------------------------ model


def make_config(name):
    layers, H = SIZES[name]
    return bert_ref.BertConfig(
        vocab_size=VOCAB, hidden_size=H, num_hidden_layers=layers,
        num_attention_heads=H // 64, intermediate_size=4 * H,
        max_position_embeddings=MAX_POS, type_vocab_size=2,
        hidden_dropout_prob=0.1, attention_probs_dropout_prob=0.1,
        layer_norm_eps=1e-12, initializer_range=0.02)


class Multitask(nn.Module):
    def __init__(self, config, pooling, head_dropout=0.3):
        super().__init__()
        H = config.hidden_size
        self.bert = bert_ref.BertModel(config)
        self.dropout = nn.Dropout(head_dropout)
        self.sst = nn.Linear(H, 5)
        self.para = nn.Linear(H, 1)
        self.pooling = pooling
        self.apply(self._init)

    @staticmethod
    def _init(m):  # BERT's initialisation: N(0, 0.02), zero biases
        if isinstance(m, nn.Linear):
            nn.init.normal_(m.weight, 0.0, 0.02)
            nn.init.zeros_(m.bias)
        elif isinstance(m, nn.Embedding):
            nn.init.normal_(m.weight, 0.0, 0.02)
            if m.padding_idx is not None:
                with torch.no_grad():
                    m.weight[m.padding_idx].zero_()
        elif isinstance(m, nn.LayerNorm):
            nn.init.ones_(m.weight)
            nn.init.zeros_(m.bias)

    def encode(self, b):
        hidden, pooled = self.bert(b["ids"], b["types"], b["mask"])
        return bert_ref.pool(hidden, pooled, b["mask"], self.pooling)

    def loss(self, step):
        """Sum of the task losses of one step (a dict task -> batch)."""
        total = None
        if "sst" in step:
            b = step["sst"]
            logits = self.sst(self.dropout(self.encode(b["a"])))
            total = _add(total, F.cross_entropy(logits, b["labels"]))
        if "para" in step:
            b = step["para"]
            logit = self.para(self.dropout(self.encode(b["a"]))).squeeze(-1)
            total = _add(total, F.binary_cross_entropy_with_logits(logit, b["labels"]))
        if "sts" in step:
            b = step["sts"]
            ea = self.encode(b["a"])
            eb = self.encode(b["b"])
            pred = F.relu(F.cosine_similarity(ea, eb, dim=-1)) * 5.0
            total = _add(total, F.mse_loss(pred, b["labels"]))
        return total


def _add(total, x):
    return x if total is None else total + x


# ---------------------------------------------------------------- batches


def seq_batch(ids, types, mask):
    return {"ids": ids, "types": types, "mask": mask}


def synthetic_steps(B, T, gen):
    """One step of mtbert bench's synthetic shapes; returns ([step], tokens)."""
    def rand_ids(L):
        ids = torch.randint(1000, VOCAB, (B, L), generator=gen, dtype=torch.long)
        ids[:, 0] = CLS_ID
        ids[:, -1] = SEP_ID
        return ids

    def plain(L):
        ids = rand_ids(L)
        return seq_batch(ids, torch.zeros_like(ids), torch.ones_like(ids))

    step = {}
    step["sst"] = {"a": plain(T),
                   "labels": torch.randint(0, 5, (B,), generator=gen, dtype=torch.long)}
    pids = rand_ids(2 * T)
    ptypes = torch.zeros_like(pids)
    ptypes[:, T:] = 1
    step["para"] = {"a": seq_batch(pids, ptypes, torch.ones_like(pids)),
                    "labels": (torch.arange(B) & 1).to(torch.float32)}
    step["sts"] = {"a": plain(T), "b": plain(T),
                   "labels": 5.0 * torch.rand((B,), generator=gen)}
    tokens = B * T + B * 2 * T + 2 * B * T
    return [step], [tokens]


def _parse_int(tok, what, where):
    try:
        return int(tok)
    except ValueError:
        raise InputError("%s: %s %r is not an integer" % (where, what, tok))


def read_batches(path):
    """Parse an mtbert batches file into (steps, tokens per step).

    Each step is a dict task -> {"a": batch, ["b": batch,] "labels": tensor}.
    """
    try:
        f = open(path, encoding="utf-8")
    except OSError as e:
        raise InputError("%s: cannot open: %s" % (path, e.strerror or e))
    # step -> task -> role -> list of (line number, label, type1_from, ids)
    raw = {}
    with f:
        for lineno, line in enumerate(f, 1):
            where = "%s:%d" % (path, lineno)
            s = line.strip()
            if not s or s.startswith("#"):
                continue
            tok = s.split()
            if len(tok) < 6:
                raise InputError("%s: expected STEP TASK ROLE LABEL TYPE1_FROM ID..., "
                                 "got %d fields" % (where, len(tok)))
            step = _parse_int(tok[0], "STEP", where)
            if step < 0:
                raise InputError("%s: STEP %d is negative" % (where, step))
            task, role = tok[1], tok[2]
            if task not in TASKS:
                raise InputError("%s: TASK %r is not sst, para or sts" % (where, task))
            if role not in ("a", "b") or (role == "b" and task != "sts"):
                raise InputError("%s: ROLE %r is not valid for %s (a%s)"
                                 % (where, role, task, " or b" if task == "sts" else ""))
            try:
                label = float(tok[3])
            except ValueError:
                raise InputError("%s: LABEL %r is not a number" % (where, tok[3]))
            if task == "sst" and (label != int(label) or not 0 <= label <= 4):
                raise InputError("%s: sst LABEL %s is not a class 0..4" % (where, tok[3]))
            if task == "para" and label not in (0.0, 1.0):
                raise InputError("%s: para LABEL %s is not 0 or 1" % (where, tok[3]))
            if task == "sts" and not 0.0 <= label <= 5.0:
                raise InputError("%s: sts LABEL %s is not in 0..5" % (where, tok[3]))
            type1 = _parse_int(tok[4], "TYPE1_FROM", where)
            ids = [_parse_int(t, "token id", where) for t in tok[5:]]
            L = len(ids)
            if L > MAX_POS:
                raise InputError("%s: %d tokens, more than the model's %d positions"
                                 % (where, L, MAX_POS))
            if not 0 <= type1 <= L:
                raise InputError("%s: TYPE1_FROM %d is not in 0..%d (the sequence length)"
                                 % (where, type1, L))
            bad = [i for i in ids if not 0 <= i < VOCAB]
            if bad:
                raise InputError("%s: token id %d is outside the vocabulary 0..%d"
                                 % (where, bad[0], VOCAB - 1))
            raw.setdefault(step, {}).setdefault(task, {}).setdefault(role, []) \
                .append((lineno, label, type1, ids))
    if not raw:
        raise InputError("%s: no batch lines" % path)

    steps, tokens = [], []
    for step in sorted(raw):
        out, n_tok = {}, 0
        for task in TASKS:
            roles = raw[step].get(task)
            if roles is None:
                continue
            if task == "sts":
                a, b = roles.get("a", []), roles.get("b", [])
                if len(a) != len(b):
                    first = (a or b)[0][0]
                    raise InputError("%s:%d: step %d has %d sts 'a' lines but %d 'b' lines"
                                     % (path, first, step, len(a), len(b)))
                for (la, ya, _, _), (lb, yb, _, _) in zip(a, b):
                    if ya != yb:  # the 'a' lines' labels are the ones used
                        print("%s: warning: %s:%d: sts 'b' LABEL %g differs from line %d's %g"
                              % (PROG, path, lb, yb, la, ya), file=sys.stderr)
                        break
            entry = {}
            for role, rows in roles.items():
                entry[role] = pad_batch(rows)
                n_tok += sum(len(r[3]) for r in rows)
            labels = [r[1] for r in roles["a"]]
            if task == "sst":
                entry["labels"] = torch.tensor([int(y) for y in labels], dtype=torch.long)
            else:
                entry["labels"] = torch.tensor(labels, dtype=torch.float32)
            out[task] = entry
        steps.append(out)
        tokens.append(n_tok)
    return steps, tokens


def pad_batch(rows):
    """Pad with id 0 to the longest sequence; mask 1 on real tokens, token
    type 1 on real tokens from TYPE1_FROM on."""
    B = len(rows)
    T = max(len(r[3]) for r in rows)
    ids = torch.zeros((B, T), dtype=torch.long)
    types = torch.zeros((B, T), dtype=torch.long)
    mask = torch.zeros((B, T), dtype=torch.long)
    for i, (_, _, type1, seq) in enumerate(rows):
        L = len(seq)
        ids[i, :L] = torch.tensor(seq, dtype=torch.long)
        types[i, type1:L] = 1
        mask[i, :L] = 1
    return seq_batch(ids, types, mask)


# ------------------------------------------------------------- reporting


def blas_description():
    """Which BLAS torch was built against and, when OpenBLAS is loaded in
    this process, its version and thread count (cheap: ctypes lookups)."""
    parts = []
    try:
        show = torch.__config__.show()
    except Exception:
        show = ""
    m = re.search(r"BLAS_INFO=([^,\s]+)", show)
    if m:
        parts.append("BLAS_INFO=" + m.group(1))
    else:
        for line in show.splitlines():
            if "blas" in line.lower():
                parts.append(line.strip().lstrip("- ")[:80])
                break
    try:
        ob = ctypes.CDLL("libopenblas.so.0", mode=ctypes.RTLD_GLOBAL)
        ob.openblas_get_config.restype = ctypes.c_char_p
        ob.openblas_get_num_threads.restype = ctypes.c_int
        parts.append("loaded %s, %d threads"
                     % (ob.openblas_get_config().decode(errors="replace").strip(),
                        ob.openblas_get_num_threads()))
    except (OSError, AttributeError):
        pass
    return "; ".join(parts) if parts else "BLAS unknown"


# ------------------------------------------------------------------ main


def parse_args(argv):
    p = argparse.ArgumentParser(
        prog=PROG,
        description="PyTorch counterpart of `mtbert bench`: times full multitask "
                    "training steps (forward of all tasks, backward, AdamW, "
                    "zero_grad).  The last line is \"tokens/s=... ms/step=...\".")
    w = p.add_mutually_exclusive_group()
    w.add_argument("--synthetic", action="store_true",
                   help="random tokens in mtbert bench's shapes (the default)")
    w.add_argument("--batches", metavar="FILE",
                   help="replay the batches mtbert wrote to FILE")
    p.add_argument("--config", default="mini", choices=list(SIZES),
                   help="model size (default mini)")
    p.add_argument("--batch", type=int, default=8, metavar="B",
                   help="synthetic: sequences per task batch, 1..4096 (default 8)")
    p.add_argument("--seq", type=int, default=64, metavar="T",
                   help="synthetic: tokens per sequence, 4..256 (default 64)")
    p.add_argument("--steps", type=int, default=3, metavar="N",
                   help="timed steps (default 3)")
    p.add_argument("--warmup", type=int, default=1, metavar="N",
                   help="untimed steps first (default 1)")
    p.add_argument("--threads", type=int, default=1, metavar="N",
                   help="torch.set_num_threads (default 1); OPENBLAS_NUM_THREADS "
                        "is left to the environment")
    p.add_argument("--mode", default="sum", metavar="MODE",
                   help="how the task losses combine; only sum is implemented")
    p.add_argument("--pooling", default="cls", choices=("cls", "mean", "pooler"),
                   help="sentence encoding (default cls)")
    p.add_argument("--seed", type=int, default=1, help="torch.manual_seed (default 1)")
    p.add_argument("--autocast", choices=("off", "bf16"), default="off",
                   help="bf16: forward under torch.autocast('cpu', dtype=torch.bfloat16), "
                        "PyTorch's mixed precision (oneDNN's bf16 kernels; worth it only "
                        "on a CPU with bf16 units); default off (fp32)")
    a = p.parse_args(argv)
    if a.mode != "sum":
        p.error("--mode %s is not implemented here: only sum (mtbert's pcgrad and "
                "single:TASK have no PyTorch counterpart in this script)" % a.mode)
    if not 1 <= a.batch <= 4096:
        p.error("--batch must be an integer in 1..4096")
    if not 4 <= a.seq <= 256:
        p.error("--seq must be an integer in 4..256 (pairs use 2T of the model's 512 positions)")
    if a.steps < 1:
        p.error("--steps must be a positive integer")
    if a.warmup < 0:
        p.error("--warmup must be a non-negative integer")
    if a.threads < 1:
        p.error("--threads must be a positive integer")
    return a


def main(argv):
    a = parse_args(argv)
    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    gen = torch.Generator().manual_seed(a.seed + 1)

    try:
        if a.batches:
            steps, tokens = read_batches(a.batches)
            workload = "batches %s (%d steps in the file)" % (a.batches, len(steps))
        else:
            steps, tokens = synthetic_steps(a.batch, a.seq, gen)
            workload = "batch %d x %d tokens" % (a.batch, a.seq)
    except InputError as e:
        fail(str(e))

    config = make_config(a.config)
    model = Multitask(config, a.pooling)
    model.train()
    n_params = sum(p.numel() for p in model.bert.parameters())
    opt = torch.optim.AdamW(model.parameters(), lr=1e-5, betas=(0.9, 0.999),
                            eps=1e-8, weight_decay=0.0)

    print("torch %s, torch threads %d, OPENBLAS_NUM_THREADS=%s, OPENBLAS_CORETYPE=%s, "
          "precision %s, %s"
          % (torch.__version__, torch.get_num_threads(),
             os.environ.get("OPENBLAS_NUM_THREADS", "unset"),
             os.environ.get("OPENBLAS_CORETYPE", "unset"),
             "bf16 autocast" if a.autocast == "bf16" else "fp32", blas_description()))
    print("config %s: %d layers, hidden %d, %d parameters; mode %s; pooling %s; %s"
          % (a.config, config.num_hidden_layers, config.hidden_size, n_params,
             a.mode, a.pooling, workload))
    sys.stdout.flush()

    def run_step(i):
        if a.autocast == "bf16":
            with torch.autocast("cpu", dtype=torch.bfloat16):
                loss = model.loss(steps[i % len(steps)])
        else:
            loss = model.loss(steps[i % len(steps)])
        loss.backward()
        opt.step()
        opt.zero_grad(set_to_none=True)
        return loss

    for i in range(a.warmup):
        loss = run_step(i)
        fprogress("warmup %d/%d  loss %.4f" % (i + 1, a.warmup, loss.item()))
    elapsed, n_tok = 0.0, 0
    for k in range(a.steps):
        i = a.warmup + k
        t0 = time.perf_counter()
        loss = run_step(i)
        dt = time.perf_counter() - t0
        elapsed += dt
        n_tok += tokens[i % len(steps)]
        fprogress("step %d/%d  %.1f ms  loss %.4f" % (k + 1, a.steps, dt * 1e3, loss.item()))
        if not torch.isfinite(loss):
            fail("step %d: loss is %s" % (i, loss.item()))
    sys.stderr.write("\n")

    ms = elapsed * 1e3 / a.steps
    tps = n_tok / elapsed
    print("ms/step    %.1f" % ms)
    print("tokens/s   %.0f (%.0f tokens per step)" % (tps, n_tok / a.steps))
    print("tokens/s=%.0f ms/step=%.1f" % (tps, ms))
    return 0


def fprogress(msg):
    sys.stderr.write("\r" + msg.ljust(40))
    sys.stderr.flush()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
