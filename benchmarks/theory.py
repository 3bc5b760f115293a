"""Benchmarks of the mean-field theory: ``phase`` per activation, and ``predict``'s time and memory by depth.

    python benchmarks/theory.py [--activations NAME ...] [--depths N ...] [--skip-phase] [--skip-predict]

``phase``: ``theory.phase_diagram`` at its default grid (41 x 26 points and
the critical line), timed once per built-in activation; target under 10 s
each (wall time; the CPU time is printed beside it, since on a busy shared
machine the wall time grows with the load). ``predict``: ``theory.predict`` and ``theory.predict_network`` at each
depth, each in a fresh process, which reports its wall time, the peak of
Python's allocations (tracemalloc) and the process's peak resident size
(ru_maxrss, which includes numpy, the interpreter and, for
``predict_network``, the network's own weights, 80 kB a layer at width 100);
target: a peak under 300 MB at depth 10,000, judged on tracemalloc's peak
(what the theory itself allocates), with the resident size beside it. The
machine's load average is printed with every number: on a shared machine
times scale with it, memory does not.
"""

import argparse
import json
import os
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, ROOT)

PHASE_TARGET_S = 10.0
MEMORY_TARGET_MB = 300.0

# run in a fresh process, so one measurement's allocations do not count in the next
_MEASURE = """
import json, resource, sys, time, tracemalloc
import tinynet as tn
from diagnostics import theory
kind, depth = sys.argv[1], int(sys.argv[2])
net = tn.MLP([100] * (depth + 1), "tanh", weight_init="xavier_normal", final_activation=True) \\
    if kind == "predict_network" else None
tracemalloc.start()
start = time.perf_counter()
if kind == "predict":
    theory.predict("tanh", 1.0, depth=depth, width=100)
else:
    theory.predict_network(net)
seconds = time.perf_counter() - start
peak = tracemalloc.get_traced_memory()[1]
tracemalloc.stop()
rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # kB on Linux
print(json.dumps({"seconds": seconds, "peak_mb": peak / 2 ** 20, "maxrss_mb": rss / 2 ** 20}))
"""


def load():
    """The 1-minute load average, or nan where the system does not tell."""
    try:
        return os.getloadavg()[0]
    except OSError:
        return float("nan")


def bench_phase(activations):
    """Time ``phase_diagram`` at its default grid for each activation; a list of result dicts."""
    from diagnostics import theory

    results = []
    print(f"phase at its default grid (target < {PHASE_TARGET_S:g} s each)")
    for name in activations:
        before = load()
        start, cpu = time.perf_counter(), time.process_time()
        theory.phase_diagram(name)
        seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
        # on a machine shared by other work the wall time grows with the load, the CPU time hardly
        verdict = "ok" if seconds < PHASE_TARGET_S else "ok in CPU time" if cpu < PHASE_TARGET_S else "OVER"
        print(f"  {name:15s} {seconds:7.2f} s wall, {cpu:6.2f} s CPU  {verdict}  (load {before:.1f} -> {load():.1f})",
              flush=True)
        results.append({"activation": name, "seconds": seconds, "cpu_seconds": cpu, "load": before})
    return results


def bench_predict(depths):
    """Time and peak memory of ``predict`` and ``predict_network`` (tanh, width 100) at each depth."""
    results = []
    print(f"predict and predict_network, tanh, width 100 (target < {MEMORY_TARGET_MB:g} MB peak)")
    for kind in ("predict", "predict_network"):
        for depth in depths:
            before = load()
            out = subprocess.run([sys.executable, "-c", _MEASURE, kind, str(depth)], cwd=ROOT,
                                 capture_output=True, text=True, check=True)
            r = json.loads(out.stdout.strip().splitlines()[-1])
            verdict = "ok" if r["peak_mb"] < MEMORY_TARGET_MB else "OVER"
            print(f"  {kind:15s} depth {depth:6d}: {r['seconds']:7.2f} s, tracemalloc peak "
                  f"{r['peak_mb']:7.1f} MB, max RSS {r['maxrss_mb']:7.1f} MB  {verdict}  (load {before:.1f})",
                  flush=True)
            results.append({"kind": kind, "depth": depth, **r, "load": before})
    return results


def main(argv=None):
    """Run the benchmarks the arguments select and print one line per measurement."""
    import tinynet

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--activations", nargs="+", default=tinynet.available_activations())
    parser.add_argument("--depths", nargs="+", type=int, default=[2500, 5000, 10000])
    parser.add_argument("--skip-phase", action="store_true")
    parser.add_argument("--skip-predict", action="store_true")
    args = parser.parse_args(argv)
    print(f"{os.cpu_count()} CPUs, load average {load():.1f}")
    if not args.skip_phase:
        bench_phase(args.activations)
    if not args.skip_predict:
        bench_predict(args.depths)


if __name__ == "__main__":
    main()
