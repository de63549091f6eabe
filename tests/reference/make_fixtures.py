#!/usr/bin/python3
"""Generate the small BERT test fixtures under tests/fixtures/.

Run by hand from the project root:

    /usr/bin/python3 tests/reference/make_fixtures.py

Deterministic (fixed seeds).  Needs torch + numpy only.  See README.md.
"""

import json
import os
import sys

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import bert_ref  # noqa: E402
import safetensors_io as st  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(HERE))
FIX = os.path.join(ROOT, "tests", "fixtures")
TINY = os.path.join(FIX, "tiny-bert")

SEED = 20240601

# ------------------------------------------------------------------ vocab

PUNCT = list("!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~")
DIGITS = [str(d) for d in range(10)]
LETTERS = [chr(c) for c in range(ord("a"), ord("z") + 1)]
WORDS = """the movie film good bad great is was not a and it this what how do i you
of to in that for on with as be are have he she they we my your but or so very
really love like hate best worst story acting plot time one all no yes can why
where who when fun boring book read watch just more at there here question
answer""".split()
SUFFIXES = ["##ing", "##s", "##ed", "##ly", "##er", "##est"]


def build_vocab():
    v = ["[PAD]"] + ["[unused%d]" % i for i in range(99)] + ["[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    assert v.index("[UNK]") == 100 and v.index("[CLS]") == 101
    assert v.index("[SEP]") == 102 and v.index("[MASK]") == 103
    v += PUNCT + DIGITS + LETTERS
    v += ["##" + c for c in LETTERS + DIGITS]
    v += WORDS + SUFFIXES
    out, seen = [], set()
    for w in v:  # keep first occurrence ("a", "i", "##s" appear twice)
        if w not in seen:
            seen.add(w)
            out.append(w)
    return out


# ----------------------------------------------------------------- config

def tiny_config(vocab_size):
    return {
        "architectures": ["BertForMaskedLM"],
        "attention_probs_dropout_prob": 0.1,
        "hidden_act": "gelu",
        "hidden_dropout_prob": 0.1,
        "hidden_size": 32,
        "initializer_range": 0.02,
        "intermediate_size": 48,
        "layer_norm_eps": 1e-12,
        "max_position_embeddings": 40,
        "model_type": "bert",
        "num_attention_heads": 4,
        "num_hidden_layers": 2,
        "pad_token_id": 0,
        "type_vocab_size": 2,
        "vocab_size": vocab_size,
    }


def init_weights(model, gen):
    """N(0,0.2) weights/embeddings, LayerNorm weight 1+N(0,0.1),
    LayerNorm and linear biases N(0,0.1).  Order = state_dict order."""
    with torch.no_grad():
        for name, p in model.named_parameters():
            r = torch.randn(p.shape, generator=gen, dtype=torch.float64)
            if ".LayerNorm.weight" in name:
                v = 1.0 + 0.1 * r
            elif name.endswith(".bias"):
                v = 0.1 * r
            else:
                v = 0.2 * r
            p.copy_(v.to(p.dtype))


def rne_bf16_bits(x):
    """float32 -> bfloat16 bits, round to nearest even (numpy, independent
    of torch), used to cross-check torch's conversion."""
    u = np.ascontiguousarray(x, dtype=np.float32).view(np.uint32).astype(np.uint64)
    lsb = (u >> 16) & 1
    r = ((u + 0x7FFF + lsb) >> 16).astype(np.uint16)
    return r.view(np.int16)


def main():
    os.makedirs(TINY, exist_ok=True)
    gen = torch.Generator().manual_seed(SEED)

    # ---- 1. tiny-bert folder
    vocab = build_vocab()
    with open(os.path.join(TINY, "vocab.txt"), "w", encoding="utf-8", newline="\n") as f:
        for w in vocab:
            f.write(w + "\n")
    vid = {w: i for i, w in enumerate(vocab)}
    cfg_dict = tiny_config(len(vocab))
    with open(os.path.join(TINY, "config.json"), "w") as f:
        json.dump(cfg_dict, f, indent=2, sort_keys=True)
        f.write("\n")
    cfg = bert_ref.BertConfig(**cfg_dict)

    model = bert_ref.BertModel(cfg).to(torch.float32)
    init_weights(model, gen)
    model.eval()
    params = {k: v.detach().clone() for k, v in model.state_dict().items()}

    H = cfg.hidden_size
    extras_pos = torch.arange(cfg.max_position_embeddings, dtype=torch.int64).unsqueeze(0)
    extras_cls_bias = 0.1 * torch.randn(cfg.vocab_size, generator=gen)
    extras_cls_dense = 0.2 * torch.randn(H, H, generator=gen)

    items = []
    for name, t in params.items():
        if name == "embeddings.word_embeddings.weight":
            # an ignorable tensor in the middle of the model's tensors
            items.append(("bert.embeddings.position_ids", extras_pos, "I64"))
        items.append(("bert." + name, t, "F32"))
    items.append(("cls.predictions.bias", extras_cls_bias, "F32"))
    items.append(("cls.predictions.transform.dense.weight", extras_cls_dense, "F32"))
    st.save_file(items, os.path.join(TINY, "model.safetensors"))

    # ---- 2. F16 (no prefix) and BF16 (bert. prefix, gamma/beta)
    st.save_file([(n, t, "F16") for n, t in params.items()],
                 os.path.join(FIX, "tiny-bert-f16.safetensors"))

    def legacy(n):
        if ".LayerNorm." in n:
            n = n.replace(".LayerNorm.weight", ".LayerNorm.gamma")
            n = n.replace(".LayerNorm.bias", ".LayerNorm.beta")
        return "bert." + n

    st.save_file([(legacy(n), t, "BF16") for n, t in params.items()],
                 os.path.join(FIX, "tiny-bert-bf16.safetensors"))

    # sanity: the files read back, and rounding is round-to-nearest-even
    back = st.load_file(os.path.join(TINY, "model.safetensors"))
    b16 = st.load_file(os.path.join(FIX, "tiny-bert-bf16.safetensors"))
    f16 = st.load_file(os.path.join(FIX, "tiny-bert-f16.safetensors"))
    for n, t in params.items():
        assert torch.equal(back["bert." + n], t), n
        a = f16[n].numpy()
        assert a.dtype == np.float16
        assert np.array_equal(a.view(np.uint16), t.numpy().astype(np.float16).view(np.uint16)), n
        bits = b16[legacy(n)].view(torch.int16).numpy()
        assert np.array_equal(bits, rne_bf16_bits(t.numpy())), n
    m2, _, ign = bert_ref.load_hf_folder(TINY)
    assert sorted(ign) == ["bert.embeddings.position_ids", "cls.predictions.bias",
                           "cls.predictions.transform.dense.weight"], ign
    for n, t in m2.state_dict().items():
        assert torch.equal(t, params[n]), n

    # ---- 3. expected forward/backward
    def ids(words):
        return [vid[w] for w in words]

    row0 = ids(["[CLS]", "the", "movie", "was", "really", "very", "good", "!", "[SEP]"])
    row1 = ids(["[CLS]", "is", "it", "[SEP]", "yes", "[SEP]"])
    row2 = ids(["[CLS]", "great", "[SEP]"])
    B, T = 3, 9
    input_ids = torch.zeros(B, T, dtype=torch.int64)
    token_type_ids = torch.zeros(B, T, dtype=torch.int64)
    attention_mask = torch.zeros(B, T, dtype=torch.int64)
    for b, row in enumerate([row0, row1, row2]):
        input_ids[b, :len(row)] = torch.tensor(row)
        attention_mask[b, :len(row)] = 1
    token_type_ids[1, 4:6] = 1  # second segment "yes [SEP]"

    m64 = bert_ref.BertModel(cfg).double()
    m64.load_state_dict({k: v.double() for k, v in params.items()})
    m64.eval()
    hidden, pooled = m64(input_ids, token_type_ids, attention_mask)

    dhidden = torch.randn(B, T, H, generator=gen, dtype=torch.float64)
    dhidden = dhidden * attention_mask.unsqueeze(-1).double()
    dpooler = torch.randn(B, H, generator=gen, dtype=torch.float64)
    loss = (hidden * dhidden).sum() + (pooled * dpooler).sum()
    m64.zero_grad()
    loss.backward()
    grads = {n: p.grad.detach().clone() for n, p in m64.named_parameters()}
    hidden, pooled = hidden.detach(), pooled.detach()
    mean = bert_ref.pool(hidden, pooled, attention_mask, "mean")
    cls = hidden[:, 0]

    # float32 forward/backward vs float64: how tight can C tests be?
    m32 = bert_ref.BertModel(cfg).float()
    m32.load_state_dict(params)
    m32.eval()
    h32, p32 = m32(input_ids, token_type_ids, attention_mask)
    loss32 = (h32 * dhidden.float()).sum() + (p32 * dpooler.float()).sum()
    loss32.backward()
    dh = (h32.double() - hidden).abs().max().item()
    dp = (p32.double() - pooled).abs().max().item()
    dg = max((p.grad.double() - grads[n]).abs().max().item() for n, p in m32.named_parameters())
    gmax = max(g.abs().max().item() for g in grads.values())
    print("float32 vs float64 forward: max|dhidden| = %.3g, max|dpooler| = %.3g" % (dh, dp))
    print("float32 vs float64 grads:   max abs diff = %.3g (max |grad| = %.3g)" % (dg, gmax))
    print("loss (float64) = %.9g, loss (float32) = %.9g" % (loss.item(), loss32.item()))
    assert dh < 1e-5 and dp < 1e-5

    exp = [
        ("input_ids", input_ids, "I64"),
        ("token_type_ids", token_type_ids, "I64"),
        ("attention_mask", attention_mask, "I64"),
        ("hidden", hidden, "F32"),
        ("pooler", pooled, "F32"),
        ("dhidden", dhidden, "F32"),
        ("dpooler", dpooler, "F32"),
        ("loss", loss.detach().reshape(1), "F32"),
        ("mean", mean, "F32"),
        ("cls", cls, "F32"),
    ]
    exp += [("grad." + n, g, "F32") for n, g in grads.items()]
    st.save_file(exp, os.path.join(FIX, "tiny-bert-expected.safetensors"))

    # ---- 4. encode TSV
    texts = ["the movie was good", "this film is not bad", "what do you like", "i love it"]
    lines = []
    token_report = []
    for text in texts:
        words = text.split(" ")
        for w in words:
            assert w in vid, w
        row = [vid["[CLS]"]] + [vid[w] for w in words] + [vid["[SEP]"]]
        token_report.append((text, row))
        x = torch.tensor([row])
        am = torch.ones_like(x)
        with torch.no_grad():
            h, p = m64(x, torch.zeros_like(x), am)
        for kind in ("cls", "mean", "pooler"):
            v = bert_ref.pool(h, p, am, kind)[0]
            lines.append("%s\t%s\t%s\n" % (text, kind, " ".join("%.9g" % float(e) for e in v)))
    with open(os.path.join(FIX, "tiny-bert-encode.tsv"), "w", newline="\n") as f:
        f.writelines(lines)

    # ---- report
    print("vocab_size =", len(vocab))
    print("input_ids =", input_ids.tolist())
    print("token_type_ids =", token_type_ids.tolist())
    for text, row in token_report:
        print("encode %-22r -> %s" % (text, row))
    total = 0
    for dirpath, _, files in os.walk(FIX):
        for fn in sorted(files):
            p = os.path.join(dirpath, fn)
            sz = os.path.getsize(p)
            total += sz
            print("%8d  %s" % (sz, os.path.relpath(p, ROOT)))
    print("%8d  total" % total)


if __name__ == "__main__":
    main()
