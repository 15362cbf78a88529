# The Celery app is loaded with Django, so `shared_task` decorators bind to it.
from mvpvalidator.celery import app as celery_app

__all__ = ("celery_app",)
