"""``trainability``: does a network of this weight variance and depth train, and did the theory say so?

Schoenholz et al. (2017, "Deep Information Propagation") found that a
network trains only when it is shallower than a few times xi_c, the depth
over which two inputs' correlation settles (``theory.regime``). Each cell
of a grid of sigma_w^2 by depth trains real MLPs on a toy set, one per
seed, with one fixed :class:`TrainingRecipe`; the theory's trainable depth per
sigma_w^2 is ``TRAINABLE_XI_C * xi_c``. The recipe and what it changes are
in docs/trainability.md.
"""

import math
from dataclasses import dataclass, field

import numpy as np

import tinynet as tn

from .. import theory
from ..blas import one_blas_thread
from ..report import trainability_text
from .training import DATASETS

#: The predicted trainable depth in units of xi_c: Schoenholz et al.'s 6 xi_c.
TRAINABLE_XI_C = 6.0
#: Training accuracy at or above which a cell counts as trained.
TRAINED_ACCURACY = 0.8
#: A column agrees when its measured trainable depth is within this factor of the predicted one.
AGREEMENT_FACTOR = 3.0
#: The default weight variances, as multiples of the critical one: two ordered, critical, two chaotic.
SIGMA_W2_FACTORS = (0.55, 0.75, 1.0, 1.4, 2.2)
#: The default depths: doubling, so the grid spans 6 xi_c of every default column.
TRAINABILITY_DEPTHS = (9, 18, 36, 72, 144)


@dataclass(frozen=True)
class TrainingRecipe:
    """How every cell trains: Adam at ``lr = lr_times_depth / depth``, ``epochs`` over ``n_samples``.

    The learning rate falls as 1/depth because a step changes the output
    by a sum over the layers: at a fixed rate a deep network's steps are
    too large for it to train at all (docs/trainability.md).
    """

    dataset: str = "spirals"
    n_samples: int = 300
    batch_size: int = 30
    epochs: int = 20
    lr_times_depth: float = 0.003

    @property
    def steps(self):
        """Optimizer steps per network: batches per epoch times epochs."""
        return -(-self.n_samples // self.batch_size) * self.epochs

    def lr(self, depth):
        """Adam's learning rate for a network of ``depth`` hidden layers."""
        return self.lr_times_depth / depth

    def __str__(self):
        return (f"Adam, lr = {self.lr_times_depth:g} / depth, {self.steps} steps ({self.epochs} epochs of "
                f"{self.n_samples} {self.dataset} points in batches of {self.batch_size})")


@dataclass(frozen=True)
class TrainabilityCell:
    """One network of the grid: ``depth`` hidden layers of ``width``, weights N(0, sigma_w2 / fan_in)."""

    activation: str
    sigma_w2: float
    sigma_b2: float
    depth: int
    width: int
    recipe: TrainingRecipe
    dtype: str = "float64"

    def build(self, rng):
        """The MLP, ``(batch, 2) -> (batch, classes)``: weights N(0, sigma_w2 / fan_in), biases N(0, sigma_b2)."""
        init = tn.init.from_spec(f"variance_scaling:{self.sigma_w2:.17g},fan_in,untruncated_normal")
        sizes = [2] + [self.width] * self.depth + [DATASETS[self.recipe.dataset]]
        return tn.MLP(sizes, self.activation, weight_init=init, rng=rng, dtype=np.dtype(self.dtype),
                      bias_init=tn.init.Normal(std=math.sqrt(self.sigma_b2)))


def train_cell(cell, data, rng):
    """Train one network of ``cell`` on ``data = (x, y)``; its training accuracy (None: it diverged)."""
    x, y = data
    x = x.astype(cell.dtype)
    net = cell.build(rng)
    opt = tn.optim.Adam(net.parameters(), lr=cell.recipe.lr(cell.depth))
    try:
        # a diverging run overflows on its way to nan, which fit reports; numpy's warnings would repeat it
        with np.errstate(over="ignore", invalid="ignore"):
            tn.fit(net, tn.CrossEntropyLoss(), opt, x, y, epochs=cell.recipe.epochs,
                   batch_size=cell.recipe.batch_size, rng=rng, progress=False)
    except tn.NonFiniteLossError:
        return None
    return tn.evaluate(net, tn.CrossEntropyLoss(), x, y)["accuracy"]


@dataclass
class TrainabilityColumn:
    """One sigma_w^2 of the grid: the theory's regime and predicted depth beside the measured one."""

    sigma_w2: float
    regime: object  # theory.Regime
    accuracy: list  # per depth: the mean over the seeds that finished (None: every seed diverged)
    seeds: list  # per depth: each seed's accuracy (None: diverged)
    depths: tuple

    @property
    def predicted_depth(self):
        """``TRAINABLE_XI_C * xi_c`` (inf at the critical point, where xi_c is unbounded; None: no xi_c)."""
        return _predicted_depth(self.regime)

    def trained(self, i):
        """Whether the networks at ``depths[i]`` trained: none diverged and the mean reached TRAINED_ACCURACY."""
        return None not in self.seeds[i] and self.accuracy[i] >= TRAINED_ACCURACY

    @property
    def trainable_depth(self):
        """``(last depth trained, first depth failed)`` before the first failure; None for a side not seen."""
        for i, depth in enumerate(self.depths):
            if not self.trained(i):
                return (self.depths[i - 1] if i else None, depth)
        return (self.depths[-1], None)

    @property
    def agrees(self):
        """Whether the measured trainable depth can lie within AGREEMENT_FACTOR of the predicted one (None: none)."""
        low, high = self.trainable_depth
        p = self.predicted_depth
        if p is None:
            return None
        # the measured depth lies in [low, high) (below the grid: (0, high); beyond it: [low, inf))
        return (high is None or high > p / AGREEMENT_FACTOR) and (low is None or low < p * AGREEMENT_FACTOR)

    @property
    def verdict(self):
        """``agrees``, ``trains deeper than predicted``, ``fails sooner than predicted`` or ``no prediction``."""
        if self.agrees is None:
            return "no prediction"
        if self.agrees:
            return "agrees"
        low, _ = self.trainable_depth
        return "trains deeper than predicted" if low is not None and low >= self.predicted_depth * \
            AGREEMENT_FACTOR else "fails sooner than predicted"


@dataclass
class TrainabilityResult:
    """The grid: one :class:`TrainabilityColumn` per sigma_w^2, and what every cell shared."""

    activation: str
    sigma_b2: float
    width: int
    depths: tuple
    recipe: TrainingRecipe
    n_seeds: int
    seed: int
    dtype: str
    critical_sigma_w2: float  # None: the activation has no critical point at this sigma_b2
    columns: list = field(default_factory=list)
    # the rules every column's verdict follows, for whoever presents the result
    trainable_xi_c = TRAINABLE_XI_C
    trained_accuracy = TRAINED_ACCURACY
    agreement_factor = AGREEMENT_FACTOR

    def __repr__(self):
        verdicts = [c.verdict for c in self.columns]
        counts = ", ".join(f"{verdicts.count(v)} {v}" for v in dict.fromkeys(verdicts))
        return (f"TrainabilityResult({self.activation}, sigma_b^2 {self.sigma_b2:g}, width {self.width}: "
                f"{len(self.columns)} sigma_w^2 x {len(self.depths)} depths, {self.n_seeds} seed"
                f"{'s' if self.n_seeds > 1 else ''} a cell; {counts or 'no columns'})")

    def _repr_html_(self):
        """The tables ``trainability`` prints, in HTML."""
        return trainability_text(self).to_html()


def default_sigma_w2(activation, sigma_b2):
    """``SIGMA_W2_FACTORS`` times the critical sigma_w^2 (``theory.NoCriticalPoint`` when there is none)."""
    critical = theory.critical_sigma_w(activation, math.sqrt(sigma_b2)) ** 2
    return tuple(round(critical * f, 2) for f in SIGMA_W2_FACTORS)


def predicted_boundary(activation, sigma_b2, sigma_w2):
    """``TRAINABLE_XI_C * xi_c`` at each of ``sigma_w2`` (an array): the theory's line on the heatmap."""
    depths = [_predicted_depth(theory.regime(activation, math.sqrt(s), math.sqrt(sigma_b2)))
              for s in np.asarray(sigma_w2, dtype=float)]
    return np.array([math.nan if d is None else d for d in depths])


def _predicted_depth(regime):
    # a regime without a correlation depth scale (xi_c None or nan) predicts nothing
    xi_c = regime.xi_c
    return None if xi_c is None or math.isnan(xi_c) else TRAINABLE_XI_C * xi_c


def _run(task):
    cell, data_seed, net_seed = task
    x, y = getattr(tn.datasets, cell.recipe.dataset)(n_samples=cell.recipe.n_samples,
                                                      rng=np.random.default_rng(data_seed))
    return train_cell(cell, (x, y), np.random.default_rng(net_seed))


@one_blas_thread
def run_trainability(activation="tanh", sigma_w2=None, depths=TRAINABILITY_DEPTHS, sigma_b2=0.05, width=100, seeds=2,
                     recipe=TrainingRecipe(), seed=0, dtype="float64", executor=None, progress=True):
    """Train ``seeds`` networks per (sigma_w^2, depth) cell; a :class:`TrainabilityResult`.

    ``sigma_w2`` None: :func:`default_sigma_w2`. Seed ``s`` draws its data
    set from ``SeedSequence(seed, spawn_key=(s,))``, the same in every cell,
    so cells differ only in the network; each network draws from its own
    child key, so results are the same whatever ``executor`` (any
    ``concurrent.futures.Executor``; None: here) runs them.
    """
    act = tn.activation(activation)
    if not isinstance(sigma_b2, (int, float)) or not 0 <= sigma_b2 < math.inf:
        raise ValueError(f"trainability: sigma_b2 must be a finite number >= 0, got {sigma_b2!r}")
    if recipe.dataset not in DATASETS:
        raise ValueError(f"trainability: the recipe's dataset must be one of {', '.join(DATASETS)}, "
                         f"got {recipe.dataset!r}")
    sigma_w2 = default_sigma_w2(act, sigma_b2) if sigma_w2 is None else tuple(sorted({float(s) for s in sigma_w2}))
    depths = tuple(sorted(set(int(d) for d in depths)))
    if not sigma_w2 or not depths or min(sigma_w2) <= 0 or min(depths) < 1 or seeds < 1:
        raise ValueError(f"trainability: needs positive sigma_w2, depths >= 1 and seeds >= 1, got "
                         f"sigma_w2 {sigma_w2}, depths {depths}, seeds {seeds}")
    try:
        critical = theory.critical_sigma_w(act, math.sqrt(sigma_b2)) ** 2
    except theory.NoCriticalPoint:
        critical = None
    cells = [TrainabilityCell(act.name, s, sigma_b2, d, width, recipe, dtype) for s in sigma_w2 for d in depths]
    tasks = [(c, np.random.SeedSequence(seed, spawn_key=(k,)),
              np.random.SeedSequence(seed, spawn_key=(k, i))) for i, c in enumerate(cells) for k in range(seeds)]
    # the deepest first, so the last tasks left to a pool of workers are short ones
    order = sorted(range(len(tasks)), key=lambda j: -tasks[j][0].depth)
    ordered = [tasks[j] for j in order]
    mapped = map(_run, ordered) if executor is None else executor.map(_run, ordered)
    mapped = tn.progress_bar(mapped, total=len(ordered), desc="training", enabled=progress)
    accuracies = [None] * len(tasks)
    for j, a in zip(order, mapped):
        accuracies[j] = a
    result = TrainabilityResult(act.name, sigma_b2, width, depths, recipe, seeds, seed, dtype, critical)
    for n, s in enumerate(sigma_w2):
        per_depth = [accuracies[(n * len(depths) + i) * seeds:(n * len(depths) + i + 1) * seeds]
                     for i in range(len(depths))]
        means = [_mean(a) for a in per_depth]
        regime = theory.regime(act, math.sqrt(s), math.sqrt(sigma_b2))
        result.columns.append(TrainabilityColumn(s, regime, means, per_depth, depths))
    return result


def _mean(values):
    finished = [v for v in values if v is not None]
    return float(np.mean(finished)) if finished else None
