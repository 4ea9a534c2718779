from django.apps import AppConfig


class StrictStringsConfig(AppConfig):
    name = "common.strict_strings"
    label = "common_strict_strings"
    verbose_name = "Strings are strings"

    def ready(self) -> None:
        from common import strict_strings

        strict_strings.install()
