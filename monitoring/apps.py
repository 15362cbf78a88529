from django.apps import AppConfig


class MonitoringConfig(AppConfig):
    name = "monitoring"
    verbose_name = "Monitoring"

    def ready(self) -> None:
        from django.core.signals import got_request_exception

        from monitoring import signals

        got_request_exception.connect(signals.request_failed, dispatch_uid="monitoring.request_failed")
