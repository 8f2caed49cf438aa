"""Doorstep: software for running a community mass-testing campaign."""

__version__ = "0.1.0"
