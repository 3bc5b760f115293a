"""TensorDataset and DataLoader: minibatches as PyTorch's ``torch.utils.data`` makes them.

A dataset is anything with ``len(dataset)`` and ``dataset[i]``, one sample
(an array, or a tuple of arrays). A ``DataLoader`` groups the samples into
batches in order, or in a new random order each pass when ``shuffle`` is on,
drawn from a ``numpy.random.Generator``, and stacks each batch along a new
first axis.
"""

import math

import numpy as np

from .checks import check_bool, check_rng, check_size


class TensorDataset:
    """Samples from arrays of equal length: ``dataset[i]`` is ``(a[i], b[i], ...)``.

    ``arrays``: each of shape ``(n, ...)``; anything ``numpy.asarray`` takes.
    As ``torch.utils.data.TensorDataset``; the arrays are kept as
    ``tensors``, not copied.
    """

    def __init__(self, *arrays):
        if not arrays:
            raise ValueError("TensorDataset: give at least one array")
        arrays = tuple(np.asarray(a) for a in arrays)
        for i, a in enumerate(arrays):
            if a.ndim == 0:
                raise ValueError(f"TensorDataset: array {i} is a scalar; each array needs a first "
                                 "axis of samples")
        if len({len(a) for a in arrays}) > 1:
            raise ValueError(f"TensorDataset: Size mismatch between tensors: lengths "
                             f"{[len(a) for a in arrays]}")
        self.tensors = arrays

    def __getitem__(self, index):
        return tuple(a[index] for a in self.tensors)

    def __len__(self):
        return len(self.tensors[0])

    def __repr__(self):
        shapes = ", ".join(str(a.shape) for a in self.tensors)
        return f"TensorDataset({shapes})"


class DataLoader:
    """Batches of ``dataset``: iterating yields one tuple of arrays per batch (an array for array samples).

    As ``torch.utils.data.DataLoader`` with its default collation: samples
    ``(x_i, y_i)`` become the batch ``(x: (batch, ...), y: (batch, ...))``.
    ``shuffle`` draws a new order every pass from ``generator`` (a
    ``numpy.random.Generator``; a fresh unseeded one when None), so a seeded
    generator repeats a run. ``drop_last`` leaves out a last batch smaller
    than ``batch_size``; ``len(loader)`` is the number of batches.
    """

    def __init__(self, dataset, batch_size=1, shuffle=False, drop_last=False, generator=None):
        if not callable(getattr(dataset, "__getitem__", None)) or not callable(
                getattr(dataset, "__len__", None)):
            raise TypeError(f"DataLoader: dataset must have __len__ and __getitem__ (e.g. a "
                            f"TensorDataset), got {type(dataset).__name__}")
        self.dataset = dataset
        self.batch_size = check_size("DataLoader", "batch_size", batch_size)
        self.shuffle = check_bool("DataLoader", "shuffle", shuffle)
        self.drop_last = check_bool("DataLoader", "drop_last", drop_last)
        self.generator = check_rng("DataLoader", "generator", generator)

    def __len__(self):
        n = len(self.dataset)
        return n // self.batch_size if self.drop_last else math.ceil(n / self.batch_size)

    def __iter__(self):
        n = len(self.dataset)
        order = self.generator.permutation(n) if self.shuffle else np.arange(n)
        for b in range(len(self)):
            yield _collate([self.dataset[int(i)] for i in order[b * self.batch_size:
                                                                 (b + 1) * self.batch_size]])

    def __repr__(self):
        return (f"DataLoader({self.dataset!r}, batch_size={self.batch_size}, shuffle={self.shuffle}, "
                f"drop_last={self.drop_last})")


def _collate(samples):
    """Stack samples along a new first axis: a tuple of batches for tuple samples, else one array."""
    if isinstance(samples[0], (tuple, list)):
        widths = {len(s) for s in samples}
        if len(widths) > 1:
            raise ValueError(f"DataLoader: samples of one batch hold different numbers of arrays: "
                             f"{sorted(widths)}")
        return tuple(_stack(field, i) for i, field in enumerate(zip(*samples)))
    return _stack(samples, None)


def _stack(arrays, field):
    try:
        return np.stack([np.asarray(a) for a in arrays])
    except ValueError:
        where = "samples" if field is None else f"item {field} of the samples"
        shapes = sorted({np.shape(a) for a in arrays})
        raise ValueError(f"DataLoader: cannot stack {where} into a batch: shapes {shapes} "
                         "differ") from None
