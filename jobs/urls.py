from django.urls import path

from jobs import api

urlpatterns = [
    path("<uuid:pk>", api.JobDetailView.as_view(), name="job-detail"),
]
