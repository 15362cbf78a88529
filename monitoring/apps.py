import importlib
import importlib.util

from django.apps import AppConfig

# The monitoring modules that read KPIs (security registers its own from SecurityConfig.ready).
KPI_READER_MODULES = ("monitoring.kpi_readers", "monitoring.uptime", "monitoring.db_kpis")


class MonitoringConfig(AppConfig):
    name = "monitoring"
    verbose_name = "Monitoring"

    def ready(self) -> None:
        from django.conf import settings
        from django.core.signals import got_request_exception
        from django.db.backends.signals import connection_created

        from monitoring import health, panels, queries, sentry, signals, task_signals, traces
        from mvpvalidator import background
        from mvpvalidator.cache import stats as cache_stats

        background.register("monitoring.health", reset=health.reset_cache, forked=health.forget_inflight)

        if traces.note_cache not in cache_stats.observers:
            cache_stats.observers.append(traces.note_cache)

        # The KPI readers register themselves on import; a reader module not in this build
        # leaves its KPIs as "no data".
        for module in KPI_READER_MODULES:
            if importlib.util.find_spec(module) is not None:
                importlib.import_module(module)
        from monitoring import kpi_readers

        if kpi_readers.count_cache_event not in cache_stats.observers:
            cache_stats.observers.append(kpi_readers.count_cache_event)
        panels.register("kpis", "dashboard/panels/kpis.html", panels.kpi_panel)

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
