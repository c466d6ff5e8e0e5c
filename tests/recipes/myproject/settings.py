"""Settings of the Django project behind the README's Django recipe: no database, no middleware."""

SECRET_KEY = "only-for-the-tests"
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1"]
ROOT_URLCONF = "myproject.urls"
INSTALLED_APPS = []
MIDDLEWARE = []
DATABASES = {}
USE_TZ = True
