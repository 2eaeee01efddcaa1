"""lecturelib: the library behind the course module "Step Size Matters".

One module per concept:

- :mod:`lecturelib.symbolic`: gradients, Hessians, Taylor polynomials and step-size thresholds, exactly (sympy).
- :mod:`lecturelib.gd`: gradient descent in one dimension as a dynamical system, vectorized over step sizes and
  starts: trajectories, orbit periods, bifurcation data (compiled with numba for sympy expressions).
- :mod:`lecturelib.plots`: cobweb diagrams of one-dimensional maps.
"""

from lecturelib.gd import bifurcation, compile_update, orbit_period, run
from lecturelib.plots import cobweb, cobweb_path
from lecturelib.symbolic import descent_step_bound, gradient, hessian, max_stable_step, taylor_polynomial

__all__ = [
    "bifurcation",
    "cobweb",
    "cobweb_path",
    "compile_update",
    "descent_step_bound",
    "gradient",
    "hessian",
    "max_stable_step",
    "orbit_period",
    "run",
    "taylor_polynomial",
]
