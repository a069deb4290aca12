from django.urls import include, path

from . import views

app_name = "dispatch"
urlpatterns = [
    path("", views.order_list, name="list"),
    path("report/", views.report, name="report"),
    path("report/subjects/", views.subjects, name="subjects"),
    path("report/similar/", views.similar, name="similar"),
    path("track/", views.track, name="track"),
    path("intake/", views.intake, name="intake"),
    path("intake/duplicates/", views.duplicates, name="duplicates"),
    path("patrol/", views.patrol, name="patrol"),
    path("board/", views.board, name="board"),
    path("queue/", views.queue, name="queue"),
    path("triage/", include("huying.dispatch.triage.urls")),
    path("<int:pk>/", views.detail, name="detail"),
    path("<int:pk>/callback/", views.callback, name="callback"),
    path("<int:pk>/<slug:action>/", views.act, name="act"),
    path("extensions/<int:pk>/decide/", views.extension_decide, name="extension_decide"),
]
