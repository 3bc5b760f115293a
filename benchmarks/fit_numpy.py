"""The trainability recipe's training loop in plain numpy: the reference ``benchmarks/run.py`` times ``fit`` against.

A tanh MLP ending in a linear layer, softmax cross-entropy on integer
labels, and Adam (PyTorch's defaults: betas 0.9 and 0.999, eps 1e-8), one
epoch of shuffled minibatches per call. It computes what ``tinynet.fit``
computes and reports (the loss and the accuracy of every batch) with the
same formulas, so the ratio is the framework's cost: tanh's derivative is
``4 e / (1 + e)**2`` with ``e = exp(-2 |z|)``, which keeps its true size
where ``1 - tanh(z)**2`` rounds to 0 (|z| > 19) but costs an ``exp`` per
element.
"""

import numpy as np


def init_adam(params):
    """Adam's state: the step count and a zero first and second moment per array."""
    return {"t": 0, "m": [np.zeros_like(p) for p in params], "v": [np.zeros_like(p) for p in params]}


def train_epoch(params, state, x, y, batch_size, rng, lr=1e-3, betas=(0.9, 0.999), eps=1e-8):
    """One epoch over ``x: (n, in)``, ``y: (n,)`` int labels; ``params = [w0, b0, w1, b1, ...]``, updated in place.

    ``w: (out, in)``, ``b: (out,)``, as in ``tinynet.Linear``. Returns the
    mean loss and the accuracy of the epoch.
    """
    beta1, beta2 = betas
    n = len(x)
    perm = rng.permutation(n)
    total, correct = 0.0, 0
    for start in range(0, n, batch_size):
        idx = perm[start:start + batch_size]
        xb, yb = x[idx], y[idx]
        rows = np.arange(len(idx))
        hs, zs = [xb], []
        for i in range(0, len(params), 2):
            z = hs[-1] @ params[i].T + params[i + 1]
            zs.append(z)
            hs.append(np.tanh(z) if i + 2 < len(params) else z)
        logits = hs.pop()
        shifted = logits - logits.max(axis=1, keepdims=True)
        log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
        total += -log_probs[rows, yb].sum()
        correct += int(np.count_nonzero(logits.argmax(axis=1) == yb))
        g = np.exp(log_probs)
        g[rows, yb] -= 1
        g /= len(idx)
        grads = [None] * len(params)
        for i in reversed(range(0, len(params), 2)):
            grads[i], grads[i + 1] = g.T @ hs[i // 2], g.sum(axis=0)
            if i:
                e = np.exp(-2.0 * np.abs(zs[i // 2 - 1]))
                g = (g @ params[i]) * (4.0 * e / (1.0 + e) ** 2)
        state["t"] += 1
        t = state["t"]
        step_size = lr / (1 - beta1 ** t)
        root = (1 - beta2 ** t) ** 0.5
        for p, grad, m, v in zip(params, grads, state["m"], state["v"]):
            m *= beta1
            m += (1 - beta1) * grad
            v *= beta2
            v += (1 - beta2) * grad * grad
            p -= step_size * m / (np.sqrt(v) / root + eps)
    return total / n, correct / n
