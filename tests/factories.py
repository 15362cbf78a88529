import factory

from security.models import User

DEFAULT_PASSWORD = "correct-horse-battery-staple"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User

    email = factory.Sequence(lambda n: f"user{n}@example.com")
    name = factory.Faker("name")
    password = factory.django.Password(DEFAULT_PASSWORD)


class ProjectFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "projects.Project"

    owner = factory.SubFactory(UserFactory)
    name = factory.Sequence(lambda n: f"Idea {n}")
    idea_description = "A tool that helps freelancers chase late invoices automatically."
    target_audience = "Freelancers"
    price_point = "29.00"
    currency = "USD"
    business_model = "saas"


def generate_and_publish(project, slug="page"):
    """A project's prototype generated and a landing page at /p/<slug>/ published."""
    from projects.services.pages import landing_page_create, landing_page_publish
    from projects.services.prototypes import prototype_generate

    prototype_generate(project=project)
    page = landing_page_create(project=project, slug=slug)
    return landing_page_publish(page=page)
