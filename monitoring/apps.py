from django.apps import AppConfig


class MonitoringConfig(AppConfig):
    name = "monitoring"
    verbose_name = "Monitoring"

    def ready(self) -> None:
        from django.core.signals import got_request_exception
        from django.db.backends.signals import connection_created

        from monitoring import queries, signals

        got_request_exception.connect(signals.request_failed, dispatch_uid="monitoring.request_failed")
        connection_created.connect(queries.install, dispatch_uid="monitoring.query_timer")
