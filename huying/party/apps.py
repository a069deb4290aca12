from django.apps import AppConfig


class PartyConfig(AppConfig):
    name = "huying.party"
    verbose_name = "党建"

    def ready(self):
        from .tiles import register_tiles

        register_tiles()
