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
        # What an account's deletion must undo beyond the cascade: cached public pages and uploads.
        from accounts import deletion
        from projects.services.projects import owner_data_forget

        deletion.register("projects", lambda user: owner_data_forget(user=user))
