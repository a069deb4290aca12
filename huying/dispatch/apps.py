from django.apps import AppConfig


class DispatchConfig(AppConfig):
    name = "huying.dispatch"
    verbose_name = "工单调度"

    def ready(self):
        # In ready(): these import models and services, which need the app registry loaded.
        from . import reference
        from .jobs import register
        from .notify import receivers as notify_receivers
        from .triage import receivers as triage_receivers

        register()  # deadlines, partitions, hot snapshots, alerts, 督办, notifications (`huying worker`)
        # Receivers of dispatch's own in-transaction signal: the outbox and classifier corrections.
        notify_receivers.connect()
        triage_receivers.connect()
        reference.connect()  # per-process reference caches dropped when their rows change
