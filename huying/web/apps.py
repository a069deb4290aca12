from django.apps import AppConfig


class WebConfig(AppConfig):
    name = "huying.web"
    verbose_name = "页面"
