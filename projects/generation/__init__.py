"""Landing-page copy for a business idea: from an OpenAI-compatible model when one is configured,
otherwise (or when it fails) from the deterministic builtin generator.

`generate_prototype` never fails for provider reasons: a founder always gets a page to edit, and
`GenerationResult.fallback_reason` records why the model's copy was not used.
"""

import logging
import time

from django.conf import settings

from projects.generation.builtin import BuiltinGenerator
from projects.generation.drafts import (
    GenerationResult,
    IdeaInput,
    PricingTier,
    PrototypeDraft,
    PrototypeGenerator,
    ProviderError,
    validate_draft,
)
from projects.generation.openai_chat import OpenAIChatGenerator

__all__ = [
    "BuiltinGenerator",
    "GenerationResult",
    "IdeaInput",
    "OpenAIChatGenerator",
    "PricingTier",
    "PrototypeDraft",
    "PrototypeGenerator",
    "ProviderError",
    "generate_prototype",
    "provider_configured",
    "validate_draft",
]

logger = logging.getLogger(__name__)

# --- Entry point -----------------------------------------------------------------------------


def provider_configured() -> bool:
    """A model is configured: generation calls it and may take seconds (the API runs it as a
    job); without one the built-in generator answers in milliseconds."""
    return bool(settings.OPENAI_API_KEY)


def _configured_provider() -> PrototypeGenerator | None:
    if not provider_configured():
        return None
    return OpenAIChatGenerator(
        api_key=settings.OPENAI_API_KEY,
        base_url=settings.OPENAI_BASE_URL,
        model=settings.OPENAI_MODEL,
        timeout=settings.OPENAI_TIMEOUT_SECONDS,
    )


def generate_prototype(idea: IdeaInput) -> GenerationResult:
    """Draft a landing page for the idea. Blocks for up to about 2 × OPENAI_TIMEOUT_SECONDS when
    a provider is configured; any provider failure falls back to the builtin generator."""
    started = time.monotonic()
    builtin = BuiltinGenerator()
    provider = _configured_provider()
    draft: PrototypeDraft | None = None
    generator, fallback_reason = builtin.name, ""
    if provider is not None:
        try:
            draft, generator = provider.generate(idea), provider.name
        except ProviderError as exc:
            fallback_reason = str(exc)
            logger.warning("Prototype generation fell back to the builtin generator: %s", fallback_reason)
    if draft is None:
        draft = builtin.generate(idea)
    elapsed_ms = int((time.monotonic() - started) * 1000)
    return GenerationResult(draft=draft, generator=generator, fallback_reason=fallback_reason, elapsed_ms=elapsed_ms)
