from django.apps import AppConfig


class ServicesConfig(AppConfig):
    name = "huying.services"
    label = "services"
    verbose_name = "党群服务阵地"

    def ready(self):
        from .desk import register_jobs
        from .tiles import register_tiles

        register_jobs()
        register_tiles()
