"""The territory's write path (services). Other modules of this package (grid imports, merge,
locator support …) are added by other engineers; only re-exports live here."""

from .divisions import boundaries_import, division_short_name, divisions_import, divisions_validate
from .generate import grids_generate

__all__ = ["boundaries_import", "division_short_name", "divisions_import", "divisions_validate", "grids_generate"]
