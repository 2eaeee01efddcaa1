"""lecturelib: the library behind the course module "Step Size Matters".

One module per concept:

- :mod:`lecturelib.symbolic`: gradients, Hessians, Taylor polynomials and step-size thresholds, exactly (sympy).
"""

from lecturelib.symbolic import descent_step_bound, gradient, hessian, max_stable_step, taylor_polynomial

__all__ = [
    "descent_step_bound",
    "gradient",
    "hessian",
    "max_stable_step",
    "taylor_polynomial",
]
