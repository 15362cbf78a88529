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
    path("experiments/<int:pk>/", views.ExperimentDetailView.as_view(), name="experiment-detail"),
    path("experiments/<int:pk>/start", views.ExperimentStartView.as_view(), name="experiment-start"),
    path("experiments/<int:pk>/pause", views.ExperimentPauseView.as_view(), name="experiment-pause"),
    path("experiments/<int:pk>/complete", views.ExperimentCompleteView.as_view(), name="experiment-complete"),
    path("experiments/<int:pk>/results", views.ExperimentResultsView.as_view(), name="experiment-results"),
    path("landing-pages/<int:pk>/", views.LandingPageDetailView.as_view(), name="landing-page-detail"),
    path("landing-pages/<int:pk>/publish", views.LandingPagePublishView.as_view(), name="landing-page-publish"),
    path("landing-pages/<int:pk>/archive", views.LandingPageArchiveView.as_view(), name="landing-page-archive"),
]
