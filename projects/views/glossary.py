"""The glossary: what every figure of the founder's screens means, one page that each statistic links to
(`{% url 'glossary' %}#g-<entry>`)."""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from projects.analysis.report_rows import rule_texts


@require_GET
def glossary_page(request: HttpRequest) -> HttpResponse:
    return render(request, "projects/glossary.html", {"explained": {"rules": rule_texts()}})
