"""Prototype generation: the OpenAI provider against a real local HTTP server, the builtin
generator's copy, and the draft validator that guards both."""

import json
import socket
import time
from dataclasses import asdict
from decimal import Decimal
from typing import Any

import pytest

from projects.generation import (
    BuiltinGenerator,
    IdeaInput,
    OpenAIChatGenerator,
    ProviderError,
    generate_prototype,
    validate_draft,
)
from projects.generation.drafts import BILLINGS, BUSINESS_MODELS, DELIVERIES
from tests.fake_openai import API_KEY, MODEL, FakeOpenAI, Reply, chat_reply

IDEA = IdeaInput(
    name="InvoiceBuddy",
    idea_description=(
        "An app that helps freelancers track invoices and get paid faster. "
        "It sends payment reminders automatically, syncs with your bank, and shows cash flow forecasts "
        "for the next 90 days. No spreadsheets, no chasing clients by email."
    ),
    target_audience="freelance designers",
    price_point=Decimal("19"),
    currency="USD",
    business_model="saas",
)

GOOD_DRAFT = {
    "headline": "  Get paid faster, without chasing  ",
    "subheadline": "InvoiceBuddy reminds your clients so you do not have to.",
    "value_proposition": "<p>Invoices, reminders and forecasts in <strong>one place</strong>.</p>",
    "features": ["Automatic reminders", "Bank sync", "90-day cash flow forecast"],
    "pricing_tiers": [
        {"name": "Starter", "price": 19, "period": "month", "features": ["Unlimited invoices"]},
        {"name": "Pro", "price": "49.5", "period": "Month", "features": []},
    ],
    "call_to_action": "Join the waitlist",
}


def good_draft(**changes: Any) -> dict[str, Any]:
    return json.loads(json.dumps(GOOD_DRAFT)) | changes


def builtin_draft(idea: IdeaInput = IDEA) -> Any:
    return BuiltinGenerator().generate(idea)


# --- OpenAI provider through generate_prototype -----------------------------------------------


def test_openai_answer_is_used_and_request_follows_chat_completions(openai_server: FakeOpenAI) -> None:
    openai_server.script(chat_reply(json.dumps(GOOD_DRAFT)))

    result = generate_prototype(IDEA)

    assert result.generator == f"openai:{MODEL}"
    assert result.fallback_reason == ""
    assert result.draft == validate_draft(GOOD_DRAFT)
    assert result.draft.headline == "Get paid faster, without chasing"
    assert result.elapsed_ms >= 0
    [request] = openai_server.requests
    assert request["path"] == "/v1/chat/completions"
    assert request["authorization"] == f"Bearer {API_KEY}"
    assert request["json"]["model"] == MODEL
    assert request["json"]["response_format"] == {"type": "json_object"}
    system, user = request["json"]["messages"]
    assert system["role"] == "system"
    assert '"pricing_tiers"' in system["content"]
    assert user["role"] == "user"
    assert json.loads(user["content"]) == {
        "name": "InvoiceBuddy",
        "description": IDEA.idea_description,
        "target_audience": "freelance designers",
        "price_point": "19",
        "currency": "USD",
        "business_model": "saas",
        "delivery": "unspecified",
        "billing": "unspecified",
    }


def test_answer_in_a_markdown_fence_is_accepted(openai_server: FakeOpenAI) -> None:
    openai_server.script(chat_reply(f"```json\n{json.dumps(GOOD_DRAFT)}\n```"))

    result = generate_prototype(IDEA)

    assert result.generator == f"openai:{MODEL}"
    assert result.draft.call_to_action == "Join the waitlist"


@pytest.mark.parametrize("content", ['{"headline": "Unfinished', "Sure! Here is your page.", "[" * 100_000])
def test_malformed_json_content_is_retried_once_then_falls_back_to_builtin(
    openai_server: FakeOpenAI, content: str
) -> None:
    openai_server.script(chat_reply(content))

    result = generate_prototype(IDEA)

    assert len(openai_server.requests) == 2
    assert result.generator == "builtin"
    assert result.fallback_reason == "openai: invalid JSON after 2 attempts"
    assert result.draft == builtin_draft()


def test_schema_invalid_json_is_retried_once_then_falls_back_to_builtin(openai_server: FakeOpenAI) -> None:
    openai_server.script(chat_reply(json.dumps(good_draft(features=["Only one"]))))

    result = generate_prototype(IDEA)

    assert len(openai_server.requests) == 2
    assert result.generator == "builtin"
    assert result.fallback_reason.startswith("openai: invalid draft")
    assert "features" in result.fallback_reason
    assert result.draft == builtin_draft()


def test_http_500_twice_falls_back_after_exactly_two_requests(openai_server: FakeOpenAI) -> None:
    openai_server.script(Reply(status=500, body=b'{"error": "boom"}'))

    result = generate_prototype(IDEA)

    assert len(openai_server.requests) == 2
    assert result.generator == "builtin"
    assert result.fallback_reason == "openai: HTTP 500 after 2 attempts"


@pytest.mark.parametrize("first_status", [500, 503, 429])
def test_retryable_status_then_good_answer_succeeds_on_the_retry(openai_server: FakeOpenAI, first_status: int) -> None:
    openai_server.script(Reply(status=first_status, body=b"{}"), chat_reply(json.dumps(GOOD_DRAFT)))

    result = generate_prototype(IDEA)

    assert len(openai_server.requests) == 2
    assert result.generator == f"openai:{MODEL}"
    assert result.fallback_reason == ""
    assert result.draft.headline == "Get paid faster, without chasing"


def test_slow_answer_times_out_and_falls_back_within_bounded_time(openai_server: FakeOpenAI, settings: Any) -> None:
    settings.OPENAI_TIMEOUT_SECONDS = 0.3
    openai_server.script(Reply(body=chat_reply(json.dumps(GOOD_DRAFT)).body, delay=2.0))

    started = time.monotonic()
    result = generate_prototype(IDEA)
    elapsed = time.monotonic() - started

    assert result.generator == "builtin"
    assert result.fallback_reason == "openai: timeout after 2 attempts"
    assert len(openai_server.requests) == 2
    assert elapsed < 3 * 0.3
    assert 600 <= result.elapsed_ms < 900


def test_body_trickled_past_the_timeout_counts_as_a_timeout(openai_server: FakeOpenAI, settings: Any) -> None:
    # Each slice arrives well within the read timeout, so only the per-attempt deadline stops it.
    settings.OPENAI_TIMEOUT_SECONDS = 0.3
    openai_server.script(Reply(body=chat_reply(json.dumps(GOOD_DRAFT)).body, trickle=0.1))

    started = time.monotonic()
    result = generate_prototype(IDEA)

    assert result.fallback_reason == "openai: timeout after 2 attempts"
    assert time.monotonic() - started < 3 * 0.3 + 0.3


def test_non_chat_completion_body_is_retried_then_falls_back(openai_server: FakeOpenAI) -> None:
    openai_server.script(Reply(body=b"<html>Bad gateway</html>"), Reply(body=b'{"choices": []}'))

    result = generate_prototype(IDEA)

    assert len(openai_server.requests) == 2
    assert result.fallback_reason == "openai: unexpected response shape after 2 attempts"


def test_oversized_response_is_refused(openai_server: FakeOpenAI) -> None:
    openai_server.script(chat_reply("x" * 1_100_000))

    result = generate_prototype(IDEA)

    assert result.generator == "builtin"
    assert result.fallback_reason == "openai: response too large after 2 attempts"


def test_http_401_falls_back_without_retry_and_never_logs_the_key(
    openai_server: FakeOpenAI, caplog: pytest.LogCaptureFixture
) -> None:
    # Real providers echo part of the key in the error body; none of it may reach the logs.
    openai_server.script(Reply(status=401, body=json.dumps({"error": {"message": f"Bad key {API_KEY}"}}).encode()))

    with caplog.at_level("DEBUG"):
        result = generate_prototype(IDEA)

    assert len(openai_server.requests) == 1
    assert result.generator == "builtin"
    assert result.fallback_reason == "openai: HTTP 401"
    assert "fell back to the builtin generator: openai: HTTP 401" in caplog.text
    assert API_KEY not in caplog.text
    assert API_KEY not in result.fallback_reason


def test_connection_refused_falls_back(settings: Any) -> None:
    # A bound socket that never listens: the port is ours, and connecting to it is refused.
    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))
        settings.OPENAI_API_KEY = API_KEY
        settings.OPENAI_BASE_URL = f"http://127.0.0.1:{unused.getsockname()[1]}/v1"
        settings.OPENAI_MODEL = MODEL
        settings.OPENAI_TIMEOUT_SECONDS = 2.0

        result = generate_prototype(IDEA)

    assert result.generator == "builtin"
    assert result.fallback_reason == "openai: connection error (ConnectError) after 2 attempts"
    assert result.draft == builtin_draft()


def test_without_api_key_the_builtin_generator_is_used_and_nothing_is_sent(
    openai_server: FakeOpenAI, settings: Any
) -> None:
    settings.OPENAI_API_KEY = ""

    result = generate_prototype(IDEA)

    assert openai_server.requests == []
    assert result.generator == "builtin"
    assert result.fallback_reason == ""
    assert result.draft == builtin_draft()


def test_provider_raises_provider_error_with_a_short_reason(openai_server: FakeOpenAI, settings: Any) -> None:
    openai_server.script(Reply(status=404, body=b"{}"))
    provider = OpenAIChatGenerator(API_KEY, settings.OPENAI_BASE_URL, MODEL, 1.0)

    with pytest.raises(ProviderError, match=r"^openai: HTTP 404$"):
        provider.generate(IDEA)

    assert provider.name == f"openai:{MODEL}"
    assert API_KEY not in repr(provider)


# --- Builtin generator -------------------------------------------------------------------------


def test_builtin_is_deterministic() -> None:
    first = BuiltinGenerator().generate(IDEA)
    second = BuiltinGenerator().generate(IdeaInput(**asdict(IDEA)))

    assert first == second


@pytest.mark.parametrize("business_model", BUSINESS_MODELS)
def test_builtin_output_is_valid_for_each_business_model(business_model: str) -> None:
    draft = builtin_draft(IdeaInput(**{**asdict(IDEA), "business_model": business_model}))

    assert validate_draft(asdict(draft)) == draft
    assert "InvoiceBuddy" in draft.headline
    assert "freelance designers" in draft.headline
    assert draft.subheadline == "An app that helps freelancers track invoices and get paid faster."
    assert draft.pricing_tiers[0]["price"] == "19.00"
    assert "$19" in draft.value_proposition


def test_builtin_features_come_from_the_description_then_benefits() -> None:
    draft = builtin_draft()

    assert draft.features == [
        "Sends payment reminders automatically",
        "Syncs with your bank",
        "Shows cash flow forecasts for the next 90 days",
        "No spreadsheets, no chasing clients by email",
        "Made for freelance designers",
    ]


def test_builtin_keeps_the_five_strongest_clauses_in_the_founders_order() -> None:
    description = (
        "A meal planner for busy parents. It is really very nice. It plans a week of dinners in 5 minutes. "
        "Builds a shopping list sorted by supermarket aisle.\n"
        "- Suggests recipes your kids will actually eat\n"
        "- Tracks what is already in your fridge and pantry\n"
        "Sends a reminder before food goes off."
    )
    draft = builtin_draft(IdeaInput(**{**asdict(IDEA), "idea_description": description}))

    assert draft.subheadline == "A meal planner for busy parents."
    assert draft.features == [
        "Plans a week of dinners in 5 minutes",
        "Builds a shopping list sorted by supermarket aisle",
        "Suggests recipes your kids will actually eat",
        "Tracks what is already in your fridge and pantry",
        "Sends a reminder before food goes off",
        "Made for freelance designers",
    ]


def test_builtin_pricing_follows_the_billing() -> None:
    def tiers(billing: str) -> list[tuple[str, str, str]]:
        draft = builtin_draft(IdeaInput(**{**asdict(IDEA), "billing": billing}))
        return [(tier["name"], tier["price"], tier["period"]) for tier in draft.pricing_tiers]

    expected = [("Starter", "19.00", "month"), ("Pro", "57.00", "month"), ("Pro yearly", "570.00", "year")]
    assert tiers("subscription") == expected
    assert tiers("one_time") == [("Standard", "19.00", "one-time"), ("Premium", "47.50", "one-time")]
    assert tiers("usage") == [("Pay as you go", "19.00", "one-time")]
    # Not stated: one plan at the price point, printed without a period.
    assert tiers("unspecified") == [("Early access", "19.00", "one-time")]
    # The business model judges the demand; it changes nothing in the copy.
    drafts = [builtin_draft(IdeaInput(**{**asdict(IDEA), "business_model": m})) for m in BUSINESS_MODELS]
    assert all(draft == drafts[0] for draft in drafts)
    assert len({builtin_draft(IdeaInput(**{**asdict(IDEA), "delivery": d})).call_to_action for d in DELIVERIES}) >= 4


@pytest.mark.parametrize("billing", BILLINGS)
def test_builtin_free_price_offers_one_free_tier(billing: str) -> None:
    draft = builtin_draft(IdeaInput(**{**asdict(IDEA), "price_point": Decimal("0"), "billing": billing}))

    assert validate_draft(asdict(draft)) == draft
    assert [(tier["name"], tier["price"]) for tier in draft.pricing_tiers] == [("Free", "0.00")]
    assert "free" in draft.value_proposition.lower()
    assert "$0" not in draft.value_proposition


def test_builtin_handles_a_2000_character_description() -> None:
    sentence = "Our planner turns scattered notes into a clear weekly plan for the whole team, "
    description = (sentence * 30)[:2000]
    draft = builtin_draft(IdeaInput(**{**asdict(IDEA), "idea_description": description}))

    assert validate_draft(asdict(draft)) == draft
    assert len(draft.subheadline) <= 240
    assert draft.subheadline.endswith("…")
    assert len(draft.value_proposition) <= 1000
    assert all(len(feature) <= 140 for feature in draft.features)


def test_builtin_handles_a_10_character_description() -> None:
    draft = builtin_draft(IdeaInput(**{**asdict(IDEA), "idea_description": "Dog walks.", "delivery": "service"}))

    assert validate_draft(asdict(draft)) == draft
    assert draft.subheadline == "A done-for-you service for freelance designers."
    assert draft.features == [
        "We do the work for you",
        "A service shaped around what you need",
        "Made for freelance designers",
        "Be the first to hear when it launches",
        "Early signups are first to try it",
    ]
    assert "Dog walks." in draft.value_proposition


def test_builtin_escapes_the_description_inside_the_html_value_proposition() -> None:
    description = 'Budgeting for teams <script>alert("x")</script> & their managers.'
    draft = builtin_draft(IdeaInput(**{**asdict(IDEA), "idea_description": description, "name": "A&B <Co>"}))

    assert "<script>" not in draft.value_proposition
    assert "&lt;script&gt;" in draft.value_proposition
    assert "<strong>A&amp;B &lt;Co&gt;</strong>" in draft.value_proposition
    assert validate_draft(asdict(draft)) == draft


def test_builtin_caps_prices_at_the_schema_maximum() -> None:
    draft = builtin_draft(IdeaInput(**{**asdict(IDEA), "price_point": Decimal("50000")}))

    assert [tier["price"] for tier in draft.pricing_tiers] == ["50000.00"]
    assert validate_draft(asdict(draft)) == draft


def test_idea_input_rejects_an_unknown_business_model() -> None:
    with pytest.raises(ValueError, match="business_model"):
        IdeaInput(**{**asdict(IDEA), "business_model": "marketplace"})


# --- validate_draft ----------------------------------------------------------------------------


def test_validate_draft_strips_strings_and_normalises_prices() -> None:
    draft = validate_draft(
        good_draft(
            pricing_tiers=[
                {"name": " Free ", "price": 0, "period": " one-time "},
                {"name": "Pro", "price": 19.99, "period": "MONTH", "features": [" Sync "]},
                {"name": "Max", "price": " 100000 ", "period": "year", "features": []},
                {"name": "Odd", "price": "9.999", "period": "year", "features": []},
            ]
        )
    )

    assert draft.headline == "Get paid faster, without chasing"
    assert draft.pricing_tiers == [
        {"name": "Free", "price": "0.00", "period": "one-time", "features": []},
        {"name": "Pro", "price": "19.99", "period": "month", "features": ["Sync"]},
        {"name": "Max", "price": "100000.00", "period": "year", "features": []},
        {"name": "Odd", "price": "10.00", "period": "year", "features": []},
    ]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (["not", "an", "object"], r"draft: expected an object, got list"),
        (
            {k: v for k, v in GOOD_DRAFT.items() if k not in ("headline", "features")},
            r"missing keys: headline, features",
        ),
        (good_draft(features=[f"Feature {i}" for i in range(9)]), r"features: expected 3\.\.8 items, got 9"),
        (good_draft(features="One, two, three"), r"features: expected a list, got str"),
        (good_draft(features=["One", "Two", 3]), r"features\[2\]: expected a string, got int"),
        (good_draft(features=["One", "Two", "   "]), r"features\[2\]: expected 1\.\.140 characters, got 0"),
        (good_draft(headline=42), r"headline: expected a string, got int"),
        (good_draft(headline="x" * 121), r"headline: expected 1\.\.120 characters, got 121"),
        (good_draft(call_to_action=None), r"call_to_action: expected a string, got NoneType"),
        (good_draft(pricing_tiers=[]), r"pricing_tiers: expected 1\.\.4 items, got 0"),
        (good_draft(pricing_tiers=["Starter"]), r"pricing_tiers\[0\]: expected an object, got str"),
        (good_draft(pricing_tiers=[{"name": "A", "price": 1}]), r"pricing_tiers\[0\]: missing keys: period"),
        (good_draft(pricing_tiers=[{"name": "A", "price": 1, "period": "weekly"}]), r"\.period: expected one of"),
        (good_draft(pricing_tiers=[{"name": "A", "price": -1, "period": "month"}]), r"\.price: must be between 0"),
        (good_draft(pricing_tiers=[{"name": "A", "price": "100000.01", "period": "month"}]), r"\.price: must be"),
        (good_draft(pricing_tiers=[{"name": "A", "price": "NaN", "period": "month"}]), r"\.price: must be"),
        (good_draft(pricing_tiers=[{"name": "A", "price": "$19", "period": "month"}]), r"\.price: not a decimal"),
        (good_draft(pricing_tiers=[{"name": "A", "price": True, "period": "month"}]), r"\.price: expected a number"),
        (good_draft(pricing_tiers=[{"name": "A", "price": [19], "period": "month"}]), r"\.price: expected a number"),
        (
            good_draft(pricing_tiers=[{"name": "A", "price": 1, "period": "month", "features": ["x"] * 9}]),
            r"pricing_tiers\[0\]\.features: expected 0\.\.8 items, got 9",
        ),
    ],
)
def test_validate_draft_rejects_data_outside_the_schema(data: object, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        validate_draft(data)
