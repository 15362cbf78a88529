"""The rules `make lint` holds the code to, shown to bite: a copy of the code with one new
import of the domain from infrastructure, or one type error in a service, fails the check that
the real code passes."""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CODE = ("mvpvalidator", "monitoring", "security", "projects", "jobs", "accounts")


@pytest.fixture
def copy_of_the_code(tmp_path: Path) -> Path:
    for name in CODE:
        shutil.copytree(ROOT / name, tmp_path / name, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    return tmp_path


def run(tool: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(tool, cwd=cwd, capture_output=True, text=True, timeout=600, check=False)


def lint_imports(cwd: Path) -> subprocess.CompletedProcess[str]:
    return run([str(Path(sys.executable).with_name("lint-imports"))], cwd)


def test_an_import_of_the_domain_from_monitoring_breaks_the_contracts(copy_of_the_code: Path):
    assert lint_imports(copy_of_the_code).returncode == 0
    with (copy_of_the_code / "monitoring" / "health.py").open("a") as module:
        module.write("\n\ndef _reach_in() -> None:\n    from projects.selectors import projects  # noqa: F401\n")
    result = lint_imports(copy_of_the_code)
    assert result.returncode != 0
    assert "monitoring.health -> projects.selectors.projects" in result.stdout


def test_an_import_of_django_from_the_pure_arithmetic_breaks_the_contracts(copy_of_the_code: Path):
    with (copy_of_the_code / "projects" / "analysis" / "money.py").open("a") as module:
        module.write("\nfrom django.conf import settings  # noqa: E402, F401\n")
    result = lint_imports(copy_of_the_code)
    assert result.returncode != 0
    assert "projects.analysis.money -> django" in result.stdout


def test_a_type_error_in_a_service_fails_the_type_check(copy_of_the_code: Path):
    service = copy_of_the_code / "projects" / "services" / "signups.py"
    with service.open("a") as module:
        module.write('\n\ndef _count() -> int:\n    return "one"\n')
    result = run([sys.executable, "-m", "mypy", "--no-incremental", str(service.relative_to(copy_of_the_code))],
                 copy_of_the_code)  # fmt: skip
    assert result.returncode == 1, result.stdout
    assert "projects/services/signups.py" in result.stdout and "[return-value]" in result.stdout
