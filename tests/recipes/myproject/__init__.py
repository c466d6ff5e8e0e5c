"""The smallest Django project the README's Django recipe (its ``myproject/wsgi.py``) serves."""
