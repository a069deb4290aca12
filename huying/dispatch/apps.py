from django.apps import AppConfig


class DispatchConfig(AppConfig):
    name = "huying.dispatch"
    verbose_name = "工单调度"
