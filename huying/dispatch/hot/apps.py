from django.apps import AppConfig


class HotConfig(AppConfig):
    """Hot issues (热点问题) and alerts (预警): an app of its own inside the dispatch package.

    Its models moved from the dispatch app without moving data: they keep their `dispatch_*` tables
    (`Meta.db_table`), and the move was a state-only migration (migrations/0001_initial.py).
    Its templates are found by Django's app loader; its worker jobs stay registered by dispatch
    (dispatch/jobs.py), which runs the alert scan before the notification delivery of the same round.
    """

    name = "huying.dispatch.hot"
    label = "hot"
    verbose_name = "热点与预警"
