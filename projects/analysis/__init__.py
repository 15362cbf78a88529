"""Pure arithmetic of the domain: no Django, no database, no settings.

Statistics, the demand score with its thresholds and their sources, the test card, variant
assignment, traffic channels and the spend CSV parser. Everything here takes plain values and
returns plain values, so it is tested in microseconds and reused by services, selectors and
the event worker alike (import-linter keeps Django out: pyproject.toml).
"""
