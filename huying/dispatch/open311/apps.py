from django.apps import AppConfig


class Open311Config(AppConfig):
    """Open311 GeoReport v2: API keys and the requests posted through them (an app inside dispatch).

    Its models moved from the dispatch app without moving data: they keep their `dispatch_*` tables
    (`Meta.db_table`), and the move was a state-only migration (migrations/0001_initial.py).
    Its URLs are mounted at /open311/v2/ by huying/urls.py.
    """

    name = "huying.dispatch.open311"
    label = "open311"
    verbose_name = "Open311 接口"
