from django.urls import path

from projects.views import founder

urlpatterns = [
    path("<int:pk>/report", founder.report_page, name="project-report-page"),
    path("<int:pk>/report/keep", founder.report_keep, name="project-report-keep"),
]
