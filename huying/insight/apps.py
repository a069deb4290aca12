from django.apps import AppConfig
from django.conf import settings


class InsightConfig(AppConfig):
    name = "huying.insight"
    verbose_name = "数据洞察"

    def ready(self):
        from .forecast import register as forecast_register

        forecast_register()  # the "tomorrow's calls" tile and the daily "forecast" job
        # Rollups follow every committed change of an order (ARCHITECTURE.md: insight subscribes to
        # dispatch's changes: noted inside each transaction, refreshed in one batch after it commits).
        # HUYING_INSIGHT_LIVE=False leaves them to `insight rebuild`.
        if not getattr(settings, "HUYING_INSIGHT_LIVE", True):
            return
        from .rollups import connect

        connect()
