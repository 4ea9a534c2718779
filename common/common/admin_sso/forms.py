"""The admin login form of single sign-on."""

from typing import Any

from django.core.exceptions import ValidationError

from common.admin_sso.backends import LOCKED_OUT, UNREACHABLE
from common.login_lockout import LockoutAdminAuthenticationForm


class SingleSignOnAuthenticationForm(LockoutAdminAuthenticationForm):
    """Django's admin login under the failed-login lockout, counted here per operator and per the browser's
    address; a plain message when users_service could not answer or has locked the account."""

    error_messages = {
        **LockoutAdminAuthenticationForm.error_messages,
        UNREACHABLE: (
            "users_service is unreachable: it checks operator accounts. Please try again in a moment "
            "(local break-glass accounts still log in)."
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

    def counts_as_failure(self) -> bool:
        # users_service unreachable, or it refused the attempt itself (and counted it): not the operator's failure.
        return getattr(self.request, "admin_sso_problem", None) is None
