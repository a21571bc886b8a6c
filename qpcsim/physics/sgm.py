"""Scanning-gate microscopy: a movable tip potential on any device.

``with_tip(device, height=..., width=..., profile=...)`` returns a derived
:class:`~qpcsim.Device` whose potential is the device's plus the tip's,

    U_tip(x, y) = tip_height f(r / width),  r = |(x, y) - (x_tip, y_tip)|,
    f = 1 / (1 + r^2/width^2)  (Lorentzian)  or  exp(-r^2 / (2 width^2))  (Gaussian),

with ``x_tip``, ``y_tip`` (nm) and ``tip_height`` (meV) runtime parameters: an
SGM map is a sweep over ``x_tip`` and ``y_tip``. The derived device keeps the
terminals, shape, spin and gauge of the original (Topinka et al.,
Science 289, 2323 (2000) for the measurement).
"""
from __future__ import annotations

import inspect

import numpy as np

from .. import validate as _validate
from ..device import Device
from .disorder import _pickle_geometry_by_value

__all__ = ["with_tip", "TIP_PARAMS"]

#: Runtime parameters a tip adds, with their units.
TIP_PARAMS = {"x_tip": "nm", "y_tip": "nm", "tip_height": "meV"}
_PROFILES = ("lorentzian", "gaussian")


class _TipPotential:
    """The device's potential plus the tip's (picklable, for worker processes)."""

    def __init__(self, base, names, width, profile):
        self.base, self.names, self.width, self.profile = base, tuple(names), width, profile

    def __call__(self, x, y, **kw):
        x_tip, y_tip, height = kw.pop("x_tip"), kw.pop("y_tip"), kw.pop("tip_height")
        r2 = ((np.asarray(x) - x_tip) ** 2 + (np.asarray(y) - y_tip) ** 2) / self.width ** 2
        tip = height * (1.0 / (1.0 + r2) if self.profile == "lorentzian" else np.exp(-0.5 * r2))
        return tip + (self.base(x, y, **kw) if self.base is not None else 0.0)


def with_tip(device: Device, *, width: float, height: float = 1.0, x_tip: float = 0.0,
             y_tip: float = 0.0, profile: str = "lorentzian") -> Device:
    """A derived device with a scanning-gate tip potential.

    Parameters
    ----------
    device : Device
        Any device (two-terminal or with ``leads``).
    width : float
        Tip potential width (nm): the Lorentzian's half width, the Gaussian's sigma.
    height : float
        Default ``tip_height`` (meV); positive is repulsive (a negatively biased tip).
    x_tip, y_tip : float
        Default tip position (nm), device coordinates.
    profile : {"lorentzian", "gaussian"}
        Radial profile of the induced potential.

    Returns
    -------
    Device
        Same lattice, shape, terminals and spin; new runtime parameters
        ``x_tip``, ``y_tip`` (nm) and ``tip_height`` (meV).

    Notes
    -----
    The leads carry V = 0: a tip near a lead's interface leaves a step there,
    as any potential that does not vanish toward the leads; keep the scan inside.
    """
    _validate.device("device", device)
    width = _validate.positive("width", width, "nm")
    if profile not in _PROFILES:
        raise ValueError(f"profile={profile!r} is not allowed: use one of {', '.join(_PROFILES)}")
    names = list(device.potential_parameters)
    clash = set(names) & set(TIP_PARAMS)
    if clash:
        raise ValueError(f"device {device.name!r} already has parameter(s) {sorted(clash)}: "
                         "it carries a tip already")
    _pickle_geometry_by_value(device.potential)
    potential = _TipPotential(device.potential, names, width, profile)
    potential.__signature__ = inspect.Signature(
        [inspect.Parameter(n, inspect.Parameter.POSITIONAL_OR_KEYWORD) for n in ("x", "y")]
        + [inspect.Parameter(n, inspect.Parameter.KEYWORD_ONLY) for n in names + list(TIP_PARAMS)])
    params = {n: device.defaults[n] for n in names}
    params.update(x_tip=_validate.real_number("x_tip", x_tip, "nm"),
                  y_tip=_validate.real_number("y_tip", y_tip, "nm"),
                  tip_height=_validate.real_number("height", height, "meV"))
    meta = {k: v for k, v in device.metadata.items()
            if k not in ("geometry_file", "geometry_sha256", "geometry_params")}
    meta["tip"] = {"base_fingerprint": device.fingerprint(), "width_nm": width,
                   "profile": profile}
    if device.leads is not None:
        lead_args = dict(leads=device.leads, gauge=device.gauge)
    else:
        lead_args = dict(lead_width=tuple((n + 1) * device.a for _, n in device.lead_windows),
                         lead_center=tuple(-0.5 * device.width + (j0 + 0.5 * (n + 1)) * device.a
                                           for j0, n in device.lead_windows))
    return Device(width=device.width, length=device.length, a=device.a, potential=potential,
                  shape=device.shape, params=params, units={**device.units, **TIP_PARAMS},
                  material=device.material, zeeman=device.zeeman, name=f"{device.name}+tip",
                  metadata=meta, **lead_args)
