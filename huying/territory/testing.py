"""Test helpers for every app: load the real Guangzhou divisions with generated grids, fast.

    from huying.territory.testing import load_territory

    @pytest.fixture
    def territory(db):
        load_territory()                      # 越秀区: 18 streets, 222 communities, ~1,100 grids
        load_territory(("440104", "440105"))  # or several districts

Importing this module does nothing; everything happens inside `load_territory`.
"""

import json
from collections.abc import Iterable
from importlib import resources

DEFAULT_DISTRICTS = ("440104",)  # 越秀区: the smallest district, central, all urban


def shipped_data(name: str) -> dict:
    """One of the shipped data files (`divisions.json`, `districts.geojson`) as parsed JSON."""
    return json.loads(resources.files("huying.territory").joinpath("data", name).read_text("utf-8"))


def load_territory(districts: Iterable[str] = DEFAULT_DISTRICTS, grids_target: int | None = None) -> None:
    """Load all of Guangzhou's divisions and district boundaries, and generate streets', communities'
    and grids' areas and buildings for `districts` only.

    `grids_target` is the city-wide target (default: the generator's, about 20,000); the districts
    get their usual share of it. Same arguments, same records, every time.
    """
    from .services.divisions import boundaries_import, divisions_import
    from .services.generate import grids_generate

    divisions_import(shipped_data("divisions.json"))
    boundaries_import(shipped_data("districts.geojson"))
    kwargs = {} if grids_target is None else {"grids_target": grids_target}
    grids_generate(districts=list(districts), **kwargs)
