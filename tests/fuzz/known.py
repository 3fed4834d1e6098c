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


def nan_with(pattern: str):
    """A predicate: torch's run of the program holds a NaN and the program uses ``pattern``."""
    return lambda outcome: outcome.nan_seen and re.search(pattern, outcome.program.source()) is not None


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
        "spurious_version_error", "grad.raises", detail=r"modified by an inplace operation",
        reason="tracer's backward raises torch's 'modified by an inplace operation' error where torch's does "
               "not: after an in-place change of the result of a / b with b requiring grad (tracer's gradient "
               "for b reads the quotient, torch's formula reads a and b). Gradient branches for inputs that need "
               "none no longer count as saved reads, so x ** 2 and v3 * x3 (x3 not requiring grad) are fixed",
        repro=repro(["v0 = x0 / x1", "v0.add_(1.0)"], ("x0", f32(1.5, -2.0), True), ("x1", f32(0.5, 4.0), True))),
    KnownDefect(
        "dtype_misuse_accepted", r"eager\.accepts|grad\.accepts",
        detail=r"with a bool tensor is not supported|not implemented for '(Bool|Long|Int)'|std and var only "
               r"support floating|expected dtype float for `end`|must have the same dtype|to have (the )?same dtype|"
               r"expected scalar type \w+ but found|Integer division with addcdiv",
        reason="operands torch rejects are computed: bool - x and x - bool (torch RuntimeError "
               "'Subtraction ... with a bool tensor is not supported', also in the backward of x ** bool), "
               "softplus/softmax/abs of bool and leaky_relu/softmax of int64 (NotImplementedError), var/std "
               "of integers, lerp with a bool end, addcdiv of integers, and float32 with float64 in "
               "mm/matmul/dot/F.linear (torch RuntimeError: 'expected m1 and m2 to have the same dtype')",
        repro=repro(["v0 = x0 - x1", "v1 = F.softplus(x0)", "v2 = x2.var()"], ("x0", np.array([True, False]), False),
                    ("x1", f32(1.0, 2.0), False), ("x2", np.array([1, 2]), False))),
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
        "setitem_none_index", "eager.raises", detail=r"expand: the number of sizes provided", program=r"None.*\] = ",
        reason="assignment through an index with None (x[None] = v, x[-1, None] = v) expands the value to the "
               "target tensor's shape instead of the indexed shape: RuntimeError 'expand: the number of sizes "
               "provided (1) must be greater or equal to the number of dimensions in the tensor (2)'",
        repro=repro(["x0[None] = x1"], ("x0", np.array([4, 4, 2]), False), ("x1", np.array([[3, 2, 4]]), False))),
    KnownDefect(
        "nonzero_0d", "eager.raises", detail=r"Calling nonzero on 0d arrays",
        reason="m.nonzero of a 0-d tensor raises numpy's ValueError; torch returns shape (1, 0) or (0, 0)",
        repro=repro(["v0 = m.nonzero(x0)"], ("x0", f32(0.5, shape=()), False))),
    KnownDefect(
        "logsumexp_empty", r"eager\.raises|eager\.error_step", program=r"logsumexp",
        detail=r"amax: cannot reduce over an empty dimension|torch raises at step",
        reason="m.logsumexp over an empty dim raises IRIndexError from its amax shift; torch returns -inf",
        repro=repro(["v0 = m.logsumexp(x0, 1)"], ("x0", np.zeros((2, 0), np.float32), False))),
    KnownDefect(
        "nan_sign_and_subgradients", r"eager\.value|grad\.value|grad\.loss|ir_grad\.value|trace\.value",
        program=nan_with(r"sign|abs|relu|minimum|maximum|l1_loss|smooth_l1|huber|clamp|clip|F\.elu|leaky|"
                         r"norm|std|var|where|masked_fill|\bmax\b|\bmin\b|amax|amin|logsumexp|softmax|"
                         r"sigmoid|tanh|gelu|silu|softplus"),
        reason="NaN conventions differ from torch: sign(nan) is nan (torch 0), so abs'(nan) and l1_loss' are "
               "nan (torch 0); relu'(nan) is 0 (torch 1); minimum/maximum pass no gradient to either side of "
               "a NaN (torch passes it to both)",
        repro=repro(["v0 = x0.sign()", "v1 = m.minimum(x0, x1)", "v2 = x0.relu()"],
                    ("x0", f32(np.nan, 1.0), True), ("x1", f32(2.0, 2.0), True))),
    KnownDefect(
        "expanded_fill_rejected", "eager.raises",
        detail=r"more than one element of the written-to tensor refers to a single memory location",
        program=r"\.(expand|expand_as|broadcast_to)\(|m\.broadcast_to\(",
        reason="fill_/zero_/masked_fill_ and v[i] = scalar on an expanded view raise 'more than one element "
               "of the written-to tensor refers to a single memory location'; torch allows these "
               "(every aliased element receives the same value) and rejects only add_/copy_/clamp_-style writes",
        repro=repro(["v0 = x0.expand(2, 2)", "v0.fill_(3.0)"], ("x0", f32(1.0, 2.0), False))),
    KnownDefect(
        "robust_loss_inf_grad", r"grad\.value|grad\.loss", program=r"huber_loss|smooth_l1_loss",
        reason="huber_loss and smooth_l1_loss have NaN gradients where input - target is +-inf (torch: "
               "+-delta and +-1, the linear branch's slope): the quadratic branch's gradient leaks through the "
               "where as inf * 0",
        repro=repro(["v0 = F.huber_loss(x0, x1, reduction='sum', delta=0.5)"], ("x0", f32(1.0, np.inf), True),
                    ("x1", f32(np.inf, 0.5), False))),
    KnownDefect(
        "var_zero_dof_grad", r"grad\.value", program=r"correction=|unbiased",
        reason="var with correction >= N (no degrees of freedom left): torch's value is inf and its gradient "
               "inf (x - mean)-signed; tracer's gradient is NaN",
        repro=repro(["v0 = x0.var(correction=2)"], ("x0", f32(1.0, 3.0), True))),
    KnownDefect(
        "chunk_empty_count", r"eager\.value|eager\.raises", program=r"\.chunk\(",
        reason="chunk(k) of an empty dim returns 1 chunk; torch returns k empty chunks "
               "(len(zeros(0, 5).chunk(3, 0)) is 3)",
        repro=repro(["v0 = m.tensor(len(x0.chunk(3, 0)))"], ("x0", np.zeros((0, 5), np.float32), False))),
    KnownDefect(
        "argmax_bool_accepted", "eager.accepts", detail=r"arg(max|min)\(\): does not support bool input",
        reason="argmax/argmin of a bool tensor: torch raises RuntimeError, tracer returns an index",
        repro=repro(["v0 = x0.argmax()"], ("x0", np.array([True, False]), False))),
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
]
