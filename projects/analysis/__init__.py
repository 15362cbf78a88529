"""Pure arithmetic of the domain: no Django, no database, no settings.

Statistics, the demand score with its thresholds and their sources, the test card, variant
assignment, traffic channels and the spend CSV parser. Everything here takes plain values and
returns plain values, so it is tested in microseconds and reused by services, selectors and
the event worker alike (import-linter keeps Django out: pyproject.toml).

Statistics of A/B experiments: `distributions` (normal, chi-square, Beta), `frequentist`,
`bayesian`, `sequential`, `planning`, and `experiments` (`analyse`, the verdict of an
experiment). The demand score: `thresholds` (every threshold with its source, the data gates
and `BOT_SHARE_LIMIT`), `test_card`, `score_inputs`, `score_components` (each component's
chance of clearing its bar, and its reason), `score` (the verdict) and `traffic_quality` (the
bot-share gate). The report in a founder's words: `explain` (the verdict, what it rests on, what
to do next), `plain_reasons` (the verdict's reasons without codes), `report_rows` (the report's
tables), `variant_table` (the versions of a page side by side) and `plain_figures` (figures as
text). Shared: `counts` (input validation), `json_ready`, `money` (the one money format of the
platform's text), `spend_csv`.
"""
