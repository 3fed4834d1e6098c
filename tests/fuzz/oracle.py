"""The checks one fuzz program goes through, each against the one before it:

1. ``eager``: tracer eagerly against torch eagerly, from the same arrays: each result's value,
   dtype, shape and ``requires_grad``, the inputs' final values, and exceptions (when torch
   raises, tracer must raise the same builtin exception type at the same step); ``grad``: the
   gradients of a weighted sum of the float results that require grad.
2. ``trace``: ``tracer.trace`` of the program run by the NumPy interpreter, bit for bit against
   eager tracer (results, the weighted sum, inputs changed in place).
3. ``ir_grad``: ``ir.grad`` of that graph on the interpreter against eager tracer's gradients.
4. ``ort``: onnxruntime against the interpreter, on the forward and the ``ir.grad`` graph, at
   onnxruntime's default optimisation level (``all``) and with optimisations off (``none``).

Float tolerances scale with the program's depth, and each element may also differ by a few
times torch's own float32 sensitivity there (torch float32 against torch run on the inputs
upcast to float64): a long chain of ill-conditioned float32 ops is no evidence of a defect.
"""
from __future__ import annotations

import builtins
import re
import warnings
from dataclasses import dataclass, field

import numpy as np
import onnxruntime as ort
import torch

import backends.numpy as bnp
import ir
import tracer
from backends.onnx import ExportError, export

from .known import KNOWN_DEFECTS, KNOWN_DIFFERENCES
from .program import Program, StepError, make_tensors, run_steps

LEVELS = {"all": ort.GraphOptimizationLevel.ORT_ENABLE_ALL, "none": ort.GraphOptimizationLevel.ORT_DISABLE_ALL}
#: ops onnxruntime computes in float32 for float64 tensors (docs/onnx.md)
F32_IN_ORT = re.compile(r"\berf\b|gelu|softplus")
SENSITIVITY = 8.0


@dataclass
class Mismatch:
    """One disagreement: ``kind`` is ``check.what`` (e.g. ``eager.value``, ``ort.none.grad``)."""

    kind: str
    detail: str
    output: str = ""

    def __str__(self) -> str:
        where = f" [{self.output}]" if self.output else ""
        return f"{self.kind}{where}: {self.detail}"


@dataclass
class Outcome:
    """What the checks found for one program."""

    program: Program
    mismatches: list = field(default_factory=list)   # unexplained
    known: list = field(default_factory=list)        # (Mismatch, KnownDefect)
    differences: list = field(default_factory=list)  # (Mismatch, KnownDifference): documented, pass
    skipped: dict = field(default_factory=dict)      # check -> reason
    passed: list = field(default_factory=list)       # checks that ran and agreed
    errors_matched: bool = False                     # torch and tracer raised alike
    nan_seen: bool = False                           # torch's run held a NaN somewhere

    @property
    def ok(self) -> bool:
        return not self.mismatches

    def report(self) -> str:
        lines = [f"program seed={self.program.seed} index={self.program.index} (depth {self.program.depth})"]
        lines += [f"  MISMATCH {m}" for m in self.mismatches]
        lines += [f"  known defect {d.name}: {m}" for m, d in self.known]
        return "\n".join(lines)


# -- comparing arrays ------------------------------------------------------------------
def builtin_base(exc: BaseException) -> type:
    """The exception's nearest builtin class (torch's own errors subclass builtins)."""
    return next(c for c in type(exc).__mro__ if getattr(builtins, c.__name__, None) is c)


def _classes(a):
    return np.where(np.isnan(a), 0, np.where(np.isposinf(a), 1, np.where(np.isneginf(a), 2, 3)))


def sensitivity(a32, a64):
    """Elementwise |a32 - a64| (inf where one is nan/inf and the other is not); None if unusable."""
    if a64 is None or a32.shape != a64.shape:
        return None
    if a32.dtype.kind not in "fiub":
        return None
    x, y = a32.astype(np.float64), a64.astype(np.float64)
    with np.errstate(all="ignore"):
        diff = np.abs(x - y)
    same_class = _classes(x) == _classes(y)
    diff = np.where(same_class & np.isfinite(x), diff, np.where(same_class, 0.0, np.inf))
    return diff


def tolerance(dtype, depth: int, kind: str, loose64: bool = False):
    """(rtol, atol) for comparing ``dtype`` arrays after ``depth`` ops, by check kind."""
    scale = max(1.0, depth / 3)
    if kind == "ort":
        if dtype == np.float32:
            return 1e-4 * scale, 1e-5 * scale
        return (1e-6 * scale, 1e-7 * scale) if loose64 else (1e-9 * scale, 1e-11 * scale)
    if kind == "tight":
        return (1e-6 * scale, 1e-7 * scale) if dtype == np.float32 else (1e-12 * scale, 1e-14 * scale)
    return (1e-5 * scale, 1e-6 * scale) if dtype == np.float32 else (1e-10 * scale, 1e-12 * scale)


def differ(got, ref, rtol=0.0, atol=0.0, sens=None) -> str:
    """'' when ``got`` matches ``ref``; else a one-line description. Shapes and dtypes must be
    equal; integers and bools exactly (up to ``sens``); floats NaN-aware within the tolerance."""
    got, ref = np.asarray(got), np.asarray(ref)
    if got.shape != ref.shape:
        return f"shape {list(got.shape)} != {list(ref.shape)}"
    if got.dtype != ref.dtype:
        return f"dtype {got.dtype} != {ref.dtype}"
    if got.size == 0:
        return ""
    g, r = got.astype(np.float64), ref.astype(np.float64)
    allowed = atol + rtol * np.abs(np.where(np.isfinite(r), r, 0))
    if sens is not None:
        allowed = allowed + SENSITIVITY * sens
    same_class = _classes(g) == _classes(r)
    finite = np.isfinite(r) & np.isfinite(g)
    with np.errstate(all="ignore"):
        err = np.abs(g - r)
    bad = ~same_class | (finite & (err > allowed))
    if sens is not None:
        bad &= ~np.isinf(sens)
    if not bad.any():
        return ""
    k = int(np.flatnonzero(bad.reshape(-1))[0])
    where = np.unravel_index(k, got.shape) if got.shape else ()
    err = err[bad]
    worst = float(np.nanmax(err)) if np.isfinite(err).any() else float("nan")
    return (f"{int(bad.sum())}/{got.size} elements differ; first at {list(map(int, where))}: "
            f"{got.reshape(-1)[k]!r} vs {ref.reshape(-1)[k]!r} (max abs diff {worst:.3g})")


def bits(got, ref) -> str:
    """'' when bit-identical (NaN-aware), else a description."""
    got, ref = np.asarray(got), np.asarray(ref)
    if got.shape != ref.shape or got.dtype != ref.dtype:
        return differ(got, ref)
    if ref.dtype.kind == "f":
        same = np.array_equal(got, ref, equal_nan=True)
    else:
        same = np.array_equal(got, ref)
    return "" if same else "not bit-identical: " + differ(got, ref)


def as_array(t) -> np.ndarray:
    return np.array(t.detach().numpy(), copy=True)


# -- running ---------------------------------------------------------------------------
@dataclass
class Run:
    """One eager run of a program on a module: results or the exception, then gradients."""

    error: StepError | None = None
    outputs: dict = field(default_factory=dict)      # name -> array
    requires_grad: dict = field(default_factory=dict)
    inputs: dict = field(default_factory=dict)       # input name -> final array
    loss: np.ndarray | None = None
    grad_error: BaseException | None = None
    grads: dict = field(default_factory=dict)        # input name -> array or None


def weights(program: Program, name: str, shape, dtype):
    """The fixed random weight of output ``name`` in the summed scalar."""
    k = program.outputs.index(name)
    return np.random.default_rng([program.seed, program.index, 7, k]).standard_normal(shape).astype(dtype)


def weighted_sum(m, program, env, names, dtypes):
    total = None
    for name, dtype in zip(names, dtypes):
        out = env[name]
        term = (out * m.tensor(weights(program, name, tuple(out.shape), dtype))).sum()
        total = term if total is None else total + term
    return total


def run_eager(program: Program, m, grad_names=None, grad_dtypes=None, upcast: bool = False) -> Run:
    """Run ``program`` on ``m``; with ``grad_names``, backpropagate their weighted sum."""
    run = Run()
    tensors = make_tensors(m, program, upcast=upcast)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            env = run_steps(program, m, tensors)
        except StepError as e:
            run.error = e
            return run
        for name in program.outputs:
            run.outputs[name] = as_array(env[name])
            run.requires_grad[name] = bool(env[name].requires_grad)
        for i, t in zip(program.inputs, tensors):
            run.inputs[i.name] = as_array(t)
        if not grad_names:
            return run
        dtypes = [np.float64 if upcast else d for d in grad_dtypes]
        try:
            loss = weighted_sum(m, program, env, grad_names, dtypes)
            run.loss = as_array(loss)
            loss.backward()
        except Exception as e:  # noqa: BLE001
            run.grad_error = e
            return run
        for i, t in zip(program.inputs, tensors):
            if i.requires_grad:
                run.grads[i.name] = None if t.grad is None else as_array(t.grad)
    return run


def grad_outputs(program: Program, ref: Run):
    """The outputs in the summed scalar: float results that require grad in torch."""
    names = [n for n in program.outputs if ref.requires_grad[n] and ref.outputs[n].dtype.kind == "f"]
    return names, [ref.outputs[n].dtype.type for n in names]


class Checker:
    """Runs the four checks on one program (``reference`` is torch, or a stand-in in tests)."""

    def __init__(self, program: Program, reference=torch, onnx: bool = True):
        self.p = program
        self.ref_module = reference
        self.onnx = onnx
        self.out = Outcome(program)
        self.loose64 = bool(F32_IN_ORT.search(program.source()))
        # float64 results computed from float32 values carry float32's error
        self.float32 = any(i.array.dtype == np.float32 for i in program.inputs) or \
            bool(re.search(r"float32|\.float\(\)|m\.tensor\(\d*\.\d", program.source()))

    def mismatch(self, kind, detail, output=""):
        self.out.mismatches.append(Mismatch(kind, detail, output))

    def compare(self, kind, got, ref, sens, output, tol_kind="eager"):
        ref = np.asarray(ref)
        dtype = np.float32 if self.float32 else ref.dtype
        rtol, atol = tolerance(dtype, self.p.depth, tol_kind, self.loose64) if ref.dtype.kind == "f" else (0, 0)
        text = differ(got, ref, rtol, atol, sens)
        if text:
            self.mismatch(kind, text, output)
        return not text

    # 1. eager against torch
    def check_eager(self):
        p = self.p
        ref = run_eager(p, self.ref_module)
        self.grad_names, self.grad_dtypes = ([], []) if ref.error else grad_outputs(p, ref)
        if ref.error is None and self.grad_names:
            ref = run_eager(p, self.ref_module, self.grad_names, self.grad_dtypes)
        ours = run_eager(p, tracer, self.grad_names, self.grad_dtypes)
        self.ref, self.ours = ref, ours
        self.out.nan_seen = any(a.dtype.kind == "f" and np.isnan(a).any()
                                for a in [*ref.outputs.values(), *ref.inputs.values(),
                                          *(g for g in ref.grads.values() if g is not None)])
        if ref.error or ours.error:
            return self._check_errors(ref.error, ours.error)
        up = run_eager(p, self.ref_module, self.grad_names, self.grad_dtypes, upcast=True)
        self.sens = {}
        if up.error is None:
            for n, a in ref.outputs.items():
                self.sens[n] = sensitivity(a, up.outputs.get(n))
            for n, a in ref.inputs.items():
                self.sens["input:" + n] = sensitivity(a, up.inputs.get(n))
            for n, a in ref.grads.items():
                self.sens["grad:" + n] = sensitivity(a, up.grads.get(n)) if a is not None else None
            if ref.loss is not None and up.loss is not None:
                self.sens["loss"] = sensitivity(ref.loss, up.loss)
        ok = True
        for n in p.outputs:
            ok &= self.compare("eager.value", ours.outputs[n], ref.outputs[n], self.sens.get(n), n)
            if ours.requires_grad[n] != ref.requires_grad[n]:
                ok = False
                self.mismatch("eager.requires_grad", f"tracer {ours.requires_grad[n]}, torch {ref.requires_grad[n]} "
                              f"({ref.outputs[n].dtype} result)", n)
        for n in ours.inputs:
            ok &= self.compare("eager.input_after", ours.inputs[n], ref.inputs[n], self.sens.get("input:" + n), n)
        self.out.passed.append("eager") if ok else None
        self.check_eager_grads()
        return True

    def _check_errors(self, theirs, ours):
        if theirs and ours:
            base = builtin_base(theirs.error)
            if not isinstance(ours.error, base):
                self.mismatch("eager.error_type", f"torch raises {base.__name__} ({_first(theirs.error)}), tracer "
                              f"{type(ours.error).__name__} ({_first(ours.error)})", f"step {theirs.step}")
            elif ours.step != theirs.step:
                self.mismatch("eager.error_step", f"torch raises at step {theirs.step}, tracer at {ours.step}")
            else:
                self.out.errors_matched = True
                self.out.passed.append("eager")
        elif theirs:
            self.mismatch("eager.accepts", f"torch raises {type(theirs.error).__name__}: {_first(theirs.error)}; "
                          "tracer does not", f"step {theirs.step}")
        else:
            self.mismatch("eager.raises", f"{type(ours.error).__name__}: {_first(ours.error)} (torch does not)",
                          f"step {ours.step}")
        for check in ("grad", "trace", "ir_grad", "ort"):
            self.out.skipped[check] = "torch raises" if theirs else "tracer raises"
        return False

    def check_eager_grads(self):
        ref, ours = self.ref, self.ours
        if not self.grad_names:
            self.out.skipped["grad"] = "no float result requires grad"
            return
        if ref.grad_error or ours.grad_error:
            if ref.grad_error and ours.grad_error:
                base = builtin_base(ref.grad_error)
                if isinstance(ours.grad_error, base):
                    self.out.passed.append("grad")
                else:
                    self.mismatch("grad.error_type", f"torch backward raises {base.__name__}, tracer "
                                  f"{type(ours.grad_error).__name__} ({_first(ours.grad_error)})")
            elif ref.grad_error:
                self.mismatch("grad.accepts", f"torch backward raises {type(ref.grad_error).__name__}: "
                              f"{_first(ref.grad_error)}; tracer does not")
            else:
                self.mismatch("grad.raises", f"tracer backward raises {type(ours.grad_error).__name__}: "
                              f"{_first(ours.grad_error)} (torch does not)")
            return
        ok = self.compare("grad.loss", ours.loss, ref.loss, self.sens.get("loss"), "loss")
        for n, g in ref.grads.items():
            mine = ours.grads.get(n)
            if (g is None) != (mine is None):
                ok = False
                self.mismatch("grad.none", f"tracer .grad is {'None' if mine is None else 'set'}, torch's "
                              f"{'None' if g is None else 'set'}", n)
            elif g is not None:
                ok &= self.compare("grad.value", mine, g, self.sens.get("grad:" + n), n)
        self.out.passed.append("grad") if ok else None

    # 2. trace + interpreter against eager
    def traced(self, *xs):
        env = run_steps(self.p, tracer, xs)
        outs = [env[n] for n in self.p.outputs]
        if self.grad_names:
            outs.append(weighted_sum(tracer, self.p, env, self.grad_names, self.grad_dtypes))
        return outs

    def check_trace(self):
        p = self.p
        arrays = [i.array for i in p.inputs]
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                self.graph = tracer.trace(self.traced, *make_tensors(tracer, p))
                ir.lint(self.graph)
        except Exception as e:  # noqa: BLE001
            self.mismatch("trace.crash", f"{type(e).__name__}: {_first(e)}")
            return False
        self.feeds = dict(zip(self.graph.input_names, arrays))
        try:
            values = bnp.run(self.graph, self.feeds)
        except Exception as e:  # noqa: BLE001
            self.mismatch("trace.run", f"{type(e).__name__}: {_first(e)}")
            return False
        self.interp = dict(zip(self.graph.output_names, values))
        self.eager_by_output = {}
        names = self.graph.output_names
        expected = [self.ours.outputs[n] for n in p.outputs] + ([self.ours.loss] if self.grad_names else [])
        for name, want, label in zip(names, expected, p.outputs + ["loss"]):
            if want is not None:  # no eager loss: making it raised (as torch's, checked by check_grad)
                self.eager_by_output[name] = (want, self.sens.get(label))
        input_of = dict(zip(self.graph.input_names, [i.name for i in p.inputs]))
        for name in names[len(expected):]:
            source = input_of.get(name[len("updated."):])
            if source is not None:
                self.eager_by_output[name] = (self.ours.inputs[source], self.sens.get("input:" + source))
        ok = True
        for name, (want, _) in self.eager_by_output.items():
            text = bits(self.interp[name], want)
            if text:
                ok = False
                self.mismatch("trace.value", text, name)
        changed = [i.name for i in p.inputs if not np.array_equal(self.ours.inputs[i.name], i.array, equal_nan=True)]
        written = {input_of.get(n[len("updated."):]) for n in names if n.startswith("updated.")}
        for n in changed:
            if n not in written:
                ok = False
                self.mismatch("trace.mutation", "eager changed this input in place; the graph has no updated.* output", n)
        self.out.passed.append("trace") if ok else None
        return True

    # 3. ir.grad on the interpreter against eager gradients
    def check_ir_grad(self):
        if not self.grad_names:
            self.out.skipped["ir_grad"] = "no float result requires grad"
            return False
        if self.ours.grad_error is not None:
            self.out.skipped["ir_grad"] = "eager backward raises (as torch)"
            return False
        wrt = [self.graph.input_names[k] for k, i in enumerate(self.p.inputs) if i.requires_grad]
        self.grad_of = {g: i.name for g, i in zip(self.graph.input_names, self.p.inputs)}
        try:
            self.combined = ir.grad(self.graph, of=len(self.p.outputs), wrt=wrt)
            ir.lint(self.combined)
            values = bnp.run(self.combined, self.feeds)
        except Exception as e:  # noqa: BLE001
            self.mismatch("ir_grad.crash", f"{type(e).__name__}: {_first(e)}")
            return False
        self.interp_grad = dict(zip(self.combined.output_names, values))
        ok = True
        for name in wrt:
            source = self.grad_of[name]
            want = self.ours.grads[source]
            got = self.interp_grad[f"grad.{name}"]
            if want is None:
                want = np.zeros_like(got)
            # tight, plus what float32 does to this gradient (torch's float32 against float64): a
            # sum whose terms cancel differs by an ulp of the terms when summed in another order
            ok &= self.compare("ir_grad.value", got, want, self.sens.get("grad:" + source), source, tol_kind="tight")
            self.eager_by_output[f"grad.{name}"] = (want, self.sens.get("grad:" + source))
        self.out.passed.append("ir_grad") if ok else None
        return True

    # 4. onnxruntime against the interpreter
    def check_ort(self, which, graph, interp):
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                model = export(graph, params_as="inputs").SerializeToString()
        except ExportError as e:
            if "no ONNX lowering" in str(e):
                self.out.skipped[f"ort.{which}"] = f"no ONNX lowering: {_first(e)}"
            else:
                self.mismatch(f"onnx.export.{which}", f"{type(e).__name__}: {_first(e)}")
            return
        except Exception as e:  # noqa: BLE001
            self.mismatch(f"onnx.export.{which}", f"{type(e).__name__}: {_first(e)}")
            return
        for level, flag in LEVELS.items():
            kind = f"ort.{level}.{which}"
            options = ort.SessionOptions()
            options.graph_optimization_level = flag
            options.log_severity_level = 4
            options.intra_op_num_threads = 1
            try:
                session = ort.InferenceSession(model, options, providers=["CPUExecutionProvider"])
                wanted = {i.name for i in session.get_inputs()}
                got = session.run(list(graph.output_names), {k: v for k, v in self.feeds.items() if k in wanted})
            except Exception as e:  # noqa: BLE001
                self.mismatch(kind + ".crash", f"{type(e).__name__}: {_first(e)}")
                continue
            ok = True
            for name, value in zip(graph.output_names, got):
                sens = self.eager_by_output.get(name, (None, None))[1]
                ok &= self.compare(kind, value, interp[name], sens, name, tol_kind="ort")
            self.out.passed.append(kind) if ok else None

    def run(self) -> Outcome:
        if self.check_eager() and self.check_trace():
            has_grad = self.check_ir_grad()
            if self.onnx:
                self.check_ort("forward", self.graph, self.interp)
                if has_grad:
                    self.check_ort("grad", self.combined, self.interp_grad)
                else:
                    self.out.skipped["ort.grad"] = self.out.skipped.get("ir_grad", "ir.grad failed")
        classify(self.out)
        return self.out


def _first(e: BaseException) -> str:
    text = str(e).strip().splitlines()
    return text[0][:200] if text else ""


def classify(outcome: Outcome) -> None:
    """Move mismatches explained by a known defect or a documented difference out of the way."""
    left = []
    for m in outcome.mismatches:
        diff = next((d for d in KNOWN_DIFFERENCES if d.matches(m, outcome)), None)
        known = next((d for d in KNOWN_DEFECTS if d.matches(m, outcome)), None)
        if diff is not None:
            outcome.differences.append((m, diff))
        elif known is not None:
            outcome.known.append((m, known))
        else:
            left.append(m)
    consequences = [d for _, d in outcome.known + outcome.differences if d.also]
    rest = []
    for m in left:
        cause = next((d for d in consequences if re.fullmatch(d.also, m.kind)), None)
        if cause is not None:
            (outcome.differences if cause in KNOWN_DIFFERENCES else outcome.known).append((m, cause))
        else:
            rest.append(m)
    outcome.mismatches = rest


def check(program: Program, reference=torch, onnx: bool = True) -> Outcome:
    """Run every check on ``program``."""
    return Checker(program, reference, onnx).run()
