"""The founder's pages' old address, kept while callers move: the home is
`projects.views.founder`. Import from there."""

from projects.views.founder import CSV_COLUMNS, report_page

__all__ = ["CSV_COLUMNS", "report_page"]
