from django.apps import AppConfig


class SecurityConfig(AppConfig):
    name = "security"
    verbose_name = "Security and identity"

    def ready(self) -> None:
        # checks, schema and signals register themselves (system checks, OpenAPI, receivers).
        from monitoring import metrics
        from security import blocklist, checks, limits, schema, signals  # noqa: F401

        # Once a second, on the monitoring flusher thread: share this process's request counts
        # and pick up blocks made by other processes.
        metrics.every_flush(limits.sync_counters)
        metrics.every_flush(blocklist.periodic_sync)
