from django.apps import AppConfig


class TerritoryConfig(AppConfig):
    name = "huying.territory"
    verbose_name = "辖区与网格"
