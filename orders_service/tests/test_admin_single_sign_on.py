"""Operators log into this admin with their users_service account (the shared contract in common_testing)."""

from common_testing.admin_sso_contract import AdminSingleSignOnContract


class TestAdminSingleSignOn(AdminSingleSignOnContract):
    role = "order_operator"
    granted_permission = "orders.change_order"
    withheld_permission = "messaging.delete_deadletter"
