"""The territory's write path (services); only re-exports live here."""

from .divisions import (
    boundaries_import,
    division_delete,
    division_save,
    division_short_name,
    divisions_import,
    divisions_validate,
)
from .generate import grids_generate
from .imports import buildings_import, grids_import
from .merge import grids_merge

__all__ = [
    "boundaries_import",
    "buildings_import",
    "division_delete",
    "division_save",
    "division_short_name",
    "divisions_import",
    "divisions_validate",
    "grids_generate",
    "grids_import",
    "grids_merge",
]
