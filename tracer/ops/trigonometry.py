"""Trigonometric and hyperbolic functions beyond sin/cos/tan/tanh (torch names and their
``arc*`` aliases), their Tensor methods and in-place forms. Integer and bool inputs compute
in the default float dtype, as torch's."""
from __future__ import annotations

from ir.ops import elementwise as E
from tracer.core.dispatch import apply
from tracer.core.errors import err
from tracer.core.tensor import Tensor
from tracer.ops._util import promote, to_float
from tracer.ops.inplace import assign


def _unary(op):
    def fn(input) -> Tensor:
        return apply(op, [to_float(input)])
    fn.__name__ = op.name
    fn.__doc__ = f"torch.{op.name}: elementwise, computed in floating point."
    return fn


sinh = _unary(E.sinh)
cosh = _unary(E.cosh)
asinh = arcsinh = _unary(E.asinh)
acosh = arccosh = _unary(E.acosh)
atanh = arctanh = _unary(E.atanh)
asin = arcsin = _unary(E.asin)
acos = arccos = _unary(E.acos)
atan = arctan = _unary(E.atan)


def atan2(input, other) -> Tensor:
    """The angle of the point (other, input) in (-pi, pi], with torch's type promotion (integer
    pairs compute in the default float dtype)."""
    if not isinstance(other, Tensor):
        raise err(TypeError, f"atan2(): argument 'other' (position 2) must be Tensor, not {type(other).__name__}")
    y, x = promote(input, other)
    return apply(E.atan2, [to_float(y), to_float(x)])


arctan2 = atan2

#: The in-place forms: the result is written into ``self`` (an integer tensor refuses, as torch's).
INPLACE = {name: (lambda fn, name: lambda self, *args: assign(self, fn(self, *args), op=name))(fn, name)
            for name, fn in [("sinh_", sinh), ("cosh_", cosh), ("asinh_", asinh), ("acosh_", acosh),
                             ("atanh_", atanh), ("asin_", asin), ("acos_", acos), ("atan_", atan),
                             ("arcsinh_", asinh), ("arccosh_", acosh), ("arctanh_", atanh), ("arcsin_", asin),
                             ("arccos_", acos), ("arctan_", atan), ("atan2_", atan2), ("arctan2_", atan2)]}

__all__ = "sinh cosh asinh arcsinh acosh arccosh atanh arctanh asin arcsin acos arccos atan arctan atan2 arctan2".split()
