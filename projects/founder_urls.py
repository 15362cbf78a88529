from django.urls import path

from projects.views import founder, prototypes

urlpatterns = [
    path("<int:pk>/report", founder.report_page, name="project-report-page"),
    path("<int:pk>/report/keep", founder.report_keep, name="project-report-keep"),
    # --- Prototype ---
    path("<int:pk>/prototype/", prototypes.prototype_list_view, name="prototype-list"),
    path("<int:pk>/prototype/generate", prototypes.prototype_generate_view, name="prototype-generate"),
    path("<int:pk>/prototype/compare", prototypes.prototype_compare_view, name="prototype-compare"),
    path("<int:pk>/prototype/<int:version>/pick", prototypes.prototype_pick_view, name="prototype-pick"),
    path("<int:pk>/prototype/<int:version>/edit", prototypes.prototype_edit_view, name="prototype-edit"),
    path("<int:pk>/prototype/jobs/<uuid:job_id>", prototypes.prototype_job_view, name="prototype-job"),
]
