"""WSGI entry point (waitress in `regimens serve`; gunicorn regimens.web.wsgi also works)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "regimens.web.settings")
application = get_wsgi_application()
