"""Answers as plain data: how the grader takes values out of a student's kernel and sends cases to a sandbox.

:func:`encode` runs on the untrusted side (the student's kernel, the sandbox that calls a student's function) and
turns a value into JSON-able plain data: numbers, strings, lists, tuples, dicts, NumPy arrays as bytes, sympy
expressions as :func:`sympy.srepr` text, a function as a cloudpickle blob (which only a sandbox ever loads).
Whatever it produces is a *claim* about the answer, judged afterwards.

:func:`decode` runs in the grader's own process and trusts nothing: it builds only plain Python numbers, strings and
containers, NumPy arrays of numeric dtypes, and sympy objects parsed from the ``srepr`` text by walking its syntax
tree with an allow-list of sympy classes (never ``eval``, never ``sympify`` of a string, never pickle). A function
becomes whatever ``function_factory`` makes of its blob (the grader: a proxy that calls it in a sandbox).
"""

from __future__ import annotations

import ast
import base64
import dataclasses
import json
import math
from collections.abc import Callable
from typing import Any

__all__ = ["decode", "dumps_answers", "encode", "parse_srepr"]

MAX_DEPTH = 20
MAX_ITEMS = 100_000
MAX_SREPR = 2_000_000
MAX_NODES = 200_000

# The sympy classes and functions an answer may be built from (as srepr names them).
SYMPY_NAMES = frozenset(
    """
Symbol Dummy Integer Rational Float Add Mul Pow exp log sin cos tan cot sec csc asin acos atan atan2 sinh cosh tanh
asinh acosh atanh sqrt Abs sign Heaviside Piecewise ExprCondPair Min Max floor ceiling factorial binomial
StrictLessThan LessThan StrictGreaterThan GreaterThan Equality Unequality And Or Not BooleanTrue BooleanFalse
Pi Exp1 ImaginaryUnit Half One Zero NegativeOne Infinity NegativeInfinity ComplexInfinity NaN EulerGamma
Tuple ImmutableDenseMatrix MutableDenseMatrix ImmutableMatrix Matrix re im conjugate DiracDelta
""".split()
)
SYMPY_KEYWORDS = frozenset(
    """real positive negative nonnegative nonpositive integer rational finite nonzero
commutative precision evaluate complex""".split()
)
DATACLASSES = {"lecturelib.relu_nets.TwoLayerReLU"}


# ------------------------------------------------------------------------------------------------------------------
# Untrusted side
# ------------------------------------------------------------------------------------------------------------------


def encode(value: object, depth: int = 0, *, functions: bool = True) -> Any:  # any object in, JSON data out
    """``value`` as JSON-able plain data (see the module docstring); never raises: unknown objects are named."""
    import numpy as np

    if depth > MAX_DEPTH:
        return {"object": "too deeply nested"}
    try:
        if value is None or type(value) is bool:
            return value
        if value is Ellipsis:
            return {"ellipsis": 1}
        if isinstance(value, (bool, np.bool_)):
            return bool(value)
        if isinstance(value, int) and not _is_sympy(value):
            return {"int": str(int.__index__(value))}
        if isinstance(value, float):
            return {"float": float.__repr__(float(value))}
        if isinstance(value, complex):
            number = complex(value)
            return {"complex": [float.__repr__(number.real), float.__repr__(number.imag)]}
        if isinstance(value, str):
            return {"str": str.__str__(value)}
        if isinstance(value, np.generic):
            return encode(value.item(), depth + 1, functions=functions)
        if isinstance(value, np.ndarray):
            return _encode_array(value, depth, functions)
        if _is_sympy(value):
            import sympy

            return {"sympy": sympy.srepr(value)}
        if isinstance(value, (list, tuple)):
            items = list(value)[:MAX_ITEMS]
            return {
                "list" if isinstance(value, list) else "tuple": [
                    encode(v, depth + 1, functions=functions) for v in items
                ]
            }
        if isinstance(value, dict):
            return {
                "dict": [
                    [encode(k, depth + 1, functions=functions), encode(v, depth + 1, functions=functions)]
                    for k, v in list(value.items())[:MAX_ITEMS]
                ]
            }
        if dataclasses.is_dataclass(value) and not isinstance(value, type):
            name = f"{type(value).__module__}.{type(value).__qualname__}"
            if name in DATACLASSES:
                return {
                    "dataclass": name,
                    "fields": {f.name: encode(getattr(value, f.name), depth + 1) for f in dataclasses.fields(value)},
                }
        if callable(value) and functions and not isinstance(value, type):
            import cloudpickle

            return {"function": base64.b64encode(cloudpickle.dumps(value)).decode("ascii")}
        if hasattr(value, "_sympy_"):
            import sympy

            return encode(sympy.sympify(value, strict=True), depth + 1, functions=functions)
        if hasattr(value, "__array__"):
            return encode(np.asarray(value), depth + 1, functions=functions)
        return {"object": type(value).__name__}
    except Exception as err:  # a hostile or broken object: say so, as data
        return {"object": f"{type(value).__name__} (unreadable: {type(err).__name__})"}


def _is_sympy(value: object) -> bool:
    try:
        import sympy

        return isinstance(value, (sympy.Basic, sympy.MatrixBase))
    except ImportError:  # pragma: no cover
        return False


def _encode_array(array: Any, depth: int, functions: bool) -> Any:
    import numpy as np

    array = np.asarray(array)
    if array.dtype.kind in "biufc":
        contiguous = np.ascontiguousarray(array)
        return {
            "array": contiguous.dtype.str,
            "shape": list(contiguous.shape),
            "b64": base64.b64encode(contiguous.tobytes()).decode("ascii"),
        }
    flat = [encode(v, depth + 1, functions=functions) for v in array.ravel()[:MAX_ITEMS]]
    return {"objarray": list(array.shape), "items": flat}


def dumps_answers(namespace: dict, names: list[str], marker: str) -> str:
    """One line: ``marker`` and the JSON of ``{name: encode(namespace[name])}`` (missing names marked missing)."""
    payload = {name: encode(namespace[name]) if name in namespace else {"missing": 1} for name in names}
    return marker + json.dumps(payload, separators=(",", ":"))


# ------------------------------------------------------------------------------------------------------------------
# Trusted side
# ------------------------------------------------------------------------------------------------------------------


class DecodeError(ValueError):
    """Data that is not a valid encoded answer."""


def decode(data: Any, function_factory: Callable[[str], Any] | None = None, depth: int = 0) -> Any:  # JSON in, any out
    """Rebuild a value from :func:`encode`'s data without running any code from the data (see module docstring)."""
    import numpy as np

    if depth > MAX_DEPTH + 2:
        raise DecodeError("nested too deeply")
    if data is None or isinstance(data, bool):
        return data
    if not isinstance(data, dict) or len(data) == 0:
        raise DecodeError(f"unexpected {type(data).__name__}")
    (kind, payload), *_rest = data.items()
    if kind == "ellipsis":
        return Ellipsis
    if kind == "missing":
        raise DecodeError("missing")
    if kind == "int":
        if not isinstance(payload, str) or len(payload) > 4000:
            raise DecodeError("bad int")
        return int(payload)
    if kind == "float":
        return float(_number_text(payload))
    if kind == "complex":
        return complex(float(_number_text(payload[0])), float(_number_text(payload[1])))
    if kind == "str":
        if not isinstance(payload, str):
            raise DecodeError("bad str")
        return str(payload)
    if kind in ("list", "tuple"):
        items = [decode(v, function_factory, depth + 1) for v in _sequence(payload)]
        return items if kind == "list" else tuple(items)
    if kind == "dict":
        result = {}
        for pair in _sequence(payload):
            if not isinstance(pair, list) or len(pair) != 2:
                raise DecodeError("bad dict")
            key = decode(pair[0], function_factory, depth + 1)
            if not isinstance(key, (str, int, float, tuple)):
                raise DecodeError("bad dict key")
            result[key] = decode(pair[1], function_factory, depth + 1)
        return result
    if kind == "array":
        dtype = np.dtype(str(payload))
        if dtype.kind not in "biufc" or dtype.hasobject:
            raise DecodeError("bad dtype")
        shape = tuple(int(v) for v in _sequence(data.get("shape")))
        raw = base64.b64decode(str(data.get("b64", "")), validate=True)
        if any(v < 0 for v in shape) or math.prod(shape) * dtype.itemsize != len(raw):
            raise DecodeError("array size does not match its shape")
        return np.frombuffer(raw, dtype=dtype).reshape(shape).copy()
    if kind == "objarray":
        shape = tuple(int(v) for v in _sequence(payload))
        items = [decode(v, function_factory, depth + 1) for v in _sequence(data.get("items"))]
        if math.prod(shape) != len(items):
            raise DecodeError("array size does not match its shape")
        array = np.empty(len(items), dtype=object)
        array[:] = items
        return array.reshape(shape)
    if kind == "sympy":
        return parse_srepr(payload)
    if kind == "function":
        if function_factory is None or not isinstance(payload, str):
            raise DecodeError("a function where none is expected")
        return function_factory(payload)
    if kind == "dataclass":
        if payload not in DATACLASSES:
            raise DecodeError("unknown class")
        import importlib

        module, _, name = payload.rpartition(".")
        cls = getattr(importlib.import_module(module), name)
        fields = {str(k): decode(v, function_factory, depth + 1) for k, v in dict(data.get("fields", {})).items()}
        return cls(**fields)
    if kind == "object":
        return Unreadable(str(payload)[:200])
    raise DecodeError(f"unknown kind {kind!r}")


@dataclasses.dataclass(frozen=True)
class Unreadable:
    """An answer the kernel could not turn into plain data (named by its type); checks find it "not right"."""

    description: str


def _number_text(text: object) -> str:
    if not isinstance(text, str) or len(text) > 400:
        raise DecodeError("bad number")
    return text


def _sequence(value: object) -> list[Any]:  # JSON items, each checked where it is read
    if not isinstance(value, list) or len(value) > MAX_ITEMS:
        raise DecodeError("bad sequence")
    return value


def parse_srepr(text: object) -> Any:  # a sympy object (sympy has no type stubs)
    """A sympy object from its ``srepr`` text, built by walking the syntax tree with an allow-list (no ``eval``)."""
    import sympy

    if not isinstance(text, str) or len(text) > MAX_SREPR:
        raise DecodeError("bad srepr")
    try:
        tree = ast.parse(text, mode="eval")
    except (SyntaxError, ValueError, RecursionError) as err:
        raise DecodeError("srepr does not parse") from err
    if sum(1 for _ in ast.walk(tree)) > MAX_NODES:
        raise DecodeError("expression too large")

    def build(node: ast.AST) -> Any:
        if isinstance(node, ast.Constant) and isinstance(node.value, (int, float, str, bool, type(None))):
            if isinstance(node.value, str) and len(node.value) > 10_000:
                raise DecodeError("string too long")
            return node.value
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub) and isinstance(node.operand, ast.Constant):
            return -build(node.operand)
        if isinstance(node, (ast.List, ast.Tuple)):
            items = [build(e) for e in node.elts]
            return items if isinstance(node, ast.List) else tuple(items)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in SYMPY_NAMES:
            target = getattr(sympy, node.func.id, None)
            if target is None:
                raise DecodeError(f"unknown sympy name {node.func.id}")
            args = [build(a) for a in node.args]
            kwargs = {}
            for keyword in node.keywords:
                if keyword.arg not in SYMPY_KEYWORDS:
                    raise DecodeError(f"keyword {keyword.arg!r} not allowed")
                kwargs[keyword.arg] = build(keyword.value)
            if node.func.id in ("Symbol", "Dummy") and (len(args) != 1 or not isinstance(args[0], str)):
                raise DecodeError("bad symbol")
            if node.func.id in ("Integer", "Rational") and any(isinstance(a, str) for a in args):
                raise DecodeError("bad number")
            return target(*args, **kwargs)
        if isinstance(node, ast.Name) and node.id in ("true", "false", "oo", "zoo", "nan", "pi", "E", "I"):
            return getattr(sympy, node.id)
        raise DecodeError(f"not allowed in an answer: {ast.dump(node)[:80]}")

    try:
        return build(tree.body)
    except DecodeError:
        raise
    except (RecursionError, TypeError, ValueError, AttributeError, sympy.SympifyError) as err:
        raise DecodeError(f"srepr does not build: {type(err).__name__}") from err
