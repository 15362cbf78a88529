"""Prototypes: the generated (or edited) versions of a project's copy."""

from django.db import models

from projects.models.projects import Project


class Prototype(models.Model):
    """One generated (or edited) version of the copy for a project; the project keeps them all."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="prototypes")
    version = models.PositiveIntegerField()
    is_current = models.BooleanField(default=True)
    headline = models.CharField(max_length=120)
    subheadline = models.CharField(max_length=240, blank=True)
    value_proposition = models.TextField(max_length=2000)
    features = models.JSONField(default=list)
    pricing_tiers = models.JSONField(default=list)
    call_to_action = models.CharField(max_length=60)
    generator = models.CharField(max_length=80, help_text="Which generator wrote it: builtin or openai:<model>.")
    fallback_reason = models.CharField(max_length=200, blank=True)
    generation_ms = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    # When the founder last changed the generated copy by hand (null: as the generator wrote it).
    edited_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-version"]
        constraints = [
            models.UniqueConstraint(fields=["project", "version"], name="prototype_project_version_unique"),
            models.UniqueConstraint(
                fields=["project"], condition=models.Q(is_current=True), name="prototype_one_current_per_project"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.project} v{self.version}"
