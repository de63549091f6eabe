#!/usr/bin/python3
"""Reference values for mtbert's pair losses (MNRL, CoSENT): losses and
gradients by torch autograd in float64, written to
tests/fixtures/pair-losses.json.

The formulas are sentence-transformers' (MultipleNegativesRankingLoss,
CoSENTLoss), re-implemented here since the package is not installable:
    cos  = F.normalize(u) @ F.normalize(v).T   (normalize's eps 1e-12)
    MNRL = mean over anchors i of cross_entropy(scale * cos[i, :], i)
           (anchors: the positive pairs; candidates: every v of the batch)
    CoSENT = logsumexp([0] + [scale (cos_j - cos_i) for y_i > y_j])
Deterministic (seed 20261202); run from the project root:
    /usr/bin/python3 tests/reference/make_loss_fixtures.py
"""
import json

import torch
import torch.nn.functional as F

torch.manual_seed(20261202)


def f32(t):
    # inputs exactly representable in float32, as mtbert holds them
    return t.to(torch.float32).to(torch.float64)


def mnrl(u, v, positive, scale):
    cos = F.normalize(u, dim=1, eps=1e-12) @ F.normalize(v, dim=1, eps=1e-12).T
    idx = torch.nonzero(positive).flatten()
    if len(idx) == 0:
        return (u.sum() * 0.0)
    return F.cross_entropy(scale * cos[idx], idx)


def cosent(u, v, labels, scale):
    cos = (F.normalize(u, dim=1, eps=1e-12) * F.normalize(v, dim=1, eps=1e-12)).sum(1)
    diff = scale * (cos[None, :] - cos[:, None])  # [i, j] = s (cos_j - cos_i)
    mask = labels[:, None] > labels[None, :]
    terms = torch.cat([torch.zeros(1, dtype=diff.dtype), diff[mask]])
    return torch.logsumexp(terms, dim=0)


cases = []
for name, B, H, scale in [("small", 4, 6, 20.0), ("batch", 8, 16, 20.0), ("soft", 6, 5, 1.0)]:
    for kind in ("mnrl", "cosent"):
        u = f32(torch.randn(B, H)).requires_grad_(True)
        v = f32(torch.randn(B, H))
        if kind == "cosent" or name == "soft":
            v = (v + 0.8 * u.detach()).to(torch.float32).to(torch.float64)
        v.requires_grad_(True)
        if kind == "mnrl":
            positive = torch.tensor([1 if i % 3 != 1 else 0 for i in range(B)])
            loss = mnrl(u, v, positive, scale)
            extra = {"positive": positive.tolist()}
        else:
            labels = f32(torch.tensor([float(round(x, 1)) for x in (torch.rand(B) * 5).tolist()]))
            labels[1] = labels[0]  # a tie: neither order is asked for
            loss = cosent(u, v, labels, scale)
            extra = {"labels": labels.tolist()}
        loss.backward()
        case = {"name": f"{kind}/{name}", "kind": kind, "B": B, "H": H, "scale": scale,
                "u": u.detach().flatten().tolist(), "v": v.detach().flatten().tolist(),
                "loss": loss.item(), "du": u.grad.flatten().tolist(),
                "dv": v.grad.flatten().tolist()}
        case.update(extra)
        cases.append(case)

with open("tests/fixtures/pair-losses.json", "w") as f:
    json.dump({"generator": "tests/reference/make_loss_fixtures.py", "cases": cases}, f)
    f.write("\n")
for c in cases:
    print(f"{c['name']}: loss {c['loss']:.6f}")
