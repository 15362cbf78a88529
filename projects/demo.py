"""Demo data for a new user's first run (`manage.py seed_demo`)."""

from dataclasses import dataclass, field

from django.db import transaction

from security.models import User
from security.services import user_create, user_reset_password


@dataclass(frozen=True)
class DemoAccount:
    email: str
    password: str
    name: str
    is_staff: bool


# Known demo passwords, printed on the console by `make run`: demo data only, never production.
DEMO_STAFF = DemoAccount("staff@demo.mvpvalidator.dev", "demo-staff-pass-2024", "Demo Staff", True)
DEMO_FOUNDER = DemoAccount("founder@demo.mvpvalidator.dev", "demo-founder-pass-2024", "Demo Founder", False)


@dataclass
class SeedResult:
    created: dict[str, bool] = field(default_factory=dict)


@transaction.atomic
def demo_seed() -> SeedResult:
    result = SeedResult()
    for account in (DEMO_STAFF, DEMO_FOUNDER):
        user = User.objects.filter(email=account.email).first()
        if user is None:
            user_create(
                email=account.email,
                password=account.password,
                name=account.name,
                is_staff=account.is_staff,
                is_superuser=account.is_staff,
            )
            result.created[account.email] = True
        else:
            user_reset_password(user=user, password=account.password)
            result.created[account.email] = False
    return result
