"""Huying (呼应): one territory, one grid network, every call answered."""

__version__ = "0.1.0"
