"""``python -m tests.fuzz --n 5000 --seed S``: the long campaign, with a summary at the end.

Every unexplained mismatch is printed as a runnable script (shrunk to the steps that still
show it); ``--only INDEX`` rechecks one program and prints it.
"""
from __future__ import annotations

import argparse
import os
import sys
import warnings

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))

from tests.fuzz.campaign import explain, run  # noqa: E402
from tests.fuzz.generate import generate  # noqa: E402
from tests.fuzz.oracle import check  # noqa: E402
from tests.fuzz.program import script  # noqa: E402


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.fuzz", description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1000, help="programs to run (default 1000)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--start", type=int, default=0, help="first program index")
    parser.add_argument("--no-onnx", action="store_true", help="skip the onnxruntime checks")
    parser.add_argument("--no-shrink", action="store_true", help="print failing programs as generated")
    parser.add_argument("--show", type=int, default=50, help="print at most this many failing programs")
    parser.add_argument("--only", type=int, default=None, help="check one program index and print it")
    args = parser.parse_args(argv)
    warnings.simplefilter("ignore")
    onnx = not args.no_onnx
    if args.only is not None:
        outcome = check(generate(args.seed, args.only), onnx=onnx)
        print(script(outcome.program))
        print(outcome.report())
        print("skipped:", outcome.skipped, "\npassed:", outcome.passed)
        return 0 if outcome.ok else 1

    def progress(index, summary):
        if (index + 1 - args.start) % 250 == 0:
            print(f"  ... {summary.programs} programs, {len(summary.failing)} failing", file=sys.stderr, flush=True)

    summary = run(args.seed, args.n, args.start, onnx=onnx, progress=progress)
    for outcome in summary.failing[:args.show]:
        print("=" * 80)
        print(explain(outcome, onnx=onnx, do_shrink=not args.no_shrink))
    for index, tb in summary.harness_errors:
        print("=" * 80)
        print(f"fuzzer error in program {index}:\n{tb}")
    print("=" * 80)
    print(summary.text())
    return 0 if not summary.failing and not summary.harness_errors else 1


if __name__ == "__main__":
    sys.exit(main())
