#!/usr/bin/env python3
"""An independent NumPy implementation of examples/tiny-gpt.graph: forward pass and
hand-written backward pass, checked here against central differences of its own forward pass.

Usage: tiny_gpt.py DOCUMENT.json
  DOCUMENT.json is `chainrule --json --of L` of the example without its `:train` line; only the
  values of its named leaves are read (the data, the mask and the params). Prints one JSON object,
  {"L": loss, "grads": {leaf name: gradient as nested lists}}, for the test to compare with
  chainrule's own values. Exits 1 if the backward pass here disagrees with central differences.

TinyGPTOracleTests (Tests/ChainruleCLITests) runs it; by hand:
  grep -v '^:train' examples/tiny-gpt.graph > /tmp/g.graph
  chainrule --json --of L /tmp/g.graph > /tmp/g.json
  python3 Tests/Oracles/tiny_gpt.py /tmp/g.json
"""
import json
import sys

import numpy as np

D = 8  # the width of the residual stream
PARAMS = ["Wte", "Wpe", "Wq", "Wk", "Wv", "Wo", "W1", "b1", "W2", "b2", "Wout"]
DATA = ["X1", "X2", "M"]


def rms_forward(h):
    s = 1.0 / np.sqrt(np.mean(h * h, axis=1, keepdims=True) + 1e-5)
    return h * s, s


def rms_backward(h, s, dr):
    # r = h·s with s = (mean(h²) + ε)^(−1/2):  ∂s/∂h = −s³·h/D
    return dr * s - h * s**3 * np.sum(dr * h, axis=1, keepdims=True) / D


def softmax(z):
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def sequence(p, X, t, M, scale):
    """Loss scale·cross_entropy(gpt(X), t) and its gradients (params, X, M)."""
    g = {}
    h0 = X @ p["Wte"] + p["Wpe"]
    r0, s0 = rms_forward(h0)
    q, k, v = r0 @ p["Wq"], r0 @ p["Wk"], r0 @ p["Wv"]
    S = q @ k.T / np.sqrt(D) + M
    A = softmax(S)
    y = A @ v
    a = h0 + y @ p["Wo"]
    r1, s1 = rms_forward(a)
    u = r1 @ p["W1"] + p["b1"]
    hidden = np.maximum(u, 0)
    o = a + hidden @ p["W2"] + p["b2"]
    z = o @ p["Wout"]
    P = softmax(z)
    T = len(t)
    rows = np.arange(T)
    loss = scale * np.mean(-np.log(P[rows, t]))

    dz = P.copy()
    dz[rows, t] -= 1
    dz *= scale / T
    g["Wout"] = o.T @ dz
    do = dz @ p["Wout"].T
    # o = a + mlp(rms(a))
    g["W2"] = hidden.T @ do
    g["b2"] = do.sum(axis=0)
    du = (do @ p["W2"].T) * (u > 0)
    g["W1"] = r1.T @ du
    g["b1"] = du.sum(axis=0)
    da = do + rms_backward(a, s1, du @ p["W1"].T)
    # a = h0 + softmax(q kᵀ/√D + M) v Wo, with q, k, v from rms(h0)
    g["Wo"] = y.T @ da
    dy = da @ p["Wo"].T
    dA = dy @ v.T
    dv = A.T @ dy
    dS = A * (dA - np.sum(dA * A, axis=1, keepdims=True))
    dq = dS @ k / np.sqrt(D)
    dk = dS.T @ q / np.sqrt(D)
    g["Wq"], g["Wk"], g["Wv"] = r0.T @ dq, r0.T @ dk, r0.T @ dv
    dr0 = dq @ p["Wq"].T + dk @ p["Wk"].T + dv @ p["Wv"].T
    dh0 = da + rms_backward(h0, s0, dr0)
    g["Wte"] = X.T @ dh0
    g["Wpe"] = dh0
    g["X"] = dh0 @ p["Wte"].T
    g["M"] = dS
    return loss, g


def model(p, data, t1, t2):
    L1, g1 = sequence(p, data["X1"], t1, data["M"], 0.5)
    L2, g2 = sequence(p, data["X2"], t2, data["M"], 0.5)
    grads = {name: g1[name] + g2[name] for name in PARAMS}
    grads["X1"], grads["X2"], grads["M"] = g1["X"], g2["X"], g1["M"] + g2["M"]
    return L1 + L2, grads


def self_check(p, data, t1, t2, grads):
    """Central differences of the forward pass at a few elements of every param."""
    worst = 0.0
    rng = np.random.default_rng(0)
    for name in PARAMS:
        for flat in rng.choice(p[name].size, size=min(4, p[name].size), replace=False):
            index = np.unravel_index(flat, p[name].shape)
            saved = p[name][index]
            h = 1e-5
            p[name][index] = saved + h
            up, _ = model(p, data, t1, t2)
            p[name][index] = saved - h
            down, _ = model(p, data, t1, t2)
            p[name][index] = saved
            fd = (up - down) / (2 * h)
            worst = max(worst, abs(fd - grads[name][index]) / max(1e-4, abs(fd)))
    return worst


def main():
    document = json.load(open(sys.argv[1]))
    nodes = {node["name"]: node for node in document["nodes"] if node["name"] is not None}
    p = {name: np.array(nodes[name]["value"], dtype=float) for name in PARAMS}
    data = {name: np.array(nodes[name]["value"], dtype=float) for name in DATA}
    t1 = np.array(nodes["t1"]["value"], dtype=int)
    t2 = np.array(nodes["t2"]["value"], dtype=int)
    loss, grads = model(p, data, t1, t2)
    worst = self_check(p, data, t1, t2, grads)
    if worst > 1e-5:
        print(f"tiny_gpt.py: the backward pass here differs from central differences by {worst:.3g}", file=sys.stderr)
        sys.exit(1)
    print(json.dumps({"L": loss, "grads": {name: g.tolist() for name, g in grads.items()}, "fd_relative_error": worst}))


if __name__ == "__main__":
    main()
