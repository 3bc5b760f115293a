"""The lecture's experiments: its two products of random matrices and its 13 networks, seeded as one run.

Each task draws from its own child of ``numpy.random.SeedSequence(seed)``,
so results do not depend on how many workers run them, or in what order.
"""

from dataclasses import dataclass

import numpy as np

import tinynet as tn

from .. import theory
from ..blas import one_blas_thread
from ..probes import matrix_product
from ..report import lecture_text
from .gradient import ProbeConfig, synthetic_gradient

MATRIX_SCALES = (0.5, 0.7)
LECTURE_SCALES = (0.1, 0.2, 0.4, 0.8)

#: n (lambda_1 - lambda_2) from which a product counts as rank one, where the
#: typical prediction of its entries holds (the lecture's k = 4, n = 100 has 19).
RANK_ONE_MARGIN = 5.0


def lecture_configs(depth=50, width=100, repeats=10, dtype="float64"):
    """The lecture's 13 configurations, in its order."""
    kw = dict(depth=depth, width=width, repeats=repeats, dtype=dtype)
    configs = [ProbeConfig("relu", f"normal:{s}", **kw) for s in LECTURE_SCALES]
    configs.append(ProbeConfig("relu", "xavier_uniform", **kw))
    for act in ("sigmoid", "scaled_sigmoid"):
        configs += [ProbeConfig(act, f"normal:{s}", **kw) for s in LECTURE_SCALES]
    return configs



@dataclass(frozen=True)
class ProductPrediction:
    """What the theory predicts for a product of random matrices.

    ``lyapunov_log10_per_step``: the exact typical growth rate, decades per
    factor; ``typical_log10_mean_abs``: log10 mean |entry| of one product,
    None before the product has collapsed to rank one (``rank_one_margin``
    = n (lambda_1 - lambda_2) below ``RANK_ONE_MARGIN``), where it does not hold.
    """

    lyapunov_log10_per_step: float
    typical_log10_mean_abs: float
    rank_one_margin: float


def random_product(scale, k, n, dtype, rng):
    """``matrix_product`` with the theory's prediction in ``prediction`` (a :class:`ProductPrediction`)."""
    result = matrix_product(scale, k=k, n=n, rng=rng, dtype=np.dtype(dtype))
    p = theory.predict_random_product(scale, k, n)
    collapsed = p.rank_one_margin >= RANK_ONE_MARGIN
    result.prediction = ProductPrediction(p.log10_rate, p.typical_log10_mean_abs_entry if collapsed else None,
                                          p.rank_one_margin)
    return result


def _run_task(task):
    kind, payload, seed = task
    rng = np.random.default_rng(seed)
    if kind == "matrices":
        return random_product(*payload, rng)
    return synthetic_gradient(payload, rng, progress=False)  # run_tasks's bar counts the tasks


@one_blas_thread
def run_tasks(tasks, seed, executor=None, progress=True, desc="probing"):
    """Run ``(kind, payload)`` tasks, each seeded by its own child of ``SeedSequence(seed)``.

    ``kind`` is ``"gradient"`` (payload a ``ProbeConfig``) or ``"matrices"``
    (payload ``(scale, k, n, dtype)``). ``executor`` is any
    ``concurrent.futures.Executor`` (None: run here, in order). The results
    come back in task order and are the same whatever the executor.
    ``progress``: a bar over the tasks (``tinynet.progress_bar``); False: silent.
    """
    children = np.random.SeedSequence(seed).spawn(len(tasks))
    seeded = [(kind, payload, child) for (kind, payload), child in zip(tasks, children)]
    mapped = map(_run_task, seeded) if executor is None else executor.map(_run_task, seeded)
    return list(tn.progress_bar(mapped, total=len(seeded), desc=desc, enabled=progress))


def sweep(configs, seed=0, executor=None, progress=True):
    """Probe every :class:`ProbeConfig`; one :class:`ExperimentResult` each, in order."""
    return run_tasks([("gradient", c) for c in configs], seed, executor, progress)


@dataclass
class LectureResult:
    """Everything the lecture computed: two matrix products and 13 gradient experiments."""

    seed: int
    dtype: str
    matrices: list
    experiments: list

    def __repr__(self):
        verdicts = [e.verdict for e in self.experiments]
        counts = ", ".join(f"{verdicts.count(v)} {v}" for v in dict.fromkeys(verdicts))
        return (f"LectureResult(seed {self.seed}, {self.dtype}: {len(self.matrices)} matrix products, "
                f"{len(self.experiments)} networks: {counts})")

    def _repr_html_(self):
        """The tables ``lecture`` prints, in HTML."""
        return lecture_text(self).to_html()


def lecture_tasks(dtype="float64", k=4, n=100):
    """The lecture's tasks for :func:`run_tasks`: its two matrix products, then its 13 networks."""
    return ([("matrices", (s, k, n, dtype)) for s in MATRIX_SCALES]
            + [("gradient", c) for c in lecture_configs(dtype=dtype)])


def run_lecture(seed=0, dtype="float64", executor=None, progress=True, k=4, n=100):
    """Run all of the lecture's experiments with one seed."""
    results = run_tasks(lecture_tasks(dtype, k, n), seed, executor, progress, desc="lecture")
    nm = len(MATRIX_SCALES)
    return LectureResult(seed, str(np.dtype(dtype)), results[:nm], results[nm:])
