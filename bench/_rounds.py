"""The bench driver: every variant of a comparison runs in its own process, rounds take turns,
and the figures are medians over the rounds.

Why processes: onnxruntime's and OpenBLAS's thread pools keep spinning after their work and
slow whatever runs next in the same process, so an in-process comparison flatters whoever runs
first. Why rounds: this shared 2-core VM drifts by tens of percent within a minute, so each
variant is measured once per round and the variants' order rotates from round to round.

A bench script declares its cases (``Case``: a name, the variants that apply, the unit) and a
``build(variant, case, quick)`` that returns the zero-argument callable to time (or, for a
``once`` case, the figure itself), then calls ``main(CASES, build)``:

    python bench/X.py [--rounds N] [--quick] [--filter TEXT] [--json PATH] [--threads N]   # the parent
    python bench/X.py --variant NAME --case NAME [--quick]                    # one child

The parent spawns one child per (case, variant, round). A child imports only what its
variant needs (a torch variant never imports tracer, a tracegrad variant never imports
torch), times the callable (median of the calls after a warm-up) and prints one JSON line,
``{"case": ..., "variant": ..., "value": ..., "unit": ...}``. The parent prints one line per
variant, the name then the number then the unit:

    <case> | <variant>   <median> <unit>  [<min> .. <max>] x<rounds>  <r>x torch eager  <r>x numpy

where the ratios are the variant's median time over the reference's (below 1 is faster).
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from dataclasses import dataclass, field
from typing import Callable

from _timing import median_us

#: The checkout these scripts sit in: its tracer is the one measured, installed or not.
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if ROOT not in sys.path:
    sys.path.insert(1, ROOT)
TORCH = "torch eager"
NUMPY = "numpy"
_SCALE = {"s": 1e-6, "ms": 1e-3, "us": 1.0}


@dataclass(frozen=True)
class Case:
    """One comparison: ``variants`` are timed against each other on the same workload.

    ``per_call`` divides a call's time (a chain of 200 ops reports per op); ``calls`` is the
    number of timed calls per child (a tenth of it with ``--quick``, at least 3); a ``once``
    case's builder returns its figure in ``unit`` (an export time, a node count) instead of a
    callable. ``torch``/``numpy`` name the reference variants of the ratios and ``pairs``
    adds ``(variant, reference)`` ratios of interest."""
    name: str
    variants: tuple
    unit: str = "us/call"
    per_call: int = 1
    calls: int = 200
    once: bool = False
    max_rounds: int | None = None
    torch: str = TORCH
    numpy: str = NUMPY
    pairs: tuple = field(default=())


#: Set by the parent's ``--threads N`` for its children (with OpenBLAS's and OpenMP's variables).
THREADS_ENV = "TRACEGRAD_BENCH_THREADS"


def cores() -> int:
    """The thread count of every variant: this machine's core count, as NumPy's OpenBLAS and
    onnxruntime use by default (torch variants call ``torch.set_num_threads(cores())``), or
    the parent's ``--threads``."""
    return int(os.environ.get(THREADS_ENV) or os.cpu_count() or 1)


def thread_env(threads: int | None) -> dict | None:
    """The children's environment for ``--threads``: one count for OpenBLAS, OpenMP, MKL and
    torch. onnxruntime sessions keep their own choice (tracegrad's: one thread for small
    graphs, else the core count)."""
    if threads is None:
        return None
    count = str(threads)
    return dict(os.environ, **{THREADS_ENV: count, "OPENBLAS_NUM_THREADS": count, "OMP_NUM_THREADS": count,
                               "MKL_NUM_THREADS": count})


# -- the parent ---------------------------------------------------------------------------

def schedule(variants, rounds: int) -> list[list[str]]:
    """The order of each round: round r starts at variant r (mod n), so every variant runs
    first, last and after each of the others equally often across n rounds."""
    variants = list(variants)
    return [variants[r % len(variants):] + variants[:r % len(variants)] for r in range(rounds)]


def parse_child(stdout: str) -> dict:
    """The last line of a child's stdout that is a JSON object with a ``value``; libraries
    may print before it.

    Raises:
        ValueError: no such line (the child crashed or printed nothing parseable).
    """
    for line in reversed(stdout.splitlines()):
        line = line.strip()
        if line.startswith("{"):
            try:
                record = json.loads(line)
            except json.JSONDecodeError:
                continue
            if isinstance(record, dict) and "value" in record:
                return record
    raise ValueError(f"no JSON result line in the child's output: {stdout[-300:]!r}")


def summarize(case: Case, samples: dict) -> list[dict]:
    """One row per variant with samples: median, min, max, the samples, and the ratios of its
    median to the references' medians (None when a reference has no samples)."""
    medians = {v: statistics.median(s) for v, s in samples.items() if s}

    def ratio(variant, ref):
        return medians[variant] / medians[ref] if ref in medians and medians[ref] else None
    rows = []
    for variant in case.variants:
        if variant not in medians:
            continue
        s = samples[variant]
        rows.append({"variant": variant, "median": medians[variant], "min": min(s), "max": max(s), "values": list(s),
                     "vs_torch": ratio(variant, case.torch), "vs_numpy": ratio(variant, case.numpy)})
    return rows


def _num(x: float, count: bool = False) -> str:
    if count and float(x).is_integer():
        return str(int(x))
    return f"{x:.0f}" if abs(x) >= 100 else f"{x:.1f}" if abs(x) >= 10 else f"{x:.2f}"


def format_row(case: Case, row: dict, width: int = 40) -> str:
    """``<case> | <variant>   <median> <unit>  [<min> .. <max>] x<n>  <r>x torch eager  <r>x numpy``."""
    lo, mid, hi = (_num(row[k], case.once) for k in ("min", "median", "max"))
    text = f"{case.name + ' | ' + row['variant']:<{width}} {mid:>8} {case.unit}  [{lo} .. {hi}] x{len(row['values'])}"
    if row["vs_torch"] is not None and row["variant"] != case.torch:
        text += f"  {row['vs_torch']:.3g}x {case.torch}"
    if row["vs_numpy"] is not None and row["variant"] != case.numpy:
        text += f"  {row['vs_numpy']:.3g}x {case.numpy}"
    return text


def child_command(script: str, variant: str, case: str, quick: bool) -> list[str]:
    return [sys.executable, script, "--variant", variant, "--case", case] + (["--quick"] if quick else [])


def run_case(case: Case, rounds: int, command: Callable, out=print, timeout: float = 900,
             env: dict | None = None) -> list[dict]:
    """Run ``case``'s variants, one process each per round in the rotated order, print a line
    per variant and return the summary rows. ``command(variant, case_name)`` is the child's argv.
    A child that fails is reported (its last stderr line) and left out of that round."""
    rounds = min(rounds, case.max_rounds or rounds)
    samples = {v: [] for v in case.variants}
    for order in schedule(case.variants, rounds):
        for variant in order:
            proc = subprocess.run(command(variant, case.name), capture_output=True, text=True, timeout=timeout,
                                  env=env)
            try:
                samples[variant].append(float(parse_child(proc.stdout)["value"]))
            except ValueError:
                err = (proc.stderr.strip().splitlines() or ["(no stderr)"])[-1]
                out(f"{case.name} | {variant}  failed (exit {proc.returncode}): {err}")
    rows = summarize(case, samples)
    pair_labels = [f"{case.name} | {v} / {ref}" for v, ref in case.pairs]
    width = max([40] + [len(case.name) + 4 + len(r["variant"]) for r in rows] + [len(p) + 1 for p in pair_labels])
    for row in rows:
        out(format_row(case, row, width))
    medians = {r["variant"]: r["median"] for r in rows}
    for (variant, ref), label in zip(case.pairs, pair_labels):
        if variant in medians and ref in medians:
            out(f"{label:<{width}} {medians[variant] / medians[ref]:>8.3g} x (median time over median time)")
    return rows


# -- the child ----------------------------------------------------------------------------

def measure(case: Case, build: Callable, variant: str, quick: bool) -> float:
    """The child's figure in ``case.unit``: a ``once`` builder's result, or the median call
    time of the callable it returns (after a warm-up) divided by ``per_call``."""
    made = build(variant, case, quick)
    if case.once:
        return float(made)
    calls = max(3, case.calls // 10) if quick else case.calls
    us = median_us(made, calls, warmup=max(2, min(20, calls // 10)), budget_s=1.5 if quick else 4.0)
    return us / case.per_call * _SCALE[case.unit.split("/")[0]]


def main(cases, build: Callable, argv=None, description: str | None = None) -> None:
    """The entry point of a bench script: a child when ``--variant`` and ``--case`` are given,
    else the parent running every case (those whose name contains ``--filter``)."""
    parser = argparse.ArgumentParser(description=description, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=5, help="processes per variant (default 5)")
    parser.add_argument("--quick", action="store_true", help="a tenth of the timed calls per child")
    parser.add_argument("--filter", default="", help="run only the cases whose name contains this text")
    parser.add_argument("--json", help="also write the summary rows to this file")
    parser.add_argument("--threads", type=int, help="threads for every variant (default: the core count)")
    parser.add_argument("--variant", help=argparse.SUPPRESS)
    parser.add_argument("--case", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    by_name = {c.name: c for c in cases}
    if args.variant is not None and args.case is not None:
        case = by_name[args.case]
        value = measure(case, build, args.variant, args.quick)
        print(json.dumps({"case": case.name, "variant": args.variant, "value": value, "unit": case.unit}))
        return
    script = os.path.abspath(sys.argv[0])
    env = thread_env(args.threads)
    report = {"script": os.path.basename(script), "rounds": args.rounds, "quick": args.quick,
              "cores": os.cpu_count(), "threads": args.threads or cores(),
              "loadavg_start": os.getloadavg(), "cases": []}
    for case in cases:
        if args.filter in case.name:
            rows = run_case(case, args.rounds, lambda v, c: child_command(script, v, c, args.quick), env=env)
            report["cases"].append({"case": case.name, "unit": case.unit, "rows": rows,
                                    "pairs": [list(p) for p in case.pairs]})
    report["loadavg_end"] = os.getloadavg()
    if args.json:
        with open(args.json, "w") as f:
            json.dump(report, f, indent=1)
