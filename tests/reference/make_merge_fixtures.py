#!/usr/bin/python3
"""Generate tests/fixtures/merge-cases.json: an independent reference for the
multitask gradient-merge methods and loss weightings of mtbert.

Run by hand from the project root:

    /usr/bin/python3 tests/reference/make_merge_fixtures.py

Deterministic (numpy default_rng(20261202), no other randomness); running it
twice gives a byte-identical file.  Needs numpy, scipy and torch (Debian's
/usr/bin/python3).  Written from the papers' definitions and the project's
stated conventions only (not from the C sources).  See the "Merge methods"
section of README.md for the equations.

Each method turns T task gradients g_0..g_{T-1} (length n) into one update d,
normally d = sum_k w_k g_k.  Gradient methods: sum, pcgrad, mgda, cagrad,
imtl, nashmtl, aligned, upgrad, gradvac.  Loss weightings: uw, dwa, famo.
Every inner problem is solved to (near) machine precision and checked by a
second, different method; the checks are printed at the end.
"""

import itertools
import json
import math
import os

import numpy as np
import scipy.optimize as so
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
OUT = os.path.join(ROOT, "tests", "fixtures", "merge-cases.json")
GENERATOR = "tests/reference/make_merge_fixtures.py"

SEED = 20261202
N = 10
GROUPS = [[0, 4], [4, 3], [7, 3]]
GROUPS_PARTIAL = [[0, 3], [5, 3]]          # elements 3, 4, 8, 9 outside
EPS32 = float(np.finfo(np.float32).eps)    # 1.1920928955078125e-07

rng = np.random.default_rng(SEED)

# self-check figures, per method (printed at the end)
CHECK = {}


def check(method, key, value, worst=max):
    d = CHECK.setdefault(method, {})
    d[key] = value if key not in d else worst(d[key], value)


def f32(a):
    """Round to float32, return float64 (the C code holds gradients as float)."""
    return np.asarray(a, dtype=np.float32).astype(np.float64)


def fl(a):
    """numpy array -> nested list of Python floats (repr-exact in JSON)."""
    return [float(x) for x in np.asarray(a, dtype=np.float64).ravel()]


def rand_losses(T):
    return f32(rng.uniform(0.1, 3.0, size=T))


def is_independent(G):
    """Rows linearly independent (clearly: smallest/largest singular > 1e-9)."""
    s = np.linalg.svd(G, compute_uv=False)
    return s[0] > 0 and s[-1] / s[0] > 1e-9


# ====================================================================== sum

def m_sum(G):
    T = len(G)
    w = np.ones(T)
    return G.sum(axis=0), w


# =================================================================== pcgrad

def m_pcgrad(G, order):
    """Yu et al. 2020, project against ORIGINAL g_j, sequential in `order`.
    Coefficients tracked: g_i' = sum_t C[i,t] g_t."""
    T, n = G.shape
    d = np.zeros(n)
    W = np.zeros(T)
    margin = math.inf
    for i in order:
        gi = G[i].copy()
        ci = np.zeros(T)
        ci[i] = 1.0
        for j in order:
            if j == i:
                continue
            nj2 = G[j] @ G[j]
            if nj2 == 0:
                continue
            dot = gi @ G[j]
            ni = np.linalg.norm(gi)
            if ni > 0:
                margin = min(margin, abs(dot) / (ni * math.sqrt(nj2)))
            if dot < 0:
                coef = dot / nj2
                gi = gi - coef * G[j]
                ci[j] -= coef
        d += gi
        W += ci
    return d, W, margin


# ===================================================================== mgda

def m_mgda(G):
    """Sener & Koltun 2018: w = argmin_{simplex} |sum w_k g_k|^2.
    Exact: enumerate the supports S, solve the KKT system of the equality-
    constrained QP on S, keep the w >= 0 that satisfies the global KKT
    conditions (Gw)_j >= w'Gw for all j."""
    T = len(G)
    M = G @ G.T
    scale = max(np.abs(M).max(), 1e-300)
    best = None
    for m in range(1, T + 1):
        for S in itertools.combinations(range(T), m):
            S = list(S)
            K = np.zeros((m + 1, m + 1))
            K[:m, :m] = M[np.ix_(S, S)]
            K[:m, m] = 1.0
            K[m, :m] = 1.0
            rhs = np.zeros(m + 1)
            rhs[m] = 1.0
            if np.linalg.cond(K) > 1e13:
                continue
            sol = np.linalg.solve(K, rhs)
            wS = sol[:m]
            if wS.min() < -1e-14:
                continue
            w = np.zeros(T)
            w[S] = np.maximum(wS, 0.0)
            w /= w.sum()
            val = w @ M @ w
            Gw = M @ w
            if (Gw - val).min() < -1e-12 * scale:
                continue
            if best is None or val < best[1] - 1e-15 * scale:
                best = (w, val, S)
    w, val, S = best
    d = w @ G
    Gw = M @ w
    # optimality residual: max over j of max(0, val - (Gw)_j), and equality on S
    opt = max(max(0.0, (val - Gw).max()), np.abs(Gw[S] - val).max()) / scale
    inactive = [j for j in range(T) if j not in S]
    gap = min([(Gw[j] - val) / scale for j in inactive], default=math.inf)
    act = min(w[S]) if len(S) > 1 else math.inf
    # cross-check: SLSQP and a dense grid
    f = lambda x: float(x @ M @ x)
    r = so.minimize(lambda x: f(x) / scale, np.ones(T) / T, jac=lambda x: 2 * M @ x / scale,
                    method="SLSQP",
                    bounds=[(0, 1)] * T,
                    constraints=[{"type": "eq", "fun": lambda x: x.sum() - 1,
                                  "jac": lambda x: np.ones(T)}],
                    options={"ftol": 1e-16, "maxiter": 1000})
    gridmin = min(f(x) for x in simplex_grid(T, 60))
    assert val <= r.fun * scale + 1e-12 * scale and val <= gridmin + 1e-12 * scale
    info_dw = float(np.abs(r.x - w).max())
    return d, w, {"opt": opt, "gap": gap, "act": act, "S": S, "slsqp_dw": info_dw}


def simplex_grid(T, N):
    if T == 2:
        t = np.linspace(0, 1, N + 1)
        return np.stack([1 - t, t], axis=1)
    pts = [(i / N, j / N, (N - i - j) / N) for i in range(N + 1) for j in range(N + 1 - i)]
    return np.array(pts)


# =================================================================== cagrad

def cagrad_F(W, b, M, k):
    """F(w) = w.b + k sqrt(w'Mw), vectorised over the rows of W."""
    W = np.atleast_2d(W)
    q = np.einsum("pi,ij,pj->p", W, M, W)
    return W @ b + k * np.sqrt(np.maximum(q, 0.0))


def cagrad_face(M, b, k, S, T, scale):
    """Stationary point of F on the relative interior of the face S
    (damped Newton, analytic gradient/Hessian, reduced coordinates).
    Returns w or None (not interior / Hessian singular / no convergence)."""
    m = len(S)
    Z = np.zeros((m, m - 1))
    Z[0, :] = -1.0
    for i in range(1, m):
        Z[i, i - 1] = 1.0

    def wfull(y):
        w = np.zeros(T)
        w[S] = np.concatenate([[1.0 - y.sum()], y])
        return w

    def parts(y):
        w = wfull(y)
        q = w @ M @ w
        if q <= 0:
            return w, None, None, None
        r = math.sqrt(q)
        Mw = M @ w
        gw = b + k * Mw / r
        Hw = k * (M / r - np.outer(Mw, Mw) / r ** 3)
        gy = Z.T @ gw[S]
        Hy = Z.T @ Hw[np.ix_(S, S)] @ Z
        return w, float(cagrad_F(w, b, M, k)[0]), gy, Hy

    y = np.ones(m - 1) / m
    small = 0
    for it in range(300):
        w, Fv, gy, Hy = parts(y)
        if Fv is None:
            return None
        if np.linalg.cond(Hy) > 1e12:
            return None
        step = -np.linalg.solve(Hy, gy)
        # fraction to the boundary of the face (w_S > 0)
        wS = w[S]
        dw = Z @ step
        tmax = 1.0
        for a, da in zip(wS, dw):
            if da < 0:
                tmax = min(tmax, 0.99 * a / -da)
        t = tmax
        while True:
            yn = y + t * step
            _, Fn, _, _ = parts(yn)
            if Fn is not None and (Fn <= Fv + 1e-4 * t * (gy @ step) or
                                   np.abs(t * step).max() < 1e-13):
                break
            t *= 0.5
            if t < 1e-30:
                return None
        y = yn
        if np.abs(t * step).max() < 1e-15:
            small += 1
            if small >= 3:
                break
    w, Fv, gy, Hy = parts(y)
    if Fv is None or w[S].min() <= 1e-12:
        return None
    if np.abs(gy).max() > 1e-12 * scale:
        return None
    return w


def m_cagrad(G, c):
    """Liu et al. 2021 (CAGrad).  g0 = mean g_k; w = argmin_{simplex}
    g_w.g0 + c|g0||g_w|; lambda = c|g0|/|g_w| (0 if |g_w| = 0);
    d = (g0 + lambda g_w)/(1 + c^2).  Returns d, merge weights (coefficients
    of d on the g_k), inner w, info."""
    T = len(G)
    g0 = G.mean(axis=0)
    g0n = np.linalg.norm(g0)
    info = {}
    if c == 0 or g0n == 0:
        # lambda = 0 (c = 0), or g0 = 0 (then d = g0/(1+c^2) = 0): no inner problem
        d = g0 / (1 + c * c)
        return d, np.full(T, 1.0 / T) / (1 + c * c), None, info
    M = G @ G.T
    b = M @ np.ones(T) / T            # b_k = g_k . g0
    k = c * g0n
    scale = np.abs(b).max() + k * math.sqrt(np.diag(M).max())
    cands = []
    for m in range(1, T + 1):
        for S in itertools.combinations(range(T), m):
            S = list(S)
            if m == 1:
                w = np.zeros(T)
                w[S[0]] = 1.0
            else:
                w = cagrad_face(M, b, k, S, T, scale)
                if w is None:
                    continue
            cands.append((float(cagrad_F(w, b, M, k)[0]), len(S), w, S))
    cands.sort(key=lambda x: (x[0], x[1]))
    Fbest, _, w, S = cands[0]
    # --- checks: dense grid + SLSQP (tight) + KKT
    grid = simplex_grid(T, 20000 if T == 2 else 400)
    Fgrid = cagrad_F(grid, b, M, k).min()
    assert Fbest <= Fgrid + 1e-13 * scale, (Fbest, Fgrid)
    r = so.minimize(lambda x: float(cagrad_F(x, b, M, k)[0]) / scale, np.ones(T) / T,
                    method="SLSQP", bounds=[(0, 1)] * T,
                    constraints=[{"type": "eq", "fun": lambda x: x.sum() - 1}],
                    options={"ftol": 1e-16, "maxiter": 2000})
    assert Fbest <= r.fun * scale + 1e-13 * scale, (Fbest, r.fun * scale)
    info["slsqp_dw"] = float(np.abs(r.x - w).max())
    gw = w @ G
    gwn = np.linalg.norm(gw)
    if gwn > 0:
        q = w @ M @ w
        grad = b + k * (M @ w) / math.sqrt(q)
        mu = grad[S].mean()
        info["kkt_eq"] = float(np.abs(grad[S] - mu).max() / scale)
        inactive = [j for j in range(T) if j not in S]
        info["gap"] = min([(grad[j] - mu) / scale for j in inactive], default=math.inf)
        assert info["gap"] > -1e-12
    info["act"] = min(w[S]) if len(S) > 1 else math.inf
    info["S"] = S
    lam = k / gwn if gwn > 0 else 0.0
    d = (g0 + lam * gw) / (1 + c * c)
    weights = (np.full(T, 1.0 / T) + lam * w) / (1 + c * c)
    return d, weights, w, info


# ===================================================================== imtl

def m_imtl(G):
    """IMTL-G (Liu et al. 2021).  Zero-norm tasks: weight 0, left out."""
    T, n = G.shape
    norms = np.linalg.norm(G, axis=1)
    nz = [k for k in range(T) if norms[k] > 0]
    a = np.zeros(T)
    info = {"cond": 1.0, "singular": False}
    if len(nz) == 0:
        return np.zeros(n), a, info
    if len(nz) == 1:
        a[nz[0]] = 1.0
        return G[nz[0]].copy(), a, info
    g = G[nz]
    u = g / norms[nz][:, None]
    D = g[0] - g[1:]
    U = u[0] - u[1:]
    DU = D @ U.T
    if not np.any(DU) or np.linalg.cond(DU) > 1e10:
        info["singular"] = True
        info["cond"] = math.inf
        a[nz] = 1.0 / len(nz)
        return a @ G, a, info
    info["cond"] = float(np.linalg.cond(DU))
    # alpha_{2..} = g1 U^T (D U^T)^{-1}  <=>  (D U^T)^T alpha^T = U g1
    rest = np.linalg.solve(DU.T, U @ g[0])
    a[nz[0]] = 1.0 - rest.sum()
    a[nz[1:]] = rest
    d = a @ G
    proj = d @ u.T
    info["eqproj"] = float(np.ptp(proj) / max(np.abs(proj).max(), 1e-300))
    return d, a, info


# ================================================================== nashmtl

def m_nashmtl(G):
    """Nash-MTL (Navon et al. 2022): alpha > 0 with (G^ alpha)_i = 1/alpha_i,
    G^ = Gram / ||Gram||_F over the non-zero tasks (zero tasks: weight 0).
    Newton on the strictly convex phi(a) = 0.5 a'G^a - sum log a_i."""
    T, n = G.shape
    norms = np.linalg.norm(G, axis=1)
    nz = [k for k in range(T) if norms[k] > 0]
    alpha = np.zeros(T)
    info = {"res": 0.0, "cond": 1.0}
    if not nz:
        return np.zeros(n), alpha, info
    Gs = G[nz] @ G[nz].T
    Gh = Gs / np.linalg.norm(Gs, "fro")
    info["cond"] = float(np.linalg.cond(Gh))
    a = 1.0 / np.sqrt(np.diag(Gh))
    phi = lambda a: 0.5 * a @ Gh @ a - np.log(a).sum()
    for it in range(200):
        gr = Gh @ a - 1.0 / a
        H = Gh + np.diag(1.0 / a ** 2)
        step = -np.linalg.solve(H, gr)
        t = 1.0
        while np.any(a + t * step <= 0):
            t *= 0.5
        while phi(a + t * step) > phi(a) + 1e-4 * t * (gr @ step) and t > 1e-12:
            t *= 0.5
        a = a + t * step
        if np.abs(step).max() <= 1e-15 * np.abs(a).max():
            break
    res = float(np.abs(a * (Gh @ a) - 1.0).max())
    assert res < 1e-12, res
    # cross-check: scipy root of the same equations in log space
    sol = so.root(lambda x: np.exp(x) * (Gh @ np.exp(x)) - 1.0,
                  np.log(1.0 / np.sqrt(np.diag(Gh))), method="lm",
                  options={"xtol": 1e-15, "ftol": 1e-15})
    info["root_rel"] = float(np.abs(np.exp(sol.x) - a).max() / np.abs(a).max())
    assert info["root_rel"] < 1e-9, info["root_rel"]
    info["res"] = res
    alpha[nz] = a
    return alpha @ G, alpha, info


# ================================================================== aligned

def m_aligned(G):
    """Aligned-MTL (Senushkin et al. 2023), ones preference."""
    T, n = G.shape
    if not np.any(G):
        return np.zeros(n), None, {"margin": math.inf}
    M = G @ G.T
    lam, V = np.linalg.eigh(M)
    thr = lam.max() * T * EPS32
    keep = lam > thr
    # decision margin: how far (in factors) each eigenvalue is from the cut
    margin = float(min(abs(math.log10(max(l, 1e-300) / thr)) for l in lam))
    lmin = lam[keep].min()
    Vk = V[:, keep]
    B = math.sqrt(lmin) * Vk @ np.diag(1.0 / np.sqrt(lam[keep])) @ Vk.T
    w = B @ np.ones(T)
    d = w @ G
    # property: the rows of B G are orthogonal with squared norm lambda_min
    # on the kept subspace: (BG)(BG)^T = lambda_min Vk Vk^T
    BG = B @ G
    P = BG @ BG.T
    orth = float(np.abs(P - lmin * Vk @ Vk.T).max() / lmin)
    return d, w, {"margin": margin, "orth": orth, "kept": int(keep.sum()),
                  "ratio": float(lam[keep].min() / lam.max())}


# =================================================================== upgrad

def proj_dual_cone(x, A):
    """Euclidean projection of x onto {y : A y >= 0}, in vector space:
    enumerate the active sets S, y_S = projection of x onto the subspace
    {y : A_S y = 0} (orthonormal basis of span(A_S) from the SVD), keep the
    feasible y_S closest to x (the minimiser is one of them)."""
    T, n = A.shape
    best = None
    scale = max(np.linalg.norm(x), 1e-300)
    rown = np.maximum(np.linalg.norm(A, axis=1), 1e-300)
    for m in range(0, T + 1):
        for S in itertools.combinations(range(T), m):
            S = list(S)
            if m:
                _, s, Vt = np.linalg.svd(A[S], full_matrices=False)
                r = int((s > s.max() * 1e-12).sum()) if s.max() > 0 else 0
                Q = Vt[:r].T
                y = x - Q @ (Q.T @ x)
            else:
                y = x.copy()
            if (A @ y / rown).min() < -1e-12 * scale:
                continue
            dist = np.linalg.norm(y - x)
            if best is None or dist < best[1] - 1e-14 * scale:
                best = (y, dist, S)
    return best[0], best[2]


def m_upgrad(G):
    """UPGrad (Quinton & Rey 2024), mean preference:
    d = (1/T) sum_i P(g_i), P = projection onto the dual cone of the g_j."""
    T, n = G.shape
    P = []
    info = {"slsqp": 0.0, "nnls": 0.0, "margin": math.inf}
    for i in range(T):
        y, S = proj_dual_cone(G[i], G)
        P.append(y)
        sc = max(np.linalg.norm(G[i]), 1e-300)
        # cross-check 1: SLSQP in n variables with the linear inequalities
        r = so.minimize(lambda z: 0.5 * np.sum((z - G[i]) ** 2), G[i].copy(),
                        jac=lambda z: z - G[i], method="SLSQP",
                        constraints=[{"type": "ineq", "fun": lambda z: G @ z,
                                      "jac": lambda z: G}],
                        options={"ftol": 1e-18, "maxiter": 1000})
        info["slsqp"] = max(info["slsqp"], float(np.abs(r.x - y).max() / sc))
        # cross-check 2: the dual, y = x + A^T mu, mu = nnls(A^T, -x)
        mu, _ = so.nnls(G.T, -G[i])
        y2 = G[i] + G.T @ mu
        info["nnls"] = max(info["nnls"], float(np.abs(y2 - y).max() / sc))
        assert info["slsqp"] < 1e-8 and info["nnls"] < 1e-12, info
        # decision margin: inactive constraints' normalised values
        for j in range(T):
            nj = np.linalg.norm(G[j])
            if nj > 0 and j not in S and np.linalg.norm(y) > 0:
                info["margin"] = min(info["margin"], float(G[j] @ y / (nj * sc)))
    d = np.mean(P, axis=0)
    dots = G @ d
    info["mindot"] = float(dots.min())
    nd = np.linalg.norm(d)
    info["mindot_rel"] = float(min([dots[j] / (nd * np.linalg.norm(G[j]))
                                    for j in range(T) if np.linalg.norm(G[j]) > 0
                                    and nd > 0], default=math.inf))
    w = None
    if is_independent(G):
        w = np.linalg.lstsq(G.T, d, rcond=None)[0]
    return d, w, info


# ================================================================== gradvac

def gradvac_seq(steps, groups, order, beta, n):
    """Gradient Vaccine (Wang et al. 2021), per parameter group, stateful.
    Returns per step (d, group_weights) and info."""
    T = len(steps[0])
    K = len(groups)
    covered = np.zeros(n, dtype=bool)
    for off, num in groups:
        assert not covered[off:off + num].any()
        covered[off:off + num] = True
    rho_hat = np.zeros((T, T, K))
    out = []
    info = {"margin": math.inf, "adj": 0, "adj_pos": 0, "adj_state": 0, "target": 0.0}
    for G in steps:
        d = np.zeros(n)
        d[~covered] = G[:, ~covered].sum(axis=0)
        gws = []
        for k, (off, num) in enumerate(groups):
            Gk = G[:, off:off + num]
            dk = np.zeros(num)
            wk = np.zeros(T)
            for i in order:
                gi = Gk[i].copy()
                ci = np.zeros(T)
                ci[i] = 1.0
                for j in order:
                    if j == i:
                        continue
                    gj = Gk[j]
                    ni = np.linalg.norm(gi)
                    nj = np.linalg.norm(gj)
                    if ni > 0 and nj > 0:
                        rho = float(np.clip(gi @ gj / (ni * nj), -1.0, 1.0))
                    else:
                        rho = 0.0
                    rh = rho_hat[i, j, k]
                    if ni > 0 and nj > 0:
                        info["margin"] = min(info["margin"], abs(rho - rh))
                    if rho < rh and nj > 0 and ni > 0:
                        w = ni * (rh * math.sqrt(1 - rho * rho) - rho * math.sqrt(1 - rh * rh)) \
                            / (nj * math.sqrt(1 - rh * rh))
                        gi = gi + w * gj
                        # property: the adjusted g_i' has cosine rho_hat with g_j
                        cn = gi @ gj / (np.linalg.norm(gi) * nj)
                        info["target"] = max(info["target"], abs(cn - rh))
                        ci[j] += w
                        info["adj"] += 1
                        info["adj_pos"] += rho >= 0
                        info["adj_state"] += rh != 0
                    rho_hat[i, j, k] = (1 - beta) * rh + beta * rho
                dk += gi
                wk += ci
            d[off:off + num] = dk
            gws.append(wk)
        out.append((d, gws))
    return out, info


# ======================================================= loss weightings

def uw_seq(steps_losses, lr, T):
    """Kendall et al. 2018.  w_k = 0.5 exp(-s_k); then one torch.optim.Adam
    step (float64) on sum_k 0.5 exp(-s_k) L_k + 0.5 s_k.  A hand-written
    float64 Adam runs alongside as a check."""
    s = torch.zeros(T, dtype=torch.float64, requires_grad=True)
    opt = torch.optim.Adam([s], lr=lr, betas=(0.9, 0.999), eps=1e-8, weight_decay=0)
    sh = np.zeros(T)
    m = np.zeros(T)
    v = np.zeros(T)
    ws = []
    dev = 0.0
    for t, L in enumerate(steps_losses, start=1):
        w = 0.5 * np.exp(-s.detach().numpy().copy())
        ws.append(w)
        Lt = torch.tensor(L, dtype=torch.float64)
        loss = (0.5 * torch.exp(-s) * Lt + 0.5 * s).sum()
        opt.zero_grad()
        loss.backward()
        gref = 0.5 - 0.5 * np.exp(-sh) * L
        dev = max(dev, float(np.abs(s.grad.numpy() - gref).max()))
        opt.step()
        m = 0.9 * m + 0.1 * gref
        v = 0.999 * v + 0.001 * gref * gref
        mh = m / (1 - 0.9 ** t)
        vh = v / (1 - 0.999 ** t)
        sh = sh - lr * mh / (np.sqrt(vh) + 1e-8)
        dev = max(dev, float(np.abs(s.detach().numpy() - sh).max()))
    return ws, {"hand_adam": dev, "s_final": s.detach().numpy().copy()}


def dwa_seq(steps_losses, spe, temp, T):
    """Liu et al. 2019 (DWA), epoch-averaged losses."""
    ws = []
    hist = {}
    for s, L in enumerate(steps_losses):
        e = s // spe
        if e < 2:
            w = np.ones(T)
        else:
            r = np.mean(hist[e - 1], axis=0) / np.mean(hist[e - 2], axis=0)
            ex = np.exp(r / temp)
            w = T * ex / ex.sum()
        ws.append(w)
        hist.setdefault(e, []).append(np.asarray(L))
    return ws


def famo_seq(steps_losses, lr, gamma, T):
    """Liu et al. 2023 (FAMO).  Adam (torch, float64, weight_decay = gamma)
    on the logits xi; the gradient J_softmax^T delta is taken from torch
    autograd and checked against z*delta - z (z.delta)."""
    eps = 1e-8
    xi = torch.zeros(T, dtype=torch.float64, requires_grad=True)
    opt = torch.optim.Adam([xi], lr=lr, betas=(0.9, 0.999), eps=1e-8, weight_decay=gamma)
    Lp = None
    ws = []
    dev = 0.0
    for L in steps_losses:
        L = np.asarray(L)
        if Lp is not None:
            delta = np.log(Lp + eps) - np.log(L + eps)
            z = torch.softmax(xi, dim=-1)
            g, = torch.autograd.grad(z, xi, grad_outputs=torch.tensor(delta, dtype=torch.float64))
            zn = z.detach().numpy()
            dev = max(dev, float(np.abs(g.numpy() - (zn * delta - zn * (zn @ delta))).max()))
            opt.zero_grad()
            xi.grad = g.clone()
            opt.step()
        z = torch.softmax(xi.detach(), dim=-1).numpy()
        c = np.sum(z / (L + eps))
        ws.append(z / (c * (L + eps)))
        Lp = L
    return ws, {"jac": dev, "xi_final": xi.detach().numpy().copy()}


# ========================================================== gradient sets

def gradient_sets():
    """Named sets (T, name, G); G rows float32-representable."""
    sets = []
    for T in (2, 3):
        # aligned: common direction + noise, all pairwise dots > 0
        while True:
            base = rng.standard_normal(N)
            G = f32(base + 0.7 * rng.standard_normal((T, N)))
            M = G @ G.T
            if M[np.triu_indices(T, 1)].min() > 0.2 * np.diag(M).min():
                break
        sets.append((T, "aligned", G, "all pairwise dots > 0"))
        # opposed: g1 = -g0 + small noise (g2 random for T = 3)
        g0 = rng.standard_normal(N)
        rows = [g0, -g0 + 0.3 * rng.standard_normal(N)]
        if T == 3:
            rows.append(rng.standard_normal(N))
        G = f32(rows)
        sets.append((T, "opposed", G, "g1 = -g0 + 0.3 N(0,1)"))
        # dominant: one gradient 1000x the others.  lambda_min/lambda_max of
        # the Gram matrix is then ~1e-6, close to Aligned-MTL's cut
        # T * eps32 ~ 3e-7: redraw until every eigenvalue is at least 2x
        # (0.3 decades) away from the cut, so that the decision is clear.
        big = 1 if T == 2 else 0
        while True:
            G = rng.standard_normal((T, N))
            G[big] *= 1000.0
            G = f32(G)
            if m_aligned(G)[2]["margin"] >= 0.3:
                break
        sets.append((T, "dominant", G, "task %d scaled 1000x" % big))
        # zero: one task all zeros
        G = f32(rng.standard_normal((T, N)))
        G[1] = 0.0
        sets.append((T, "zero", G, "task 1 is all zeros"))
        # 4 random N(0,1) sets
        for r in range(1, 5):
            sets.append((T, "random-%d" % r, f32(rng.standard_normal((T, N))), None))
        # exactly parallel, same direction (scaled by powers of 2: exact)
        g0 = f32(rng.standard_normal(N))
        rows = [g0, 2.0 * g0] + ([0.5 * g0] if T == 3 else [])
        sets.append((T, "parallel", np.array(rows), "g1 = 2 g0" + (", g2 = g0/2" if T == 3 else "")))
    # T = 2 only: exactly opposed, and all zero
    g0 = f32(rng.standard_normal(N))
    sets.append((2, "opposed-exact", np.array([g0, -g0]), "g1 = -g0 exactly"))
    sets.append((2, "zero-all", np.zeros((2, N)), "both gradients zero"))
    return sets


# ================================================================== main

def case(name, method, params, T, steps, order=None, groups=None, note=None, **extra):
    c = {"name": name, "method": method, "params": params, "n": N,
         "groups": groups if groups is not None else GROUPS,
         "order": order if order is not None else list(range(T))}
    c.update(extra)
    if note:
        c["note"] = note
    c["steps"] = steps
    return c


def step_dict(G, L, d, w=None, gw=None):
    s = {"grads": [fl(g) for g in G], "losses": fl(L), "merged": fl(d)}
    if w is not None:
        s["weights"] = fl(w)
    if gw is not None:
        s["group_weights"] = [fl(x) for x in gw]
    return s


def main():
    cases = []
    sets = gradient_sets()
    counts = {}

    def add(c):
        cases.append(c)
        counts[c["method"]] = counts.get(c["method"], 0) + 1

    for T, sname, G, snote in sets:
        L = rand_losses(T)
        indep = is_independent(G)
        pre = "/%d/%s" % (T, sname)
        dep_note = None if indep else "gradients linearly dependent: weights omitted (not unique)"

        def notes(*xs):
            xs = [x for x in xs if x]
            return "; ".join(xs) if xs else None

        # ---- sum
        d, w = m_sum(G)
        add(case("sum" + pre, "sum", {}, T, [step_dict(G, L, d, w)], note=snote))

        # ---- pcgrad (random order)
        order = [int(x) for x in rng.permutation(T)]
        d, w, margin = m_pcgrad(G, order)
        check("pcgrad", "min |cos| at a decision", margin, min)
        if sname in ("aligned", "parallel"):
            check("pcgrad", "aligned: |d - sum|", float(np.abs(d - G.sum(0)).max()))
        add(case("pcgrad" + pre, "pcgrad", {}, T, [step_dict(G, L, d, w)], order=order,
                 note=snote))

        # ---- mgda
        d, w, info = m_mgda(G)
        check("mgda", "KKT optimality residual (rel)", info["opt"])
        if indep:
            check("mgda", "min inactive KKT gap (rel)", info["gap"], min)
            check("mgda", "min active weight", info["act"], min)
            check("mgda", "max |w_slsqp - w| (info)", info["slsqp_dw"])
        add(case("mgda" + pre, "mgda", {}, T, [step_dict(G, L, d, w if indep else None)],
                 note=notes(snote, dep_note)))

        # ---- cagrad, c = 0.4 (default), 0 and 0.8
        for cval in (0.4, 0.0, 0.8):
            if cval == 0 and sname in ("random-3", "random-4", "parallel"):
                continue            # c = 0 (d = mean): a subset is enough
            d, w, winner, info = m_cagrad(G, cval)
            if cval == 0:
                check("cagrad", "c=0: |d - mean|", float(np.abs(d - G.mean(0)).max()))
            else:
                if "kkt_eq" in info:
                    check("cagrad", "KKT equality residual (rel)", info["kkt_eq"])
                if indep and "gap" in info:
                    check("cagrad", "min inactive KKT gap (rel)", info["gap"], min)
                    check("cagrad", "min active inner weight", info["act"], min)
                if "slsqp_dw" in info:
                    check("cagrad", "max |w_slsqp - w| (info)", info["slsqp_dw"])
            nm = "cagrad" + pre + ("" if cval == 0.4 else "/c%g" % cval)
            znote = None
            if winner is not None and not np.any(winner @ G):
                znote = "inner w = e_%d (a zero task): g_w = 0, lambda = 0, d = g0/(1+c^2)" % (
                    int(np.argmax(winner)))
            elif winner is None and cval != 0:
                znote = "g0 = 0: d = 0"
            add(case(nm, "cagrad", {"c": cval}, T, [step_dict(G, L, d, w if indep else None)],
                     note=notes(snote, znote, dep_note)))

        # ---- imtl (nearly singular D U^T never included: only exact-U=0 mean)
        d, w, info = m_imtl(G)
        assert info["singular"] or info["cond"] < 1e6, (sname, info)
        if not info["singular"] and "eqproj" in info:
            check("imtl", "equal projections d.u_k (rel spread)", info["eqproj"])
            check("imtl", "max cond(D U^T)", info["cond"])
        add(case("imtl" + pre, "imtl", {}, T, [step_dict(G, L, d, w)],
                 note=notes(snote, "D U^T singular: mean of the non-zero tasks"
                            if info["singular"] else None,
                            "zero-norm tasks get weight 0" if not np.all(G.any(axis=1))
                            else None)))

        # ---- nashmtl: only where the non-zero gradients are independent
        nzG = G[np.linalg.norm(G, axis=1) > 0]
        if len(nzG) == 0 or is_independent(nzG):
            d, w, info = m_nashmtl(G)
            check("nashmtl", "Nash equation residual max|a_i(G^a)_i - 1|", info["res"])
            check("nashmtl", "max cond(G^)", info["cond"])
            if "root_rel" in info:
                check("nashmtl", "vs scipy root (rel)", info["root_rel"])
            add(case("nashmtl" + pre, "nashmtl", {}, T, [step_dict(G, L, d, w)],
                     note=notes(snote, "zero-norm tasks get weight 0"
                                if len(nzG) < T else None,
                                "cond(G^) = %.3g" % info["cond"] if info["cond"] > 1e3 else None)))
        # else: skipped, singular Gram of non-zero tasks (parallel, opposed-exact):
        # the Nash equation has no solution (opposed) or is not well-conditioned.

        # ---- aligned
        d, w, info = m_aligned(G)
        check("aligned", "eigen cut margin (decades, min)", info["margin"], min)
        if "orth" in info:
            check("aligned", "rows of BG orthogonal, |.|^2 = lmin (rel)", info["orth"])
        anote = None
        if "ratio" in info and info["kept"] == T and info["ratio"] < 1e-4:
            anote = ("lambda_min/lambda_max = %.3g, cut at T*eps32 = %.3g: all kept, "
                     "but ill-conditioned (a float32 Gram loses digits)" % (info["ratio"], T * EPS32))
        add(case("aligned" + pre, "aligned", {}, T, [step_dict(G, L, d, w)],
                 note=notes(snote, anote, "all zero: d = 0, weights undefined"
                            if w is None else None)))

        # ---- upgrad
        d, w, info = m_upgrad(G)
        check("upgrad", "min d.g_j (abs)", info["mindot"], min)
        check("upgrad", "min cos(d, g_j)", info["mindot_rel"], min)
        check("upgrad", "vs SLSQP (rel)", info["slsqp"])
        check("upgrad", "vs dual nnls (rel)", info["nnls"])
        if indep:
            check("upgrad", "min inactive constraint margin", info["margin"], min)
        M = G @ G.T
        if M[np.triu_indices(T, 1)].min() >= 0:
            check("upgrad", "aligned: |d - mean|", float(np.abs(d - G.mean(0)).max()))
        if w is not None:
            check("upgrad", "|sum w g - d| (lstsq weights)", float(np.abs(w @ G - d).max()))
        add(case("upgrad" + pre, "upgrad", {}, T, [step_dict(G, L, d, w)],
                 note=notes(snote, dep_note)))

    # ---- gradvac sequences (4 steps each)
    gv_specs = [
        (2, GROUPS, 0.01, "seq-1", None),
        (3, GROUPS, 0.01, "seq-1", None),
        (2, GROUPS, 0.5, "seq-2", "beta 0.5: rho_hat moves, adjustments with rho >= 0"),
        (3, GROUPS, 0.5, "seq-2", "beta 0.5: rho_hat moves, adjustments with rho >= 0"),
        (3, GROUPS_PARTIAL, 0.01, "partial", "elements 3, 4, 8, 9 outside all groups (summed)"),
        (2, GROUPS_PARTIAL, 0.5, "partial", "elements 3, 4, 8, 9 outside all groups (summed)"),
        (3, GROUPS, 0.3, "zero", "task 1 zero in group 0 at step 1, task 2 zero everywhere at step 2"),
    ]
    for T, groups, beta, sname, gnote in gv_specs:
        steps = [f32(rng.standard_normal((T, N))) for _ in range(4)]
        if sname == "zero":
            steps[1][1, 0:4] = 0.0
            steps[2][2, :] = 0.0
        order = [int(x) for x in rng.permutation(T)]
        res, info = gradvac_seq(steps, groups, order, beta, N)
        check("gradvac", "min |rho - rho_hat| at a decision", info["margin"], min)
        check("gradvac", "adjustments", info["adj"], lambda a, b: a + b)
        check("gradvac", "adjustments with rho >= 0", info["adj_pos"], lambda a, b: a + b)
        check("gradvac", "adjusted cos(g_i', g_j) = rho_hat", info["target"])
        sd = []
        for G, (d, gws) in zip(steps, res):
            # the group weights reproduce merged
            dd = np.zeros(N)
            cov = np.zeros(N, dtype=bool)
            for (off, num), wk in zip(groups, gws):
                dd[off:off + num] = wk @ G[:, off:off + num]
                cov[off:off + num] = True
            dd[~cov] = G[:, ~cov].sum(0)
            check("gradvac", "|group_weights g - merged|", float(np.abs(dd - d).max()))
            sd.append(step_dict(G, rand_losses(T), d, gw=gws))
        add(case("gradvac/%d/%s" % (T, sname), "gradvac", {"beta": beta}, T, sd,
                 order=order, groups=groups, note=gnote))

    # ---- uw (5 steps, lr 0.1)
    for T in (2, 3):
        steps = [f32(rng.standard_normal((T, N))) for _ in range(5)]
        losses = [rand_losses(T) for _ in range(5)]
        ws, info = uw_seq(losses, 0.1, T)
        check("uw", "torch Adam vs hand-written (abs)", info["hand_adam"])
        check("uw", "max |s| after 5 steps", float(np.abs(info["s_final"]).max()))
        add(case("uw/%d/seq-1" % T, "uw", {"lr": 0.1}, T,
                 [step_dict(G, L, w @ G, w) for G, L, w in zip(steps, losses, ws)]))

    # ---- dwa (8 steps, steps_per_epoch 2)
    for T, temp in ((3, 2.0), (2, 2.0), (3, 1.0)):
        steps = [f32(rng.standard_normal((T, N))) for _ in range(8)]
        scale = rng.uniform(0.5, 2.5, size=T)
        losses = [f32(scale * math.exp(-0.15 * s) * rng.uniform(0.6, 1.4, size=T))
                  for s in range(8)]
        ws = dwa_seq(losses, 2, temp, T)
        check("dwa", "max |w - 1| in epochs >= 2", float(max(np.abs(w - 1).max() for w in ws[4:])))
        nm = "dwa/%d/seq-1" % T + ("" if temp == 2.0 else "/temp1")
        add(case(nm, "dwa", {"temperature": temp}, T,
                 [step_dict(G, L, w @ G, w) for G, L, w in zip(steps, losses, ws)],
                 steps_per_epoch=2))

    # ---- famo (6 steps)
    for T, lr, nm in ((3, 0.025, "seq-1"), (2, 0.025, "seq-1"), (3, 0.5, "seq-lr0.5")):
        steps = [f32(rng.standard_normal((T, N))) for _ in range(6)]
        losses = [rand_losses(T) for _ in range(6)]
        ws, info = famo_seq(losses, lr, 0.001, T)
        check("famo", "softmax J^T delta: autograd vs formula", info["jac"])
        check("famo", "max |xi| after 6 steps", float(np.abs(info["xi_final"]).max()))
        add(case("famo/%d/%s" % (T, nm), "famo", {"lr": lr, "decay": 0.001}, T,
                 [step_dict(G, L, w @ G, w) for G, L, w in zip(steps, losses, ws)]))

    # ---- write: one case per line, compact
    names = [c["name"] for c in cases]
    assert len(set(names)) == len(names)
    text = ('{"generator": %s, "cases": [\n' % json.dumps(GENERATOR)
            + ",\n".join(json.dumps(c, separators=(",", ":"), allow_nan=False) for c in cases)
            + "\n]}\n")
    with open(OUT, "w", encoding="ascii", newline="\n") as f:
        f.write(text)

    # ---- read back; weights reproduce merged; gradients float32-exact
    back = json.load(open(OUT))
    assert back["generator"] == GENERATOR
    worst = 0.0
    for c in back["cases"]:
        for s in c["steps"]:
            G = np.array(s["grads"])
            assert np.array_equal(G, f32(G))
            assert np.array_equal(np.array(s["losses"]), f32(s["losses"]))
            assert min(s["losses"]) > 0
            if "weights" in s:
                d = np.array(s["merged"])
                sc = max(1.0, np.abs(G).max())
                worst = max(worst, float(np.abs(np.array(s["weights"]) @ G - d).max() / sc))
    for meth in ["sum", "pcgrad", "mgda", "cagrad", "imtl", "nashmtl", "aligned", "upgrad",
                 "gradvac", "uw", "dwa", "famo"]:
        figs = ", ".join("%s %s" % (k, ("%.3g" % v) if isinstance(v, float) else v)
                         for k, v in CHECK.get(meth, {}).items())
        print("%-8s %3d cases%s" % (meth, counts.get(meth, 0), ("; " + figs) if figs else ""))
    print("weights reproduce merged: max |sum w g - d| / max(1, max|g|) = %.3g" % worst)
    print("%s: %d cases, %d bytes" % (os.path.relpath(OUT, ROOT), len(cases), len(text)))


if __name__ == "__main__":
    main()
