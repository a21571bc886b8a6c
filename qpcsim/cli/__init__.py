"""The ``qpcsim`` command line: a thin layer over the Python API.

All command-line code lives in this package, one module per group of
subcommands, each with ``register(subparsers)``; this module collects them,
turns user mistakes (ValueError) into one-line messages with exit code 2, and
never shows a traceback for them. A new subcommand: a module here, named with its
subcommands in :data:`SUBCOMMANDS`.
"""
from __future__ import annotations

import argparse
import importlib
import re
import sys

from .._version import __version__

#: Modules contributing subcommands, each with ``register(subparsers)``, and the
#: subcommands each registers: ``qpcsim COMMAND`` imports only COMMAND's module (the
#: others would cost a second of imports before the arguments are even parsed);
#: tests/test_cli.py checks this table against what the modules register.
SUBCOMMANDS = {
    "qpcsim.cli.sweep": ("sweep", "show", "plot"),
    "qpcsim.cli.lengths": ("lengths", "compare"),
    "qpcsim.cli.luttinger": ("luttinger",),
    "qpcsim.cli.coulomb": ("coulomb",),
    "qpcsim.cli.dots": ("contrast",),
    "qpcsim.cli.electrostatics": ("electrostatics", "pinchoff"),
    "qpcsim.cli.params": ("params",),
    "qpcsim.cli.bias": ("bias", "current"),
    "qpcsim.cli.summary": ("summary",),
}
SUBCOMMAND_MODULES = list(SUBCOMMANDS)


def _info(args) -> int:
    import platform

    import kwant
    import numpy
    import scipy

    from ..backends.blas import blas_report, format_blas_report
    from ..backends.schur import mumps_report
    from ..solver import solver_backend

    backend = solver_backend()
    print(f"qpcsim  {__version__}")
    print(f"Python  {platform.python_version()}")
    print(f"NumPy   {numpy.__version__}")
    print(f"SciPy   {scipy.__version__}")
    print(f"Kwant   {kwant.__version__}")
    print(f"sparse solver: {backend}"
          + ("" if backend == "MUMPS" else "  (MUMPS not found: slower SciPy SuperLU in use)"))
    print(f"mumps back end: {mumps_report()}")
    from ..backends.sigma_schur import sigma_report   # runs a small MUMPS analysis
    print(f"mumps-sigma back end: {sigma_report()}")
    print("\n".join(format_blas_report(blas_report())))
    return 0


def _version_text() -> str:
    """``qpcsim X.Y.Z (Kwant A.B.C, Python D.E.F)``, read from the installed packages'
    metadata: importing Kwant alone would take longer than the whole answer should."""
    import importlib.metadata
    import platform
    try:
        kwant_version = importlib.metadata.version("kwant")
    except importlib.metadata.PackageNotFoundError:
        kwant_version = "not installed"
    return f"qpcsim {__version__} (Kwant {kwant_version}, Python {platform.python_version()})"


class _VersionAction(argparse.Action):
    """``--version``: the versions, computed only when asked for."""

    def __init__(self, option_strings, dest=argparse.SUPPRESS, default=argparse.SUPPRESS,
                 help=None):   # noqa: A002 - argparse's keyword
        super().__init__(option_strings, dest, nargs=0, default=default, help=help)

    def __call__(self, parser, namespace, values, option_string=None):
        print(_version_text())
        parser.exit()


def _subcommand_modules(argv) -> list[str]:
    """The modules to import for ``argv``: the one registering its subcommand; none
    without a subcommand (``--version``, a usage error); all for help without one or
    an unknown name (so that the message lists every choice)."""
    command = next((word for word in argv if not word.startswith("-")), None)
    if command is None:
        return SUBCOMMAND_MODULES if {"-h", "--help"} & set(argv) else []
    if command == "info":
        return []
    return [name for name, commands in SUBCOMMANDS.items() if command in commands] or \
        SUBCOMMAND_MODULES


def build_parser(modules: list[str] | None = None) -> argparse.ArgumentParser:
    """The ``qpcsim`` parser with the subcommands of ``modules`` (default: all of
    :data:`SUBCOMMAND_MODULES`) and ``info``."""
    parser = argparse.ArgumentParser(
        prog="qpcsim", description="Quantum transport through point contacts, wires and dots "
        "(tight binding on Kwant). Units: energies meV, lengths nm, temperatures K, fields T, "
        "gate voltages V.")
    parser.add_argument("--version", action=_VersionAction,
                        help="print the versions of qpcsim, Kwant and Python, and exit")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    p = sub.add_parser("info", help="versions, the sparse solver and the BLAS each back end uses")
    p.set_defaults(func=_info)
    for name in SUBCOMMAND_MODULES if modules is None else modules:
        importlib.import_module(name).register(sub)
    for each in [parser, *sub.choices.values()]:   # --energy -1e-3 is a value
        own = each._negative_number_matcher.pattern     # bias.py adds "-1:1:N" ranges
        each._negative_number_matcher = re.compile(f"(?:{own})|(?:{_NEGATIVE_NUMBER.pattern})")
    return parser


#: Negative numbers, scientific notation included (argparse's own pattern knows only
#: -1 and -1.5, so ``--energy -1e-3`` was "expected one argument").
_NEGATIVE_NUMBER = re.compile(r"^-(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$")


def _thermal_resolution_error() -> type:
    """``ThermalResolutionError`` if its module was imported (only then can it have been
    raised), else ValueError: validate.py's NumPy is not needed to parse arguments."""
    validate = sys.modules.get("qpcsim.validate")
    return validate.ThermalResolutionError if validate is not None else ValueError


def _one_line_warnings(command: str):
    """Warnings for the user (physics, store repairs: UserWarnings) as one
    ``qpcsim CMD: warning: ...`` line each; returns the previous hook."""
    import warnings
    previous = warnings.showwarning

    def show(message, category, filename, lineno, file=None, line=None):
        if issubclass(category, (DeprecationWarning, PendingDeprecationWarning)) or \
                not issubclass(category, UserWarning):
            return previous(message, category, filename, lineno, file, line)
        print(f"qpcsim {command}: warning: {message}", file=sys.stderr, flush=True)
    warnings.showwarning = show
    return previous


def _broken_pipe() -> int:
    """The reader went away (``qpcsim ... | head``): stop quietly, no traceback."""
    import os
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())   # so the exit-time flush cannot fail again
    except (OSError, ValueError):
        pass
    return 141   # 128 + SIGPIPE, as a shell tool killed by the broken pipe


def _interrupt_handler():
    """SIGINT handler: the first Ctrl-C raises KeyboardInterrupt (the sweep stops its
    workers, closes its store, keeps its finished points); later ones are ignored
    while that cleanup runs (it takes well under a second), unless it has run for
    over 2 s, when the process exits at once (status 130)."""
    import os
    import signal
    import time
    first: list = []

    def handle(signum, frame):
        if not first:
            first.append(time.monotonic())
            raise KeyboardInterrupt
        if time.monotonic() - first[0] > 2.0:
            print("qpcsim: interrupted again; exiting now", file=sys.stderr, flush=True)
            os._exit(130)
    if threading_main():
        signal.signal(signal.SIGINT, handle)


class _Terminated(BaseException):
    """SIGTERM (a batch system's stop, ``kill``): unwinds like Ctrl-C, so the run closes its
    store and removes its lock, WAL and shared-memory files, then the process ends by the
    signal (its exit status stays "killed by SIGTERM")."""


def _terminate_handler():
    import signal

    def handle(signum, frame):
        raise _Terminated
    if threading_main():
        signal.signal(signal.SIGTERM, handle)


def _die_by_sigterm(command: str) -> None:
    import os
    import signal
    print(f"qpcsim {command}: terminated (finished points kept)", file=sys.stderr, flush=True)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    os.kill(os.getpid(), signal.SIGTERM)


def threading_main() -> bool:
    import threading
    return threading.current_thread() is threading.main_thread()


def main(argv=None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    args = build_parser(_subcommand_modules(argv)).parse_args(argv)
    args.argv = argv   # provenance of results
    import signal
    import warnings
    previous = _one_line_warnings(args.command)
    previous_sigint = signal.getsignal(signal.SIGINT)
    previous_sigterm = signal.getsignal(signal.SIGTERM)
    _interrupt_handler()
    _terminate_handler()
    try:
        code = int(args.func(args) or 0)
        sys.stdout.flush()
        return code
    except BrokenPipeError:
        return _broken_pipe()
    except (ValueError, _thermal_resolution_error(), FileNotFoundError, PermissionError,
            IsADirectoryError) as exc:
        print(f"qpcsim {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except MemoryError:
        print(f"qpcsim {args.command}: error: out of memory; reduce the problem (lattice "
              "constant a larger, W/L smaller, fewer points)", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"qpcsim {args.command}: interrupted", file=sys.stderr)
        previous_sigint = signal.SIG_IGN   # a second Ctrl-C on its way: the exit is under way
        return 130
    except _Terminated:
        _die_by_sigterm(args.command)     # the stack has unwound: stores and locks are closed
        raise
    finally:
        warnings.showwarning = previous
        if threading_main() and previous_sigint is not None:
            signal.signal(signal.SIGINT, previous_sigint)
        if threading_main() and previous_sigterm is not None:
            signal.signal(signal.SIGTERM, previous_sigterm)


if __name__ == "__main__":
    sys.exit(main())
