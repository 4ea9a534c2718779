#!/usr/bin/env python
"""users_service's command-line utility for administrative tasks."""

import os
import sys

if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "users_service.settings.local")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)
