"""openehr-kit: a toolkit for openEHR structured clinical journals."""

__version__ = "0.1.0"
