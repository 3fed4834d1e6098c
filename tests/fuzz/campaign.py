"""A fuzz campaign: generate and check programs ``range(start, start + n)`` of one seed,
count what happened, shrink and print every unexplained mismatch as a runnable script."""
from __future__ import annotations

import collections
import re
import time
import traceback
from dataclasses import dataclass, field

from .generate import generate
from .oracle import check
from .program import Program, script


@dataclass
class Summary:
    seed: int
    programs: int = 0
    seconds: float = 0.0
    ok: int = 0
    failing: list = field(default_factory=list)          # Outcomes with unexplained mismatches
    crashes: int = 0                                      # programs whose mismatches include a crash
    harness_errors: list = field(default_factory=list)   # (index, traceback): the fuzzer's own bugs
    mismatch_kinds: collections.Counter = field(default_factory=collections.Counter)
    known: collections.Counter = field(default_factory=collections.Counter)
    differences: collections.Counter = field(default_factory=collections.Counter)
    skipped: collections.Counter = field(default_factory=collections.Counter)
    passed: collections.Counter = field(default_factory=collections.Counter)
    families: collections.Counter = field(default_factory=collections.Counter)
    errors_matched: int = 0
    steps: int = 0

    def add(self, outcome) -> None:
        self.programs += 1
        self.steps += outcome.program.depth
        self.families.update(outcome.program.tags)
        self.passed.update(outcome.passed)
        self.skipped.update(f"{k}: {v}" for k, v in outcome.skipped.items())
        self.known.update(d.name for _, d in outcome.known)
        self.differences.update(d.name for _, d in outcome.differences)
        self.errors_matched += outcome.errors_matched
        self.mismatch_kinds.update({m.kind for m in outcome.mismatches})
        if outcome.mismatches:
            self.failing.append(outcome)
            self.crashes += any(is_crash(m) for m in outcome.mismatches)
        else:
            self.ok += 1

    def text(self) -> str:
        lines = [f"fuzz seed={self.seed}: {self.programs} programs ({self.steps} ops) in {self.seconds:.1f} s; "
                 f"{self.ok} agree, {len(self.failing)} with unexplained mismatches "
                 f"({self.crashes} with crashes), {len(self.harness_errors)} fuzzer errors",
                 f"  torch and tracer raised alike: {self.errors_matched} programs"]
        for title, counter in (("unexplained mismatches (programs, by kind)", self.mismatch_kinds),
                               ("known defects (programs)", self.known),
                               ("documented differences (programs)", self.differences),
                               ("checks passed (programs)", self.passed),
                               ("checks skipped (programs, reason)", self.skipped),
                               ("op families (programs)", self.families)):
            if counter:
                lines.append(f"  {title}:")
                lines += [f"    {v:6d}  {k}" for k, v in sorted(counter.items(), key=lambda kv: (-kv[1], kv[0]))]
        return "\n".join(lines)


def is_crash(m) -> bool:
    """A tracegrad exception where torch (or the interpreter) succeeds."""
    return m.kind in ("eager.raises", "grad.raises", "trace.crash", "trace.run", "ir_grad.crash") or \
        m.kind.endswith(".crash") or m.kind.startswith("onnx.export")


def run(seed: int, n: int, start: int = 0, onnx: bool = True, progress=None) -> Summary:
    summary = Summary(seed)
    t0 = time.perf_counter()
    for index in range(start, start + n):
        try:
            outcome = check(generate(seed, index), onnx=onnx)
        except Exception:  # noqa: BLE001  (a bug in the fuzzer itself: recorded, never hidden)
            summary.harness_errors.append((index, traceback.format_exc()))
            continue
        summary.add(outcome)
        if progress is not None:
            progress(index, summary)
    summary.seconds = time.perf_counter() - t0
    return summary


def _rebind(program: Program, steps) -> Program:
    bound = [s.split(" = ")[0] for s in steps if re.match(r"v\d+ = ", s)]
    return Program(program.inputs, list(steps), bound, program.seed, program.index, program.tags)


def shrink(program: Program, kind: str, onnx: bool = True, budget: int = 200) -> Program:
    """Drop steps (and unused inputs) while a mismatch of ``kind`` remains."""
    def still(p):
        try:
            found = check(p, onnx=onnx).mismatches
        except Exception:  # noqa: BLE001
            return False
        # a dropped step whose name a later step reads is not a smaller program
        return any(m.kind == kind for m in found) and not any("NameError" in str(m) for m in found)

    steps = list(program.steps)
    changed, tries = True, 0
    while changed and tries < budget:
        changed = False
        for k in reversed(range(len(steps))):
            candidate = steps[:k] + steps[k + 1:]
            tries += 1
            if candidate and still(_rebind(program, candidate)):
                steps, changed = candidate, True
    small = _rebind(program, steps)
    used = [i for i in small.inputs if re.search(rf"\b{i.name}\b", small.source())]
    if len(used) < len(small.inputs):
        trial = Program(used, small.steps, small.outputs, small.seed, small.index, small.tags)
        if still(trial):
            small = trial
    return small


def explain(outcome, onnx: bool = True, do_shrink: bool = True) -> str:
    """The failing program's mismatches and (shrunk) runnable script."""
    program = outcome.program
    first = outcome.mismatches[0]
    small = shrink(program, first.kind, onnx=onnx) if do_shrink else program
    note = f"{first}" if small is program else f"{first} (shrunk from {program.depth} steps)"
    return outcome.report() + "\n" + script(small, note)
