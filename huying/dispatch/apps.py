from django.apps import AppConfig


class DispatchConfig(AppConfig):
    name = "huying.dispatch"
    verbose_name = "工单调度"

    def ready(self):
        from .jobs import register

        register()  # deadlines, partitions, hot snapshots, alerts, 督办, notifications (`huying worker`)
