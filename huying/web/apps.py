from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class WebConfig(AppConfig):
    name = "huying.web"
    verbose_name = _("页面")

    def ready(self):
        from django.contrib import admin

        from . import checks  # noqa: F401 - registers the deployment checks

        admin.site.site_header = _("呼应 · 管理后台")
        admin.site.site_title = _("呼应管理后台")
        admin.site.index_title = _("管理后台")
