"""WSGI entry point: ``gunicorn salesloop.wsgi``."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "salesloop.settings")
application = get_wsgi_application()
