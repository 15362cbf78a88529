from django.urls import path

from projects.views import founder, page_assets

urlpatterns = [
    path("<int:pk>/report", founder.report_page, name="project-report-page"),
    path("<int:pk>/report/keep", founder.report_keep, name="project-report-keep"),
    # Page assets
    path("<int:pk>/pages/<int:page_pk>/images", page_assets.page_images, name="page-images"),
    path("<int:pk>/pages/<int:page_pk>/qr.svg", page_assets.page_qr, name="page-qr"),
]
