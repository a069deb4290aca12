from django.contrib import admin
from django.urls import include, path

from huying.api import api

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/v1/", api.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path("orders/", include("huying.dispatch.urls")),
    path("insight/", include("huying.insight.urls")),
    path("open311/v2/", include("huying.dispatch.open311.urls")),
    path("party/", include("huying.party.urls")),
    path("services/", include("huying.services.urls")),
    path("community/", include("huying.community.urls")),
    path("sensing/", include("huying.sensing.urls")),
    path("escalation/", include("huying.dispatch.escalation.urls")),
    path("hot/", include("huying.dispatch.hot.urls")),
    path("quality/", include("huying.dispatch.quality.urls")),
    path("inbox/", include("huying.dispatch.notify.urls")),
    path("", include("huying.web.urls")),
]
