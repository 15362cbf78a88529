from django.urls import path

from projects import views

app_name = "public"

urlpatterns = [
    path("<slug:slug>/", views.landing_page, name="landing"),
    path("<slug:slug>/signup", views.signup, name="signup"),
    path("<slug:slug>/e", views.track, name="track"),
    path("<slug:slug>/preorder", views.preorder_entry, name="preorder"),
    path("<slug:slug>/thanks", views.thanks, name="thanks"),
    path("<slug:slug>/confirm/<str:token>", views.confirm, name="confirm"),
    path("<slug:slug>/unsubscribe/<str:token>", views.unsubscribe, name="unsubscribe"),
]
