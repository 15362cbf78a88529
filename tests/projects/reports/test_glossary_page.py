"""The glossary page every statistic of the founder's screens links to."""

import re

import pytest


@pytest.mark.django_db
def test_the_glossary_page_lists_every_entry_with_its_anchor_and_the_verdict_rules(client):
    response = client.get("/projects/glossary")
    assert response.status_code == 200
    html = response.content.decode()
    anchors = re.findall(r'<dt id="g-([a-z0-9-]+)"', html)
    assert len(anchors) == len(set(anchors)) >= 30
    assert "g-score" in {f"g-{a}" for a in anchors}
    # The rules are quoted from the thresholds table, not left as empty template variables.
    assert re.search(r"\d+ or more", html)
