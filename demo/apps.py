from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DemoConfig(AppConfig):
    """The demo data (`manage.py seed_demo`): it stands above every app, so no app imports it."""

    name = "demo"
    verbose_name = _("Demo data")
