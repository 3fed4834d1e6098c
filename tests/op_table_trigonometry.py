"""Op-table rows: hyperbolic and inverse trigonometric functions and atan2 (ir primitives;
onnxruntime computes their float64 forms in float32, hence the float64 ONNX tolerance)."""
from __future__ import annotations

from op_rows import Bool, Int, R  # noqa: F401

S = (3, 4)
F64_ON_ORT = {"float64": 1e-6}  # onnxruntime's CPU kernels are float32 only (docs/onnx.md)

ROWS = [
    R("sinh", lambda m, x: m.sinh(x), S, onnx_rtol=F64_ON_ORT),
    R("cosh_method", lambda m, x: x.cosh(), S, onnx_rtol=F64_ON_ORT),
    R("asinh", lambda m, x: m.asinh(x), S, low=-3, high=3, onnx_rtol=F64_ON_ORT),
    R("arcsinh_alias", lambda m, x: m.arcsinh(x), (2, 3), onnx_rtol=F64_ON_ORT),
    R("acosh", lambda m, x: m.acosh(x), S, low=1.1, high=4, onnx_rtol=F64_ON_ORT),
    R("atanh", lambda m, x: x.atanh(), S, low=-0.9, high=0.9, onnx_rtol=F64_ON_ORT),
    R("asin", lambda m, x: m.asin(x), S, low=-0.9, high=0.9, onnx_rtol=F64_ON_ORT),
    R("acos_method", lambda m, x: x.acos(), S, low=-0.9, high=0.9, onnx_rtol=F64_ON_ORT),
    R("arccos_alias", lambda m, x: m.arccos(x), (4,), low=-0.9, high=0.9, onnx_rtol=F64_ON_ORT),
    R("atan", lambda m, x: m.atan(x), S, low=-4, high=4, onnx_rtol=F64_ON_ORT),
    R("arctan_method", lambda m, x: x.arctan(), (2, 2), onnx_rtol=F64_ON_ORT),
    R("atan2", lambda m, y, x: m.atan2(y, x), S, S, onnx_rtol=F64_ON_ORT),
    R("atan2_broadcast_method", lambda m, y, x: y.atan2(x), (2, 3, 4), (4,), onnx_rtol=F64_ON_ORT),
    R("arctan2_alias", lambda m, y, x: m.arctan2(y, x), (3,), (3,), onnx_rtol=F64_ON_ORT),
    R("atan2_int_promotes", lambda m, y, x: m.atan2(y, x), Int(S, -3, 4), Int(S, 1, 4), grad=False),
    R("sinh_int_promotes", lambda m, x: m.sinh(x), Int(S, -3, 3), grad=False),
    R("asin_bool", lambda m, x: m.asin(x), Bool(S), grad=False),
    R("sinh_0d", lambda m, x: m.sinh(x), (), onnx_rtol=F64_ON_ORT),
    R("atan2_0d", lambda m, y, x: m.atan2(y, x), (), (3,), onnx_rtol=F64_ON_ORT),
    R("atanh_empty", lambda m, x: m.atanh(x), (0, 3)),
    R("atan2_empty", lambda m, y, x: m.atan2(y, x), (0, 3), (3,)),
    R("sinh_inplace", lambda m, x: (x * 1).sinh_(), S, onnx_rtol=F64_ON_ORT),
    R("acos_inplace", lambda m, x: (x * 1).arccos_(), S, low=-0.9, high=0.9, onnx_rtol=F64_ON_ORT),
    R("atan2_inplace", lambda m, y, x: (y * 1).atan2_(x), S, (4,), onnx_rtol=F64_ON_ORT),
]
