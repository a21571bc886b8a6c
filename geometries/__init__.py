"""The bundled device definitions (installed as ``qpcsim.geometries``).

Each file is a plain module with a docstring (the physical picture, units), a
``DEFAULTS`` dict and ``make_device(**params) -> qpcsim.Device``; load one by
name (``qpcsim.load_geometry("qpc_saddle")``) or copy it and load it by path.
"""
