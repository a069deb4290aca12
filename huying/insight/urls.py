from django.urls import path

from . import views, views_forecast, views_rankings

app_name = "insight"
urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("tiles/", views.tiles, name="tiles"),
    path("report/", views.report, name="report"),
    path("report.xlsx", views.report_xlsx, name="report_xlsx"),
    path("report.pdf", views.report_pdf, name="report_pdf"),
    path("api/summary/", views.api_summary, name="api_summary"),
    path("api/children/", views.api_children, name="api_children"),
    path("api/trend/", views.api_trend, name="api_trend"),
    path("api/mix/", views.api_mix, name="api_mix"),
    path("api/hotspots/", views.api_hotspots, name="api_hotspots"),
    path("api/units/", views.api_units, name="api_units"),
    path("rankings/", views_rankings.ranking_page, name="rankings"),
    path("ledger.xlsx", views_rankings.ledger_xlsx, name="ledger_xlsx"),
    path("forecast/", views_forecast.forecast_page, name="forecast"),
]
