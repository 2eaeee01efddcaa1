"""lecturelib: the library behind the course module "Step Size Matters".

One module per concept:

- :mod:`lecturelib.relu_nets`: two-layer ReLU networks trained by gradient descent (a compiled loop), Theorem 4,
  and the classification of where a run ends (fixed point, period 2 or 4, longer orbit, drift, divergence).
- :mod:`lecturelib.symbolic`: gradients, Hessians, Taylor polynomials and step-size thresholds, exactly (sympy).
"""

from lecturelib.relu_nets import (
    TwoLayerReLU,
    classify_tail,
    predict,
    sweep,
    theorem4_bound,
    theorem4_lhs,
    train,
    train_trajectory,
)
from lecturelib.symbolic import descent_step_bound, gradient, hessian, max_stable_step, taylor_polynomial

__all__ = [
    "TwoLayerReLU",
    "classify_tail",
    "descent_step_bound",
    "gradient",
    "hessian",
    "max_stable_step",
    "predict",
    "sweep",
    "taylor_polynomial",
    "theorem4_bound",
    "theorem4_lhs",
    "train",
    "train_trajectory",
]
