from django.urls import path

from . import views

app_name = "triage"
urlpatterns = [
    path("", views.queue, name="queue"),
    path("count/", views.count, name="count"),
    path("<int:pk>/<slug:action>/", views.act, name="act"),
]
