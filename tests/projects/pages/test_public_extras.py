"""The public page's look and extras: the theme (accent colour and font pairing, with no inline
style), the logo and hero image, the consent wording, the share card (Open Graph and Twitter tags
with absolute addresses), the favicon, the footer's privacy link and the privacy notice (the
cookies it lists come from the code that sets them), at no extra query on /p/<slug>/."""

import io
import re
from html import unescape
from html.parser import HTMLParser
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from PIL import Image

from projects.events import cookies, touch
from projects.models import LandingPage
from projects.models.pages import DEFAULT_ACCENT
from projects.selectors.pages import contrast_ratio, page_theme
from projects.services.page_images import page_image_set
from projects.services.pages import landing_page_create, landing_page_publish
from projects.services.prototypes import prototype_generate
from tests.factories import ProjectFactory, UserFactory
from tests.projects.events.helpers import event_write_queries

pytestmark = pytest.mark.django_db

BROWSER = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36"


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture
def public_base(settings):
    settings.PUBLIC_BASE_URL = "https://mvp.example.com"
    settings.PUBLIC_BASE_URL_SET = True
    return settings.PUBLIC_BASE_URL


def make_page(slug="leafwise", *, owner=None, project_fields=None, **look) -> LandingPage:
    project = ProjectFactory(owner=owner or UserFactory(name="Ada Founder"), name="Leafwise", **(project_fields or {}))
    prototype_generate(project=project)
    page = landing_page_create(project=project, slug=slug)
    if look:
        LandingPage.objects.filter(pk=page.pk).update(**look)
        page.refresh_from_db()
    return page


def png(size, color=(30, 140, 90)) -> SimpleUploadedFile:
    out = io.BytesIO()
    Image.new("RGB", size, color).save(out, "PNG")
    return SimpleUploadedFile("x.png", out.getvalue())


def published(page: LandingPage) -> LandingPage:
    return landing_page_publish(page=page)


class Head(HTMLParser):
    """The <meta> and <link> tags of a page, and whether any element carries a style attribute."""

    def __init__(self) -> None:
        super().__init__()
        self.meta: dict[str, str] = {}
        self.links: list[dict[str, str]] = []
        self.styled: list[str] = []
        self.style_blocks = 0
        self.body_class = ""

    def handle_starttag(self, tag, attrs):
        a = {k: v or "" for k, v in attrs}
        if "style" in a:
            self.styled.append(tag)
        if tag == "style":
            self.style_blocks += 1
        if tag == "meta" and ("property" in a or "name" in a):
            self.meta[a.get("property") or a["name"]] = a.get("content", "")
        if tag == "link":
            self.links.append(a)
        if tag == "body":
            self.body_class = a.get("class", "")


def parse(html: str) -> Head:
    head = Head()
    head.feed(html)
    return head


def get(path: str) -> tuple[str, Head]:
    response = Client(HTTP_USER_AGENT=BROWSER).get(path)
    assert response.status_code == 200, response.status_code
    html = response.content.decode()
    return html, parse(html)


# --- Share card, favicon, footer ----------------------------------------------------------------


def test_the_share_card_has_absolute_addresses_and_the_default_picture(public_base):
    page = published(make_page())
    html, head = get("/p/leafwise/")
    assert head.meta["og:title"] == page.headline
    assert head.meta["og:description"] == page.subheadline
    assert head.meta["og:url"] == "https://mvp.example.com/p/leafwise/"
    assert head.meta["og:type"] == "website" and head.meta["og:site_name"] == "Leafwise"
    assert head.meta["og:image"] == "https://mvp.example.com/static/landing/share-default.png"
    assert (head.meta["og:image:width"], head.meta["og:image:height"]) == ("1200", "630")
    assert head.meta["twitter:card"] == "summary_large_image"
    assert head.meta["twitter:image"] == head.meta["og:image"]
    assert {"rel": "canonical", "href": "https://mvp.example.com/p/leafwise/"} in head.links
    # The default picture exists and is the size the tags say.
    found = Path(django_settings.BASE_DIR) / "static/landing/share-default.png"
    with Image.open(found) as image:
        assert image.size == (1200, 630)
    # The default favicon, and the footer's privacy link.
    assert {"rel": "icon", "href": "/static/favicon.svg", "type": "image/svg+xml"} in head.links
    assert '<a href="/p/leafwise/privacy">Privacy</a>' in html


def test_the_hero_image_is_the_share_picture_and_the_logo_the_favicon(public_base):
    page = make_page()
    page = page_image_set(page=page, kind="logo", upload=png((400, 200)))
    page = page_image_set(page=page, kind="hero", upload=png((1600, 900)))
    published(page)
    page.refresh_from_db()
    html, head = get("/p/leafwise/")
    assert head.meta["og:image"] == f"https://mvp.example.com{page.hero_image.url}"
    assert head.meta["og:image"].startswith("https://mvp.example.com/media/pages/")
    assert (head.meta["og:image:width"], head.meta["og:image:height"]) == ("1600", "900")
    assert head.meta["twitter:card"] == "summary_large_image"
    assert {"rel": "icon", "href": page.logo.url, "type": "image/png"} in head.links
    # The logo in the header and the hero in the hero, sized up front (no layout shift), described.
    assert f'<img src="{page.logo.url}" width="400" height="200" alt="Leafwise">' in html
    hero = re.search(r'<img class="hero-image"[^>]*>', html).group(0)
    assert 'width="1600" height="900"' in hero and 'alt="Leafwise"' in hero
    assert Client().get(page.hero_image.url).status_code == 200


def test_a_logo_alone_is_shared_as_a_small_card(public_base):
    page = page_image_set(page=make_page(), kind="logo", upload=png((300, 300)))
    published(page)
    _, head = get("/p/leafwise/")
    assert head.meta["og:image"] == f"https://mvp.example.com{page.logo.url}"
    assert head.meta["twitter:card"] == "summary"


def test_without_public_base_url_the_card_uses_the_address_the_page_was_reached_at(settings):
    settings.PUBLIC_BASE_URL_SET = False
    published(make_page())
    _, head = get("/p/leafwise/")
    assert head.meta["og:url"] == "http://testserver/p/leafwise/"
    # The cached page keeps no address: another host name gets its own.
    response = Client(HTTP_USER_AGENT=BROWSER).get("/p/leafwise/", HTTP_HOST="localhost")
    assert parse(response.content.decode()).meta["og:url"] == "http://localhost/p/leafwise/"


def test_a_variant_shares_its_own_headline(public_base, auth_api_client, user):
    """A visitor shown variant "b" of a running experiment shares the headline they saw."""
    from tests.projects.experiments.helpers import make_running_experiment

    project = ProjectFactory(owner=user)
    page, _ = make_running_experiment(auth_api_client, project, slug="chaser")
    seen = set()
    for _ in range(30):  # new visitors, split half and half
        html, head = get("/p/chaser/")
        shown = unescape(re.search(r"<h1>(.*?)</h1>", html).group(1))
        assert head.meta["og:title"] == head.meta["twitter:title"] == shown
        seen.add(shown)
    assert seen == {page.headline, "Stop chasing invoices by hand"}


# --- Theme and fonts ----------------------------------------------------------------------------


def test_the_accent_colour_comes_from_a_stylesheet_of_that_colour():
    published(make_page(accent_color="#ff6600", font_pairing="editorial"))
    html, head = get("/p/leafwise/")
    assert {"rel": "stylesheet", "href": "/p/theme/ff6600.css"} in head.links
    assert head.meta["theme-color"] == "#ff6600"
    assert head.body_class == "font-editorial"
    response = Client().get("/p/theme/ff6600.css")
    assert response.status_code == 200 and response["Content-Type"] == "text/css; charset=utf-8"
    assert response["Cache-Control"] == "public, max-age=31536000, immutable"
    css = response.content.decode()
    theme = page_theme("#ff6600")
    assert "--accent: #ff6600;" in css and f"--on-accent: {theme.on_accent};" in css
    assert f"--accent-text: {theme.accent_text};" in css and f"--accent-dark: {theme.accent_dark};" in css


def test_the_default_accent_needs_no_second_stylesheet_and_landing_css_holds_its_theme():
    published(make_page())
    _, head = get("/p/leafwise/")
    assert not any("/p/theme/" in link.get("href", "") for link in head.links)
    assert head.body_class == "font-system"
    css = (Path(django_settings.BASE_DIR) / "static/css/landing.css").read_text()
    theme = page_theme(DEFAULT_ACCENT)
    for name, value in (
        ("accent", theme.accent),
        ("accent-dark", theme.accent_dark),
        ("on-accent", theme.on_accent),
        ("accent-text", theme.accent_text),
    ):
        assert re.search(rf"--{name}: {value};", css), name


@pytest.mark.parametrize("bad", ["FF6600", "ff660", "ff66001", "zzzzzz", "ff6600.css%00"])
def test_only_lowercase_hex_colours_have_a_theme(bad):
    assert Client().get(f"/p/theme/{bad}.css").status_code == 404


@pytest.mark.parametrize("accent", ["#2563eb", "#facc15", "#ffffff", "#000000", "#22c55e", "#ec4899"])
def test_every_accent_gives_readable_buttons_and_links(accent):
    theme = page_theme(accent)
    # Button text picks the better of white and the page's dark text (AA large text at least).
    assert contrast_ratio(theme.on_accent, theme.accent) >= 3
    # Links on the page's soft background read as body text must (WCAG AA, 4.5:1).
    assert contrast_ratio(theme.accent_text, "#f3f5fb") >= 4.5
    assert theme.accent_dark != theme.accent


@pytest.mark.parametrize("font", ["system", "classic", "editorial", "technical", "rounded"])
def test_every_font_pairing_has_its_class_in_landing_css(font):
    css = (Path(django_settings.BASE_DIR) / "static/css/landing.css").read_text()
    assert font == "system" or f".font-{font} {{" in css


def test_no_public_page_has_an_inline_style(public_base):
    page = page_image_set(page=make_page(accent_color="#0f766e"), kind="hero", upload=png((800, 400)))
    published(page)
    for path in ("/p/leafwise/", "/p/leafwise/privacy", "/p/leafwise/thanks"):
        html, head = get(path)
        assert head.styled == [] and head.style_blocks == 0, path


# --- The signup form's consent wording --------------------------------------------------------


def test_the_consent_box_says_what_the_founder_wrote_or_the_default():
    published(make_page())
    html, _ = get("/p/leafwise/")
    assert "Email me about this product</label>" in html
    LandingPage.objects.update(consent_text="Send me launch news (max 2 emails)")
    published(make_page(slug="other", consent_text="Send me launch news (max 2 emails)"))
    html, _ = get("/p/other/")
    assert "Send me launch news (max 2 emails)</label>" in html


# --- The privacy notice -----------------------------------------------------------------------


def test_the_privacy_notice_lists_the_cookies_the_code_sets(settings):
    settings.EVENT_RETENTION_DAYS = 45
    published(make_page())
    html, _ = get("/p/leafwise/privacy")
    text = " ".join(re.sub(r"<[^>]+>", " ", html).split())
    for name in (cookies.VISITOR_COOKIE, cookies.CHANNEL_COOKIE, touch.FIRST_TOUCH_COOKIE, cookies.PREVIEW_COOKIE):
        assert f"<code>{name}</code>" in html, name
    assert f"<code>{settings.CSRF_COOKIE_NAME}</code>" in html
    assert "1 year" in text and "30 days" in text  # the visitor and preview cookies' lifetimes
    assert "Records of individual visits: 45 days" in text
    for collected in (
        "email address",
        "your name",
        "utm_source",
        "advertising click identifier",
        "version of this page",
    ):
        assert collected in text, collected
    assert "unsubscribe link" in text


def test_every_cookie_a_page_view_sets_is_in_the_notice():
    """Whatever the visit code sets on a landing page's answer is named by the notice."""
    published(make_page())
    client = Client(HTTP_USER_AGENT=BROWSER)
    response = client.get("/p/leafwise/?utm_source=newsletter&utm_medium=email")
    assert response.cookies  # the visitor, channel and first-touch cookies
    notice, _ = get("/p/leafwise/privacy")
    for name in response.cookies:
        assert f"<code>{name}</code>" in notice, name


def test_the_notice_names_the_projects_contact_or_else_the_owner():
    owner = UserFactory(name="Ada Founder", email="ada@example.com")
    published(make_page(owner=owner))
    html, _ = get("/p/leafwise/privacy")
    assert "Ada Founder" in html and "mailto:ada@example.com" in html
    published(
        make_page(
            "named",
            owner=owner,
            project_fields={
                "contact_name": "Leafwise Ltd",
                "contact_email": "privacy@leafwise.example",
                "contact_address": "1 Garden Row\nLondon",
            },
        )
    )
    html, _ = get("/p/named/privacy")
    assert "Leafwise Ltd" in html and "mailto:privacy@leafwise.example" in html
    assert "1 Garden Row<br>London" in html and "Ada Founder" not in html


def test_a_draft_page_has_no_privacy_notice():
    make_page()
    assert Client().get("/p/leafwise/privacy").status_code == 404


# --- The hot path's cost ----------------------------------------------------------------------


def test_the_look_and_share_card_add_no_query_to_a_page_view(django_assert_num_queries, public_base):
    """As pinned by tests/projects/events/test_worker.py: a warm page view costs its event alone
    (buffered in Redis: no query; else its number in its shard and its INSERT, in a savepoint
    inside the test's transaction)."""
    page = make_page(accent_color="#9333ea", font_pairing="classic")
    page = page_image_set(page=page, kind="logo", upload=png((200, 100)))
    page = page_image_set(page=page, kind="hero", upload=png((1200, 800)))
    published(page)
    client = Client(HTTP_USER_AGENT=BROWSER)
    client.get("/p/leafwise/")  # warm: the page and its rendering cached
    with django_assert_num_queries(event_write_queries()):
        response = client.get("/p/leafwise/")
    assert response.status_code == 200 and b"hero-image" in response.content
    with django_assert_num_queries(0):
        assert Client().get("/p/theme/9333ea.css").status_code == 200


@pytest.mark.parametrize("value", ["#FF6600", "#ff66", "", "red", "#12 345"])
def test_an_accent_that_is_no_colour_falls_back_to_the_default_look(value):
    """An unsaved preview may carry anything: it renders with the default theme, never fails."""
    from projects.templatetags.landing import theme_stylesheet

    assert theme_stylesheet(value) == ""
    assert theme_stylesheet("#ff6600") == "/p/theme/ff6600.css"
