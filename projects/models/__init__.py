"""The models of the projects app, one module per subject: `projects`, `prototypes`, `pages`,
`signups`, `experiments`, `events`, `campaigns`, `reports` (and `transitions`, the shape of
the status state machines). Django finds the models through this package, so every model is
imported here; import from the subject modules in new code."""

from projects.models.campaigns import (
    CAMPAIGN_TRANSITIONS,
    Campaign,
    CampaignPlatform,
    CampaignSpend,
    CampaignStatus,
)
from projects.models.events import (
    BreakdownRollup,
    Channel,
    DailyRollup,
    Device,
    Dimension,
    Event,
    EventKind,
    EventSequence,
    EventWorkerState,
    ExperimentExposure,
    Traffic,
)
from projects.models.experiments import (
    EXPERIMENT_TRANSITIONS,
    MAX_VARIANTS,
    MIN_VARIANTS,
    VARIANT_KEY_MAX_LENGTH,
    Experiment,
    ExperimentStatus,
    Variant,
)
from projects.models.pages import VARIANT_FIELDS, CtaKind, FontPairing, LandingPage, PageStatus, PageVariant
from projects.models.projects import (
    IDEA_MAX_LENGTH,
    IDEA_MIN_LENGTH,
    PRICE_MAX,
    PROJECT_TRANSITIONS,
    BusinessModel,
    Currency,
    Project,
    ProjectQuerySet,
    ProjectStatus,
)
from projects.models.prototypes import Prototype
from projects.models.reports import ReportSnapshot, TestCard
from projects.models.signups import HeldSignup, HoldReason, Signup
from projects.models.transitions import Transitions

__all__ = [
    "CAMPAIGN_TRANSITIONS",
    "EXPERIMENT_TRANSITIONS",
    "IDEA_MAX_LENGTH",
    "IDEA_MIN_LENGTH",
    "MAX_VARIANTS",
    "MIN_VARIANTS",
    "PRICE_MAX",
    "PROJECT_TRANSITIONS",
    "VARIANT_FIELDS",
    "VARIANT_KEY_MAX_LENGTH",
    "BusinessModel",
    "Campaign",
    "CampaignPlatform",
    "CampaignSpend",
    "CampaignStatus",
    "BreakdownRollup",
    "Channel",
    "CtaKind",
    "Currency",
    "DailyRollup",
    "Device",
    "Dimension",
    "Event",
    "EventKind",
    "EventSequence",
    "EventWorkerState",
    "Experiment",
    "ExperimentExposure",
    "ExperimentStatus",
    "FontPairing",
    "HeldSignup",
    "HoldReason",
    "LandingPage",
    "PageStatus",
    "PageVariant",
    "Project",
    "ProjectQuerySet",
    "ProjectStatus",
    "Prototype",
    "ReportSnapshot",
    "Signup",
    "TestCard",
    "Traffic",
    "Transitions",
    "Variant",
]
