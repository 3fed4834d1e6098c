"""Random fuzz programs, reproducible from ``(seed, index)``.

A program grows one statement at a time. Each candidate statement is drawn from an op family
(``FAMILIES``: the generator's weights over every op family tracegrad has), written against
the current pool of values (inputs and earlier results, with their real shapes and dtypes),
and probed by replaying the program on torch: a candidate torch accepts becomes the next
step; one torch rejects is kept, rarely, as the program's last step (the oracle then expects
tracer to raise the same exception type), and otherwise redrawn. Operands a family needs and
the pool lacks (a matmul's right-hand side, class-index targets) become new inputs.
"""
from __future__ import annotations

import math
import re
import warnings

import numpy as np
import torch

from .program import Input, Program, StepError, make_tensors, run_steps

FLOATS = (torch.float32, torch.float64)
MAX_NUMEL = 2048
SPECIALS = [0.0, -0.0, np.inf, -np.inf, np.nan, 1e4, -1e4, 1e-30]

# Errors that mean the generator wrote something torch cannot even parse: never kept.
GENERATOR_BUGS = (NameError, SyntaxError, AttributeError, UnboundLocalError)


class Val:
    """A pool value: its name and its current torch value (from the probe run)."""

    def __init__(self, name, t, leaf):
        self.name, self.t, self.leaf = name, t, leaf

    shape = property(lambda self: tuple(self.t.shape))
    ndim = property(lambda self: self.t.dim())
    numel = property(lambda self: self.t.numel())
    dtype = property(lambda self: self.t.dtype)
    is_float = property(lambda self: self.t.dtype in FLOATS)
    is_int = property(lambda self: self.t.dtype in (torch.int64, torch.int32))
    is_bool = property(lambda self: self.t.dtype == torch.bool)

    def all(self, pred) -> bool:
        """Whether every element satisfies ``pred`` (on a float64 copy)."""
        values = self.t.detach().double()
        return bool(pred(values).all()) if values.numel() else True


def broadcasts(a, b) -> bool:
    try:
        torch.broadcast_shapes(tuple(a), tuple(b))
        return True
    except RuntimeError:
        return False


def is_name(text: str) -> bool:
    """Whether operand text names a pool value (``x3``, ``v0``) rather than a literal."""
    return re.fullmatch(r"[xv]\d+", text) is not None


def fmt(x) -> str:
    """A Python literal for a scalar (floats keep a decimal point)."""
    if isinstance(x, bool):
        return repr(x)
    if isinstance(x, float):
        if math.isinf(x):
            return "float('inf')" if x > 0 else "float('-inf')"
        return repr(x)
    return repr(int(x))


class Generator:
    """Builds one program; ``build()`` returns it."""

    def __init__(self, seed: int, index: int, min_ops: int = 3, max_ops: int = 12):
        self.r = np.random.default_rng([seed, index])
        self.seed, self.index = seed, index
        self.inputs: list[Input] = []
        self.steps: list[str] = []
        self.values: list[str] = []       # names the steps bind, in order
        self.tags: set[str] = set()
        self.pool: list[Val] = []
        self.n_ops = int(self.r.integers(min_ops, max_ops + 1))
        self.fdtype = np.float32 if self.r.random() < 0.7 else np.float64
        self.stats: dict[str, int] = {}

    # -- small random helpers ------------------------------------------------------------
    def coin(self, p: float) -> bool:
        return bool(self.r.random() < p)

    def choice(self, seq):
        return seq[int(self.r.integers(len(seq)))]

    def weighted(self, pairs):
        weights = np.array([w for _, w in pairs], dtype=float)
        return pairs[int(self.r.choice(len(pairs), p=weights / weights.sum()))][0]

    def dim(self, ndim: int) -> int:
        n = max(ndim, 1)
        return int(self.r.integers(-n, n))

    def dims(self, ndim: int):
        """A tuple of distinct dims (some negative), at least one."""
        k = int(self.r.integers(1, ndim + 1))
        picked = sorted(self.r.choice(ndim, size=k, replace=False).tolist())
        return tuple(d - ndim if self.coin(0.3) else d for d in picked)

    def float_scalar(self) -> float:
        return float(self.choice([2.5, -0.5, 0.0, 1.0, 3.0, -2.0, 0.25, 1e-3, 7.0]))

    def int_scalar(self) -> int:
        return int(self.choice([2, -1, 0, 1, 3]))

    # -- inputs --------------------------------------------------------------------------
    def _floats(self, shape, dtype, style):
        r = self.r
        if style == "pos":
            a = r.uniform(0.1, 3.0, shape)
        elif style == "unit":
            a = r.uniform(0.02, 0.98, shape)
        elif style == "ties":
            a = r.integers(-4, 5, shape) / 2.0
        else:
            a = r.uniform(-2.0, 2.0, shape)
        if style == "special" and a.size:
            flat = a.reshape(-1)
            hits = r.random(flat.size) < 0.2
            flat[hits] = r.choice(SPECIALS, size=int(hits.sum()))
        return np.asarray(a, dtype=dtype)

    def fresh(self, shape, dtype=None, style=None, requires_grad=None, low=-3, high=6) -> str:
        """A new input of ``shape``; ``dtype`` None is the program's float dtype."""
        dtype = np.dtype(dtype or self.fdtype)
        shape = tuple(int(s) for s in shape)
        if dtype == np.bool_:
            array = self.r.random(shape) < 0.5
        elif dtype.kind in "iu":
            array = self.r.integers(low, high, shape).astype(dtype) if high > low else np.zeros(shape, dtype)
        else:
            style = style or self.weighted([("smooth", 60), ("ties", 14), ("special", 10), ("pos", 16)])
            array = self._floats(shape, dtype, style)
        if requires_grad is None:
            requires_grad = dtype.kind == "f" and self.coin(0.85)
        name = f"x{len(self.inputs)}"
        self.inputs.append(Input(name, np.asarray(array), bool(requires_grad and dtype.kind == "f")))
        return name

    def base_shape(self):
        rank = self.weighted([(0, 9), (1, 22), (2, 35), (3, 24), (4, 10)])
        shape = [int(self.r.integers(1, 6)) for _ in range(rank)]
        if shape and self.coin(0.07):
            shape[int(self.r.integers(rank))] = 0
        return tuple(shape)

    def variant(self, shape):
        """A shape that broadcasts with ``shape``: leading dims dropped, some dims set to 1."""
        shape = list(shape)
        if shape and self.coin(0.3):
            shape = shape[int(self.r.integers(1, len(shape) + 1)):]
        return tuple(1 if self.coin(0.2) else s for s in shape)

    def initial_inputs(self):
        base = self.base_shape()
        self.base = base
        for k in range(int(self.r.integers(1, 4))):
            kind = self.weighted([("float", 72), ("other_float", 4), ("int", 14), ("bool", 10)])
            shape = base if k == 0 else self.variant(base)
            if kind == "float":
                self.fresh(shape)
            elif kind == "other_float":
                self.fresh(shape, np.float64 if self.fdtype == np.float32 else np.float32)
            elif kind == "int":
                self.fresh(shape, np.int64)
            else:
                self.fresh(shape, np.bool_)

    # -- the pool ------------------------------------------------------------------------
    def pick(self, pred=None, float_bias: float = 0.85):
        """A random pool value satisfying ``pred``; floats preferred, later values a little more."""
        cands = [v for v in self.pool if pred is None or pred(v)]
        if not cands:
            return None
        floats = [v for v in cands if v.is_float]
        if floats and self.coin(float_bias):
            cands = floats
        weights = np.arange(1, len(cands) + 1, dtype=float) ** 0.5
        return cands[int(self.r.choice(len(cands), p=weights / weights.sum()))]

    def partner(self, a, allow_scalar=True, dtype_like=True):
        """A second operand broadcasting with ``a``: a pool value, a new input or a scalar."""
        roll = self.r.random()
        if allow_scalar and roll < 0.3:
            kind = self.weighted([("float", 6), ("int", 3), ("bool", 1), ("tensor0d", 2)])
            if kind == "float":
                return fmt(self.float_scalar())
            if kind == "int":
                return fmt(self.int_scalar())
            if kind == "bool":
                return "True"
            value = self.choice(["m.tensor(1.5)", "m.tensor(2)", "m.tensor(-0.5, dtype=m.float64)"])
            return value
        if roll < 0.75:
            b = self.pick(lambda v: v is not a and broadcasts(v.shape, a.shape)
                          and (not dtype_like or v.is_float == a.is_float or self.coin(0.3)))
            if b is not None:
                return b.name
        if self.coin(0.05):  # sometimes shapes that do not broadcast: torch's error is the spec
            b = self.pick(lambda v: v is not a)
            if b is not None:
                return b.name
        dtype = None if a.is_float or self.coin(0.5) else self.np_dtype(a)
        return self.fresh(self.variant(a.shape), dtype)

    @staticmethod
    def np_dtype(v):
        return {torch.float32: np.float32, torch.float64: np.float64, torch.int64: np.int64,
                torch.int32: np.int32, torch.bool: np.bool_}.get(v.dtype, np.float32)

    def intermediate(self, pred=None):
        """A value a step made (not an input): the target of an in-place op."""
        return self.pick(lambda v: not v.leaf and (pred is None or pred(v)))

    # -- building ------------------------------------------------------------------------
    def probe(self, steps):
        program = Program(self.inputs, steps, [])
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return run_steps(program, torch, make_tensors(torch, program))

    def refresh(self, env):
        self.pool = [Val(i.name, env[i.name], True) for i in self.inputs]
        self.pool += [Val(n, env[n], False) for n in self.values]

    def count(self, key: str) -> None:
        self.stats[key] = self.stats.get(key, 0) + 1

    def try_step(self, allow_error: bool) -> str:
        """Draw one candidate: 'ok', 'error' (kept as the last step) or 'retry'."""
        family = self.weighted([(f, w) for f, (w, _) in FAMILIES.items()])
        n_inputs = len(self.inputs)
        made = FAMILIES[family][1](self)
        if made is None:
            del self.inputs[n_inputs:]
            return "retry"
        statement, binds = made
        name = None
        if binds:
            name = f"v{len(self.values)}"
            statement = f"{name} = {statement}"
        steps = self.steps + [statement]
        try:
            env = self.probe(steps)
        except StepError as e:
            keep = (allow_error and e.step == len(self.steps) and not isinstance(e.error, GENERATOR_BUGS)
                    and self.coin(0.22))
            self.count(f"torch rejected ({family}): {type(e.error).__name__}")
            if not keep:
                del self.inputs[n_inputs:]
                return "retry"
            self.steps.append(statement)
            self.tags.add(family)
            self.tags.add("expects_error")
            return "error"
        if name is not None and (not isinstance(env[name], torch.Tensor) or env[name].numel() > MAX_NUMEL):
            del self.inputs[n_inputs:]
            return "retry"
        self.steps.append(statement)
        if name is not None:
            self.values.append(name)
        self.tags.add(family)
        self.refresh(env)
        return "ok"

    def build(self) -> Program:
        self.initial_inputs()
        self.refresh(self.probe([]))
        for _ in range(self.n_ops):
            for _attempt in range(30):
                outcome = self.try_step(allow_error=len(self.steps) >= 1)
                if outcome != "retry":
                    break
            if outcome == "error":
                break
        return Program(self.inputs, self.steps, list(self.values), self.seed, self.index, self.tags)


def generate(seed: int, index: int, **kw) -> Program:
    """Program ``index`` of the campaign seeded ``seed``."""
    return Generator(seed, index, **kw).build()


# -- op families -----------------------------------------------------------------------
# Each returns (statement, binds) -- ``binds``: the statement is an expression whose value
# becomes a new pool value -- or None when the pool has nothing it applies to.

UNARY = ["neg", "abs", "exp", "sin", "cos", "tanh", "sigmoid", "relu", "erf", "expm1", "square", "sign",
         "floor", "ceil", "round", "trunc", "frac", "isnan", "isinf", "isfinite", "logical_not"]
POSITIVE = {"log": 0.0, "sqrt": 0.0, "rsqrt": 0.0, "log2": 0.0, "log10": 0.0, "log1p": -1.0, "reciprocal": None}
ACTIVATIONS = ["F.gelu({a})", "F.gelu({a}, approximate='tanh')", "F.silu({a})", "F.softplus({a})",
               "F.softplus({a}, beta=2.0, threshold=5.0)", "F.leaky_relu({a}, 0.1)", "F.elu({a})",
               "F.relu6({a})", "F.relu({a})", "F.sigmoid({a})", "F.tanh({a})", "m.nan_to_num({a})",
               "m.nan_to_num({a}, nan=0.5, posinf=3.0, neginf=-3.0)", "{a}.round(decimals=1)",
               "m.clamp({a}, -0.5, 0.7)", "F.normalize({a}, dim={d})"]


def unary(g):
    a = g.pick()
    if a is None:
        return None
    if g.coin(0.25):
        text = g.choice(ACTIVATIONS)
        if "{d}" in text and a.ndim == 0:
            return None
        return text.format(a=a.name, d=g.dim(a.ndim)), True
    if g.coin(0.25):
        op = g.choice(list(POSITIVE))
        lower = POSITIVE[op]
        if g.coin(0.8):  # mostly inside the domain (outside it, both give nan)
            domain = (lambda v: v > 0) if lower == 0.0 else (lambda v: v > -1) if lower == -1.0 else (lambda v: v != 0)
            b = g.pick(lambda v: v.is_float and v.all(lambda x: domain(x) & (x.abs() > 1e-3)))
            a = b or a
    else:
        op = g.choice(UNARY)
    return (f"m.{op}({a.name})" if g.coin(0.5) else f"{a.name}.{op}()"), True


BINARY_FN = ["add", "sub", "mul", "div", "maximum", "minimum", "remainder", "floor_divide", "pow", "fmod"]
BINARY_OP = ["+", "-", "*", "/", "//", "%", "**"]


def binary(g):
    a = g.pick()
    if a is None:
        return None
    b = g.partner(a)
    roll = g.r.random()
    if roll < 0.35:
        op = g.choice(BINARY_OP)
        if op == "**" and is_name(b):
            b = g.choice(["2", "3", "0.5", "2.0", "-1"]) if g.coin(0.7) else b
        if g.coin(0.2) and not is_name(b):
            return f"{b} {op} {a.name}", True  # reflected: scalar op tensor
        return f"{a.name} {op} {b}", True
    if roll < 0.8:
        op = g.choice(BINARY_FN)
        if op in ("add", "sub") and g.coin(0.3):
            return f"m.{op}({a.name}, {b}, alpha={g.choice(['2', '0.5', '-1.5'])})", True
        if op == "div" and g.coin(0.3):
            return f"m.div({a.name}, {b}, rounding_mode={g.choice(['floor', 'trunc'])!r})", True
        if op == "pow" and is_name(b) and g.coin(0.6):
            base = g.pick(lambda v: v.is_float and v.all(lambda x: x > 0.05)) or a
            return f"m.pow({base.name}, {b})", True
        return (f"m.{op}({a.name}, {b})" if g.coin(0.5) else f"{a.name}.{op}({b})"), True
    c = g.partner(a, allow_scalar=False)
    kind = g.choice(["lerp", "addcmul", "addcdiv", "lerp_t"])
    if kind == "lerp":
        return f"m.lerp({a.name}, {c}, {g.choice(['0.3', '0.75', '1.5'])})", True
    if kind == "lerp_t":
        return f"m.lerp({a.name}, {c}, {g.partner(a, allow_scalar=False)})", True
    d = g.partner(a, allow_scalar=False)
    return f"m.{kind}({a.name}, {c}, {d}, value={g.choice(['0.5', '2', '-1.0'])})", True


def compare(g):
    a = g.pick(float_bias=0.6)
    if a is None:
        return None
    b = g.partner(a, dtype_like=False)
    if g.coin(0.6):
        op = g.choice(["==", "!=", "<", "<=", ">", ">="])
        return f"({a.name} {op} {b})", True
    op = g.choice(["eq", "ne", "lt", "le", "gt", "ge", "logical_and", "logical_or", "logical_xor"])
    return f"m.{op}({a.name}, {b})", True


def bitwise(g):
    a = g.pick(lambda v: v.is_bool or v.is_int or g.coin(0.1), float_bias=0.0)
    if a is None:
        return None
    if g.coin(0.3):
        return f"~{a.name}", True
    b = g.pick(lambda v: v is not a and broadcasts(v.shape, a.shape) and (v.dtype == a.dtype or g.coin(0.2)),
               float_bias=0.0)
    other = b.name if b is not None else ("True" if a.is_bool else "3")
    return f"({a.name} {g.choice(['&', '|', '^'])} {other})", True


def condition(g, a):
    """A bool tensor broadcasting with ``a``: a pool value or a comparison written inline."""
    c = g.pick(lambda v: v.is_bool and broadcasts(v.shape, a.shape), float_bias=0.0)
    if c is not None and g.coin(0.6):
        return c.name
    if g.coin(0.04):  # torch rejects a float condition
        return a.name
    src = g.pick(lambda v: broadcasts(v.shape, a.shape) and not v.is_bool) or a
    return f"({src.name} {g.choice(['>', '<', '>='])} {g.choice(['0', '0.5', '-0.3'])})"


def where(g):
    a = g.pick()
    if a is None:
        return None
    cond = condition(g, a)
    if g.coin(0.3):
        value = fmt(g.float_scalar()) if a.is_float or g.coin(0.2) else fmt(g.int_scalar())
        return f"{a.name}.masked_fill({cond}, {value})", True
    other = g.partner(a)
    if g.coin(0.5):
        return f"m.where({cond}, {a.name}, {other})", True
    return f"m.where({cond}, {other}, {a.name})", True


def clamp(g):
    a = g.pick()
    if a is None:
        return None
    lo, hi = sorted([g.float_scalar(), g.float_scalar()])
    if g.coin(0.05):
        lo, hi = hi, lo  # min > max: torch sets everything to max
    kind = g.choice(["both", "min", "max", "tensor", "clamp_min", "clamp_max", "clip", "int_bounds"])
    if kind == "both":
        return f"m.clamp({a.name}, {fmt(lo)}, {fmt(hi)})", True
    if kind == "min":
        return f"{a.name}.clamp(min={fmt(lo)})", True
    if kind == "max":
        return f"{a.name}.clamp(max={fmt(hi)})", True
    if kind == "tensor":
        b = g.partner(a, allow_scalar=False)
        return (f"m.clamp({a.name}, min={b})" if g.coin(0.5) else f"m.clamp({a.name}, max={b})"), True
    if kind == "int_bounds":
        return f"m.clamp({a.name}, -1, 2)", True
    return f"{a.name}.{kind}({fmt(lo if kind != 'clamp_max' else hi)})", True


def cast(g):
    a = g.pick(float_bias=0.5)
    if a is None:
        return None
    text = g.choice([".float()", ".double()", ".long()", ".bool()", ".to(m.float64)", ".to(m.float32)", ".int()",
                     ".to(m.int64)", ".type(m.float64)"])
    return f"{a.name}{text}", True


REDUCE = ["sum", "mean", "prod", "amax", "amin", "var", "std", "norm", "all", "any", "count_nonzero", "argmax",
          "argmin", "max", "min", "logsumexp", "nansum"]


def reduce(g):
    a = g.pick()
    if a is None:
        return None
    op = g.choice([r for r in REDUCE if r != "nansum"])
    keep = g.coin(0.4)
    kd = ", keepdim=True" if keep else ""
    if op in ("max", "min"):
        if a.ndim == 0 or g.coin(0.35):
            return f"{a.name}.{op}()", True
        part = g.choice([".values", ".indices", "[0]", "[1]"])
        return f"{a.name}.{op}({g.dim(a.ndim)}{kd}){part}", True
    if op in ("argmax", "argmin"):
        if g.coin(0.35):
            return f"{a.name}.{op}()", True
        return f"m.{op}({a.name}, {g.dim(a.ndim)}{kd})", True
    if op == "logsumexp":
        return f"m.logsumexp({a.name}, {g.dim(a.ndim)}{kd})", True
    if op == "count_nonzero":
        return (f"m.count_nonzero({a.name})" if g.coin(0.5) else f"m.count_nonzero({a.name}, {g.dim(a.ndim)})"), True
    if g.coin(0.3) and op not in ("all", "any"):
        full = f"{a.name}.{op}()"
        if op in ("var", "std") and g.coin(0.5):
            full = f"{a.name}.{op}(unbiased=False)"
        return full, True
    if a.ndim and g.coin(0.4) and op not in ("all", "any", "norm"):
        d = g.dims(a.ndim)
        if op in ("prod",):
            d = d[0]
    else:
        d = g.dim(a.ndim)
    extra = ""
    if op in ("var", "std") and g.coin(0.5):
        extra = g.choice([", unbiased=False", ", correction=0", ", correction=2"])
    if op in ("sum", "prod", "mean") and g.coin(0.1):
        extra = ", dtype=m.float64"
    if op in ("amax", "amin"):
        return f"m.{op}({a.name}, {d}{kd})", True
    if op == "norm":
        return f"m.norm({a.name}, dim={d}{kd})", True
    return f"{a.name}.{op}({d}{extra}{kd})", True


def softmax(g):
    a = g.pick()
    if a is None:
        return None
    d = g.dim(a.ndim)
    form = g.choice(["m.softmax({a}, {d})", "m.log_softmax({a}, dim={d})", "{a}.softmax({d})",
                     "F.softmax({a}, dim={d})", "F.log_softmax({a}, {d})", "m.logsumexp({a}, {d})",
                     "m.logsumexp({a}, {d}, keepdim=True)"])
    return form.format(a=a.name, d=d), True


def _factor_shape(g, numel):
    """A random shape with ``numel`` elements (maybe with one -1)."""
    dims, left = [], numel
    for _ in range(int(g.r.integers(0, 4))):
        divisors = [k for k in range(1, 7) if left % k == 0] if left else [0, 1, 2]
        k = g.choice(divisors)
        dims.append(k)
        left = left // k if k else left
    if numel == 0 and 0 not in dims:
        dims.append(0)
    elif numel and math.prod(dims) != numel:
        dims.append(left)
    if dims and numel and g.coin(0.4):
        dims[int(g.r.integers(len(dims)))] = -1
    return tuple(dims)


def shape(g):
    a = g.pick(float_bias=0.8)
    if a is None:
        return None
    n, s = a.ndim, a.shape
    kind = g.choice(["reshape", "view", "flatten", "unflatten", "squeeze", "unsqueeze", "permute", "transpose",
                     "t", "T", "mT", "expand", "expand_as", "repeat", "movedim", "narrow", "contiguous",
                     "clone", "detach", "broadcast_to", "swapaxes"])
    if kind in ("reshape", "view"):
        target = _factor_shape(g, a.numel)
        args = ", ".join(map(str, target)) if g.coin(0.5) or not target else repr(target)
        return f"{a.name}.{kind}({args})", True
    if kind == "flatten":
        if n == 0 or g.coin(0.3):
            return f"{a.name}.flatten()", True
        start = int(g.r.integers(0, n))
        return f"m.flatten({a.name}, {start}, {int(g.r.integers(start, n)) - (n if g.coin(0.5) else 0)})", True
    if kind == "unflatten":
        if n == 0:
            return None
        d = int(g.r.integers(n))
        size = s[d]
        parts = [k for k in range(1, 5) if size and size % k == 0]
        if not parts:
            return None
        k = g.choice(parts)
        return f"{a.name}.unflatten({d}, ({k}, {-1 if g.coin(0.5) else size // k}))", True
    if kind == "squeeze":
        if g.coin(0.4) or n == 0:
            return f"{a.name}.squeeze()", True
        ones = [d for d in range(n) if s[d] == 1]
        d = g.choice(ones) if ones and g.coin(0.7) else int(g.r.integers(n))
        if len(ones) > 1 and g.coin(0.3):
            return f"{a.name}.squeeze({tuple(ones)})", True
        return f"m.squeeze({a.name}, {d})", True
    if kind == "unsqueeze":
        return f"{a.name}.unsqueeze({int(g.r.integers(-n - 1, n + 1))})", True
    if kind in ("permute", "transpose", "swapaxes", "movedim") and n < 2 and not g.coin(0.2):
        return None
    if kind == "permute":
        perm = g.r.permutation(n).tolist()
        return (f"{a.name}.permute({', '.join(map(str, perm))})" if n and g.coin(0.5)
                else f"m.permute({a.name}, {tuple(perm)})"), True
    if kind in ("transpose", "swapaxes"):
        return f"{a.name}.{kind}({g.dim(n)}, {g.dim(n)})", True
    if kind == "movedim":
        return f"m.movedim({a.name}, {g.dim(n)}, {g.dim(n)})", True
    if kind == "t":
        return (f"{a.name}.t()", True) if n <= 2 or g.coin(0.1) else None
    if kind == "T":
        return (f"{a.name}.T", True) if n in (0, 2) else None
    if kind == "mT":
        return (f"{a.name}.mT", True) if n >= 2 or g.coin(0.1) else None
    if kind in ("expand", "broadcast_to", "expand_as"):
        target = list(s)
        for d in range(n):
            if s[d] == 1 and g.coin(0.6):
                target[d] = int(g.r.integers(2, 5))
        lead = [int(g.r.integers(1, 4)) for _ in range(int(g.r.integers(0, 3)))]
        full = lead + target
        if kind == "expand_as":
            return f"{a.name}.expand_as({g.fresh(full)})", True
        if kind == "expand" and full and g.coin(0.4):
            full = [-1 if (i >= len(lead) and g.coin(0.5)) else k for i, k in enumerate(full)]
        return (f"{a.name}.expand({', '.join(map(str, full))})" if kind == "expand" and full
                else f"m.broadcast_to({a.name}, {tuple(full)})"), True
    if kind == "repeat":
        reps = [int(g.r.integers(1, 3)) for _ in range(n + int(g.r.integers(0, 2)))]
        if not reps:
            reps = [2]
        return f"{a.name}.repeat({', '.join(map(str, reps))})", True
    if kind == "narrow":
        if n == 0:
            return None
        d = g.dim(n)
        size = s[d]
        start = int(g.r.integers(0, size + 1))
        return f"{a.name}.narrow({d}, {start}, {int(g.r.integers(0, size - start + 1))})", True
    if kind == "contiguous":
        return f"{a.name}.contiguous()", True
    return f"{a.name}.{kind}()", True


def _same_but(g, a, d):
    """A value with ``a``'s shape except dim ``d`` (a pool value, ``a`` itself or a new input)."""
    def fits(v):
        return v.ndim == a.ndim and all(x == y for i, (x, y) in enumerate(zip(v.shape, a.shape)) if i != d % a.ndim)
    b = g.pick(lambda v: v is not a and fits(v) and (v.dtype == a.dtype or g.coin(0.15)))
    if b is not None and g.coin(0.6):
        return b.name
    if g.coin(0.25):
        return a.name
    s = list(a.shape)
    s[d] = int(g.r.integers(0 if g.coin(0.1) else 1, 4))
    return g.fresh(s, None if a.is_float else g.np_dtype(a))


def join(g):
    a = g.pick()
    if a is None:
        return None
    kind = g.choice(["cat", "cat", "stack", "hstack", "vstack", "cat3"])
    if kind == "stack":
        d = int(g.r.integers(-a.ndim - 1, a.ndim + 1))
        b = g.pick(lambda v: v.shape == a.shape and v is not a)
        other = b.name if b is not None and g.coin(0.6) else g.fresh(a.shape, None if a.is_float else g.np_dtype(a))
        return f"m.stack([{a.name}, {other}], dim={d})", True
    if a.ndim == 0:
        return (f"m.{kind if kind in ('hstack', 'vstack') else 'stack'}([{a.name}, {a.name}])"), True
    d = g.dim(a.ndim)
    if kind in ("hstack", "vstack"):
        d = 0 if kind == "vstack" or a.ndim == 1 else 1
        if kind == "vstack" and a.ndim == 1:
            return f"m.vstack([{a.name}, {a.name}])", True
        return f"m.{kind}([{a.name}, {_same_but(g, a, d)}])", True
    others = [_same_but(g, a, d) for _ in range(1 if kind == "cat" else 2)]
    return f"m.cat([{a.name}, {', '.join(others)}], {d})", True


def split(g):
    a = g.pick(lambda v: v.ndim > 0)
    if a is None:
        return None
    d = g.dim(a.ndim)
    size = a.shape[d]
    kind = g.choice(["split", "split_sizes", "chunk", "unbind", "reassemble", "count"])
    k = int(g.r.integers(1, 4))
    if kind == "split":
        pieces = max(1, math.ceil(size / k))
        return f"m.split({a.name}, {k}, dim={d})[{int(g.r.integers(pieces))}]", True
    if kind == "split_sizes":
        cuts = sorted(g.r.integers(0, size + 1, size=int(g.r.integers(1, 3))).tolist())
        sizes = [b - a_ for a_, b in zip([0] + cuts, cuts + [size])]
        return f"{a.name}.split({sizes}, {d})[{int(g.r.integers(len(sizes)))}]", True
    if kind == "chunk":
        chunks = len(torch.chunk(a.t.detach(), k, d))
        return f"{a.name}.chunk({k}, {d})[{int(g.r.integers(chunks))}]", True
    if kind == "unbind":
        return (f"{a.name}.unbind({d})[{int(g.r.integers(size))}]" if size else None), True
    if kind == "reassemble":
        return f"m.cat({a.name}.split({k}, {d})[::-1], {d})", True
    return f"m.tensor(len({a.name}.{g.choice(['split', 'chunk'])}({k}, {d})))", True


def _index_items(g, a, unique=False):
    """A list of index items (source text) for ``a``; ``unique``: no position twice (for
    assignments, where torch leaves the winner of duplicate writes unspecified)."""
    n, s = a.ndim, a.shape
    items, d = [], 0
    ellipsis = False
    while d < n and (len(items) < 1 or g.coin(0.6)):
        size = s[d]
        kind = g.weighted([("int", 3), ("slice", 4), ("none", 1), ("ellipsis", 1), ("full", 1), ("tensor", 2),
                           ("bool_list", 1)])
        if kind == "int":
            if size == 0:
                continue
            i = int(g.r.integers(-size, size))
            if g.coin(0.03):
                i = size  # out of range: torch's IndexError
            items.append(str(i))
        elif kind == "slice":
            start = int(g.r.integers(-size - 1, size + 1)) if g.coin(0.5) else None
            stop = int(g.r.integers(-size - 1, size + 2)) if g.coin(0.5) else None
            step = g.choice([None, None, 2, 3]) if not g.coin(0.02) else -1
            text = f"{'' if start is None else start}:{'' if stop is None else stop}"
            items.append(text + (f":{step}" if step is not None else ""))
        elif kind == "none":
            items.append("None")
            continue
        elif kind == "ellipsis":
            if ellipsis:
                continue
            ellipsis = True
            items.append("...")
            d = n - int(g.r.integers(0, n - d + 1))
            continue
        elif kind == "full":
            items.append(":")
        elif kind == "tensor":
            if size == 0:
                continue
            count = int(g.r.integers(1, 4))
            values = g.r.integers(-size, size, size=count).tolist()
            if unique:
                if any("m.tensor" in i for i in items):
                    continue
                values = [int(k) - (size if g.coin(0.3) else 0) for k in g.r.permutation(size)[:count]]
            elif g.coin(0.3):
                values = [values, values[::-1]]
            items.append(f"m.tensor({values})")
        else:
            mask = (g.r.random(size) < 0.5).tolist()
            if g.coin(0.05):
                mask = mask + [True]  # the wrong length: torch's IndexError
            items.append(f"m.tensor({mask})")
        d += 1
    return items


def index(g):
    a = g.pick()
    if a is None:
        return None
    kind = g.weighted([("getitem", 6), ("mask", 1.5), ("index_select", 1), ("gather", 1), ("masked_select", 0.5),
                       ("nonzero", 0.3)])
    if kind == "getitem":
        items = _index_items(g, a)
        if not items:
            items = ["..."] if g.coin(0.5) else ["None"]
        g.tags.add("index_tensor" if any("m.tensor" in i for i in items) else "index_basic")
        return f"{a.name}[{', '.join(items)}]", True
    if kind == "mask":
        g.tags.add("bool_mask")
        c = g.pick(lambda v: v.is_bool and v.shape == a.shape, float_bias=0.0)
        return (f"{a.name}[{c.name}]" if c is not None else f"{a.name}[{a.name} > 0]"), True
    if kind == "masked_select":
        g.tags.add("bool_mask")
        return f"m.masked_select({a.name}, {condition(g, a)})", True
    if kind == "nonzero":
        g.tags.add("bool_mask")
        return f"m.nonzero({a.name})", True
    if a.ndim == 0:
        return None
    d = g.dim(a.ndim)
    size = a.shape[d]
    if size == 0:
        return None
    if kind == "index_select":
        idx = g.r.integers(0, size, size=int(g.r.integers(1, 4))).tolist()
        return f"m.index_select({a.name}, {d}, m.tensor({idx}))", True
    shape = list(a.shape)
    shape[d] = int(g.r.integers(1, 4))
    idx = g.fresh(shape, np.int64, low=0, high=size)
    return f"m.gather({a.name}, {d}, {idx})", True


def setitem(g):
    v = g.intermediate(lambda v: v.ndim > 0) or g.pick(lambda v: v.ndim > 0 and not v.t.requires_grad)
    if v is None:
        return None
    items = _index_items(g, v, unique=True) if g.coin(0.8) else [f"{v.name} > 0"]
    try:
        target = eval(f"t[{', '.join(items)}]", {"t": v.t.detach(), "m": torch})  # noqa: S307 (own text)
    except Exception:  # noqa: BLE001
        target = None
    if target is not None and target.dim() and g.coin(0.5):
        value = g.fresh(g.variant(tuple(target.shape)), None if v.is_float else g.np_dtype(v))
    else:
        value = fmt(g.float_scalar()) if v.is_float else fmt(g.int_scalar())
    return f"{v.name}[{', '.join(items) or '...'}] = {value}", False


INPLACE_UNARY = ["neg_()", "exp_()", "relu_()", "sigmoid_()", "tanh_()", "abs_()", "zero_()", "sqrt_()"]


def inplace(g):
    v = g.intermediate() or g.pick(lambda v: not v.t.requires_grad)
    if v is None:
        return None
    kind = g.choice(["binary", "binary", "unary", "clamp", "fill", "copy", "masked_fill", "augmented", "pow"])
    if kind == "unary":
        return f"{v.name}.{g.choice(INPLACE_UNARY)}", False
    if kind == "clamp":
        lo, hi = sorted([g.float_scalar(), g.float_scalar()])
        return g.choice([f"{v.name}.clamp_({fmt(lo)}, {fmt(hi)})", f"{v.name}.clamp_(min={fmt(lo)})",
                         f"{v.name}.clamp_min_({fmt(lo)})", f"{v.name}.clamp_max_({fmt(hi)})"]), False
    if kind == "fill":
        return f"{v.name}.fill_({fmt(g.float_scalar()) if v.is_float else fmt(g.int_scalar())})", False
    if kind == "masked_fill":
        return f"{v.name}.masked_fill_({condition(g, v)}, {fmt(g.float_scalar())})", False
    if kind == "pow":
        return f"{v.name}.pow_({g.choice(['2', '3', '0.5'])})", False
    b = g.pick(lambda u: u is not v and broadcasts(u.shape, v.shape)
               and torch.broadcast_shapes(u.shape, v.shape) == v.shape)
    other = b.name if b is not None and g.coin(0.6) else g.partner(v)
    if kind == "copy":
        if not is_name(other):
            other = g.fresh(g.variant(v.shape))
        return f"{v.name}.copy_({other})", False
    if kind == "augmented":
        return f"{v.name} {g.choice(['+=', '-=', '*=', '/='])} {other}", False
    op = g.choice(["add_", "sub_", "mul_", "div_"])
    alpha = f", alpha={g.choice(['2', '0.5'])}" if op in ("add_", "sub_") and g.coin(0.2) else ""
    return f"{v.name}.{op}({other}{alpha})", False


def matmul(g):
    a = g.pick(lambda v: v.is_float and v.ndim >= 1) or g.pick(lambda v: v.ndim >= 1)
    if a is None:
        return None
    dt = None if a.is_float else g.np_dtype(a)
    if g.coin(0.03):
        dt = np.float64 if a.dtype == torch.float32 else np.float32  # mixed dtypes: torch's error
    left = a.name
    s = list(a.shape)
    if a.ndim >= 2 and g.coin(0.3):
        left, s = f"{a.name}.mT", s[:-2] + [s[-1], s[-2]]
    k = s[-1]
    n_out = int(g.r.integers(0 if g.coin(0.05) else 1, 5))
    kind = g.choice(["plain", "plain", "rhs_t", "vec", "fn", "linear", "addmm", "outer_dot"])
    if kind == "vec" or len(s) == 1 and g.coin(0.4):
        rhs = g.fresh([k], dt)
        g.tags.add("matmul_1d")
        return f"{left} @ {rhs}" if g.coin(0.5) else f"m.matmul({left}, {rhs})", True
    if kind == "rhs_t":
        batch = s[:-2] if len(s) > 2 and g.coin(0.5) else []
        rhs = g.fresh(batch + [n_out, k], dt)
        return f"{left} @ {rhs}.mT", True
    if kind == "linear":
        w = g.fresh([n_out, k], dt)
        bias = f", {g.fresh([n_out], dt)}" if g.coin(0.6) else ""
        return f"F.linear({left}, {w}{bias})", True
    if kind == "addmm" and len(s) == 2:
        c = g.fresh(g.variant([s[0], n_out]), dt)
        return f"m.addmm({c}, {left}, {g.fresh([k, n_out], dt)})", True
    if kind == "outer_dot" and len(s) == 1:
        other = g.fresh([k if g.coin(0.5) else n_out], dt)
        return g.choice([f"m.outer({left}, {other})", f"m.dot({left}, {g.fresh([k], dt)})"]), True
    # batched / broadcast batch / 1-D left
    batch = s[:-2]
    if batch and g.coin(0.4):
        batch = [1 if g.coin(0.5) else b for b in batch][int(g.r.integers(0, len(batch) + 1)):]
    if not batch and g.coin(0.2):
        batch = [int(g.r.integers(1, 3))]
    rhs = g.fresh(batch + [k, n_out], dt)
    if len(s) == 2 and not batch and g.coin(0.3):
        return f"m.mm({left}, {rhs})", True
    if len(s) == 3 and batch == s[:1] and g.coin(0.4):
        return f"m.bmm({left}, {rhs})", True
    return (f"{left} @ {rhs}" if g.coin(0.5) else f"m.matmul({left}, {rhs})"), True


REDUCTIONS = ["'mean'", "'sum'", "'none'"]


def loss(g):
    a = g.pick(lambda v: v.is_float) or g.pick()
    if a is None:
        return None
    red = g.choice(REDUCTIONS)
    dt = g.np_dtype(a) if a.is_float and g.coin(0.95) else None  # mixed dtypes: see KNOWN_DIFFERENCES
    kind = g.choice(["mse", "l1", "smooth_l1", "huber", "bce", "bce_logits", "cross_entropy", "nll"])
    if kind in ("mse", "l1", "smooth_l1", "huber"):
        b = g.pick(lambda v: v is not a and v.shape == a.shape and v.dtype == a.dtype)
        target = b.name if b is not None and g.coin(0.5) else g.fresh(a.shape, dt, requires_grad=g.coin(0.3))
        fn = {"mse": "mse_loss", "l1": "l1_loss", "smooth_l1": "smooth_l1_loss", "huber": "huber_loss"}[kind]
        extra = {"smooth_l1": f", beta={g.choice(['0.5', '1.0', '2.0'])}",
                 "huber": f", delta={g.choice(['0.5', '1.0', '2.0'])}"}.get(kind, "")
        return f"F.{fn}({a.name}, {target}, reduction={red}{extra})", True
    if kind in ("bce", "bce_logits"):
        target = g.fresh(a.shape, dt, style="unit", requires_grad=g.coin(0.2)) if g.coin(0.8) else \
            f"{g.fresh(a.shape, np.bool_)}.to({a.name}.dtype)"
        weight = f", weight={g.fresh(g.variant(a.shape), dt, requires_grad=False)}" if g.coin(0.2) else ""
        if kind == "bce":
            p = a.name if a.all(lambda x: (x >= 0) & (x <= 1)) else f"m.sigmoid({a.name})"
            return f"F.binary_cross_entropy({p}, {target}{weight}, reduction={red})", True
        pos = ""
        if a.ndim and g.coin(0.3):
            pos = f", pos_weight={g.fresh([a.shape[-1]], dt, style='pos', requires_grad=False)}"
        return f"F.binary_cross_entropy_with_logits({a.name}, {target}{weight}{pos}, reduction={red})", True
    if a.ndim == 0 or a.ndim > 3:
        return None
    classes = a.shape[1] if a.ndim > 1 else a.shape[0]
    if classes == 0:
        return None
    tshape = [a.shape[0]] + list(a.shape[2:]) if a.ndim > 1 else []
    extra = ""
    if g.coin(0.25):
        extra += f", weight={g.fresh([classes], dt, style='pos', requires_grad=False)}"
    if g.coin(0.2):
        extra += f", ignore_index={int(g.r.integers(0, classes))}"
    if kind == "cross_entropy":
        if g.coin(0.25):
            target = f"m.softmax({g.fresh(a.shape, dt, requires_grad=False)}, {1 if a.ndim > 1 else 0})"
            extra = extra.split(", ignore_index")[0]
        else:
            target = g.fresh(tshape, np.int64, low=0, high=classes)
        if g.coin(0.25):
            extra += f", label_smoothing={g.choice(['0.1', '0.25'])}"
        return f"F.cross_entropy({a.name}, {target}{extra}, reduction={red})", True
    target = g.fresh(tshape, np.int64, low=0, high=classes)
    logp = f"m.log_softmax({a.name}, {1 if a.ndim > 1 else 0})" if g.coin(0.7) else a.name
    return f"F.nll_loss({logp}, {target}{extra}, reduction={red})", True


def create(g):
    a = g.pick()
    if a is None:
        return None
    form = g.choice(["m.zeros_like({a})", "m.ones_like({a})", "m.full_like({a}, 2.5)", "{a} * m.ones_like({a})",
                     "m.arange({n}) * 0.5", "m.zeros({s}) + {a}", "m.ones({s}, dtype=m.float64) * {a}",
                     "m.full({s}, -1.5)", "{a}.sum() * m.arange({n}).float()"])
    return form.format(a=a.name, n=int(g.r.integers(0, 6)), s=tuple(a.shape)), True


#: family name -> (weight, generator function)
FAMILIES = {
    "unary": (14, unary), "binary": (16, binary), "compare": (5, compare), "bitwise": (2, bitwise),
    "where": (5, where), "clamp": (4, clamp), "cast": (3, cast), "reduce": (11, reduce),
    "softmax": (5, softmax), "shape": (11, shape), "join": (5, join), "split": (4, split),
    "index": (10, index), "setitem": (5, setitem), "inplace": (7, inplace), "matmul": (8, matmul),
    "loss": (6, loss), "create": (2, create),
}
