"""The lecture's 13 synthetic-gradient configurations as its notebook computed them: a plain numpy loop.

The reference `benchmarks/run.py` times `python -m diagnostics lecture`
against (whole process, imports included). Like the notebook it keeps no
logs, so in float64 the large cases are plain floats; it prints one line per
configuration.
"""

import numpy as np


def sigmoid(x):
    return 1.0 / (1.0 + np.exp(-np.clip(x, -500, 500)))


ACTIVATIONS = {
    "relu": (lambda x: np.maximum(x, 0), lambda x: (x > 0).astype(x.dtype)),
    "sigmoid": (sigmoid, lambda x: sigmoid(x) * (1 - sigmoid(x))),
    "scaled_sigmoid": (lambda x: 4 * sigmoid(x) - 2, lambda x: 4 * sigmoid(x) * (1 - sigmoid(x))),
}


def synthetic_gradient(k, sigma, sigma_prime, get_weight, rng, depth=50, repeats=10):
    total = 0.0
    for _ in range(repeats):
        h = np.ones(k)
        y = np.eye(k)
        for _ in range(depth):
            w = get_weight(rng)
            z = w @ h
            y = (sigma_prime(z)[:, None] * w) @ y
            h = sigma(z)
        total += np.abs(y).mean()
    return total / repeats


def main(seed=0, k=100):
    rng = np.random.default_rng(seed)
    bound = np.sqrt(6 / (k + k))
    configs = [("relu", s) for s in (0.1, 0.2, 0.4, 0.8)] + [("relu", "xavier")]
    configs += [(a, s) for a in ("sigmoid", "scaled_sigmoid") for s in (0.1, 0.2, 0.4, 0.8)]
    for name, scale in configs:
        if scale == "xavier":
            def get_weight(r):
                return r.uniform(-bound, bound, (k, k))
        else:
            def get_weight(r, s=scale):
                return r.normal(0, s, (k, k))
        fn, deriv = ACTIVATIONS[name]
        print(name, scale, synthetic_gradient(k, fn, deriv, get_weight, rng))


if __name__ == "__main__":
    with np.errstate(all="ignore"):
        main()
