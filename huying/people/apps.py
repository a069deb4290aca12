from django.apps import AppConfig


class PeopleConfig(AppConfig):
    name = "huying.people"
    verbose_name = "单位与人员"
