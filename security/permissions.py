"""API permission classes that record their refusals (`security.audit.permission_refused`)."""

from rest_framework.permissions import IsAdminUser
from rest_framework.request import Request
from rest_framework.views import APIView

from security import audit


class IsStaff(IsAdminUser):
    """DRF's `IsAdminUser` (signed-in staff), recording a `permission_denied` event when it
    refuses. The staff-only API uses it instead of `IsAdminUser`."""

    def has_permission(self, request: Request, view: APIView) -> bool:
        allowed = super().has_permission(request, view)
        if not allowed:
            audit.permission_refused(request)
        return allowed
