"""DEAR: depth-enhanced action recognition as a transformers model."""

__version__ = "0.1.0"
