import pytest


@pytest.fixture(autouse=True)
def _workspace_urls(settings):
    """The workspace's pages link to each other's URL names; until every part is in, the names
    this checkout lacks answer with a placeholder (tests/projects/workspace/urls_stub.py)."""
    settings.ROOT_URLCONF = "tests.projects.workspace.urls_stub"
