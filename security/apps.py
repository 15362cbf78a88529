from django.apps import AppConfig


class SecurityConfig(AppConfig):
    name = "security"
    verbose_name = "Security and identity"

    def ready(self) -> None:
        from security import schema, signals  # noqa: F401  (receivers, OpenAPI extension)
