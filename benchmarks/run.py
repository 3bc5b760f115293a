"""Benchmarks: tinynet against bare numpy (the floor) and PyTorch, the lecture, and probe scaling.

    python benchmarks/run.py [--threads N] [--runs R] [--skip-lecture] [--skip-scale] [--skip-wide]

Every ratio is the median, over at least ``--runs`` rounds taken in
alternation after a warm-up, of the per-round ratio, so a drift in the
machine's speed cancels. Each ratio of the layer cases is taken by its own
pair: tinynet and the floor alternate, then tinynet and PyTorch, and the
order within a round flips every round (A, B, B, A, ...); the lecture's two
processes simply alternate (A, B, A, B, ...). PyTorch's step leaves
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
history of the process.
"""

import argparse
import os
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)

CASES = [  # depth, width, batch, target tinynet/floor, target tinynet/PyTorch
    (50, 100, 100, 1.10, 1.0),  # numpy's work dominates
    (50, 100, 1, 1.35, 1.0),  # Python's per-call cost is a visible share
    (4, 64, 32, 1.35, 1.0),
    (10, 1024, 256, 1.10, 1.10),
]


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--threads", type=int, default=1, help="BLAS / PyTorch threads (default 1)")
    p.add_argument("--runs", type=int, default=15, help="alternating rounds per ratio (>= 10)")
    p.add_argument("--skip-lecture", action="store_true", help="skip the whole-process lecture timing")
    p.add_argument("--skip-scale", action="store_true", help="skip the deep-probe scaling runs")
    p.add_argument("--skip-wide", action="store_true", help="skip the width-2048 probe")
    p.add_argument("--child-scale", nargs=2, type=int, metavar=("DEPTH", "WIDTH"), help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.runs < 10:
        p.error("--runs must be at least 10")
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

    Returns ``(median_a, median_b, ratio, quartiles)``: the median seconds
    per call of each, the median of the per-round ratios a / b, and that
    ratio's lower and upper quartile, which show how much the machine's
    noise moves it.
    """
    import statistics

    number = 1
    while True:  # size a block so timer resolution and call noise do not matter
        t = time.perf_counter()
        for _ in range(number):
            a()
        if time.perf_counter() - t >= min_block:
            break
        number *= 2
    times = ([], [])
    for round_ in range(runs + 1):
        # A, B, B, A, A, B, ...: each runs after the other as often as after itself
        order = zip((a, b), times) if round_ % 2 == 0 else zip((b, a), times[::-1])
        for fn, record in order:
            t = time.perf_counter()
            for _ in range(number):
                fn()
            if round_:  # round 0 is the warm-up
                record.append((time.perf_counter() - t) / number)
    ratios = [ta / tb for ta, tb in zip(*times)]
    low, _, high = statistics.quantiles(ratios, n=4)
    return statistics.median(times[0]), statistics.median(times[1]), statistics.median(ratios), (low, high)


def bench_layers(args):
    import numpy as np

    import tinynet as tn

    try:
        import torch

        torch.set_num_threads(args.threads)
    except ImportError:
        torch = None
        print("PyTorch is not installed: the PyTorch column is skipped (pip install torch)")
    rows, all_ok = [], True
    for dtype in (np.float64, np.float32):
        for depth, width, batch, floor_target, torch_target in CASES:
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
            t_tinynet, _, floor_ratio, (low, high) = alternate(
                tinynet_step, lambda: floor_step(weights, x, dy, grads), args.runs)
            torch_ratio = None
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

                torch_ratio = alternate(tinynet_step, torch_step, args.runs)[2]
            ok_floor = floor_ratio <= floor_target
            ok_torch = torch_ratio is None or torch_ratio <= torch_target
            all_ok &= ok_floor and ok_torch and stays
            rows.append((np.dtype(dtype).name, depth, width, batch, t_tinynet * 1e3,
                         floor_ratio, f"{low:.2f}-{high:.2f}", floor_target, torch_ratio,
                         torch_target, stays, ok_floor and ok_torch and stays))
    print(f"\nforward + backward of a bias-free ReLU MLP ({args.threads} thread(s); ratio = tinynet / other,"
          " the median of the rounds' ratios; quartiles = the middle half of the floor's)")
    print(f"{'dtype':<8}{'depth':>6}{'width':>6}{'batch':>6}{'tinynet ms':>12}{'/floor':>8}{'quartiles':>11}"
          f"{'target':>7}{'/torch':>8}{'target':>7}{'dtype kept':>11}{'ok':>4}")
    for r in rows:
        torch_ratio = "-" if r[8] is None else f"{r[8]:.2f}"
        print(f"{r[0]:<8}{r[1]:>6}{r[2]:>6}{r[3]:>6}{r[4]:>12.3f}{r[5]:>8.2f}{r[6]:>11}{r[7]:>7.2f}"
              f"{torch_ratio:>8}{r[9]:>7.2f}{'yes' if r[10] else 'NO':>11}{'yes' if r[11] else 'NO':>4}")
    return all_ok


# ---------------------------------------------------------------------------
# the lecture, whole process
# ---------------------------------------------------------------------------

def bench_lecture(args, runs=5):
    import statistics

    tinynet_cmd = [sys.executable, "-m", "diagnostics", "lecture", "--quiet"]
    numpy_cmd = [sys.executable, os.path.join(HERE, "lecture_numpy.py")]
    times = {"tinynet": [], "numpy": []}
    for round_ in range(runs + 1):
        for name, cmd in (("tinynet", tinynet_cmd), ("numpy", numpy_cmd)):
            t = time.perf_counter()
            subprocess.run(cmd, cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
            if round_:
                times[name].append(time.perf_counter() - t)
    ratio = statistics.median(a / b for a, b in zip(times["tinynet"], times["numpy"]))
    t_med = statistics.median(times["tinynet"])
    ok = ratio <= 1.0 and t_med < 2.0
    print(f"\npython -m diagnostics lecture, whole process, {runs} alternating runs after a warm-up:")
    print(f"  tinynet {t_med:.2f} s (target < 2 s), plain numpy loop {statistics.median(times['numpy']):.2f} s, "
          f"ratio {ratio:.2f} (target <= 1.0)  ok: {'yes' if ok else 'NO'}")
    return ok


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
    ok = bench_layers(args)
    if not args.skip_lecture:
        ok &= bench_lecture(args)
    if not args.skip_scale:
        ok &= bench_scale(args)
    print(f"\nall targets met: {'yes' if ok else 'NO'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
