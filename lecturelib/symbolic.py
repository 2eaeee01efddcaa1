"""Exact derivatives, Taylor polynomials and step-size thresholds with sympy.

Introduced in :ref:`ch-descent_condition` (gradients, Hessians, Taylor polynomials, the descent condition) and used
again in :ref:`ch-dynamical_system` (the largest step at which a critical point can attract gradient descent).

Every function takes an expression and its variables: a single :class:`sympy.Symbol` or a sequence of them. Any
other free symbol of the expression is a parameter and stays symbolic in the result.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from numbers import Number
from typing import SupportsFloat, TypeAlias

import numpy as np
import sympy as sp

from lecturelib._checks import integer_at_least

__all__ = [
    "descent_step_bound",
    "gradient",
    "hessian",
    "max_stable_step",
    "taylor_polynomial",
]

#: A function's variables: one Symbol or a sequence of distinct Symbols.
Variables: TypeAlias = "sp.Symbol | Sequence[sp.Symbol]"
#: A number: a Python or NumPy number, or an exact sympy number or expression (sympy numbers have no type stubs).
Value: TypeAlias = "SupportsFloat | sp.Expr"
#: A point: one value (one variable), a sequence or 1-D array of values, or a {Symbol: value} dict.
Point: TypeAlias = "Value | Sequence[Value] | np.ndarray | Mapping[sp.Symbol, Value]"

#: The largest order :func:`taylor_polynomial` computes: each order differentiates the whole expression once more,
#: and the terms grow with the order, so a larger one would not finish in reasonable time.
MAX_TAYLOR_ORDER = 200

#: Working precision (decimal digits) of the numerical decisions (signs, zero tests) on exact numbers.
_DIGITS = 50


def _as_expr(expr: object) -> sp.Expr:
    """Return ``expr`` as a sympy expression, or raise TypeError."""
    if isinstance(expr, str):
        raise TypeError("expr must be a sympy expression, not a string; build it from sympy Symbols")
    try:
        result = sp.sympify(expr, strict=True)
    except (sp.SympifyError, TypeError) as err:
        raise TypeError(f"expr must be a sympy expression, got {type(expr).__name__}") from err
    if not isinstance(result, sp.Expr) or isinstance(result, (sp.MatrixBase, sp.MatrixExpr)):
        raise TypeError(f"expr must be a scalar sympy expression, got {type(result).__name__}")
    if result.has(sp.nan, sp.zoo, sp.oo, -sp.oo):
        raise ValueError(f"expr must be finite (no nan, zoo or oo in it), got {result}")
    return result


def _as_variables(variables: object) -> tuple[sp.Symbol, ...]:
    """Return ``variables`` as a non-empty tuple of distinct Symbols, or raise."""
    if isinstance(variables, sp.Symbol):
        return (variables,)
    if isinstance(variables, (str, bytes)) or not isinstance(variables, (Sequence, sp.MatrixBase)):
        raise TypeError(f"variables must be a sympy Symbol or a sequence of Symbols, got {type(variables).__name__}")
    result = tuple(variables)
    if not result:
        raise ValueError("variables must name at least one Symbol, got an empty sequence")
    for v in result:
        if not isinstance(v, sp.Symbol):
            raise TypeError(f"variables must all be sympy Symbols, got {v!r} of type {type(v).__name__}")
    if len(set(result)) != len(result):
        raise ValueError(f"variables must be distinct, got {result}")
    return result


def _as_point(variables: tuple[sp.Symbol, ...], point: object) -> dict[sp.Symbol, sp.Expr]:
    """Return the substitution {variable: value} for ``point``, or raise."""
    n = len(variables)
    if isinstance(point, Mapping):
        keys = set(point)
        if keys != set(variables):
            raise ValueError(
                f"point as a dict must have exactly the variables {list(variables)} as keys, got {list(point)}"
            )
        values = [point[v] for v in variables]
    elif isinstance(point, (Number, sp.Expr)) and not isinstance(point, sp.MatrixBase):
        if n != 1:
            raise ValueError(f"point must be a sequence of {n} values (one per variable), got a single number")
        values = [point]
    elif isinstance(point, np.ndarray) and point.ndim == 1:
        values = point.tolist()
        if len(values) != n:
            raise ValueError(f"point must have {n} values (one per variable), got {len(values)}")
    elif isinstance(point, (Sequence, sp.MatrixBase)) and not isinstance(point, (str, bytes)):
        values = list(point)
        if len(values) != n:
            raise ValueError(f"point must have {n} values (one per variable), got {len(values)}")
    else:
        raise TypeError(
            f"point must be a number, a sequence of numbers or a {{Symbol: value}} dict, got {type(point).__name__}"
        )
    converted = []
    for value in values:
        if isinstance(value, (bool, np.bool_, str, bytes)):
            raise TypeError(f"point values must be numbers or sympy expressions, got {value!r}")
        try:
            number = sp.sympify(value, strict=True)
        except (sp.SympifyError, TypeError) as err:
            raise TypeError(f"point values must be numbers or sympy expressions, got {value!r}") from err
        if not isinstance(number, sp.Expr):
            raise TypeError(f"point values must be numbers or sympy expressions, got {value!r}")
        if number.has(sp.nan, sp.zoo, sp.oo, -sp.oo):
            raise ValueError(f"point values must be finite, got {value!r}")
        converted.append(number)
    return dict(zip(variables, converted, strict=True))


def _numeric_value(entry: sp.Expr, what: str, point: object) -> sp.Float:
    """A number-valued expression's value to :data:`_DIGITS` digits; ValueError if undefined, infinite or complex."""
    if entry.has(sp.nan, sp.zoo, sp.oo, -sp.oo):
        raise ValueError(f"expr is not defined at point {point}: its {what} is infinite or undefined there")
    value = sp.N(entry, _DIGITS)
    re, im = value.as_real_imag()
    if not (re.is_finite and im.is_finite) or re.has(sp.nan) or im.has(sp.nan):
        raise ValueError(f"expr is not defined at point {point}: its {what} is infinite or undefined there")
    if im != 0 and abs(im) > sp.Float(10) ** (10 - _DIGITS) * max(1, abs(re)):
        raise ValueError(f"expr is not real at point {point}: its {what} is the complex number {sp.N(value, 6)}")
    return sp.Float(re, _DIGITS)


def gradient(expr: sp.Expr, variables: Variables) -> sp.Matrix:
    r"""The gradient :math:`\nabla f` as an :math:`n \times 1` column.

    Parameters
    ----------
    expr : sympy.Expr
        The function :math:`f`.
    variables : sympy.Symbol or sequence of sympy.Symbol
        The :math:`n` variables to differentiate by, in order.

    Returns
    -------
    sympy.Matrix
        :math:`(\partial f/\partial x_1, \dots, \partial f/\partial x_n)^\top`, shape ``(n, 1)``.

    Introduced in :ref:`ch-descent_condition`.
    """
    f = _as_expr(expr)
    xs = _as_variables(variables)
    return sp.Matrix([sp.diff(f, x) for x in xs])


def hessian(expr: sp.Expr, variables: Variables) -> sp.Matrix:
    r"""The Hessian :math:`\nabla^2 f`, the symmetric :math:`n \times n` matrix of second derivatives.

    Parameters
    ----------
    expr : sympy.Expr
        The function :math:`f`.
    variables : sympy.Symbol or sequence of sympy.Symbol
        The :math:`n` variables, in order.

    Returns
    -------
    sympy.Matrix
        :math:`H_{ij} = \partial^2 f / \partial x_i \partial x_j`, shape ``(n, n)``.

    Introduced in :ref:`ch-descent_condition`.
    """
    f = _as_expr(expr)
    xs = _as_variables(variables)
    return sp.hessian(f, xs)


def taylor_polynomial(expr: sp.Expr, variables: Variables, point: Point, order: int) -> sp.Expr:
    r"""The multivariate Taylor polynomial of ``expr`` of degree ``order`` around ``point``, exactly.

    .. math::

        T_k f(x) = \sum_{|\alpha| \le k} \frac{\partial^\alpha f(a)}{\alpha!} (x - a)^\alpha
                 = \sum_{j=0}^{k} \frac{1}{j!} \frac{d^j}{dt^j} f\bigl(a + t (x - a)\bigr)\Big|_{t=0}.

    The second form is how it is computed: the :math:`j`-th term is the :math:`j`-th derivative tensor at :math:`a`
    contracted :math:`j` times with :math:`x - a`, divided by :math:`j!`.

    Parameters
    ----------
    expr : sympy.Expr
        The function :math:`f`.
    variables : sympy.Symbol or sequence of sympy.Symbol
        Its variables.
    point : number, sequence, or dict
        The expansion point :math:`a`: a number for one variable, a sequence (or 1-D numpy array) with one value per
        variable, or a ``{Symbol: value}`` dict. Values may be symbolic.
    order : int
        The degree :math:`0 \le k \le` :data:`MAX_TAYLOR_ORDER`.

    Returns
    -------
    sympy.Expr
        The polynomial in the variables (and any parameters).

    Introduced in :ref:`ch-descent_condition`.
    """
    f = _as_expr(expr)
    xs = _as_variables(variables)
    at = _as_point(xs, point)
    order = integer_at_least(order, "order", 0, MAX_TAYLOR_ORDER)
    t = sp.Dummy("t")
    along_line = f.subs({x: at[x] + t * (x - at[x]) for x in xs}, simultaneous=True)
    terms = []
    derivative = along_line
    for j in range(int(order) + 1):
        terms.append(derivative.subs(t, 0) / sp.factorial(j))
        derivative = sp.diff(derivative, t)
    return sp.Add(*terms)


def _gradient_and_hessian_at(
    f: sp.Expr, xs: tuple[sp.Symbol, ...], at: dict[sp.Symbol, sp.Expr]
) -> tuple[sp.Matrix, sp.Matrix]:
    g = gradient(f, xs).subs(at, simultaneous=True).applyfunc(sp.simplify)
    h = hessian(f, xs).subs(at, simultaneous=True).applyfunc(sp.simplify)
    return g, h


def _check_critical(f: sp.Expr, xs: tuple[sp.Symbol, ...], at: dict[sp.Symbol, sp.Expr], point: object) -> None:
    """ValueError unless the gradient vanishes at the point: exactly for exact input, to rounding with floats."""
    g = gradient(f, xs).subs(at, simultaneous=True)
    inexact = any(e.has(sp.Float) for e in g) or any(v.has(sp.Float) for v in at.values())
    if inexact and not g.free_symbols:
        h = hessian(f, xs).subs(at, simultaneous=True)
        size = max([abs(_numeric_value(e, "Hessian", point)) for e in h] + [1])
        coords = [abs(sp.N(v, _DIGITS)) for v in at.values() if not v.free_symbols]
        tolerance = 1e-8 * size * max([*coords, 1])
    else:
        tolerance = 0
    for component in g:
        if component.free_symbols:
            if sp.simplify(component).is_zero is False:
                raise ValueError(f"point {point} is not a critical point of expr: the gradient there is {list(g)}")
            continue
        magnitude = abs(_numeric_value(component, "gradient", point))
        if magnitude > tolerance:
            raise ValueError(
                f"point {point} is not a critical point of expr: the gradient there is "
                f"{[sp.N(c, 6) for c in g]}; max_stable_step linearizes gradient descent at a critical point"
            )


def descent_step_bound(expr: sp.Expr, variables: Variables, point: Point) -> sp.Expr:
    r"""The largest step :math:`\varepsilon` that decreases ``expr`` to second order from ``point``.

    With :math:`g = \nabla f(w)` and :math:`H = \nabla^2 f(w)`, the second-order Taylor expansion gives
    :math:`f(w - \varepsilon g) \approx f(w) - \varepsilon g^\top g + \tfrac12 \varepsilon^2 g^\top H g`, which is below
    :math:`f(w)` for :math:`0 < \varepsilon < 2 g^\top g / g^\top H g` when :math:`g^\top H g > 0`, and for every
    :math:`\varepsilon > 0` when :math:`g^\top H g \le 0`.

    The gradient and Hessian are evaluated at ``point`` first and the bound is formed from their values: exact
    when ``expr`` and ``point`` are exact, a ``sympy.Float`` (15 digits, computed with 50) when either holds a
    float.

    Returns
    -------
    sympy.Expr
        :math:`2 g^\top g / g^\top H g`, or ``sympy.oo`` when :math:`g^\top H g \le 0`. When parameters leave the sign
        of :math:`g^\top H g` undecided, a ``Piecewise`` of the two cases.

    Raises
    ------
    ValueError
        When :math:`g = 0` at ``point`` (there is no descent direction), or ``expr`` is not defined or not real
        at ``point`` (its value, gradient or Hessian is infinite, undefined or complex there).

    Introduced in :ref:`ch-descent_condition`.
    """
    f = _as_expr(expr)
    xs = _as_variables(variables)
    at = _as_point(xs, point)
    value = f.subs(at, simultaneous=True)
    g = gradient(f, xs).subs(at, simultaneous=True)
    h = hessian(f, xs).subs(at, simultaneous=True)
    if not (value.free_symbols or g.free_symbols or h.free_symbols):
        return _numeric_descent_bound(value, g, h, point)
    for what, entries in (("value", [value]), ("gradient", list(g)), ("Hessian", list(h))):
        if any(e.has(sp.nan, sp.zoo) for e in entries):
            raise ValueError(f"expr is not defined at point {point}: its {what} is infinite or undefined there")
    g = g.applyfunc(sp.simplify)
    h = h.applyfunc(sp.simplify)
    if all(component == 0 for component in g):
        raise ValueError(f"expr: the gradient is zero at point {point}: there is no descent direction")
    gg = sp.simplify((g.T * g)[0, 0])
    curvature = sp.simplify((g.T * h * g)[0, 0])
    if curvature.is_positive:
        return sp.simplify(2 * gg / curvature)
    if curvature.is_nonpositive:
        return sp.oo
    return sp.Piecewise((sp.simplify(2 * gg / curvature), curvature > 0), (sp.oo, True))


def _numeric_descent_bound(value: sp.Expr, g: sp.Matrix, h: sp.Matrix, point: object) -> sp.Expr:
    """:func:`descent_step_bound` when the value, gradient and Hessian at the point are numbers."""
    _numeric_value(value, "value", point)
    g_num = [_numeric_value(e, "gradient", point) for e in g]
    h_num = sp.Matrix(h.shape[0], h.shape[1], [_numeric_value(e, "Hessian", point) for e in h])
    if all(component.is_zero for component in g_num):
        raise ValueError(f"expr: the gradient is zero at point {point}: there is no descent direction")
    g_col = sp.Matrix(g_num)
    curvature_num = (g_col.T * h_num * g_col)[0, 0]
    if not curvature_num > 0:
        return sp.oo
    if any(e.has(sp.Float) for e in list(g) + list(h)):
        # Inexact input: the answer is a float; simplifying mixed float/exact expressions can take minutes.
        gg_num = (g_col.T * g_col)[0, 0]
        return sp.Float(2 * gg_num / curvature_num, 15)
    bound = 2 * (g.T * g)[0, 0] / (g.T * h * g)[0, 0]  # exact; a Rational when g and H are
    return sp.simplify(bound) if sp.count_ops(bound) <= 200 else bound


def max_stable_step(expr: sp.Expr, variables: Variables, point: Point) -> sp.Expr:
    r"""The step-size threshold :math:`2/\lambda_{\max}` of gradient descent at the critical point ``point``.

    Linearizing :math:`x^+ = x - \delta \nabla f(x)` at a critical point :math:`x^*` gives the Jacobian
    :math:`I - \delta \nabla^2 f(x^*)`, whose eigenvalues are :math:`1 - \delta \lambda_i`. For
    :math:`\lambda_{\max} > 0`, every eigenvalue is above :math:`-1` exactly when :math:`\delta < 2 / \lambda_{\max}`,
    and one is below :math:`-1` (so :math:`x^*` is unstable) when :math:`\delta > 2 / \lambda_{\max}`. The threshold
    guarantees stability only together with a positive definite Hessian (otherwise an eigenvalue is :math:`\ge 1`);
    at :math:`\delta = 2/\lambda_{\max}` exactly the linearization decides nothing.

    Returns
    -------
    sympy.Expr
        :math:`2 / \lambda_{\max}(\nabla^2 f(x^*))`, or ``sympy.oo`` when :math:`\lambda_{\max} \le 0`. For a rational
        Hessian the eigenvalue is exact (radicals, or a ``CRootOf`` of the characteristic polynomial). In one variable
        with a parameter-dependent :math:`f''`, a ``Piecewise`` of the two cases.

    Raises
    ------
    ValueError
        When ``point`` is not a critical point (the gradient there is not zero: exactly for exact input, to a
        relative 1e-8 when the expression or the point holds floats), when ``expr`` is not defined or its Hessian
        is not real there, or when the eigenvalues depend on parameters in several variables and cannot be ordered.

    Introduced in :ref:`ch-dynamical_system`.
    """
    f = _as_expr(expr)
    xs = _as_variables(variables)
    at = _as_point(xs, point)
    _check_critical(f, xs, at, point)
    _, h = _gradient_and_hessian_at(f, xs, at)
    for entry in h:
        if entry.free_symbols:
            if entry.has(sp.nan, sp.zoo):
                raise ValueError(f"expr is not defined at point {point}: its Hessian is infinite or undefined there")
            if entry.is_real is False:
                raise ValueError(f"the Hessian of expr at point {point} is not real: {entry}")
        else:
            _numeric_value(entry, "Hessian", point)
    if all(entry.is_Rational for entry in h):
        # Exact and robust: the largest real root of the characteristic polynomial (a symmetric matrix has only real
        # eigenvalues). Eigenvalues from ``eigenvals`` of a 3x3 matrix come as nested complex radicals whose sign
        # sympy cannot decide; a real root object can be compared exactly.
        lam = sp.Dummy("lambda")
        top = sp.real_roots(h.charpoly(lam))[-1]
        return sp.simplify(2 / top) if top > 0 else sp.oo
    eigenvalues = [sp.simplify(e) for e in h.eigenvals(multiple=True)]
    if all(e.is_number for e in eigenvalues):
        top = max(eigenvalues, key=lambda e: sp.re(sp.N(e, 50)))
        return sp.simplify(2 / top) if sp.re(sp.N(top, 50)) > 0 else sp.oo
    if len(eigenvalues) == 1:
        (top,) = eigenvalues
        return sp.Piecewise((2 / top, top > 0), (sp.oo, True))
    raise ValueError(
        "the Hessian's eigenvalues depend on parameters and cannot be ordered; substitute values for "
        f"{sorted(map(str, h.free_symbols))} first"
    )
