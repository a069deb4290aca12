from django.urls import path

from . import views

app_name = "hot"

urlpatterns = [
    path("", views.hot_list, name="groups"),
    path("alerts/", views.alert_list, name="alerts"),
    path("alerts/<int:pk>/acknowledge/", views.alert_acknowledge, name="acknowledge"),
    path("alerts/<int:pk>/order/", views.alert_open_order, name="open_order"),
]
