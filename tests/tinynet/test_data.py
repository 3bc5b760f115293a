"""tinynet.data: TensorDataset and DataLoader, and fit on a DataLoader."""

import numpy as np
import pytest

import tinynet as tn
from tinynet.data import DataLoader, TensorDataset


def test_tensor_dataset_gives_tuples_of_rows():
    x, y = np.arange(12.0).reshape(4, 3), np.array([0, 1, 0, 1])
    data = TensorDataset(x, y)
    assert len(data) == 4
    row, label = data[2]
    np.testing.assert_array_equal(row, x[2])
    assert label == y[2]
    assert data.tensors[0] is x


@pytest.mark.parametrize("arrays, words", [((), "at least one"), ((np.zeros(3), np.zeros(4)), "Size mismatch"),
                                           ((np.float64(1.0),), "scalar")])
def test_tensor_dataset_refuses_bad_arrays(arrays, words):
    with pytest.raises(ValueError, match=words):
        TensorDataset(*arrays)


def test_shuffle_is_a_new_permutation_each_pass_repeated_by_the_seed():
    data = TensorDataset(np.arange(20))
    def passes(seed):
        loader = DataLoader(data, batch_size=6, shuffle=True, generator=np.random.default_rng(seed))
        return [np.concatenate([b[0] for b in loader]) for _ in range(2)]
    first, second = passes(3)
    assert sorted(first) == list(range(20)) and sorted(second) == list(range(20))
    assert not np.array_equal(first, second)
    np.testing.assert_array_equal(np.concatenate(passes(3)), np.concatenate([first, second]))


def test_array_samples_collate_to_an_array_and_shapes_are_kept():
    class Squares:
        def __len__(self):
            return 5

        def __getitem__(self, i):
            return np.full((2, 2), float(i * i))

    batches = list(DataLoader(Squares(), batch_size=2))
    assert [b.shape for b in batches] == [(2, 2, 2), (2, 2, 2), (1, 2, 2)]
    assert batches[2][0, 0, 0] == 16


def test_samples_that_do_not_stack_are_a_clear_error():
    class Ragged:
        def __len__(self):
            return 2

        def __getitem__(self, i):
            return (np.zeros(i + 1), 0)

    with pytest.raises(ValueError, match=r"cannot stack item 0 of the samples .*\(1,\), \(2,\)"):
        list(DataLoader(Ragged(), batch_size=2))


@pytest.mark.parametrize("kwargs, error, words", [
    ({"dataset": [1, 2], "batch_size": 0}, ValueError, "batch_size"),
    ({"dataset": 5}, TypeError, "dataset must have __len__"),
    ({"dataset": [1], "shuffle": 1}, TypeError, "shuffle"),
    ({"dataset": [1], "generator": 0}, TypeError, "generator"),
])
def test_dataloader_refuses_bad_arguments(kwargs, error, words):
    with pytest.raises(error, match=words):
        DataLoader(**kwargs)


def problem(seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(30, 3))
    return x, (x[:, 0] + x[:, 1] > 0).astype(int)


def trained(data, **kwargs):
    net = tn.MLP([3, 5, 2], "tanh", rng=np.random.default_rng(1))
    history = tn.fit(net, tn.CrossEntropyLoss(), tn.SGD(net.parameters(), lr=0.2), data,
                     epochs=3, progress=False, **kwargs)
    return net, history


def test_fit_on_a_shuffling_loader_equals_fit_on_arrays_with_the_same_generator():
    x, y = problem()
    loader = DataLoader(TensorDataset(x, y), batch_size=8, shuffle=True, generator=np.random.default_rng(5))
    net_a, hist_a = trained(loader, validation=DataLoader(TensorDataset(x, y), batch_size=7))
    net_b, hist_b = trained(x, y=y, batch_size=8, rng=np.random.default_rng(5), validation=(x, y))
    assert hist_a.history == hist_b.history
    for (name, a), (_, b) in zip(net_a.named_parameters(), net_b.named_parameters()):
        np.testing.assert_array_equal(a.data, b.data, err_msg=name)


def test_fit_with_drop_last_averages_over_the_samples_trained_on():
    x, y = problem()
    _, history = trained(DataLoader(TensorDataset(x, y), batch_size=8, drop_last=True))
    net = tn.MLP([3, 5, 2], "tanh", rng=np.random.default_rng(1))
    loss, opt = tn.CrossEntropyLoss(), tn.SGD(net.parameters(), lr=0.2)
    total = 0.0
    for start in range(0, 24, 8):  # the 3 full batches; the last 6 samples are dropped
        total += 8 * float(loss.forward(net.forward(x[start:start + 8]), y[start:start + 8]))
        opt.zero_grad()
        net.backward(loss.backward())
        opt.step()
    assert history["loss"][0] == pytest.approx(total / 24, rel=1e-12)


@pytest.mark.parametrize("kwargs, error, words", [
    ({"y": np.zeros(30, int)}, TypeError, "leave y out"),
    ({"batch_size": 4}, TypeError, "leave batch_size out"),
    ({"validation": "val"}, TypeError, "or a DataLoader"),
])
def test_fit_on_a_loader_refuses_what_the_loader_already_holds(kwargs, error, words):
    x, y = problem()
    with pytest.raises(error, match=words):
        trained(DataLoader(TensorDataset(x, y)), **kwargs)


def test_fit_names_a_loader_that_does_not_give_pairs_or_no_batch():
    x, y = problem()
    with pytest.raises(TypeError, match="pairs \\(x, y\\).*got a tuple of 1"):
        trained(DataLoader(TensorDataset(x)))
    with pytest.raises(ValueError, match="gives no batch"):
        trained(DataLoader(TensorDataset(x, y), batch_size=40, drop_last=True))
    with pytest.raises(TypeError, match="give the targets y"):
        trained(x, batch_size=4)


def test_fit_takes_any_dataset_of_pairs_as_a_tensor_dataset():
    x, y = problem()

    class Pairs:
        def __len__(self):
            return len(x)

        def __getitem__(self, i):
            return x[i], y[i]

    def loader(data):
        return DataLoader(data, batch_size=8, shuffle=True, generator=np.random.default_rng(5))
    _, custom = trained(loader(Pairs()), validation=DataLoader(Pairs(), batch_size=4))
    _, tensors = trained(loader(TensorDataset(x, y)), validation=DataLoader(TensorDataset(x, y)))
    assert custom.history == tensors.history and "val_accuracy" in custom.history
