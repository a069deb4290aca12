from django.apps import AppConfig


class PartyConfig(AppConfig):
    name = "huying.party"
    verbose_name = "党建"
