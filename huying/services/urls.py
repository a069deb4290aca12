from django.urls import path

from . import views

app_name = "services"
urlpatterns = [
    path("near/", views.near, name="near"),
    path("positions/<int:pk>/", views.position_page, name="position"),
    path("coverage/", views.coverage_index, name="coverage_index"),
    path("coverage/<str:code>/", views.coverage, name="coverage"),
]
