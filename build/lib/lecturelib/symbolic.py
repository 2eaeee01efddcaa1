"""Exact derivatives, Taylor polynomials and step-size thresholds with sympy.

Introduced in chapter 1 (gradients, Hessians, Taylor polynomials, the descent condition) and used again in chapter 3
(the largest step at which a critical point can attract gradient descent).

Every function takes an expression and its variables: a single :class:`sympy.Symbol` or a sequence of them. Any
other free symbol of the expression is a parameter and stays symbolic in the result.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from numbers import Integral, Number
from typing import Any

import numpy as np
import sympy as sp

__all__ = [
    "gradient",
    "hessian",
    "taylor_polynomial",
    "descent_step_bound",
    "max_stable_step",
]


def _as_expr(expr: Any) -> sp.Expr:
    """Return ``expr`` as a sympy expression, or raise TypeError."""
    if isinstance(expr, str):
        raise TypeError("expr must be a sympy expression, not a string; build it from sympy Symbols")
    try:
        result = sp.sympify(expr, strict=True)
    except (sp.SympifyError, TypeError) as err:
        raise TypeError(f"expr must be a sympy expression, got {type(expr).__name__}") from err
    if not isinstance(result, sp.Expr) or isinstance(result, (sp.MatrixBase, sp.MatrixExpr)):
        raise TypeError(f"expr must be a scalar sympy expression, got {type(result).__name__}")
    return result


def _as_variables(variables: Any) -> tuple[sp.Symbol, ...]:
    """Return ``variables`` as a non-empty tuple of distinct Symbols, or raise."""
    if isinstance(variables, sp.Symbol):
        return (variables,)
    if isinstance(variables, (str, bytes)) or not isinstance(variables, (Sequence, sp.MatrixBase)):
        raise TypeError(
            f"variables must be a sympy Symbol or a sequence of Symbols, got {type(variables).__name__}"
        )
    result = tuple(variables)
    if not result:
        raise ValueError("variables must name at least one Symbol, got an empty sequence")
    for v in result:
        if not isinstance(v, sp.Symbol):
            raise TypeError(f"variables must all be sympy Symbols, got {v!r} of type {type(v).__name__}")
    if len(set(result)) != len(result):
        raise ValueError(f"variables must be distinct, got {result}")
    return result


def _as_point(variables: tuple[sp.Symbol, ...], point: Any) -> dict[sp.Symbol, sp.Expr]:
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
        try:
            converted.append(sp.sympify(value, strict=True))
        except (sp.SympifyError, TypeError) as err:
            raise TypeError(f"point values must be numbers or sympy expressions, got {value!r}") from err
    return dict(zip(variables, converted))


def gradient(expr: Any, variables: Any) -> sp.Matrix:
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

    Introduced in chapter 1.
    """
    f = _as_expr(expr)
    xs = _as_variables(variables)
    return sp.Matrix([sp.diff(f, x) for x in xs])


def hessian(expr: Any, variables: Any) -> sp.Matrix:
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

    Introduced in chapter 1.
    """
    f = _as_expr(expr)
    xs = _as_variables(variables)
    return sp.hessian(f, xs)


def taylor_polynomial(expr: Any, variables: Any, point: Any, order: int) -> sp.Expr:
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
        The degree :math:`k \ge 0`.

    Returns
    -------
    sympy.Expr
        The polynomial in the variables (and any parameters).

    Introduced in chapter 1.
    """
    f = _as_expr(expr)
    xs = _as_variables(variables)
    at = _as_point(xs, point)
    if isinstance(order, bool) or not isinstance(order, (Integral, sp.Integer)):
        raise TypeError(f"order must be a non-negative integer, got {order!r} of type {type(order).__name__}")
    if order < 0:
        raise ValueError(f"order must be a non-negative integer, got {order}")
    t = sp.Dummy("t")
    along_line = f.subs({x: at[x] + t * (x - at[x]) for x in xs}, simultaneous=True)
    terms = []
    derivative = along_line
    for j in range(int(order) + 1):
        terms.append(derivative.subs(t, 0) / sp.factorial(j))
        derivative = sp.diff(derivative, t)
    return sp.Add(*terms)


def _gradient_and_hessian_at(expr: Any, variables: Any, point: Any) -> tuple[sp.Matrix, sp.Matrix]:
    f = _as_expr(expr)
    xs = _as_variables(variables)
    at = _as_point(xs, point)
    g = gradient(f, xs).subs(at, simultaneous=True).applyfunc(sp.simplify)
    h = hessian(f, xs).subs(at, simultaneous=True).applyfunc(sp.simplify)
    return g, h


def descent_step_bound(expr: Any, variables: Any, point: Any) -> sp.Expr:
    r"""The largest step :math:`\varepsilon` that decreases ``expr`` to second order from ``point``.

    With :math:`g = \nabla f(w)` and :math:`H = \nabla^2 f(w)`, the second-order Taylor expansion gives
    :math:`f(w - \varepsilon g) \approx f(w) - \varepsilon g^\top g + \tfrac12 \varepsilon^2 g^\top H g`, which is below
    :math:`f(w)` for :math:`0 < \varepsilon < 2 g^\top g / g^\top H g` when :math:`g^\top H g > 0`, and for every
    :math:`\varepsilon > 0` when :math:`g^\top H g \le 0`.

    Returns
    -------
    sympy.Expr
        :math:`2 g^\top g / g^\top H g`, or ``sympy.oo`` when :math:`g^\top H g \le 0`. When parameters leave the sign
        of :math:`g^\top H g` undecided, a ``Piecewise`` of the two cases.

    Raises
    ------
    ValueError
        When :math:`g = 0` at ``point``: there is no descent direction.

    Introduced in chapter 1.
    """
    g, h = _gradient_and_hessian_at(expr, variables, point)
    if all(component == 0 for component in g):
        raise ValueError(f"the gradient is zero at point {point}: there is no descent direction")
    gg = sp.simplify((g.T * g)[0, 0])
    curvature = sp.simplify((g.T * h * g)[0, 0])
    if curvature.is_number:
        return sp.simplify(2 * gg / curvature) if bool(curvature > 0) else sp.oo
    if curvature.is_positive:
        return sp.simplify(2 * gg / curvature)
    if curvature.is_nonpositive:
        return sp.oo
    return sp.Piecewise((sp.simplify(2 * gg / curvature), curvature > 0), (sp.oo, True))


def max_stable_step(expr: Any, variables: Any, point: Any) -> sp.Expr:
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
        When the eigenvalues depend on parameters in several variables and cannot be ordered.

    Introduced in chapter 3.
    """
    xs = _as_variables(variables)
    _, h = _gradient_and_hessian_at(expr, xs, point)
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
