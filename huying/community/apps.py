from django.apps import AppConfig


class CommunityConfig(AppConfig):
    name = "huying.community"
    label = "community"
    verbose_name = "协同共治"

    def ready(self):
        from .volunteers import register_facts

        register_facts()
        from .selectors_halls import register_tiles as register_hall_tiles

        register_hall_tiles()
        from .selectors_projects import register_tiles as register_project_tiles

        register_project_tiles()
        from .selectors_summary import register_tiles as register_summary_tiles

        register_summary_tiles()
        from .selectors_volunteers import register_tiles as register_volunteer_tiles

        register_volunteer_tiles()
