from django.urls import include, path

from huying.core.throttle import throttle

from . import views, views_check, views_map, views_media, views_place


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
    # 审核 and 核查 (views_check.py); before the generic action route
    path("reviews/", views_check.reviews, name="reviews"),
    path("checks/", views_check.checks, name="checks"),
    path("<int:pk>/review/<slug:decision>/", views_check.review_act, name="review"),
    path("<int:pk>/check/<slug:decision>/", views_check.check_act, name="check"),
    path("<int:pk>/onsite-check/", views_check.onsite_check, name="onsite_check"),
    path("<int:pk>/relocate/", views_place.relocate, name="relocate"),
    path("<int:pk>/<slug:action>/", views.act, name="act"),
    path("extensions/<int:pk>/decide/", views.extension_decide, name="extension_decide"),
]
