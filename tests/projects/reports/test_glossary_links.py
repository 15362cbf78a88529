"""Every glossary link of the founder's screens names an entry that exists (issue 24): the slugs the screens
agreed on (contracts), every `{% url 'glossary' %}#g-<slug>` and `/projects/glossary#g-<slug>` in templates and
in the project's Python strings, the in-page `#g-<slug>` links of the report family, and the glossary entries the
explanation tables hand to templates."""

import re
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client

from projects.analysis import plain_reasons, report_diff, report_rows
from projects.forms.reports import BARS

ROOT = Path(settings.BASE_DIR)

# The slugs the other screens (experiments, campaigns, analytics) link to, agreed in the contracts.
CONTRACT_SLUGS = (
    "conversion-rate", "pre-order-rate", "confirmation-rate", "bounce-rate", "click-rate", "interval",
    "chance-to-beat-control", "expected-loss", "sample-ratio", "bot-share", "sample-size",
    "minimum-detectable-effect", "days-to-decision", "coverage", "weight", "cost-per-click", "cost-per-signup",
    "cost-per-confirmed-signup", "cost-per-preorder", "allowable-cost", "warm-and-cold-traffic", "funnel",
    "utm-tags", "click-id",
)  # fmt: skip

# A link to the glossary page: `{% url 'glossary' %}#g-x`, `/projects/glossary#g-x`, `glossary#g-x`.
GLOSSARY_LINK = re.compile(r"""(?:\{%\s*url\s+['"]glossary['"]\s*%\}|glossary)#g-([a-z0-9][a-z0-9-]*)""")
# A link inside a page that includes the glossary itself (the report, a kept report): href="#g-x".
IN_PAGE_LINK = re.compile(r"""href=["']#g-([a-z0-9][a-z0-9-]*)["']""")
# Templates whose in-page links land on the included glossary.
IN_PAGE_TEMPLATES = ("projects/report.html", "projects/_report_", "projects/workspace/reports/snapshot.html")


def entries() -> set[str]:
    html = Client().get("/projects/glossary").content.decode()
    return set(re.findall(r'<dt id="g-([a-z0-9-]+)"', html))


def links_in(text: str, *, in_page: bool) -> set[str]:
    found = set(GLOSSARY_LINK.findall(text))
    if in_page:
        found |= set(IN_PAGE_LINK.findall(text))
    return found


def scanned_links() -> dict[str, set[str]]:
    """{file: the slugs it links to} over templates/** and projects/**/*.py."""
    out: dict[str, set[str]] = {}
    for path in sorted((ROOT / "templates").rglob("*.html")):
        name = path.relative_to(ROOT / "templates").as_posix()
        found = links_in(path.read_text(), in_page=name.startswith(IN_PAGE_TEMPLATES))
        if found:
            out[name] = found
    for path in sorted((ROOT / "projects").rglob("*.py")):
        found = links_in(path.read_text(), in_page=True)
        if found:
            out[path.relative_to(ROOT).as_posix()] = found
    return out


def table_slugs() -> set[str]:
    """The glossary entries the explanation tables give templates to link to (`#g-{{ row.glossary }}`)."""
    slugs = {glossary for _label, glossary in plain_reasons.COMPONENT_TERMS.values()}
    slugs |= {glossary for _label, glossary in report_rows.THRESHOLD_TERMS.values()}
    slugs |= {row[2] for row in report_rows._COSTS} | {row[2] for row in report_rows._CARD}
    slugs |= {row[3] for row in BARS}
    for rows in (report_diff._VERDICT, report_diff._INPUTS, report_diff._COSTS, report_diff._CARD):
        slugs |= {row[4] for row in rows}
    return slugs


@pytest.mark.django_db
def test_every_agreed_slug_has_an_entry():
    missing = sorted(set(CONTRACT_SLUGS) - entries())
    assert not missing, missing


@pytest.mark.django_db
def test_every_glossary_link_in_templates_and_code_names_an_entry():
    known = entries()
    scanned = scanned_links()
    assert "projects/report.html" in scanned and any(name.startswith("projects/workspace/") for name in scanned)
    broken = {name: sorted(slugs - known) for name, slugs in scanned.items() if slugs - known}
    assert not broken, broken
    missing = sorted(table_slugs() - known)
    assert not missing, missing


@pytest.mark.django_db
def test_the_scan_catches_a_made_up_slug():
    known = entries()
    template = """<a href="{% url 'glossary' %}#g-made-up-figure">x</a> <a href="{% url "glossary" %}#g-funnel">y</a>"""
    assert links_in(template, in_page=False) - known == {"made-up-figure"}
    assert links_in('<a href="#g-not-a-term">', in_page=True) - known == {"not-a-term"}
    assert links_in('f"/projects/glossary#g-no-such-entry"', in_page=False) - known == {"no-such-entry"}
