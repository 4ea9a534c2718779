from django.apps import AppConfig


class AdminSsoConfig(AppConfig):
    name = "common.admin_sso"
    label = "admin_sso"
    verbose_name = "Operator single sign-on"

    def ready(self) -> None:
        from django.contrib import admin

        from common.admin_sso.forms import SingleSignOnAuthenticationForm

        admin.site.login_form = SingleSignOnAuthenticationForm
