"""Operators log into this admin with their users_service account (the shared contract in common_testing)."""

from common_testing.admin_sso_contract import AdminSingleSignOnContract


class TestAdminSingleSignOn(AdminSingleSignOnContract):
    role = "catalog_manager"
    granted_permission = "catalog.change_product"
    withheld_permission = "messaging.delete_deadletter"
