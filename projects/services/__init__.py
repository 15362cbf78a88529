"""Writes of the projects domain: one transaction per service, validation before saving.

The subject modules are the home of every service (`projects`, `prototypes`, `pages`, `signups`,
`experiments`, `campaigns`, `reports`); this package re-exports their public names for the
callers that still import `projects.services`. Status moves are checked against the state
machines the models declare (`projects.services.transitions`): a move the current state does
not allow raises `ConflictError` (409) and writes nothing.
"""

from projects.services.campaigns import (
    CAMPAIGN_FIELDS,
    SpendFileError,
    SpendImport,
    campaign_create,
    campaign_delete,
    campaign_move,
    campaign_update,
    spend_import,
    spend_import_csv,
)
from projects.services.experiments import (
    ASSIGNMENT_FIELDS,
    VARIANT_CONTENT_FIELDS,
    experiment_create,
    experiment_delete,
    experiment_move,
    experiment_update,
)
from projects.services.pages import (
    PAGE_CONTENT_FIELDS,
    landing_page_archive,
    landing_page_clean_update,
    landing_page_create,
    landing_page_publish,
    landing_page_update,
)
from projects.services.projects import (
    PROJECT_FIELDS,
    project_archive,
    project_create,
    project_delete,
    project_update,
)
from projects.services.prototypes import prototype_generate
from projects.services.reports import (
    FINAL_VERDICTS,
    report_snapshot_create,
    test_card_update,
    test_card_write,
)
from projects.services.signups import (
    ConfirmationBatch,
    FormTokenUsed,
    SignupResult,
    signup_confirm,
    signup_confirmations_claim,
    signup_confirmations_record,
    signup_confirmations_send,
    signup_create,
    signup_unsubscribe,
)

__all__ = [
    "ASSIGNMENT_FIELDS",
    "CAMPAIGN_FIELDS",
    "FINAL_VERDICTS",
    "PAGE_CONTENT_FIELDS",
    "PROJECT_FIELDS",
    "VARIANT_CONTENT_FIELDS",
    "ConfirmationBatch",
    "FormTokenUsed",
    "SignupResult",
    "SpendFileError",
    "SpendImport",
    "campaign_create",
    "campaign_delete",
    "campaign_move",
    "campaign_update",
    "experiment_create",
    "experiment_delete",
    "experiment_move",
    "experiment_update",
    "landing_page_archive",
    "landing_page_clean_update",
    "landing_page_create",
    "landing_page_publish",
    "landing_page_update",
    "project_archive",
    "project_create",
    "project_delete",
    "project_update",
    "prototype_generate",
    "report_snapshot_create",
    "signup_confirm",
    "signup_confirmations_claim",
    "signup_confirmations_record",
    "signup_confirmations_send",
    "signup_create",
    "signup_unsubscribe",
    "spend_import",
    "spend_import_csv",
    "test_card_update",
    "test_card_write",
]
