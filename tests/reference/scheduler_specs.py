"""How a scheduler case in lr_scheduler_sequences.json is built, read by both libraries.

Neither torch nor tinynet is imported here: ``build`` takes the scheduler
module (``torch.optim.lr_scheduler`` in make_scheduler_fixtures.py,
``tinynet.optim.lr_scheduler`` in the tests), so both build a case the same way.
"""


class Scale:
    """A callable object (its state is saved, unlike a function's): ``k ** epoch``."""

    def __init__(self, k):
        self.k = k

    def __call__(self, epoch):
        return self.k ** epoch


# the functions a spec names under "lr_lambda" or "scale_fn"
FUNCTIONS = {
    "decay": lambda e: 0.95 ** e,
    "warmup": lambda e: min(1.0, (e + 1) / 5),
    "halve_every_4": lambda e: 0.5 if e % 4 == 3 else 1.0,
    "shrink": lambda e: 0.9,
    "half_per_cycle": lambda x: 0.5 ** (x - 1),
}
# a Scale built with the first number; after a state_dict round trip the fresh one is built with the
# second, so what continues the schedule is the saved __dict__
OBJECTS = {"scale_0.9": (0.9, 0.5), "scale_1.1": (1.1, 0.7)}


def function(name, fresh=False):
    """The function a spec names (a new ``Scale`` for an object's name)."""
    if name in OBJECTS:
        return Scale(OBJECTS[name][1 if fresh else 0])
    return FUNCTIONS[name]


def build(module, opt, spec, fresh=False, last_epoch=None):
    """The scheduler of ``module`` a spec describes: {"scheduler", "kwargs"}, inner specs under "schedulers"."""
    kwargs = dict(spec.get("kwargs", {}))
    for key in ("lr_lambda", "scale_fn"):
        if key in kwargs:
            v = kwargs[key]
            kwargs[key] = [function(f, fresh) for f in v] if isinstance(v, list) else function(v, fresh)
    if last_epoch is not None:
        kwargs["last_epoch"] = last_epoch
    cls = getattr(module, spec["scheduler"])
    if spec["scheduler"] == "SequentialLR":
        return cls(opt, [build(module, opt, s, fresh) for s in spec["schedulers"]], **kwargs)
    if spec["scheduler"] == "ChainedScheduler":
        return cls([build(module, opt, s, fresh) for s in spec["schedulers"]])
    return cls(opt, **kwargs)
