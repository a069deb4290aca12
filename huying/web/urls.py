from django.contrib.auth import views as auth_views
from django.urls import path

from . import health, views

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", health.healthz, name="healthz"),
    path("login/", auth_views.LoginView.as_view(template_name="web/login.html", redirect_authenticated_user=True),
         name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("territory/", views.territory, name="territory"),
    path("territory/nodes/<str:code>/children/", views.territory_children, name="territory_children"),
    path("territory/grids/<str:code>/buildings/", views.territory_buildings, name="territory_buildings"),
    path("map/", views.territory_map, name="map"),
]
