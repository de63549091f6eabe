#!/usr/bin/python3
"""Prove that PyTorch can load a Hugging Face BERT folder (e.g. one saved by
mtbert) and that it computes the fixture's expected outputs.

    /usr/bin/python3 tests/reference/check_checkpoint.py DIR [--tol 1e-5]

DIR must hold config.json and model.safetensors (or a sharded
model.safetensors.index.json, or pytorch_model.bin).  The weights are loaded
into the pure-PyTorch reference BERT (bert_ref.py) -- names with or without
`bert.`, LayerNorm weight/bias or gamma/beta; other tensors are ignored and
listed -- and run in float64 on the inputs stored in
tests/fixtures/tiny-bert-expected.safetensors.  The last hidden states (real
tokens only) and the pooler output are compared with the stored ones.

Exit status: 0 when both max abs diffs are <= tol, 1 when over tol,
2 when the folder cannot be loaded (bad file, missing/misshaped tensors).
"""

import argparse
import os
import sys

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import bert_ref  # noqa: E402
import safetensors_io as st  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(HERE))
DEFAULT_EXPECTED = os.path.join(ROOT, "tests", "fixtures", "tiny-bert-expected.safetensors")
DEFAULT_REF = os.path.join(ROOT, "tests", "fixtures", "tiny-bert")


def weight_diffs(model, ref_dir):
    """Per-parameter max abs diff against the reference folder (diagnosis)."""
    try:
        ref, _, _ = bert_ref.load_hf_folder(ref_dir, dtype=torch.float64)
    except Exception as e:  # noqa: BLE001 - diagnosis only
        print("  (cannot load reference %s: %s)" % (ref_dir, e))
        return
    rp = dict(ref.named_parameters())
    for n, p in model.named_parameters():
        if n in rp and rp[n].shape == p.shape:
            d = (p.detach() - rp[n].detach()).abs().max().item()
            if d > 0:
                print("  weight %-55s max abs diff %.3g" % (n, d))
        else:
            print("  weight %-55s shape differs from reference" % n)


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("dir", help="Hugging Face BERT folder to check")
    ap.add_argument("--expected", default=DEFAULT_EXPECTED,
                    help="expected outputs (default: %(default)s)")
    ap.add_argument("--tol", type=float, default=1e-5, help="max abs diff allowed (default 1e-5)")
    ap.add_argument("--ref", default=DEFAULT_REF,
                    help="folder to diff weights against on failure (default: %(default)s)")
    args = ap.parse_args()

    stf = os.path.join(args.dir, "model.safetensors")
    if os.path.exists(stf):
        problems = st.check_file(stf)
        for p in problems:
            print("safetensors problem: %s" % p)
        if problems:
            return 2
    try:
        model, cfg, ignored = bert_ref.load_hf_folder(args.dir, dtype=torch.float64)
    except Exception as e:  # noqa: BLE001 - report any load failure
        print("FAIL: cannot load %s: %s" % (args.dir, e))
        return 2
    nparams = sum(p.numel() for p in model.parameters())
    print("loaded %s: %d layers, hidden %d, heads %d, intermediate %d, vocab %d, %d parameters"
          % (args.dir, cfg.num_hidden_layers, cfg.hidden_size, cfg.num_attention_heads,
             cfg.intermediate_size, cfg.vocab_size, nparams))
    if ignored:
        print("ignored tensors: %s" % ", ".join(sorted(ignored)))
    if not os.path.exists(os.path.join(args.dir, "vocab.txt")):
        print("note: no vocab.txt in %s" % args.dir)

    exp = st.load_file(args.expected)
    ids, tt, am = exp["input_ids"], exp["token_type_ids"], exp["attention_mask"]
    if int(ids.max()) >= cfg.vocab_size or ids.shape[1] > cfg.max_position_embeddings:
        print("FAIL: fixture inputs do not fit this model's vocab/positions")
        return 2
    with torch.no_grad():
        hidden, pooled = model(ids, tt, am)
    if hidden.shape != exp["hidden"].shape:
        print("FAIL: hidden shape %s, expected %s"
              % (tuple(hidden.shape), tuple(exp["hidden"].shape)))
        return 1
    m = am.unsqueeze(-1).to(torch.float64)
    dh = ((hidden - exp["hidden"].double()).abs() * m).max().item()
    dp = (pooled - exp["pooler"].double()).abs().max().item()
    print("max abs diff: hidden %.3g, pooler %.3g (tol %.3g)" % (dh, dp, args.tol))
    if dh <= args.tol and dp <= args.tol:
        print("OK")
        return 0
    print("FAIL: outputs differ from %s" % args.expected)
    if args.ref and os.path.isdir(args.ref):
        weight_diffs(model, args.ref)
    return 1


if __name__ == "__main__":
    sys.exit(main())
