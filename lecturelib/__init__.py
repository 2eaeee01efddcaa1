"""lecturelib: the library behind the course module "Step Size Matters".

One module per concept:

- :mod:`lecturelib.curvature`: the sharpness (largest Hessian eigenvalue) from gradients alone, and gradient descent
  that tracks it.
- :mod:`lecturelib.explorable`: step-size sliders, live in Jupyter and animated on the static site.
- :mod:`lecturelib.linear_nets`: deep linear networks, the bounds of Theorems 1–3 and Corollaries 1–2, and gradient
  descent on them (``train``, ``loss``, ``gradient`` and ``hessian`` stay in the module: import it as a whole).
- :mod:`lecturelib.mlp`: a small tanh network with a hand-written gradient on a flat parameter vector.
- :mod:`lecturelib.optimizers`: the stability thresholds of momentum, Nesterov, Adam and mini-batch SGD, and those
  optimizers for :func:`~lecturelib.curvature.track_sharpness` (import it as a whole or by name).
- :mod:`lecturelib.perturbation`: the rounding harness (``LECTURELIB_PERTURB``) and ensembles of perturbed starts,
  for claims about chaotic trajectories that no rounding can change.
- :mod:`lecturelib.relu_nets`: two-layer ReLU networks trained by gradient descent (a compiled loop), Theorem 4,
  and the classification of where a run ends (fixed point, period 2 or 4, longer orbit, drift, divergence).
- :mod:`lecturelib.stepsizes`: rules that choose the step (Armijo, Polyak, Barzilai–Borwein, adaptive gradient
  descent), worst cases computed by performance estimation (PEPit), and the silver long-step schedule.
- :mod:`lecturelib.symbolic`: gradients, Hessians, Taylor polynomials and step-size thresholds, exactly (sympy).
- :mod:`lecturelib.gd`: gradient descent as a dynamical system: the recorded path of a vector state or a batch of
  them (``descend``, the course's one descent loop), one-dimensional runs vectorized over step sizes and starts,
  orbit periods, bifurcation data (compiled with numba for sympy expressions).
- :mod:`lecturelib.plots`: the course's figure style (``use_course_style``) and cobweb diagrams of one-dimensional
  maps.
- :mod:`lecturelib.homework`: the homework sets' automatic checks and the student/instructor notebook export
  (``python -m lecturelib.homework export OUTDIR``); import it as a whole (``import lecturelib.homework as hw``).
"""

from lecturelib.curvature import (
    ConvergenceWarning,
    SharpnessRun,
    hessian_vector_product,
    top_hessian_eigenvalue,
    track_sharpness,
)
from lecturelib.explorable import StepExplorer, step_explorer
from lecturelib.gd import bifurcation, compile_update, descend, orbit_period, run
from lecturelib.linear_nets import (
    closest_psd,
    corollary1_bound,
    corollary2_radius,
    theorem1_bound,
    theorem2_step,
    theorem3_step,
)
from lecturelib.mlp import TanhMLP
from lecturelib.plots import cobweb, cobweb_path, use_course_style
from lecturelib.relu_nets import TwoLayerReLU, classify_tail, theorem4_bound, theorem4_lhs
from lecturelib.symbolic import descent_step_bound, gradient, hessian, max_stable_step, taylor_polynomial

__all__ = [
    "ConvergenceWarning",
    "SharpnessRun",
    "StepExplorer",
    "TanhMLP",
    "TwoLayerReLU",
    "bifurcation",
    "classify_tail",
    "closest_psd",
    "cobweb",
    "cobweb_path",
    "compile_update",
    "corollary1_bound",
    "corollary2_radius",
    "descend",
    "descent_step_bound",
    "gradient",
    "hessian",
    "hessian_vector_product",
    "max_stable_step",
    "orbit_period",
    "run",
    "step_explorer",
    "taylor_polynomial",
    "theorem1_bound",
    "theorem2_step",
    "theorem3_step",
    "theorem4_bound",
    "theorem4_lhs",
    "top_hessian_eigenvalue",
    "track_sharpness",
    "use_course_style",
]
