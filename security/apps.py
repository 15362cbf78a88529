from django.apps import AppConfig


class SecurityConfig(AppConfig):
    name = "security"
    verbose_name = "Security and identity"

    def ready(self) -> None:
        from security import checks, schema, signals  # noqa: F401  (checks, receivers, OpenAPI extension)
