from django.urls import path

from projects.views import founder
from projects.views import projects as project_views

urlpatterns = [
    # Projects
    path("", project_views.project_list, name="project-list"),
    path("new", project_views.project_create_view, name="project-create"),
    path("<int:pk>/", project_views.project_detail, name="project-detail"),
    path("<int:pk>/edit", project_views.project_edit, name="project-edit"),
    path("<int:pk>/archive", project_views.project_archive_view, name="project-archive"),
    # Report
    path("<int:pk>/report", founder.report_page, name="project-report-page"),
    path("<int:pk>/report/keep", founder.report_keep, name="project-report-keep"),
]
