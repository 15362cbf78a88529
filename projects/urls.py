from django.urls import path, re_path

from projects.views import public

app_name = "public"

urlpatterns = [
    # Not a page's address: a slug never ends in ".css". Lowercase hex only, as pages store it.
    re_path(r"^theme/(?P<accent>[0-9a-f]{6})\.css$", public.theme_css, name="theme"),
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
