"""Row locks the writes of several subjects take before they check a status."""

from projects.models.projects import Project


def lock_project(project: Project) -> Project:
    """Re-read the project under a row lock so concurrent status moves serialise."""
    return Project.objects.select_for_update().get(pk=project.pk)
