"""Gate electrostatics: from a gate layout and a heterostructure to a self-consistent potential."""
from .bare import gate_potential, layout_potential, polygon_potential
from .heterostructure import Heterostructure
from .layout import Gate, Layout
from .thomas_fermi import (ConvergenceError, ElectrostaticsResult, ThomasFermiProblem,
                           solve_thomas_fermi)
