from django.apps import AppConfig


class ProjectsConfig(AppConfig):
    name = "projects"
    verbose_name = "Projects"

    def ready(self) -> None:
        # `checks` registers the deployment checks when imported. Monitoring knows nothing of
        # projects: the domain plugs its health checks and its dashboard panel in here.
        from projects import checks, dashboard, exports, health  # noqa: F401

        health.register()
        dashboard.register()
        exports.register()
