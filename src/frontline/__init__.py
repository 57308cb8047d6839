"""frontline: a self-hostable support-operations engine."""

__version__ = "0.1.0"
