"""Benchmarks: tinynet against bare numpy (the floor) and PyTorch, the lecture, and probe scaling.

    python benchmarks/run.py [--threads N] [--runs R] [--quick] [--skip-fit] [--skip-lecture]
                             [--skip-scale] [--skip-wide]

Every ratio is the median, over at least ``--runs`` rounds taken in
alternation after a warm-up, of the per-round ratio, so a drift in the
machine's speed cancels; its spread is the smallest and the largest round.
A ratio whose largest round exceeds its smallest by more than NOISY (25%)
is too noisy to judge: its verdict is "noisy", neither met nor missed, and
so is every ratio of a ``--quick`` run (too few rounds). Each ratio of the
layer and fit cases is taken by its own pair: tinynet and the floor
alternate, then tinynet and PyTorch, and the order within a round flips
every round (A, B, B, A, ...); the lecture's three processes simply
take turns (A, B, C, A, ...): ``python -m diagnostics lecture``, the plain
numpy loop, and ``run_lecture()`` called from a fresh Python as a notebook
calls it, whose ratio to the command line is a target too (<= 1.2): each
process starts afresh, so none inherits another's state. PyTorch's step leaves
the caches and the memory allocator in a state that slows whatever runs
next, by 2-10% here: in a cycle (A, B, C, A, ...), or in plain A, B, A, B,
one contender would always run right after it. Times are medians too, but
only the ratios are targets: absolute times depend on the machine.

Each step sets the gradients to None first (``zero_grad()``, PyTorch's
default too) and so allocates them afresh, where the floor writes into
preallocated arrays. How much that costs depends on the allocator: when
glibc returns the freed top of the heap to the system, the next step faults
it back in page by page (about 1 ms a step at depth 50 and width 100, batch
1, in a fresh process), a cost that comes and goes with the sizes and
history of the process. The table shows each contender's minor page faults
per step (``getrusage``), so a ratio moved by the allocator shows itself.

``fit`` is the trainability recipe's training: ``tinynet.fit`` of a tanh MLP
of width 100 with Adam and cross-entropy, batch 64, on two-class moons,
against the same epoch in a plain numpy loop (``fit_numpy.py``) and in
PyTorch.
"""

import argparse
import os
import resource
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)

CASES = [  # depth, width, batch, target tinynet/floor, target tinynet/PyTorch in float64 and float32
    (50, 100, 100, 1.15, (1.0, 1.0)),  # numpy's work dominates
    (50, 100, 1, 1.6, (1.0, 1.0)),  # Python's per-call cost dominates
    (4, 64, 32, 1.6, (1.0, 1.0)),
    (10, 1024, 256, 1.15, (1.0, 1.15)),  # in float32 numpy's BLAS meets PyTorch's
]
FIT_DEPTHS = (10, 50, 150)
FIT_TARGETS = (1.15, 1.0)  # tinynet / plain numpy loop, tinynet / PyTorch
NOISY = 1.25  # a ratio whose largest round exceeds its smallest by more than this is not judged


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--threads", type=int, default=1, help="BLAS / PyTorch threads (default 1)")
    p.add_argument("--runs", type=int, default=15, help="alternating rounds per ratio (>= 10)")
    p.add_argument("--quick", action="store_true",
                   help="a smoke run: 3 rounds, the small cases, fit at depth 10; nothing is judged")
    p.add_argument("--skip-fit", action="store_true", help="skip the fit throughput")
    p.add_argument("--skip-lecture", action="store_true", help="skip the whole-process lecture timing")
    p.add_argument("--skip-scale", action="store_true", help="skip the deep-probe scaling runs")
    p.add_argument("--skip-wide", action="store_true", help="skip the width-2048 probe")
    p.add_argument("--child-scale", nargs=2, type=int, metavar=("DEPTH", "WIDTH"), help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.runs < 10:
        p.error("--runs must be at least 10")
    if args.quick:
        args.runs, args.skip_lecture, args.skip_scale = 3, True, True
    return args


def set_threads(n):
    # must happen before numpy (and its BLAS) is first imported
    for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[var] = str(n)


# ---------------------------------------------------------------------------
# layers: tinynet vs the floor vs PyTorch
# ---------------------------------------------------------------------------

def floor_step(weights, x, dy, grads):
    """One forward and backward of a bias-free ReLU MLP in bare numpy: the floor.

    Written as well as bare numpy allows: weight gradients go into
    preallocated arrays (``grads``), so the ratio measures the framework's
    overhead and not memory allocation.
    """
    import numpy as np

    inputs, pre = [], []
    h = x
    for w in weights:
        inputs.append(h)
        z = h @ w.T
        pre.append(z)
        h = np.maximum(z, 0)
    g = dy
    for i in reversed(range(len(weights))):
        g = g * (pre[i] > 0)
        np.matmul(g.T, inputs[i], out=grads[i])
        g = g @ weights[i]
    return g


def alternate(a, b, runs, min_block=0.02):
    """Time ``a`` and ``b`` in alternation (A, B, B, A, A, B, ...), after a warm-up round.

    Returns a dict: ``time_a`` and ``time_b``, the median seconds per call;
    ``ratio``, the median of the per-round ratios a / b, and ``spread``,
    their smallest and largest; ``faults_a`` and ``faults_b``, the median
    minor page faults per call.
    """
    number = 1
    while True:  # size a block so timer resolution and call noise do not matter
        t = time.perf_counter()
        for _ in range(number):
            a()
        if time.perf_counter() - t >= min_block:
            break
        number *= 2
    times, faults = ([], []), ([], [])
    for round_ in range(runs + 1):
        # A, B, B, A, A, B, ...: each runs after the other as often as after itself
        order = ((a, 0), (b, 1)) if round_ % 2 == 0 else ((b, 1), (a, 0))
        for fn, i in order:
            f = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
            t = time.perf_counter()
            for _ in range(number):
                fn()
            if round_:  # round 0 is the warm-up
                times[i].append((time.perf_counter() - t) / number)
                faults[i].append((resource.getrusage(resource.RUSAGE_SELF).ru_minflt - f) / number)
    ratios = [ta / tb for ta, tb in zip(*times)]
    return {"time_a": statistics.median(times[0]), "time_b": statistics.median(times[1]),
            "ratio": statistics.median(ratios), "spread": (min(ratios), max(ratios)),
            "faults_a": statistics.median(faults[0]), "faults_b": statistics.median(faults[1])}


def verdict(result, target, args):
    """"yes" or "NO" for ``result["ratio"] <= target``; "noisy" when the rounds disagree too much to tell."""
    low, high = result["spread"]
    if args.quick or high > NOISY * low:
        return "noisy"
    return "yes" if result["ratio"] <= target else "NO"


def ratio_cells(result, target, args):
    """The table cells of one ratio: median, spread, target, verdict."""
    if result is None:
        return f"{'-':>7}{'':>12}{target:>7.2f}{'-':>6}", "-"
    ok = verdict(result, target, args)
    low, high = result["spread"]
    return f"{result['ratio']:>7.2f}{f'{low:.2f}-{high:.2f}':>12}{target:>7.2f}{ok:>6}", ok


def print_rule(args):
    print(f"ratio = tinynet / other, the median of {args.runs} alternating rounds; spread = the smallest and "
          f"largest round; ok: 'noisy' when the largest round exceeds the smallest by more than "
          f"{NOISY - 1:.0%}{' (and every ratio of a --quick run)' if args.quick else ''}")


def load_average():
    """The 1-minute load average, or None where the system does not give one."""
    try:
        return os.getloadavg()[0]
    except OSError:
        return None


def import_torch(args):
    try:
        import torch
    except ImportError:
        print("PyTorch is not installed: the PyTorch column is skipped (pip install torch)")
        return None
    torch.set_num_threads(args.threads)
    return torch


def bench_layers(args, torch):
    import numpy as np

    import tinynet as tn

    rows, verdicts = [], []
    cases = CASES[1:3] if args.quick else CASES
    for dtype in (np.float64, np.float32):
        for depth, width, batch, floor_target, torch_targets in cases:
            torch_target = torch_targets[dtype == np.float32]
            rng = np.random.default_rng(0)
            net = tn.MLP([width] * (depth + 1), tn.ReLU(), weight_init=tn.init.HeNormal(), bias=False,
                         final_activation=True, rng=rng, dtype=dtype)
            weights = [p.data for p in net.parameters()]
            x = rng.standard_normal((batch, width)).astype(dtype)
            dy = rng.standard_normal((batch, width)).astype(dtype)

            def tinynet_step():
                net.zero_grad()
                net.forward(x)
                return net.backward(dy)

            grads = [np.empty_like(w) for w in weights]
            out = tinynet_step()
            stays = out.dtype == dtype and all(p.grad.dtype == dtype for p in net.parameters())
            floor = alternate(tinynet_step, lambda: floor_step(weights, x, dy, grads), args.runs)
            against_torch = None
            if torch is not None:
                tdtype = torch.float64 if dtype == np.float64 else torch.float32
                layers = []
                for w in weights:
                    lin = torch.nn.Linear(width, width, bias=False).to(tdtype)
                    with torch.no_grad():
                        lin.weight.copy_(torch.from_numpy(w))
                    layers += [lin, torch.nn.ReLU()]
                tnet = torch.nn.Sequential(*layers)
                tx = torch.from_numpy(x).requires_grad_(True)
                tdy = torch.from_numpy(dy)

                def torch_step():
                    tnet.zero_grad(set_to_none=True)
                    tx.grad = None
                    tnet(tx).backward(tdy)
                    return tx.grad

                against_torch = alternate(tinynet_step, torch_step, args.runs)
            floor_cells, ok_floor = ratio_cells(floor, floor_target, args)
            torch_cells, ok_torch = ratio_cells(against_torch, torch_target, args)
            verdicts += [ok_floor, ok_torch, "yes" if stays else "NO"]
            rows.append(f"{np.dtype(dtype).name:<8}{depth:>6}{width:>6}{batch:>6}{floor['time_a'] * 1e3:>11.3f}"
                        f"{floor_cells}{floor['faults_a']:>8.0f}{floor['faults_b']:>7.0f}{torch_cells}"
                        f"{'yes' if stays else 'NO':>6}")
    print(f"\nforward + backward of a bias-free ReLU MLP ({args.threads} thread(s))")
    print_rule(args)
    print(f"{'':<26}{'tinynet':>11}{'-------------- /floor':>32}{'faults/step':>15}"
          f"{'-------------- /torch':>32}{'dtype':>6}")
    print(f"{'dtype':<8}{'depth':>6}{'width':>6}{'batch':>6}{'ms':>11}{'ratio':>7}{'spread':>12}{'target':>7}"
          f"{'ok':>6}{'tinynet':>8}{'floor':>7}{'ratio':>7}{'spread':>12}{'target':>7}{'ok':>6}{'kept':>6}")
    print("\n".join(rows))
    return verdicts


# ---------------------------------------------------------------------------
# fit: the trainability recipe's training step
# ---------------------------------------------------------------------------

def bench_fit(args, torch):
    import numpy as np

    import tinynet as tn

    sys.path.insert(0, HERE)
    from fit_numpy import init_adam, train_epoch

    x, y = tn.datasets.moons(n_samples=640, noise=0.1, rng=np.random.default_rng(0))
    batch, width, steps = 64, 100, 10  # an epoch of 640 samples is 10 steps
    rows, verdicts = [], []
    for depth in FIT_DEPTHS[:1] if args.quick else FIT_DEPTHS:
        net = tn.MLP([2] + [width] * depth + [2], tn.Tanh(), rng=np.random.default_rng(0))
        opt = tn.optim.Adam(net.parameters(), lr=1e-3)
        loss, rng = tn.CrossEntropyLoss(), np.random.default_rng(1)
        params = [p.data.copy() for p in net.parameters()]
        state, numpy_rng = init_adam(params), np.random.default_rng(1)

        def tinynet_epoch():
            tn.fit(net, loss, opt, x, y, epochs=1, batch_size=batch, rng=rng, progress=False)

        versus = {"numpy": alternate(tinynet_epoch, lambda: train_epoch(params, state, x, y, batch, numpy_rng),
                                     args.runs)}
        if torch is not None:
            tnet = torch.nn.Sequential(*[
                m for lin in net.layers[::2]
                for m in (torch.nn.Linear(lin.in_features, lin.out_features).double(), torch.nn.Tanh())][:-1])
            with torch.no_grad():
                for tp, p in zip(tnet.parameters(), net.parameters()):
                    tp.copy_(torch.from_numpy(p.data))
            topt = torch.optim.Adam(tnet.parameters(), lr=1e-3)
            tx, ty = torch.from_numpy(x), torch.from_numpy(y)
            torch_rng = torch.Generator().manual_seed(1)

            def torch_epoch():
                perm = torch.randperm(len(tx), generator=torch_rng)
                for start in range(0, len(tx), batch):
                    idx = perm[start:start + batch]
                    xb, yb = tx[idx], ty[idx]
                    topt.zero_grad()
                    out = tnet(xb)
                    value = torch.nn.functional.cross_entropy(out, yb)
                    value.backward()
                    topt.step()
                    value.item(), (out.argmax(dim=1) == yb).sum().item()  # what fit reports

            versus["torch"] = alternate(tinynet_epoch, torch_epoch, args.runs)
        cells = []
        for name, target in zip(("numpy", "torch"), FIT_TARGETS):
            text, ok = ratio_cells(versus.get(name), target, args)
            verdicts.append(ok)
            cells.append(text)
        numpy = versus["numpy"]
        rows.append(f"{depth:>6}{width:>6}{batch:>6}{numpy['time_a'] / steps * 1e3:>11.3f}{cells[0]}"
                    f"{numpy['faults_a'] / steps:>8.0f}{numpy['faults_b'] / steps:>7.0f}{cells[1]}")
    print(f"\nfit: the trainability recipe's step (tanh MLP, Adam, cross-entropy, two-class moons, "
          f"float64; {args.threads} thread(s))")
    print_rule(args)
    print(f"{'':<18}{'tinynet':>11}{'---- /plain numpy loop':>32}{'faults/step':>15}{'------------- /torch':>32}")
    print(f"{'depth':>6}{'width':>6}{'batch':>6}{'ms/step':>11}{'ratio':>7}{'spread':>12}{'target':>7}{'ok':>6}"
          f"{'tinynet':>8}{'numpy':>7}{'ratio':>7}{'spread':>12}{'target':>7}{'ok':>6}")
    print("\n".join(rows))
    return verdicts


# ---------------------------------------------------------------------------
# the lecture, whole process
# ---------------------------------------------------------------------------

BLAS_THREAD_VARIABLES = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")
#: ``run_lecture()`` as a notebook calls it: a fresh interpreter that has imported numpy first
LECTURE_FROM_PYTHON = "import numpy\nfrom diagnostics.experiments import run_lecture\nrun_lecture()"
LECTURE_FROM_PYTHON_TARGET = 1.2  # run_lecture() from Python / python -m diagnostics lecture


def lecture_contenders():
    """The lecture's three processes, as ``(name, command, environment)``.

    The command line and the Python call start as a user's shell or notebook
    would, with no BLAS thread variable set (this script sets them for
    itself): each must then apply its own BLAS policy.
    """
    user = {k: v for k, v in os.environ.items() if k not in BLAS_THREAD_VARIABLES}
    return [("tinynet", [sys.executable, "-m", "diagnostics", "lecture", "--quiet"], user),
            ("numpy", [sys.executable, os.path.join(HERE, "lecture_numpy.py")], dict(os.environ)),
            ("python", [sys.executable, "-c", LECTURE_FROM_PYTHON], user)]


def bench_lecture(args, runs=5, contenders=None):
    """Time the lecture's processes in turn (A, B, C, A, ...); returns the two verdicts."""
    contenders = lecture_contenders() if contenders is None else contenders
    times = {name: [] for name, _, _ in contenders}
    for round_ in range(runs + 1):
        for name, cmd, env in contenders:
            t = time.perf_counter()
            subprocess.run(cmd, cwd=ROOT, env=env, check=True, stdout=subprocess.DEVNULL)
            if round_:
                times[name].append(time.perf_counter() - t)
    ratio = statistics.median(a / b for a, b in zip(times["tinynet"], times["numpy"]))
    t_med = statistics.median(times["tinynet"])
    ok = "yes" if ratio <= 1.0 and t_med < 2.0 else "NO"
    print(f"\npython -m diagnostics lecture, whole process, {runs} alternating runs after a warm-up:")
    print(f"  tinynet {t_med:.2f} s (target < 2 s), plain numpy loop {statistics.median(times['numpy']):.2f} s, "
          f"ratio {ratio:.2f} (target <= 1.0)  ok: {ok}")
    ratios = [a / b for a, b in zip(times["python"], times["tinynet"])]
    from_python = {"ratio": statistics.median(ratios), "spread": (min(ratios), max(ratios))}
    python_ok = verdict(from_python, LECTURE_FROM_PYTHON_TARGET, args)
    print(f"  run_lecture() in a fresh Python (as a notebook calls it) {statistics.median(times['python']):.2f} s, "
          f"ratio to the command line {from_python['ratio']:.2f} (spread {min(ratios):.2f}-"
          f"{max(ratios):.2f}, target <= {LECTURE_FROM_PYTHON_TARGET})  ok: {python_ok}")
    return [ok, python_ok]


# ---------------------------------------------------------------------------
# probe scaling: time and peak memory by depth
# ---------------------------------------------------------------------------

def peak_rss_mb():
    """This process's peak resident memory, in MB.

    From /proc's VmHWM, which belongs to this program alone: getrusage's
    ru_maxrss in a child started by fork and exec can report the parent's.
    """
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    raise RuntimeError("no VmHWM in /proc/self/status")


def child_scale(depth, width):
    import numpy as np

    from diagnostics.deep import stream_probe

    t = time.perf_counter()
    result = stream_probe("relu", "normal:0.8", depth, width, rng=np.random.default_rng(0))
    elapsed = time.perf_counter() - t
    peak_mb = peak_rss_mb()
    print(f"{elapsed} {peak_mb} {result.log10_mean_abs_grad}")


def bench_scale(args):
    cases = [(100, 100), (1000, 100), (10000, 100)] + ([] if args.skip_wide else [(100, 2048)])
    print("\ngradient probe of a ReLU MLP (scale 0.8, no bias), one layer in memory at a time:")
    print(f"{'depth':>7}{'width':>7}{'seconds':>10}{'ms/layer':>10}{'peak MB':>9}{'log10 mean|J|':>15}")
    ok = True
    for depth, width in cases:
        out = subprocess.run([sys.executable, __file__, "--threads", str(args.threads), "--child-scale",
                              str(depth), str(width)], cwd=ROOT, check=True, capture_output=True, text=True)
        seconds, peak, value = (float(v) for v in out.stdout.split())
        ok &= peak < 200 if width == 100 else True
        print(f"{depth:>7}{width:>7}{seconds:>10.2f}{1e3 * seconds / depth:>10.2f}{peak:>9.0f}{value:>15.1f}")
    print("  target: time linear in depth (ms/layer flat); peak memory < 200 MB at width 100"
          f"  ok: {'yes' if ok else 'NO'}")
    return ok


def main():
    args = parse_args()
    set_threads(args.threads)
    sys.path.insert(0, ROOT)
    if args.child_scale:
        child_scale(*args.child_scale)
        return 0
    load = load_average()
    print(f"load average at start: {'unknown' if load is None else f'{load:.2f}'} on {os.cpu_count()} cores")
    torch = import_torch(args)
    verdicts = bench_layers(args, torch)
    if not args.skip_fit:
        verdicts += bench_fit(args, torch)
    if not args.skip_lecture:
        verdicts += bench_lecture(args)
    if not args.skip_scale:
        verdicts.append("yes" if bench_scale(args) else "NO")
    load = load_average()
    print(f"\nload average at end: {'unknown' if load is None else f'{load:.2f}'}")
    noisy = verdicts.count("noisy")
    met = "NO" if "NO" in verdicts else f"not judged ({noisy} ratios too noisy)" if noisy else "yes"
    print(f"all targets met: {met}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
