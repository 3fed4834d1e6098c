"""Mismatches the fuzzer has found and recorded, so the CI slice passes while they stand.

``KNOWN_DEFECTS``: tracegrad defects, each with the pattern that recognises it in a fuzz
program and a minimal reproduction. The CI test runs every reproduction as a strict xfail:
when a fix lands, the reproduction passes and the test fails loudly until the entry is removed.

``KNOWN_DIFFERENCES``: documented, intended differences from torch (or between backends);
a mismatch they explain counts as a pass.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np

from .program import Input, Program


@dataclass(frozen=True)
class Pattern:
    """Recognises a mismatch: ``kind`` matches its kind, ``program`` searches the program's
    statements and ``detail`` its description (each a regex; empty matches anything)."""

    name: str
    kind: str
    program: object = ""  # a regex over the program's statements, or a predicate over the Outcome
    detail: str = ""
    reason: str = ""
    also: str = ""  # further mismatch kinds that follow from this one in the same program

    def matches(self, mismatch, outcome) -> bool:
        if re.fullmatch(self.kind, mismatch.kind) is None:
            return False
        if self.detail and re.search(self.detail, str(mismatch)) is None:
            return False
        if callable(self.program):
            return bool(self.program(outcome))
        return not self.program or re.search(self.program, outcome.program.source(), re.M) is not None


@dataclass(frozen=True)
class KnownDefect(Pattern):
    """A tracegrad defect, with a minimal reproduction (a ``Program``) that shows it."""

    repro: Program | None = field(default=None, compare=False, hash=False)


@dataclass(frozen=True)
class KnownDifference(Pattern):
    """An intended difference, with the reason (and where it is documented)."""


def repro(steps, *inputs, outputs=None) -> Program:
    """A reproduction: ``inputs`` as (name, array, requires_grad) triples."""
    ins = [Input(n, np.asarray(a), rg) for n, a, rg in inputs]
    bound = [s.split(" = ")[0] for s in steps if re.match(r"v\d+ = ", s)]
    return Program(ins, list(steps), outputs or bound, seed=0, index=0)


def f32(*values, shape=None):
    a = np.array(values, dtype=np.float32)
    return a.reshape(shape) if shape is not None else a


VIEW = re.compile(r"^(v\d+) = (?:m\.\w+\()?([xv]\d+)(?:\[|\.(?:t|T|mT|transpose|permute|reshape|view|view_as|"
                  r"unflatten|flatten|unsqueeze|squeeze|expand|expand_as|narrow|movedim|swapaxes|detach|"
                  r"split|chunk|unbind|contiguous|broadcast_to)\b|, )")
EMPTY_SHAPE = re.compile(r"\b(?:float|int|bool)\d*\[(?:\d+, )*0\b")  # an empty operand named in a message

MUTATION = re.compile(r"^([xv]\d+)(?:\.\w+_\(|\[.*\] = | [-+*/]= )")


def aliased_write(outcome) -> bool:
    """Whether an in-place write reaches a value that shares storage with another value made
    before the write (a view and its base, or two views of one base)."""
    source = outcome.program.source()
    group = {}  # name -> representative base
    seen = []   # the statements before the current one

    def root(n):
        while group.get(n, n) != n:
            n = group[n]
        return n
    members = {}
    for line in source.splitlines():
        view = VIEW.match(line)
        if view and not re.match(r"^v\d+ = m\.(?!permute|squeeze|movedim|flatten|broadcast_to|reshape|narrow|"
                                 r"transpose|unsqueeze|swapaxes|split|chunk|unbind)", line):
            new, base = view.group(1), root(view.group(2))
            group[new] = base
            members.setdefault(base, {base}).add(new)
            continue
        write = MUTATION.match(line)
        if write and len(members.get(root(write.group(1)), ())) > 1:
            return True
        if write and _viewed_inline(write.group(1), seen):
            return True
        seen.append(line)
    return False


INLINE_VIEW = r"\.(?:t\(\)|T\b|mT\b|transpose\(|permute\(|reshape\(|view\(|unsqueeze\(|squeeze\(|expand\(|" \
              r"expand_as\(|flatten\(|unflatten\(|narrow\(|movedim\(|swapaxes\(|split\(|chunk\(|unbind\()|\["


def _viewed_inline(name: str, lines) -> bool:
    """Whether an earlier statement used a view of ``name`` inside an expression (``v0.mT @ w``,
    ``F.linear(v2.mT, ...)``), which an op may have saved for its backward."""
    pattern = re.compile(rf"=.*\b{name}{INLINE_VIEW}")
    return any(pattern.search(line) for line in lines)


KNOWN_DEFECTS: list[KnownDefect] = [
    KnownDefect(
        "stale_view_after_inplace",
        r"trace\.value|grad\.value|grad\.none|grad\.loss|ir_grad\.value|grad\.accepts|eager\.requires_grad",
        program=aliased_write,
        reason="an in-place write to a tensor does not reach the graph nodes of the views taken from it "
               "before the write (slices, t/transpose/permute, reshape/view/unflatten, unsqueeze, expand, "
               "split pieces), nor of a view's siblings: eager values are right (storage is shared) but "
               "eager gradients flow through the stale pre-write value, a traced graph returns the stale "
               "value, and torch's version-counter error is not raised when backward needs the view "
               "(v0 @ w after a transposed view of v0 was saved); a view of a value later divided in place by "
               "a requires-grad tensor keeps requires_grad=False",
        repro=repro(["v0 = x0 * 2", "v1 = v0[0]", "v0.zero_()"], ("x0", f32(1, 2, 3, 4, shape=(2, 2)), True),
                    outputs=["v1"])),
    KnownDefect(
        "max_dim_values_version", r"grad\.accepts|ir_grad\.value", program=r"\.(max|min)\(-?\d+.*\)(\.values|\[0\])",
        detail=r"modified by an inplace operation|ir_grad",
        reason="x.max(dim).values / x.min(dim)[0] changed in place after an op saved it: torch's backward "
               "raises 'modified by an inplace operation'; tracer's does not and its eager gradients use the "
               "overwritten value (silently wrong: m.remainder(v, y) then v.fill_(7.0) gives y.grad from 7.0, "
               "and ir.grad of the same program disagrees with eager)",
        repro=repro(["v0 = x0.max(0).values", "v1 = m.remainder(v0, x1)", "v0.fill_(7.0)"],
                    ("x0", f32(0.3, -1.2, 1.7, 0.9, 1.1, -0.4, shape=(2, 3)), True),
                    ("x1", f32(0.7, 1.3, 1.9), True), outputs=["v1"])),
    KnownDefect(
        "saved_input_not_version_checked", "grad.accepts", detail=r"modified by an inplace operation",
        reason="an input that torch's backward saves is changed in place afterwards; torch raises, tracer's "
               "backward (whose formula does not read that value) returns the gradient of the values before "
               "the write: logsumexp's result, mse_loss's input, var/std's input, a / b's numerator, sigmoid_ "
               "of a value mse_loss read (more permissive than torch, not wrong)",
        repro=repro(["v0 = x0 * 1", "v1 = m.logsumexp(v0, 0)", "v1.add_(1.0)"], ("x0", f32(1.5, 2.5), True))),
    KnownDefect(
        "expanded_fill_rejected", "eager.raises",
        detail=r"more than one element of the written-to tensor refers to a single memory location",
        program=r"\.(expand|expand_as|broadcast_to)\(|m\.broadcast_to\(",
        reason="fill_/zero_/masked_fill_ and v[i] = scalar on an expanded view raise 'more than one element "
               "of the written-to tensor refers to a single memory location'; torch allows these "
               "(every aliased element receives the same value) and rejects only add_/copy_/clamp_-style writes",
        repro=repro(["v0 = x0.expand(2, 2)", "v0.fill_(3.0)"], ("x0", f32(1.0, 2.0), False))),
]

KNOWN_DIFFERENCES: list[KnownDifference] = [
    KnownDifference(
        "torch_mixed_dtype_losses", r"eager\.value|grad\.accepts|eager\.accepts",
        program=r"F\.(binary_cross_entropy|binary_cross_entropy_with_logits|mse_loss|l1_loss|smooth_l1_loss|"
                r"huber_loss|cross_entropy|nll_loss)\(",
        detail=r"dtype float64 != float32|Found dtype \w+ but expected \w+",
        reason="torch quirks with float32/float64 loss arguments: binary_cross_entropy_with_logits returns "
               "the target's dtype, and binary_cross_entropy's (and others') backward raise 'Found dtype "
               "Float but expected Double'; tracegrad promotes both arguments as for any binary op"),
    KnownDifference(
        "torch_empty_mixed_matmul", r"eager\.value|eager\.accepts", program=r"@|matmul|bmm|mm\(|linear",
        detail=r"dtype float(32|64) != float(32|64)",
        reason="torch's matmul/bmm of an empty float64 and an empty float32 tensor returns float32 without "
               "its usual dtype check; tracegrad promotes to float64"),
    KnownDifference(
        "torch_int_addcmul_value", r"eager\.value", program=r"addc(mul|div)\(", detail=r"dtype float32 != int64",
        reason="torch's addcmul of integer tensors with a float value keeps int64 and truncates the value "
               "(addcmul([3, 4], [1, 3], [1, 1], value=0.5) is [3, 4]); tracegrad promotes as "
               "input + value * t1 * t2 does ([3.5, 5.5])"),
    KnownDifference(
        "torch_empty_skips_dtype_checks", r"eager\.value|eager\.raises|eager\.accepts|eager\.error_step",
        program=lambda outcome: any(i.array.size == 0 for i in outcome.program.inputs) or any(
            EMPTY_SHAPE.search(str(m)) for m in outcome.mismatches),
        detail=r"dtype \w+ != \w+|not implemented for|must have the same dtype|to have (the )?same dtype",
        reason="torch skips its kernels' dtype checks and dtype rules on empty tensors (softmax of an empty "
               "bool tensor is an empty bool tensor; bmm of empty float64 and float32 is float32); "
               "tracegrad applies the same rules as for non-empty tensors"),
    KnownDifference(
        "torch_internal_assert", r"grad\.accepts|eager\.accepts", detail=r"INTERNAL ASSERT FAILED",
        reason="torch fails its own internal assert (True ** x backward: 'unknown ivalue tag 4'), a torch bug"),
    KnownDifference(
        "torch_scalar_arguments", r"eager\.accepts",
        detail=r"must be Tensor, not (float|int|bool)|missing 1 required positional argument|"
               r"received an invalid combination of arguments - got \(\)",
        reason="torch's argument parser rejects a Python number where it wants a tensor (m.maximum(x, 2.5), "
               "m.logical_and(x, 2.5)) and x.reshape()/x.view() without a shape; tracegrad accepts both "
               "(numbers as 0-d tensors, an empty shape as ())"),
    KnownDifference(
        "tracer_differentiates_bool_exponent", r"grad\.accepts", program=r"m\.pow\(|\*\*|\.pow\(",
        detail=r"with a bool tensor is not supported",
        reason="x ** bool_tensor: tracegrad's gradient treats the exponent as 0/1 (x ** True = x has slope 1, "
               "x ** False = 1 has slope 0); torch's backward computes exponent - 1 on the bool tensor and raises"),
    KnownDifference(
        "float32_cancellation_over_broadcast", r"ir_grad\.value|ort\.\w+\.grad", program=r"\.expand(_as)?\(",
        detail=r"float32.*max abs diff \d\.\d+e-0[67]\)",
        reason="a gradient summed over an expanded (broadcast) dim whose terms nearly cancel (x / x.expand_as(y): "
               "+g/x and -g*x/x**2 per copy): float32 sums in another order differ by eps32 times the terms' "
               "magnitude, far above the small result's own relative tolerance"),
]
