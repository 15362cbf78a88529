from django.db import migrations, models
from django.db.models import OuterRef, Subquery


def copy_project_from_page(apps, schema_editor):
    Signup = apps.get_model("projects", "Signup")
    LandingPage = apps.get_model("projects", "LandingPage")
    Signup.objects.filter(project__isnull=True).update(
        project_id=Subquery(LandingPage.objects.filter(pk=OuterRef("landing_page_id")).values("project_id")[:1])
    )


class Migration(migrations.Migration):
    dependencies = [("projects", "0001_initial")]

    operations = [
        migrations.AddField(
            model_name="signup",
            name="project",
            field=models.ForeignKey(
                null=True, on_delete=models.deletion.CASCADE, related_name="signups", to="projects.project"
            ),
        ),
        migrations.RunPython(copy_project_from_page, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="signup",
            name="project",
            field=models.ForeignKey(on_delete=models.deletion.CASCADE, related_name="signups", to="projects.project"),
        ),
        migrations.AddIndex(
            model_name="signup",
            index=models.Index(fields=["project", "-created_at", "-id"], name="signup_project_created_idx"),
        ),
    ]
