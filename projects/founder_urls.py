from django.urls import path

from projects.views import founder, signups

urlpatterns = [
    path("<int:pk>/report", founder.report_page, name="project-report-page"),
    path("<int:pk>/report/keep", founder.report_keep, name="project-report-keep"),
    # Signups
    path("<int:pk>/signups/", signups.signup_list, name="signup-list"),
    path("<int:pk>/signups.csv", signups.signup_export, name="signup-export"),
]
