"""The page editor's image forms: a logo and a hero image, each uploaded or removed on its own.

The form only carries the file; whether it is an image the page can use is the upload service's
judgement (`projects.services.page_images`), whose refusal goes beside the field (the service keys
it by the page's field, "logo" or "hero_image", which is the name of each form's file field)."""

from typing import Any

from django import forms

from projects.services.page_images import KINDS

ACCEPT = "image/png,image/jpeg,image/webp,image/gif"
ACTIONS = [("upload", "Upload"), ("remove", "Remove")]


class PageImageForm(forms.Form):
    """One image of a page: the file field is named after the page's field; `action` is the
    button pressed."""

    kind: str = ""
    action = forms.ChoiceField(choices=ACTIONS, initial="upload")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields[self.field_name] = forms.FileField(
            required=False, widget=forms.ClearableFileInput(attrs={"accept": ACCEPT})
        )

    @property
    def field_name(self) -> str:
        return KINDS[self.kind].field

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("action") == "upload" and not data.get(self.field_name):
            self.add_error(self.field_name, "Choose an image file to upload.")
        return data


class LogoForm(PageImageForm):
    kind = "logo"


class HeroImageForm(PageImageForm):
    kind = "hero"


FORMS: dict[str, type[PageImageForm]] = {"logo": LogoForm, "hero": HeroImageForm}
