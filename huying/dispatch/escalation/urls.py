from django.urls import path

from . import views

app_name = "escalation"

urlpatterns = [
    path("orders/<int:pk>/whistle/", views.whistle, name="whistle"),
    path("whistles/", views.whistle_calls, name="calls"),
    path("whistles/<int:pk>/report/", views.whistle_call_report, name="report"),
    path("supervision/", views.supervision, name="supervision"),
]
