from django.apps import AppConfig


class FeedsConfig(AppConfig):
    name = "regimens.web.feeds"
    label = "feeds"
    verbose_name = "Calendar feeds"
    default_auto_field = "django.db.models.BigAutoField"
