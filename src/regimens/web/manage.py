"""Django's management commands for the service: `python -m regimens.web.manage migrate`,
`createsuperuser`, `changepassword` ... (same environment variables as `regimens serve`)."""

import os
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "regimens.web.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
