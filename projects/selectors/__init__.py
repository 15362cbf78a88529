"""Reads of the projects domain, one module per subject: `projects`, `prototypes`, `pages`
(the founder's pages and the public page), `signups`, `experiments`, `events` (the rollups'
analytics and daily figures), `campaigns` and `reports`. The subject modules are the home of
every read; this package re-exports their public names for the callers not moved to them yet."""

from projects.selectors.campaigns import campaign_get, campaign_list, campaign_qs_for_user, campaign_summary, spend_list
from projects.selectors.events import ANALYTICS_FIGURES, GROUPINGS, project_analytics, project_daily
from projects.selectors.experiments import (
    RESULTS_MC_DRAWS,
    experiment_get,
    experiment_list,
    experiment_qs_for_user,
    experiment_results,
    running_experiments,
)
from projects.selectors.pages import (
    PUBLIC_PAGE_MAX_AGE_SECONDS,
    LiveExperiment,
    LiveVariant,
    PublicPage,
    landing_page_get,
    landing_page_get_published,
    landing_page_list,
    landing_page_of_project,
    landing_page_qs_for_user,
    landing_pages_with_counts,
    page_content,
    public_page,
)
from projects.selectors.projects import (
    ProjectPage,
    project_detail,
    project_detail_data,
    project_get,
    project_list,
    project_list_page,
    project_qs_for_user,
)
from projects.selectors.prototypes import prototype_current, prototype_list
from projects.selectors.reports import (
    project_report,
    project_test_card,
    report_snapshots,
)
from projects.selectors.signups import signup_export_rows, signup_list

__all__ = [
    "ANALYTICS_FIGURES",
    "GROUPINGS",
    "LiveExperiment",
    "LiveVariant",
    "PUBLIC_PAGE_MAX_AGE_SECONDS",
    "ProjectPage",
    "PublicPage",
    "RESULTS_MC_DRAWS",
    "campaign_get",
    "campaign_list",
    "campaign_qs_for_user",
    "campaign_summary",
    "experiment_get",
    "experiment_list",
    "experiment_qs_for_user",
    "experiment_results",
    "landing_page_get",
    "landing_page_get_published",
    "landing_page_list",
    "landing_page_of_project",
    "landing_page_qs_for_user",
    "landing_pages_with_counts",
    "page_content",
    "project_analytics",
    "project_daily",
    "project_detail",
    "project_detail_data",
    "project_get",
    "project_list",
    "project_list_page",
    "project_qs_for_user",
    "project_report",
    "project_test_card",
    "prototype_current",
    "prototype_list",
    "public_page",
    "report_snapshots",
    "running_experiments",
    "signup_export_rows",
    "signup_list",
    "spend_list",
]
