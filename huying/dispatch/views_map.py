"""The report page's map picker: our own division outlines, open to anyone, without a tile server."""

import json
import re

from django.http import Http404, HttpResponse
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_GET

from huying.core.errors import DomainError
from huying.territory import selectors as territory
from huying.territory.api import children_feature_collection
from huying.territory.models import Level

CODE_RE = re.compile(r"^[0-9]{6,12}$")
# The picker draws the city's districts and a district's streets; deeper outlines are not needed to
# pick a point, and communities' names and counts are not for the public page.
PICKER_LEVELS = (Level.CITY, Level.DISTRICT)
SHOWN = ("code", "name", "level", "cp")


@require_GET
@cache_control(public=True, max_age=600)
def report_map_shapes(request, code: str):
    """The outlines of a division's children (the city's districts, a district's streets) as GeoJSON,
    with only their code, name, level and an inner point: no counts. `city` names the city."""
    if code == "city":
        code = territory.city_code() or ""
    if not CODE_RE.match(code):
        raise Http404
    try:
        node = territory.node_get(code, divisions_only=True)
    except DomainError:
        raise Http404 from None
    if node.level not in PICKER_LEVELS:
        raise Http404
    fc = children_feature_collection(node)
    features = [{"type": "Feature", "geometry": f["geometry"],
                 "properties": {k: f["properties"].get(k) for k in SHOWN}} for f in fc["features"]]
    body = json.dumps({"type": "FeatureCollection", "features": features}, ensure_ascii=False, separators=(",", ":"))
    return HttpResponse(body, content_type="application/geo+json; charset=utf-8")
