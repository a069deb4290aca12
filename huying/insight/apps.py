from django.apps import AppConfig
from django.conf import settings


class InsightConfig(AppConfig):
    name = "huying.insight"
    verbose_name = "数据洞察"

    def ready(self):
        # Rollups follow every committed change of an order (ARCHITECTURE.md: insight subscribes to
        # dispatch's after-commit signals). HUYING_INSIGHT_LIVE=False leaves them to `insight rebuild`.
        if not getattr(settings, "HUYING_INSIGHT_LIVE", True):
            return
        from huying.dispatch import signals

        from .rollups import on_order_signal

        for sig in (signals.order_transitioned, signals.order_deadline, signals.order_changed):
            sig.connect(on_order_signal, dispatch_uid=f"insight.rollups.{id(sig)}")
