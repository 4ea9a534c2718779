"""A realistic shopper, for load-testing your own deployment with Locust.

Each simulated shopper browses and filters the catalogue anonymously, registers,
logs in, places an order for one or two products in stock (with an
Idempotency-Key) and checks it until it is confirmed.

    .var/venv/bin/locust -f bench/locustfile.py --headless -u 50 -r 5 -t 2m \\
        --host http://127.0.0.1:8002

``--host`` is the catalog; the users and orders services are found at
``USERS_URL`` and ``ORDERS_URL`` (defaults: the ports of ``./manage_all.sh up``).
Only point it at a deployment you own.
"""

import os
import random
import time
import uuid

from locust import HttpUser, between, task

USERS_URL = os.environ.get("USERS_URL", "http://127.0.0.1:8001")
ORDERS_URL = os.environ.get("ORDERS_URL", "http://127.0.0.1:8003")
ORDER_CHECK_SECONDS = 10


class Shopper(HttpUser):
    wait_time = between(0.5, 2)

    def on_start(self) -> None:
        self.access_token = None
        self.categories = [
            c["slug"] for c in self.client.get("/api/v1/categories/", name="categories").json()["results"]
        ]

    # ---------------------------------------------------------------- browsing (anonymous)

    def _browse(self) -> list[dict]:
        params = {"page_size": 20, "in_stock": "true"}
        if self.categories and random.random() < 0.6:  # noqa: S311 - load shape, not security
            params["category"] = random.choice(self.categories)  # noqa: S311
        if random.random() < 0.3:  # noqa: S311
            params["ordering"] = random.choice(["price", "-price", "name", "-created_at"])  # noqa: S311
        return self.client.get("/api/v1/products/", params=params, name="product list").json()["results"]

    @task(6)
    def browse(self) -> None:
        products = self._browse()
        if products:
            product = random.choice(products)  # noqa: S311
            self.client.get(f"/api/v1/products/{product['id']}/", name="product detail")

    @task(2)
    def search(self) -> None:
        term = random.choice(["shirt", "mug", "book", "lamp", "tea"])  # noqa: S311
        self.client.get("/api/v1/products/", params={"search": term}, name="product search")

    # ---------------------------------------------------------------- an account and an order

    def _log_in(self) -> None:
        username = f"shopper-{uuid.uuid4().hex[:12]}"
        password = f"Pw-{uuid.uuid4().hex}"
        self.client.post(
            f"{USERS_URL}/api/v1/auth/register/",
            json={"username": username, "email": f"{username}@example.com", "password": password},
            name="register",
        )
        tokens = self.client.post(
            f"{USERS_URL}/api/v1/auth/token/", json={"username": username, "password": password}, name="log in"
        ).json()
        self.access_token = tokens.get("access")

    @task(1)
    def order(self) -> None:
        if self.access_token is None:
            self._log_in()
        products = [p for p in self._browse() if p.get("stock", 0) > 0]
        if not products:
            return
        chosen = random.sample(products, k=min(len(products), random.choice((1, 2))))  # noqa: S311
        headers = {"Authorization": f"Bearer {self.access_token}", "Idempotency-Key": uuid.uuid4().hex}
        response = self.client.post(
            f"{ORDERS_URL}/api/v1/orders/",
            json={"items": [{"product_id": p["id"], "quantity": 1} for p in chosen]},
            headers=headers,
            name="place order",
        )
        if response.status_code != 201:
            return
        order_url = f"{ORDERS_URL}/api/v1/orders/{response.json()['id']}/"
        deadline = time.monotonic() + ORDER_CHECK_SECONDS
        while time.monotonic() < deadline:
            status = self.client.get(order_url, headers=headers, name="check order").json().get("status")
            if status != "pending":
                break
            time.sleep(0.2)
