"""``manage.py load_demo_catalog``: a small, realistic catalogue to browse (``./manage_all.sh up`` runs it).

Idempotent: categories and products are found by slug and SKU and created only when missing; existing
rows are never changed, so running it again changes nothing (and never undoes an operator's edits or
the stock that orders took).
"""

from decimal import Decimal
from typing import Any

from django.core.management.base import BaseCommand
from django.db import transaction

from catalog_service.catalog import services
from catalog_service.catalog.models import Category, Product

# (slug, name, parent slug)
CATEGORIES = [
    ("electronics", "Electronics", None),
    ("laptops", "Laptops", "electronics"),
    ("phones", "Phones", "electronics"),
    ("audio", "Audio", "electronics"),
    ("home-kitchen", "Home & Kitchen", None),
    ("coffee-tea", "Coffee & Tea", "home-kitchen"),
    ("cookware", "Cookware", "home-kitchen"),
    ("books", "Books", None),
    ("fiction", "Fiction", "books"),
    ("non-fiction", "Non-fiction", "books"),
    ("outdoor", "Outdoor", None),
    ("camping", "Camping", "outdoor"),
]

# (sku, name, category slug, price, stock, description); stock 0 = out of stock
PRODUCTS = [
    ("LAP-AIR13", "Featherlight 13 Laptop", "laptops", "999.00", 12, "13-inch, 16 GB RAM, 512 GB SSD, 1.1 kg."),
    ("LAP-PRO15", "Workhorse 15 Laptop", "laptops", "1649.00", 5, "15-inch, 32 GB RAM, 1 TB SSD, dedicated GPU."),
    ("LAP-CHR14", "Classroom 14 Chromebook", "laptops", "329.00", 0, "14-inch, 8 GB RAM, all-day battery."),
    ("LAP-DOCK", "USB-C Laptop Dock", "laptops", "129.90", 40, "Two displays, Ethernet, 100 W charging."),
    ("PHN-NOVA", "Nova 6 Smartphone", "phones", "699.00", 25, "6.1-inch OLED, 128 GB, dual camera."),
    ("PHN-NOVA-MAX", "Nova 6 Max Smartphone", "phones", "899.00", 8, "6.7-inch OLED, 256 GB, triple camera."),
    ("PHN-NOVA-5", "Nova 5 Smartphone", "phones", "499.00", 4, "Last year's model, discontinued."),
    ("PHN-LITE", "Lite 3 Smartphone", "phones", "249.00", 60, "6.5-inch LCD, 64 GB, two-day battery."),
    ("PHN-CASE", "Clear Phone Case", "phones", "14.90", 300, "Shock-absorbing corners, fits Nova 6."),
    ("PHN-CHG30", "30 W USB-C Charger", "phones", "24.90", 150, "GaN charger, folding plug."),
    ("AUD-NC700", "Quiet 700 Headphones", "audio", "279.00", 18, "Over-ear, active noise cancelling, 30 h."),
    ("AUD-BUDS", "Pocket Buds", "audio", "89.00", 0, "True wireless earbuds with charging case."),
    ("AUD-SPK-MINI", "Mini Bluetooth Speaker", "audio", "49.90", 75, "Waterproof, 12 h battery."),
    ("AUD-SOUNDBAR", "Cinema Soundbar", "audio", "349.00", 6, "3.1 channels, wireless subwoofer."),
    ("AUD-TURNTBL", "Belt-drive Turntable", "audio", "219.00", 3, "Built-in preamp, 33 and 45 rpm."),
    ("COF-ESP-01", "Home Espresso Machine", "coffee-tea", "449.00", 7, "15 bar pump, steam wand, 1.8 l tank."),
    ("COF-GRD-01", "Burr Coffee Grinder", "coffee-tea", "129.00", 14, "40 grind settings, conical burrs."),
    ("COF-PRS-08", "French Press, 8 Cups", "coffee-tea", "34.50", 45, "Borosilicate glass, steel frame."),
    ("COF-BEANS-1K", "House Blend Coffee Beans, 1 kg", "coffee-tea", "21.90", 200, "Medium roast, chocolate."),
    ("TEA-KTL-01", "Gooseneck Kettle", "coffee-tea", "59.00", 0, "Variable temperature, 0.9 l."),
    ("TEA-SENCHA", "Japanese Sencha, 100 g", "coffee-tea", "12.50", 90, "First flush green tea."),
    ("CKW-SKL-28", "Cast Iron Skillet, 28 cm", "cookware", "44.00", 30, "Pre-seasoned, oven safe."),
    ("CKW-POT-5L", "Stainless Stockpot, 5 l", "cookware", "39.90", 22, "Tri-ply base, induction ready."),
    ("CKW-KNF-CHEF", "Chef's Knife, 20 cm", "cookware", "79.00", 16, "German steel, full tang."),
    ("CKW-BOARD", "Walnut Cutting Board", "cookware", "54.00", 0, "End grain, 40 x 30 cm."),
    ("CKW-DUTCH", "Enamelled Dutch Oven, 4.7 l", "cookware", "159.00", 9, "Cast iron, cherry red."),
    ("BK-FIC-0001", "The Long Harbour (novel)", "fiction", "18.99", 40, "A family saga on a northern coast."),
    ("BK-FIC-0002", "Glass Orchard (novel)", "fiction", "15.50", 0, "Literary fiction, paperback."),
    ("BK-FIC-0003", "Night Train to Riga", "fiction", "12.99", 55, "A thriller in twelve stations."),
    ("BK-FIC-0004", "Collected Short Stories", "fiction", "22.00", 12, "Forty stories, hardback."),
    ("BK-NF-0001", "A Short History of Bread", "non-fiction", "24.00", 20, "Ten thousand years of baking."),
    ("BK-NF-0002", "Designing Data Systems", "non-fiction", "49.90", 15, "Databases, queues and consistency."),
    ("BK-NF-0003", "Field Guide to Mushrooms", "non-fiction", "29.90", 8, "Four hundred species, photographed."),
    ("OUT-TNT-2P", "Two-person Tent", "camping", "189.00", 11, "Freestanding, 2.1 kg, three seasons."),
    ("OUT-BAG-3S", "Three-season Sleeping Bag", "camping", "119.00", 0, "Comfort 2 °C, compressible."),
    ("OUT-STOVE", "Compact Gas Stove", "camping", "39.00", 35, "Piezo ignition, 80 g."),
    ("OUT-LAMP", "Rechargeable Head Torch", "camping", "29.90", 70, "400 lumen, red light mode."),
    ("OUT-MAT", "Self-inflating Sleeping Mat", "camping", "69.00", 19, "5 cm thick, R-value 4."),
    ("OUT-BOTTLE", "Insulated Bottle, 750 ml", "outdoor", "27.50", 120, "Keeps cold 24 h, hot 12 h."),
    ("OUT-PACK-30", "Daypack, 30 l", "outdoor", "84.00", 24, "Ventilated back, rain cover."),
]
# Shown to catalog managers only: a product that is no longer sold.
INACTIVE_SKUS = {"PHN-NOVA-5"}


class Command(BaseCommand):
    help = "Load the demo catalogue (categories, products, stock); creates only what is missing."

    @transaction.atomic
    def handle(self, *args: Any, **options: Any) -> None:
        categories = {category.slug: category for category in Category.objects.all()}
        created_categories = 0
        for slug, name, parent_slug in CATEGORIES:
            if slug not in categories:
                parent = categories[parent_slug] if parent_slug else None
                categories[slug] = services.category_create(name=name, slug=slug, parent=parent)
                created_categories += 1

        existing_skus = set(Product.objects.values_list("sku", flat=True))
        created_products = 0
        for sku, name, category_slug, price, stock, description in PRODUCTS:
            if sku in existing_skus:
                continue
            services.product_create(
                sku=sku,
                name=name,
                category=categories[category_slug],
                price=Decimal(price),
                stock=stock,
                description=description,
                is_active=sku not in INACTIVE_SKUS,
            )
            created_products += 1

        self.stdout.write(
            f"demo catalogue: {created_categories} categories and {created_products} products created, "
            f"{len(CATEGORIES) - created_categories} and {len(PRODUCTS) - created_products} already there"
        )
