from django.apps import AppConfig


class SecurityConfig(AppConfig):
    name = "security"
    verbose_name = "Security and identity"

    def ready(self) -> None:
        # checks, schema and signals register themselves (system checks, OpenAPI, receivers);
        # blocklist and limits register their sync with the background flusher; kpis registers
        # the security KPIs' readers.
        from mvpvalidator import background
        from security import blocklist, checks, kpis, limits, lockout, schema, services, signals  # noqa: F401

        background.register("security.lockout", reset=lockout.reset)
        background.register("security.blocked_requests", reset=services._blocked_seen.clear)
        background.register("security.kpis", reset=kpis.watched.clear)
