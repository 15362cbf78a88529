from django.apps import AppConfig


class MonitoringConfig(AppConfig):
    name = "monitoring"
    verbose_name = "Monitoring"

    def ready(self) -> None:
        from django.conf import settings
        from django.core.signals import got_request_exception
        from django.db.backends.signals import connection_created

        from monitoring import health, queries, sentry, signals, task_signals, traces
        from mvpvalidator import background
        from mvpvalidator.cache import stats as cache_stats

        background.register("monitoring.health", reset=health.reset_cache, forked=health.forget_inflight)

        if traces.note_cache not in cache_stats.observers:
            cache_stats.observers.append(traces.note_cache)

        if settings.SENTRY_DSN and settings.ENABLE_SENTRY_MONITORING:
            # Here rather than in settings, which import no app code: still before the first
            # request or command runs, since Django loads the apps before it builds the handler.
            sentry.init_sentry(
                dsn=settings.SENTRY_DSN,
                environment=settings.SENTRY_ENVIRONMENT,
                release=settings.SENTRY_RELEASE or None,
                traces_sample_rate=settings.SENTRY_TRACES_SAMPLE_RATE,
            )

        got_request_exception.connect(signals.request_failed, dispatch_uid="monitoring.request_failed")
        connection_created.connect(queries.install, dispatch_uid="monitoring.query_timer")
        task_signals.connect()
