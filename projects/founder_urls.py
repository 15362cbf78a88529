from django.urls import path

from projects.views import analytics, experiments, glossary, page_assets, prototypes, reports, signups, test_cards
from projects.views import campaigns as campaign_views
from projects.views import pages as page_views
from projects.views import projects as project_views
from projects.views import variants as variant_views

urlpatterns = [
    # Projects
    path("", project_views.project_list, name="project-list"),
    path("new", project_views.project_create_view, name="project-create"),
    path("<int:pk>/", project_views.project_detail, name="project-detail"),
    path("<int:pk>/edit", project_views.project_edit, name="project-edit"),
    path("<int:pk>/archive", project_views.project_archive_view, name="project-archive"),
    # Glossary (every statistic of the founder's screens links to its entry)
    path("glossary", glossary.glossary_page, name="glossary"),
    # Report
    path("<int:pk>/report", reports.report_page, name="project-report-page"),
    path("<int:pk>/report/keep", reports.report_keep, name="project-report-keep"),
    path("<int:pk>/reports/<int:snapshot_pk>/", reports.report_snapshot, name="report-snapshot"),
    path("<int:pk>/reports/compare", reports.report_compare, name="report-compare"),
    path("<int:pk>/test-card", test_cards.test_card, name="test-card"),
    # --- Prototype ---
    path("<int:pk>/prototype/", prototypes.prototype_list_view, name="prototype-list"),
    path("<int:pk>/prototype/generate", prototypes.prototype_generate_view, name="prototype-generate"),
    path("<int:pk>/prototype/compare", prototypes.prototype_compare_view, name="prototype-compare"),
    path("<int:pk>/prototype/<int:version>/pick", prototypes.prototype_pick_view, name="prototype-pick"),
    path("<int:pk>/prototype/<int:version>/edit", prototypes.prototype_edit_view, name="prototype-edit"),
    path("<int:pk>/prototype/jobs/<uuid:job_id>", prototypes.prototype_job_view, name="prototype-job"),
    # Pages
    path("<int:pk>/pages/new", page_views.page_create, name="page-create"),
    path("<int:pk>/pages/<int:page_pk>/", page_views.page_edit, name="page-edit"),
    path("<int:pk>/pages/<int:page_pk>/preview", page_views.page_preview, name="page-preview"),
    path("<int:pk>/pages/<int:page_pk>/preview/<str:key>", page_views.page_preview_frame, name="page-preview-frame"),
    path("<int:pk>/pages/<int:page_pk>/publish", page_views.page_publish, name="page-publish"),
    path("<int:pk>/pages/<int:page_pk>/unpublish", page_views.page_unpublish, name="page-unpublish"),
    path("<int:pk>/pages/<int:page_pk>/archive", page_views.page_archive, name="page-archive"),
    path("<int:pk>/pages/<int:page_pk>/variants/new", variant_views.variant_create_view, name="variant-create"),
    path("<int:pk>/pages/<int:page_pk>/variants/<slug:key>/", variant_views.variant_edit, name="variant-edit"),
    path(
        "<int:pk>/pages/<int:page_pk>/variants/<slug:key>/preview",
        variant_views.variant_preview,
        name="variant-preview",
    ),
    path(
        "<int:pk>/pages/<int:page_pk>/variants/<slug:key>/delete",
        variant_views.variant_delete_view,
        name="variant-delete",
    ),
    # Campaigns
    path("<int:pk>/campaigns/", campaign_views.campaign_list_view, name="campaign-list"),
    path("<int:pk>/campaigns/new", campaign_views.campaign_create_view, name="campaign-create"),
    path("<int:pk>/campaigns/<int:campaign_pk>/", campaign_views.campaign_detail, name="campaign-detail"),
    path("<int:pk>/campaigns/<int:campaign_pk>/edit", campaign_views.campaign_edit, name="campaign-edit"),
    path("<int:pk>/campaigns/<int:campaign_pk>/start", campaign_views.campaign_start, name="campaign-start"),
    path("<int:pk>/campaigns/<int:campaign_pk>/pause", campaign_views.campaign_pause, name="campaign-pause"),
    path("<int:pk>/campaigns/<int:campaign_pk>/complete", campaign_views.campaign_complete, name="campaign-complete"),
    path("<int:pk>/campaigns/<int:campaign_pk>/spend", campaign_views.campaign_spend, name="campaign-spend"),
    path(
        "<int:pk>/campaigns/<int:campaign_pk>/spend/upload",
        campaign_views.campaign_spend_upload,
        name="campaign-spend-upload",
    ),
    # Analytics
    path("<int:pk>/analytics", analytics.project_analytics_page, name="project-analytics"),
    # Experiments
    path("<int:pk>/experiments/", experiments.experiment_list_view, name="experiment-list"),
    path("<int:pk>/experiments/new", experiments.experiment_create, name="experiment-create"),
    path("<int:pk>/experiments/plan", experiments.experiment_plan, name="experiment-plan"),
    path("<int:pk>/experiments/<int:exp_pk>/", experiments.experiment_detail, name="experiment-detail"),
    path("<int:pk>/experiments/<int:exp_pk>/start", experiments.experiment_start, name="experiment-start"),
    path("<int:pk>/experiments/<int:exp_pk>/pause", experiments.experiment_pause, name="experiment-pause"),
    path("<int:pk>/experiments/<int:exp_pk>/complete", experiments.experiment_complete, name="experiment-complete"),
    # Signups
    path("<int:pk>/signups/", signups.signup_list, name="signup-list"),
    path("<int:pk>/signups.csv", signups.signup_export, name="signup-export"),
    # Page assets
    path("<int:pk>/pages/<int:page_pk>/images", page_assets.page_images, name="page-images"),
    path("<int:pk>/pages/<int:page_pk>/qr.svg", page_assets.page_qr, name="page-qr"),
]
