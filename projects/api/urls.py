from django.urls import path

from projects.api import views

urlpatterns = [
    path("projects/", views.ProjectListCreateView.as_view(), name="project-list"),
    path("projects/<int:pk>/", views.ProjectDetailView.as_view(), name="project-detail"),
    path("projects/<int:pk>/archive", views.ProjectArchiveView.as_view(), name="project-archive"),
    path("projects/<int:pk>/generate-prototype", views.PrototypeGenerateView.as_view(), name="prototype-generate"),
    path("projects/<int:pk>/prototypes", views.PrototypeListView.as_view(), name="prototype-list"),
    path("projects/<int:pk>/landing-pages", views.LandingPageListCreateView.as_view(), name="landing-page-list"),
    path("projects/<int:pk>/signups", views.SignupListView.as_view(), name="signup-list"),
    path("projects/<int:pk>/signups.csv", views.SignupExportView.as_view(), name="signup-export"),
    path("projects/<int:pk>/experiments", views.ExperimentListCreateView.as_view(), name="experiment-list"),
    path("projects/<int:pk>/analytics", views.ProjectAnalyticsView.as_view(), name="project-analytics"),
    path("projects/<int:pk>/campaigns", views.CampaignListCreateView.as_view(), name="campaign-list"),
    path("projects/<int:pk>/report", views.ProjectReportView.as_view(), name="project-report"),
    path("projects/<int:pk>/reports", views.ReportSnapshotListCreateView.as_view(), name="project-reports"),
    path("projects/<int:pk>/test-card", views.TestCardView.as_view(), name="project-test-card"),
    path("campaigns/<int:pk>/", views.CampaignDetailView.as_view(), name="campaign-detail"),
    path("campaigns/<int:pk>/start", views.CampaignStartView.as_view(), name="campaign-start"),
    path("campaigns/<int:pk>/pause", views.CampaignPauseView.as_view(), name="campaign-pause"),
    path("campaigns/<int:pk>/complete", views.CampaignCompleteView.as_view(), name="campaign-complete"),
    path("campaigns/<int:pk>/spend", views.CampaignSpendView.as_view(), name="campaign-spend"),
    path("campaigns/<int:pk>/spend.csv", views.CampaignSpendCsvView.as_view(), name="campaign-spend-csv"),
    path("experiments/<int:pk>/", views.ExperimentDetailView.as_view(), name="experiment-detail"),
    path("experiments/<int:pk>/start", views.ExperimentStartView.as_view(), name="experiment-start"),
    path("experiments/<int:pk>/pause", views.ExperimentPauseView.as_view(), name="experiment-pause"),
    path("experiments/<int:pk>/complete", views.ExperimentCompleteView.as_view(), name="experiment-complete"),
    path("experiments/<int:pk>/results", views.ExperimentResultsView.as_view(), name="experiment-results"),
    path("landing-pages/<int:pk>/", views.LandingPageDetailView.as_view(), name="landing-page-detail"),
    path("landing-pages/<int:pk>/publish", views.LandingPagePublishView.as_view(), name="landing-page-publish"),
    path("landing-pages/<int:pk>/archive", views.LandingPageArchiveView.as_view(), name="landing-page-archive"),
]
