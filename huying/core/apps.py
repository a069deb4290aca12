from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "huying.core"
    verbose_name = "基础"
