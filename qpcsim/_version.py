"""qpcsim version (one place; the package face and the engine read it)."""
__version__ = "0.1.0"
