from django.apps import AppConfig


class MonitoringConfig(AppConfig):
    name = "monitoring"
    verbose_name = "Monitoring"

    def ready(self) -> None:
        from django.core.signals import got_request_exception
        from django.db.backends.signals import connection_created

        from monitoring import health, queries, signals, traces
        from mvpvalidator import background
        from mvpvalidator.cache import stats as cache_stats

        background.register("monitoring.health", reset=health.reset_cache)

        if traces.note_cache not in cache_stats.observers:
            cache_stats.observers.append(traces.note_cache)

        got_request_exception.connect(signals.request_failed, dispatch_uid="monitoring.request_failed")
        connection_created.connect(queries.install, dispatch_uid="monitoring.query_timer")
