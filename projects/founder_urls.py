from django.urls import path

from projects import founder_views

urlpatterns = [
    path("<int:pk>/report", founder_views.report_page, name="project-report-page"),
]
