from django.urls import include, path

from huying.core.throttle import throttle

from . import views, views_map, views_media


def _has_code(request) -> bool:
    return bool(request.GET.get("code") or request.POST.get("code"))


app_name = "dispatch"
urlpatterns = [
    path("", views.order_list, name="list"),
    # Anonymous writes and code look-ups count per client address (settings.HUYING_RATES).
    path("report/", throttle("report", methods=("POST",))(views.report), name="report"),
    path("report/subjects/", views.subjects, name="subjects"),
    path("report/similar/", views.similar, name="similar"),
    path("report/map/<str:code>.geojson", views_map.report_map_shapes, name="report_map"),
    path("track/", throttle("track", methods=("GET", "POST"), when=_has_code)(views.track), name="track"),
    path("intake/", views.intake, name="intake"),
    path("intake/duplicates/", views.duplicates, name="duplicates"),
    path("patrol/", views.patrol, name="patrol"),
    path("board/", views.board, name="board"),
    path("queue/", views.queue, name="queue"),
    path("triage/", include("huying.dispatch.triage.urls")),
    path("photos/<int:pk>/", views_media.photo, name="photo"),
    path("<int:pk>/", views.detail, name="detail"),
    path("<int:pk>/callback/", views.callback, name="callback"),
    path("<int:pk>/<slug:action>/", views.act, name="act"),
    path("extensions/<int:pk>/decide/", views.extension_decide, name="extension_decide"),
]
