"""Sensing (感知预警): sensors on the territory, their readings and the alert rules over them."""
from django.urls import path

from . import views, views_emergency

app_name = "sensing"
urlpatterns = [
    # each part adds its pages here
    path("", views.home, name="home"),
    path("sensors/new/", views.sensor_new, name="sensor_new"),
    path("sensors/<int:pk>/", views.sensor_detail, name="sensor"),
    path("sensors/import/", views.sensor_import, name="import"),
    path("sensors/import/template.xlsx", views.import_template, name="import_template"),
    path("rules/", views.rules, name="rules"),
    path("rules/<int:pk>/", views.rule_edit, name="rule"),
    path("emergency/", views_emergency.emergency, name="emergency"),
    path("emergency/data.json", views_emergency.emergency_data, name="emergency_data"),
]
