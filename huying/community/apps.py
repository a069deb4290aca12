from django.apps import AppConfig


class CommunityConfig(AppConfig):
    name = "huying.community"
    label = "community"
    verbose_name = "协同共治"
