from django.apps import AppConfig


class SensingConfig(AppConfig):
    name = "huying.sensing"
    label = "sensing"
    verbose_name = "感知预警"

    def ready(self):
        # each part registers its worker jobs and dashboard tiles here
        from .services import register_jobs
        from .tiles import register_tiles

        register_jobs()
        register_tiles()
