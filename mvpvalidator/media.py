"""Serving uploaded files from local storage at MEDIA_URL.

With the default local storage the platform serves its own uploads (the embedded mode has no
web server in front); with a bucket configured the files are served from the bucket's address and
this view answers 404. Uploaded names are random and never reused (the upload service picks
them), so a file may be cached for good.
"""

from django.core.files.storage import FileSystemStorage, storages
from django.http import Http404, HttpRequest, HttpResponseBase
from django.views.decorators.http import require_safe
from django.views.static import serve

MEDIA_CACHE_CONTROL = "public, max-age=31536000, immutable"


@require_safe
def media(request: HttpRequest, path: str) -> HttpResponseBase:
    storage = storages["default"]
    if not isinstance(storage, FileSystemStorage):
        raise Http404("Uploads are not served from here.")
    # `serve` joins the path safely under the root (no "..", no absolute paths) and answers 404
    # for directories and missing files.
    response = serve(request, path, document_root=str(storage.location), show_indexes=False)
    response["Cache-Control"] = MEDIA_CACHE_CONTROL
    response["X-Content-Type-Options"] = "nosniff"
    return response
