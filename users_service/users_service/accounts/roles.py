"""The roles users_service grants. A role is a Django group; its name travels in the JWT ``roles`` claim.

The names are the contract shared with the other services (``common.auth.permissions``);
migration ``0002_roles`` creates the groups.
"""

from common.auth.permissions import CATALOG_MANAGER, ORDER_OPERATOR

ROLES = (CATALOG_MANAGER, ORDER_OPERATOR)
