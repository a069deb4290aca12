from django.apps import AppConfig
from django.conf import settings


class InsightConfig(AppConfig):
    name = "huying.insight"
    verbose_name = "数据洞察"

    def ready(self):
        from .forecast import register as forecast_register

        forecast_register()  # the "tomorrow's calls" tile and the daily "forecast" job
        from .hotspots import register as hotspots_register

        hotspots_register()  # the "hotspots" job: the city's, districts' and streets' hot-spot lists
        # Rollups follow every committed change of an order (ARCHITECTURE.md: insight subscribes to
        # dispatch's changes): noted in a queue inside each transaction, applied in batches by the
        # worker's `rollups` job (D58). HUYING_INSIGHT_LIVE=False leaves them to `insight rebuild`.
        if not settings.HUYING_INSIGHT_LIVE:
            return
        from huying.core import jobs

        from .rollups import connect, rollups_job

        connect()
        jobs.register("rollups", interval=2, fn=rollups_job, title="汇总数据刷新")
