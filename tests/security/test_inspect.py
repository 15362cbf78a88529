"""The suspicious-input classifier: what it flags, and that it stays linear in its input (its
text is a client's, like the log redactor's)."""

import time

import pytest

from security import inspect

ADVERSARIAL = {
    "sql comment openers": "/* " * 40_000,
    "'<' then spaces": "<" + " " * 20_000,
    "'<' spaces '/' spaces": "<" + " " * 10_000 + "/" + " " * 10_000,
    "quote or, repeated": "' or " * 30_000,
    "quote or then spaces": "' or 1" + " " * 120_000,
    "on then letters": "on" + "a" * 120_000 + " " * 1_000,
    "semicolon then spaces": ";" + " " * 120_000,
    "sleep(, repeated": "sleep (" * 20_000,
}


@pytest.mark.parametrize("text", ADVERSARIAL.values(), ids=ADVERSARIAL.keys())
def test_the_patterns_take_linear_time_on_adversarial_text(text):
    started = time.perf_counter()
    inspect._SCRIPTISH.search(text)
    inspect._SQLI.search(text)
    inspect._has_sql_comment(text)
    assert time.perf_counter() - started < 0.5


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("<script>alert(1)</script>", "script"),
        ("< / script", "script"),
        ("javascript :alert(1)", "script"),
        ("x onload = y", "script"),
        ("' or 1=1", "sql"),
        ("\" and 'a'='a'", "sql"),
        ("1 union all select password", "sql"),
        ("x; drop table users", "sql"),
        ("admin' --", "sql"),
        ("sleep( 5 )", "sql"),
        ("1; waitfor delay '0:0:5'", "sql"),
        ("1 /* hidden */ 2", "sql"),
        ("Ann from Berlin, 'or' so they say", None),
        ("a plain answer: we use spreadsheets today", None),
    ],
)
def test_what_is_flagged(text, kind):
    assert inspect.classify(text) == kind
