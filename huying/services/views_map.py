"""The coverage page's map data (JSON), scoped exactly like the coverage page itself."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, JsonResponse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from huying.territory.models import Division, Level

from . import selectors, selectors_map, views


@login_required
@require_GET
def coverage_map(request, code: str):
    """15分钟服务圈地图: outline, positions open or closed at `day`/`hour`, buildings, candidate sites."""
    community = Division.objects.filter(code=code, level=Level.COMMUNITY).select_related("parent").first()
    if community is None:
        raise Http404(_("找不到该社区。"))
    if not selectors.may_view_coverage(request.user, community):
        raise PermissionDenied(_("您无权查看该社区的服务圈。"))
    at, _day, _hour = views._moment(request, views._now())
    response = JsonResponse(selectors_map.coverage_map(community, at=at), json_dumps_params={"ensure_ascii": False})
    response["Cache-Control"] = "private, no-store"
    return response
