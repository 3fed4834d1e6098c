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


EMPTY_SHAPE = re.compile(r"\b(?:float|int|bool)\d*\[(?:\d+, )*0\b")  # an empty operand named in a message

KNOWN_DEFECTS: list[KnownDefect] = [
    KnownDefect(
        "traced_detached_view_write_cuts_gradient", r"ir_grad\.value|ort\.\w+\.grad", program=r"\.detach\(\)|\.data\b",
        reason="inside a trace, an in-place write through a detach()/.data view of a non-leaf gives the base a "
               "detached node, so ir.grad sends no gradient through the base's earlier computation; eager keeps "
               "it, as torch does (the write bumps the version; the base's grad_fn is unchanged)",
        repro=repro(["v0 = x0 * 2", "v1 = v0.detach()", "v1[0:0] = 1.0", "v2 = v0 * 1"],
                    ("x0", f32(1.5, -2.0), True), outputs=["v2"])),
    KnownDefect(
        "var_of_inf_gradient_nan", r"grad\.value", program=r"\.(var|std)\(|m\.(var|std)(_mean)?\(",
        detail=r"nan\) vs np\.float\d+\(-?inf",
        reason="var/std of a tensor holding an infinity: the gradient is nan (the composed mean's backward "
               "subtracts inf from inf); torch's var_backward, 2 / N * (x - mean) * g, gives +-inf",
        repro=repro(["v0 = x0.var()"], ("x0", f32(1.0, np.inf, 2.0), True))),
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
]
