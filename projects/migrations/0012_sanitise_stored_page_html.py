"""Pages saved through the admin before it went through the page service may hold HTML that was
never sanitised, and the page renders it as stored: clean every page's formatted copy once, and
bump the content version and the cache namespace of each page it changed, so no cached copy
of the old one is served again."""

from django.db import migrations, transaction
from django.db.models import F

from mvpvalidator import cache as app_cache
from projects.cache import page_ns
from security.sanitize import sanitize_html


def sanitise_page_html(apps, schema_editor):
    LandingPage = apps.get_model("projects", "LandingPage")
    changed = []
    for page in LandingPage.objects.only("pk", "slug", "value_proposition").iterator(chunk_size=500):
        cleaned = sanitize_html(page.value_proposition, max_length=2000)
        if cleaned != page.value_proposition:
            LandingPage.objects.filter(pk=page.pk).update(
                value_proposition=cleaned, content_version=F("content_version") + 1
            )
            changed.append(page_ns(page.slug))
    if changed:
        transaction.on_commit(lambda: app_cache.bump(*changed))


class Migration(migrations.Migration):
    dependencies = [
        ("projects", "0011_signup_form_token_once"),
    ]

    operations = [
        migrations.RunPython(sanitise_page_html, migrations.RunPython.noop, elidable=True),
    ]
