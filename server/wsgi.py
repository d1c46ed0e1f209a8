import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "server.settings")

application = get_wsgi_application()

# Personal information is encrypted at rest: a server without its keys refuses to start (DEBUG off).
from server.privacy.crypto import require_keys  # noqa: E402  (after the apps are loaded)

require_keys()
