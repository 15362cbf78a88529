from django.urls import path

from projects.api import campaigns, events, experiments, pages, projects, prototypes, reports, signups

urlpatterns = [
    path("projects/", projects.ProjectListCreateView.as_view(), name="api-project-list"),
    path("projects/<int:pk>/", projects.ProjectDetailView.as_view(), name="api-project-detail"),
    path("projects/<int:pk>/archive", projects.ProjectArchiveView.as_view(), name="api-project-archive"),
    path(
        "projects/<int:pk>/generate-prototype",
        prototypes.PrototypeGenerateView.as_view(),
        name="api-prototype-generate",
    ),
    path("projects/<int:pk>/prototypes", prototypes.PrototypeListView.as_view(), name="api-prototype-list"),
    path("projects/<int:pk>/landing-pages", pages.LandingPageListCreateView.as_view(), name="api-landing-page-list"),
    path("projects/<int:pk>/signups", signups.SignupListView.as_view(), name="api-signup-list"),
    path("projects/<int:pk>/signups.csv", signups.SignupExportView.as_view(), name="api-signup-export"),
    path("projects/<int:pk>/signups/held", signups.HeldSignupCountsView.as_view(), name="api-signup-held"),
    path("projects/<int:pk>/experiments", experiments.ExperimentListCreateView.as_view(), name="api-experiment-list"),
    path("projects/<int:pk>/analytics", events.ProjectAnalyticsView.as_view(), name="api-project-analytics"),
    path("projects/<int:pk>/campaigns", campaigns.CampaignListCreateView.as_view(), name="api-campaign-list"),
    path("projects/<int:pk>/report", reports.ProjectReportView.as_view(), name="api-project-report"),
    path("projects/<int:pk>/reports", reports.ReportSnapshotListCreateView.as_view(), name="api-project-reports"),
    path("projects/<int:pk>/test-card", reports.TestCardView.as_view(), name="api-project-test-card"),
    path("campaigns/<int:pk>/", campaigns.CampaignDetailView.as_view(), name="api-campaign-detail"),
    path("campaigns/<int:pk>/start", campaigns.CampaignStartView.as_view(), name="api-campaign-start"),
    path("campaigns/<int:pk>/pause", campaigns.CampaignPauseView.as_view(), name="api-campaign-pause"),
    path("campaigns/<int:pk>/complete", campaigns.CampaignCompleteView.as_view(), name="api-campaign-complete"),
    path("campaigns/<int:pk>/spend", campaigns.CampaignSpendView.as_view(), name="api-campaign-spend"),
    path("campaigns/<int:pk>/spend.csv", campaigns.CampaignSpendCsvView.as_view(), name="api-campaign-spend-csv"),
    path("experiments/<int:pk>/", experiments.ExperimentDetailView.as_view(), name="api-experiment-detail"),
    path("experiments/<int:pk>/start", experiments.ExperimentStartView.as_view(), name="api-experiment-start"),
    path("experiments/<int:pk>/pause", experiments.ExperimentPauseView.as_view(), name="api-experiment-pause"),
    path("experiments/<int:pk>/complete", experiments.ExperimentCompleteView.as_view(), name="api-experiment-complete"),
    path("experiments/<int:pk>/results", experiments.ExperimentResultsView.as_view(), name="api-experiment-results"),
    path("landing-pages/<int:pk>/", pages.LandingPageDetailView.as_view(), name="api-landing-page-detail"),
    path("landing-pages/<int:pk>/publish", pages.LandingPagePublishView.as_view(), name="api-landing-page-publish"),
    path("landing-pages/<int:pk>/archive", pages.LandingPageArchiveView.as_view(), name="api-landing-page-archive"),
]
