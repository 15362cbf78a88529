from django.urls import path

from projects.views import public

app_name = "public"

urlpatterns = [
    # Not a page's address (a slug never has a dot); the view takes six lowercase hex digits only.
    path("theme/<slug:accent>.css", public.theme_css, name="theme"),
    path("<slug:slug>/", public.landing_page, name="landing"),
    path("<slug:slug>/signup", public.signup, name="signup"),
    path("<slug:slug>/signup/confirm", public.signup_held, name="signup_held"),
    path("<slug:slug>/e", public.track, name="track"),
    path("<slug:slug>/preorder", public.preorder_entry, name="preorder"),
    path("<slug:slug>/thanks", public.thanks, name="thanks"),
    path("<slug:slug>/confirm/<str:token>", public.confirm, name="confirm"),
    path("<slug:slug>/unsubscribe/<str:token>", public.unsubscribe, name="unsubscribe"),
    path("<slug:slug>/privacy", public.privacy, name="privacy"),
]
