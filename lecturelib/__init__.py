"""lecturelib: the library behind the course module "Step Size Matters".

One module per concept:

- :mod:`lecturelib.curvature`: the sharpness (largest Hessian eigenvalue) from gradients alone, and gradient descent
  that tracks it.
- :mod:`lecturelib.mlp`: a small tanh network with a hand-written gradient on a flat parameter vector.
- :mod:`lecturelib.symbolic`: gradients, Hessians, Taylor polynomials and step-size thresholds, exactly (sympy).
"""

from lecturelib.curvature import (
    ConvergenceWarning,
    SharpnessRun,
    hessian_vector_product,
    top_hessian_eigenvalue,
    track_sharpness,
)
from lecturelib.mlp import TanhMLP
from lecturelib.symbolic import descent_step_bound, gradient, hessian, max_stable_step, taylor_polynomial

__all__ = [
    "ConvergenceWarning",
    "SharpnessRun",
    "TanhMLP",
    "descent_step_bound",
    "gradient",
    "hessian",
    "hessian_vector_product",
    "max_stable_step",
    "taylor_polynomial",
    "top_hessian_eigenvalue",
    "track_sharpness",
]
