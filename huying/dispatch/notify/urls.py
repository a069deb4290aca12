from django.urls import path

from . import views

app_name = "inbox"

urlpatterns = [
    path("", views.inbox_list, name="list"),
    path("<int:pk>/", views.inbox_open, name="open"),
    path("read-all/", views.inbox_read_all, name="read_all"),
]
