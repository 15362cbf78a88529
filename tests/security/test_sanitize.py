import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mvpvalidator.control_characters import CONTROL_CHARACTERS
from security.sanitize import _strip_markup, contains_markup, sanitize_html, sanitize_text


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("plain words", "plain words"),
        ("a < b & c > d", "a < b & c > d"),
        ("Tom &amp; Jerry", "Tom & Jerry"),
        ("<script>alert(1)</script>hi", "alert(1)hi"),
        ("&lt;script&gt;alert(1)&lt;/script&gt;", "alert(1)"),
        ("<img src=x onerror=alert(1)>", ""),
        ("  padded\x00\x07  ", "padded"),
    ],
)
def test_sanitize_text(raw, expected):
    assert sanitize_text(raw) == expected


@settings(max_examples=500, deadline=None)
@given(st.text(alphabet=st.characters(blacklist_characters="<&\r"), max_size=80))
def test_text_the_cleaner_skips_is_text_it_would_hand_back_unchanged(raw):
    # sanitize_text skips the HTML cleaner for text with no tag, entity or carriage return.
    assert sanitize_text(raw) == _strip_markup(CONTROL_CHARACTERS.sub("", raw)).strip()


@pytest.mark.parametrize("raw", ["a\r\nb", "x &lt;b&gt;", "<b>bold</b> text"])
def test_text_that_needs_cleaning_still_goes_through_the_cleaner(raw):
    assert sanitize_text(raw) == _strip_markup(raw).strip() != raw


def test_sanitize_text_truncates():
    assert sanitize_text("abcdef", max_length=3) == "abc"


@pytest.mark.parametrize(
    "payload",
    [
        '<a href="javascript:alert(1)">x</a>',
        '<p onclick="alert(1)">x</p>',
        "<svg><script>alert(1)</script></svg>",
        '<iframe src="https://evil.example"></iframe>',
        '<a href="JaVaScRiPt:alert(1)">x</a>',
        '<a href="data:text/html;base64,PHNjcmlwdD4=">x</a>',
        "<style>body{display:none}</style>",
    ],
)
def test_sanitize_html_removes_active_content(payload):
    cleaned = sanitize_html(payload).lower()
    for needle in ("javascript:", "onclick", "<script", "<iframe", "<svg", "data:", "<style"):
        assert needle not in cleaned


def test_sanitize_html_keeps_simple_formatting_and_hardens_links():
    cleaned = sanitize_html('<strong>Fast</strong> <em>and</em> <a href="https://example.com">safe</a>')
    assert "<strong>Fast</strong>" in cleaned and "<em>and</em>" in cleaned
    assert 'href="https://example.com"' in cleaned
    assert 'rel="nofollow noopener noreferrer"' in cleaned


def test_contains_markup():
    assert contains_markup("<b>x</b>")
    assert not contains_markup("just text")


@pytest.mark.parametrize("layers", [1, 2, 4, 5, 8, 20])
def test_markup_escaped_many_times_is_never_decoded_into_live_markup(layers):
    import html as html_lib

    payload = "<img src=x onerror=alert(1)><script>alert(2)</script>"
    for _ in range(layers):
        payload = html_lib.escape(payload)
    cleaned = sanitize_text(payload)
    assert "<img" not in cleaned and "<script" not in cleaned  # text at most, never a tag


def test_plain_text_with_angle_brackets_and_ampersands_survives():
    assert sanitize_text("a < b & c > d") == "a < b & c > d"
