"""The admin login form: Django's, with a plain message when users_service could not answer."""

from typing import Any

from django.contrib.admin.forms import AdminAuthenticationForm
from django.core.exceptions import ValidationError

from common.admin_sso.backends import LOCKED_OUT, UNREACHABLE


class SingleSignOnAuthenticationForm(AdminAuthenticationForm):
    error_messages = {
        **AdminAuthenticationForm.error_messages,
        UNREACHABLE: (
            "The users service, which checks operator accounts, cannot be reached right now. "
            "Please try again in a moment."
        ),
        LOCKED_OUT: "Too many failed logins for this account. Please wait and try again later.",
    }

    def clean(self) -> dict[str, Any]:
        try:
            return super().clean()
        except ValidationError:
            problem = getattr(self.request, "admin_sso_problem", None)
            if problem in (UNREACHABLE, LOCKED_OUT) and self.user_cache is None:
                raise ValidationError(self.error_messages[problem], code=problem) from None
            raise
