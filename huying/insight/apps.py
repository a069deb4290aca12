from django.apps import AppConfig


class InsightConfig(AppConfig):
    name = "huying.insight"
    verbose_name = "数据洞察"
