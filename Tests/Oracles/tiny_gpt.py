#!/usr/bin/env python3
"""An independent NumPy implementation of examples/tiny-gpt.graph: forward pass and
hand-written backward pass over all names at once, checked here against central differences of
its own forward pass.

Usage: tiny_gpt.py DOCUMENT.json
  DOCUMENT.json is `chainrule --json --of L` of the example without its `:train` line; only the
  values of its named leaves are read (the names, the mask and the params). Prints one JSON
  object, {"L": loss, "grads": {name: gradient as nested lists}}, with the gradient of every
  param, of the mask M and of the one-hot contexts X, for the test to compare with chainrule's
  own values. Exits 1 if the backward pass here disagrees with central differences.

TinyGPTTests (Tests/ChainruleCLITests) runs it; by hand:
  grep -v '^:train' examples/tiny-gpt.graph > /tmp/g.graph
  chainrule --json --of L /tmp/g.graph > /tmp/g.json
  python3 Tests/Oracles/tiny_gpt.py /tmp/g.json
"""
import json
import sys

import numpy as np

D = 16  # the width of the residual stream
HEAD = 8  # the width of each head's queries, keys and values
HEADS = [("Wq1", "Wk1", "Wv1", "Wo1"), ("Wq2", "Wk2", "Wv2", "Wo2")]
PARAMS = ["Wte", "Wpe"] + [w for head in HEADS for w in head[:3]] + [head[3] for head in HEADS] \
    + ["W1", "b1", "W2", "b2", "Wout"]


def rms_forward(h):
    s = 1.0 / np.sqrt(np.mean(h * h, axis=-1, keepdims=True) + 1e-5)
    return h * s, s


def rms_backward(h, s, dr):
    # r = h·s with s = (mean(h²) + ε)^(−1/2) per row:  ∂s/∂h = −s³·h/D
    return dr * s - h * s**3 * np.sum(dr * h, axis=-1, keepdims=True) / D


def softmax(z):
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def outer_sum(a, b):
    """Σ over names and positions of a[n, t]ᵀ b[n, t]: the gradient of a weight W in a @ W."""
    return np.einsum("nti,ntj->ij", a, b)


def model(p, X, Y, M):
    """The loss, mean cross-entropy over every position of every name, and its gradients
    (every param, X and M). X is N × T × V one-hot, Y is N × T class indices."""
    N, T, V = X.shape
    h0 = X @ p["Wte"] + p["Wpe"]
    r0, s0 = rms_forward(h0)
    heads = []
    a = h0.copy()
    for wq, wk, wv, wo in HEADS:
        q, k, v = r0 @ p[wq], r0 @ p[wk], r0 @ p[wv]
        A = softmax(q @ k.transpose(0, 2, 1) / np.sqrt(HEAD) + M)
        y = A @ v
        a = a + y @ p[wo]
        heads.append((q, k, v, A, y))
    r1, s1 = rms_forward(a)
    u = r1 @ p["W1"] + p["b1"]
    hidden = np.maximum(u, 0)
    o = a + hidden @ p["W2"] + p["b2"]
    z = o @ p["Wout"]
    P = softmax(z)
    n, t = np.meshgrid(np.arange(N), np.arange(T), indexing="ij")
    loss = np.mean(-np.log(P[n, t, Y]))

    g = {}
    dz = P.copy()
    dz[n, t, Y] -= 1
    dz /= N * T
    g["Wout"] = outer_sum(o, dz)
    do = dz @ p["Wout"].T
    # o = a + mlp(rms(a))
    g["W2"] = outer_sum(hidden, do)
    g["b2"] = do.sum(axis=(0, 1))
    du = (do @ p["W2"].T) * (u > 0)
    g["W1"] = outer_sum(r1, du)
    g["b1"] = du.sum(axis=(0, 1))
    da = do + rms_backward(a, s1, du @ p["W1"].T)
    # a = h0 + Σ_heads softmax(q kᵀ/√8 + M) v Wo, with q, k, v from rms(h0)
    dr0 = np.zeros_like(r0)
    g["M"] = np.zeros_like(M)
    for (wq, wk, wv, wo), (q, k, v, A, y) in zip(HEADS, heads):
        g[wo] = outer_sum(y, da)
        dy = da @ p[wo].T
        dA = dy @ v.transpose(0, 2, 1)
        dv = A.transpose(0, 2, 1) @ dy
        dS = A * (dA - np.sum(dA * A, axis=-1, keepdims=True))
        dq = dS @ k / np.sqrt(HEAD)
        dk = dS.transpose(0, 2, 1) @ q / np.sqrt(HEAD)
        g[wq], g[wk], g[wv] = outer_sum(r0, dq), outer_sum(r0, dk), outer_sum(r0, dv)
        dr0 += dq @ p[wq].T + dk @ p[wk].T + dv @ p[wv].T
        g["M"] += dS.sum(axis=0)
    dh0 = da + rms_backward(h0, s0, dr0)
    g["Wte"] = outer_sum(X, dh0)
    g["Wpe"] = dh0.sum(axis=0)
    g["X"] = dh0 @ p["Wte"].T
    return loss, g


def self_check(p, X, Y, M, grads):
    """Central differences of the forward pass at a few elements of every param and of M."""
    worst = 0.0
    rng = np.random.default_rng(0)
    tensors = dict(p, M=M)
    for name, tensor in tensors.items():
        for flat in rng.choice(tensor.size, size=min(4, tensor.size), replace=False):
            index = np.unravel_index(flat, tensor.shape)
            saved = tensor[index]
            h = 1e-5
            tensor[index] = saved + h
            up, _ = model(p, X, Y, M)
            tensor[index] = saved - h
            down, _ = model(p, X, Y, M)
            tensor[index] = saved
            fd = (up - down) / (2 * h)
            worst = max(worst, abs(fd - grads[name][index]) / max(1e-4, abs(fd)))
    return worst


def main():
    document = json.load(open(sys.argv[1]))
    nodes = {node["name"]: node for node in document["nodes"] if node["name"] is not None}
    p = {name: np.array(nodes[name]["value"], dtype=float) for name in PARAMS}
    names = np.array(nodes["names"]["value"], dtype=int)
    M = np.array(nodes["M"]["value"], dtype=float)
    V = p["Wte"].shape[0]
    X = np.eye(V)[names[:, :-1]]  # the contexts, one-hot
    Y = names[:, 1:]  # the next characters
    loss, grads = model(p, X, Y, M)
    worst = self_check(p, X, Y, M, grads)
    if worst > 1e-5:
        print(f"tiny_gpt.py: the backward pass here differs from central differences by {worst:.3g}", file=sys.stderr)
        sys.exit(1)
    print(json.dumps({"L": loss, "grads": {name: g.tolist() for name, g in grads.items()}, "fd_relative_error": worst}))


if __name__ == "__main__":
    main()
