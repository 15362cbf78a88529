from django.urls import path

from mvpvalidator.public_stack import public_stack
from projects.views import public

app_name = "public"

# `public_stack`: what a visitor's browser asks for of a page is served without sessions, Django's
# CSRF check, the signed-in user or messages (see mvpvalidator.public_stack); its forms carry the
# visitor-bound form token. The confirm and unsubscribe links of the emails keep the full stack:
# their forms carry Django's CSRF token, and they are no hot path.
urlpatterns = [
    # Not a page's address (a slug never has a dot); the view takes six lowercase hex digits only.
    path("theme/<slug:accent>.css", public_stack(public.theme_css), name="theme"),
    path("<slug:slug>/", public_stack(public.landing_page), name="landing"),
    path("<slug:slug>/signup", public_stack(public.signup), name="signup"),
    path("<slug:slug>/signup/confirm", public_stack(public.signup_held), name="signup_held"),
    path("<slug:slug>/e", public_stack(public.track), name="track"),
    path("<slug:slug>/preorder", public_stack(public.preorder_entry), name="preorder"),
    path("<slug:slug>/thanks", public_stack(public.thanks), name="thanks"),
    path("<slug:slug>/confirm/<str:token>", public.confirm, name="confirm"),
    path("<slug:slug>/unsubscribe/<str:token>", public.unsubscribe, name="unsubscribe"),
    path("<slug:slug>/privacy", public_stack(public.privacy), name="privacy"),
]
