"""Matrix products with torch's rank rules and checks."""
from __future__ import annotations

from ir import dtypes
from ir.ops import linalg as L
from tracer.core.dispatch import apply
from tracer.core.errors import cpp_type_name, err, scalar_type_name
from tracer.ops import elementwise as ew
from tracer.ops._util import promote
from tracer.core.tensor import Tensor


def matmul(input, other) -> Tensor:
    return product(input, other, "matmul")


def product(input, other, op: str) -> Tensor:
    """torch.matmul, its errors naming ``op``, the function the user called (mm, bmm, linear). As
    torch's, the operands must have one dtype (no promotion)."""
    if isinstance(input, Tensor) and isinstance(other, Tensor) and input.dtype != other.dtype:
        raise err(RuntimeError, f"{op}: {_dtype_mismatch(input, other, op)} (inputs: {input._type}, {other._type})")
    a, b = promote(input, other)
    if op != "matmul":  # the ir rule's message would name matmul
        if a.dim() == 0 or b.dim() == 0:
            raise err(RuntimeError, f"{op}: both arguments to {op} need to be at least 1D, but they are "
                      f"{a.dim()}D and {b.dim()}D (inputs: {a._type}, {b._type})")
        if a.shape[-1] != b.shape[-2 if b.dim() > 1 else 0]:
            raise err(RuntimeError, f"{op}: mat1 and mat2 shapes cannot be multiplied ({_as_matrix(a)} and "
                      f"{_as_matrix(b, column=True)}) (inputs: {a._type}, {b._type})")
    if a.dtype == dtypes.bool_ and a.dim() > 0 and b.dim() > 0:  # NumPy's bool matmul is a logical one
        raise err(NotImplementedError, f"\"{_kernel(a, b, op)}\" not implemented for 'Bool' "
                  f"(inputs: {a._type}, {b._type})")
    return apply(L.matmul, [a, b])


def _kernel(a, b, op: str) -> str:
    """The CPU kernel torch's matmul reaches for these ranks, which its dtype errors name."""
    if op == "dot" or (op == "matmul" and a.dim() == 1 and b.dim() == 1):
        return "dot"
    if op == "mv" or (op == "matmul" and a.dim() >= 2 and b.dim() == 1):
        return "addmv_impl_cpu"
    if op == "bmm" or (op == "matmul" and b.dim() >= 3):
        return "bmm"
    return "addmm_impl_cpu_"


def _dtype_mismatch(a, b, op: str) -> str:
    """torch's message for operands of two dtypes, which depends on the kernel that matmul's
    ranks reach (a batch times a matrix is folded into one mm)."""
    x, y = scalar_type_name(a.dtype), scalar_type_name(b.dtype)
    kernel = _kernel(a, b, op)
    if kernel == "dot":
        return f"expected both vectors to have same dtype, but found {x} and {y}"
    if kernel == "addmv_impl_cpu":
        return f"addmv input tensors must have the same dtype, but got {y}, {x}, and {y}"
    if kernel == "bmm":
        return f"expected scalar type {x} but found {y} (the operands must have the same dtype)"
    return f"expected m1 and m2 to have the same dtype, but got: {cpp_type_name(a.dtype)} != {cpp_type_name(b.dtype)}"


def _as_matrix(t, column: bool = False) -> str:
    """An operand as torch's message shows it, rows x columns (a vector is a row, or a column
    when it is the second operand)."""
    if t.dim() > 1:
        return f"{t.shape[-2]}x{t.shape[-1]}"
    return f"{t.shape[0]}x1" if column else f"1x{t.shape[0]}"


def _need(name, t, rank):
    if t.dim() != rank:
        raise err(RuntimeError, f"{name}: expected a {rank}D tensor, got {t.dim()}D (input: {t._type})")


def mm(input, mat2) -> Tensor:
    _need("mm", input, 2), _need("mm", mat2, 2)
    return product(input, mat2, "mm")


def bmm(input, mat2) -> Tensor:
    _need("bmm", input, 3), _need("bmm", mat2, 3)
    if input.shape[0] != mat2.shape[0] or input.shape[2] != mat2.shape[1]:
        raise err(RuntimeError, f"bmm: Expected size for first two dimensions of batch2 tensor to be: "
                  f"[{input.shape[0]}, {input.shape[2]}] but got: [{mat2.shape[0]}, {mat2.shape[1]}] "
                  f"(inputs: {input._type}, {mat2._type})")
    return product(input, mat2, "bmm")


def mv(input, vec) -> Tensor:
    _need("mv", input, 2), _need("mv", vec, 1)
    _same_dtype(input, vec, "mv")
    return matmul(input, vec)


def dot(input, other) -> Tensor:
    _need("dot", input, 1), _need("dot", other, 1)
    _same_dtype(input, other, "dot")
    return matmul(input, other)


def _same_dtype(a, b, op: str) -> None:
    if a.dtype != b.dtype:
        raise err(RuntimeError, f"{op}: {_dtype_mismatch(a, b, op)} (inputs: {a._type}, {b._type})")


def outer(input, vec2) -> Tensor:
    """The outer product of two vectors, as torch's: a broadcast product (so the dtypes promote,
    unlike matmul's)."""
    for name, v in (("self", input), ("vec2", vec2)):
        if v.dim() != 1:
            raise err(RuntimeError, f"outer: Expected 1-D argument {name}, but got {v.dim()}-D (inputs: "
                      f"{input._type}, {vec2._type})")
    return ew.mul(input.reshape(-1, 1), vec2.reshape(1, -1))


def addmm(input, mat1, mat2, *, beta=1, alpha=1) -> Tensor:
    """beta * input + alpha * mat1 @ mat2; as torch's, all three in one dtype (``input`` is checked first)."""
    for name, t in (("self", input), ("mat1", mat1)):
        if isinstance(t, Tensor) and t.dtype != mat2.dtype:
            raise err(RuntimeError, f"addmm: {name} and mat2 must have the same dtype, but got "
                      f"{scalar_type_name(t.dtype)} and {scalar_type_name(mat2.dtype)} "
                      f"(inputs: {input._type}, {mat1._type}, {mat2._type})")
    prod = mm(mat1, mat2)
    prod = prod if alpha == 1 else prod * alpha
    return prod + (input if beta == 1 else input * beta)


def linear(input, weight, bias=None) -> Tensor:
    """``F.linear``: x W^T + b (a 1-D weight is a dot product, as torch)."""
    out = product(input, weight.t() if weight.dim() == 2 else weight, "linear")
    return out if bias is None else ew.add(out, bias)
