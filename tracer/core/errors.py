"""Errors raised to users: the builtin type torch raises, its message, and the user's line."""
from __future__ import annotations

from tracer.core.source import user_source


#: torch's ScalarType names, as its dispatch and casting messages print them ("not implemented for 'Long'").
SCALAR_TYPE_NAMES = {"float16": "Half", "bfloat16": "BFloat16", "float32": "Float", "float64": "Double",
                     "int64": "Long", "int32": "Int", "int16": "Short", "int8": "Char", "uint8": "Byte",
                     "bool": "Bool"}

#: The C++ type names some torch messages print instead ("... but got mask with dtype long int").
CPP_TYPE_NAMES = {"float16": "c10::Half", "bfloat16": "c10::BFloat16", "float32": "float", "float64": "double",
                  "int64": "long int", "int32": "int", "int16": "short int", "int8": "signed char",
                  "uint8": "unsigned char", "bool": "bool"}


def scalar_type_name(dtype) -> str:
    return SCALAR_TYPE_NAMES.get(dtype.name, dtype.name)


def cpp_type_name(dtype) -> str:
    return CPP_TYPE_NAMES.get(dtype.name, dtype.name)


def err(cls: type[Exception], message: str) -> Exception:
    """``cls(message)`` with the user's source line appended."""
    where = user_source()
    return cls(f"{message}\n  at {where}" if where else message)
