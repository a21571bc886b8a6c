"""The ``qpcsim`` command line: a thin layer over the Python API.

All command-line code lives in this package, one module per group of
subcommands, each with ``register(subparsers)``; this module collects them,
turns user mistakes (ValueError) into one-line messages with exit code 2, and
never shows a traceback for them. A new subcommand: a module here, named in
:data:`SUBCOMMAND_MODULES`.
"""
from __future__ import annotations

import argparse
import importlib
import platform
import sys

#: Modules contributing subcommands, each with ``register(subparsers)``.
SUBCOMMAND_MODULES = ["qpcsim.cli.sweep", "qpcsim.cli.lengths", "qpcsim.cli.luttinger",
                      "qpcsim.cli.coulomb", "qpcsim.cli.dots"]
SUBCOMMAND_MODULES.append("qpcsim.cli.bias")


def _info(args) -> int:
    import kwant
    import numpy
    import scipy

    from .._version import __version__
    from ..solver import solver_backend

    backend = solver_backend()
    print(f"qpcsim  {__version__}")
    print(f"Python  {platform.python_version()}")
    print(f"NumPy   {numpy.__version__}")
    print(f"SciPy   {scipy.__version__}")
    print(f"Kwant   {kwant.__version__}")
    print(f"sparse solver: {backend}"
          + ("" if backend == "MUMPS" else "  (MUMPS not found: slower SciPy SuperLU in use)"))
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="qpcsim", description="Quantum transport through point contacts, wires and dots "
        "(tight binding on Kwant). Units: energies meV, lengths nm, temperatures K, fields T, "
        "gate voltages V.")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    p = sub.add_parser("info", help="versions of Python, NumPy, SciPy, Kwant and the sparse solver")
    p.set_defaults(func=_info)
    for name in SUBCOMMAND_MODULES:
        importlib.import_module(name).register(sub)
    return parser


def main(argv=None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except (ValueError, FileNotFoundError, PermissionError, IsADirectoryError) as exc:
        print(f"qpcsim {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"qpcsim {args.command}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
