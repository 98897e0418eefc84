"""Document generation for child protection conference services."""

__version__ = "0.1.0"
