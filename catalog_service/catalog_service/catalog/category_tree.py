"""The category tree, read: which categories lie below a category.

Below both ``filters`` (the product list's ``category`` parameter takes a category's subcategories too)
and ``services`` (a category cannot move below itself), and above nothing but the models, so neither needs
``selectors``, which applies the filters.
"""

from catalog_service.catalog.models import Category


def category_descendant_ids(*, category_id: int) -> list[int]:
    """Ids of every category below ``category_id`` (one query: the category tree is small)."""
    children: dict[int | None, list[int]] = {}
    for child_id, parent_id in Category.objects.values_list("id", "parent_id"):
        children.setdefault(parent_id, []).append(child_id)
    found: list[int] = []
    pending = list(children.get(category_id, []))
    while pending:
        current = pending.pop()
        if current in found or current == category_id:
            continue
        found.append(current)
        pending.extend(children.get(current, []))
    return found
