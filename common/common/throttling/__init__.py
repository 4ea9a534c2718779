"""The services' own rate limits: DRF's scoped throttles, counted in the service's Redis cache.

A view names its scope (``throttle_scope = "token"``) and, when not every method counts, the methods that do
(``throttle_methods = ("POST",)``; the default is every method). ``throttles.ScopedThrottle``, every
service's ``DEFAULT_THROTTLE_CLASSES``, then limits the view:

- per user when the caller presents a valid token (placing orders), else per client address (register, token,
  refresh). The address is ``REMOTE_ADDR`` as Django sees it: behind the gateway, its trusted-proxy middleware
  has already put the real client's address there. A client's own ``X-Forwarded-For`` is never read here
  (DRF's ``get_ident`` would take it when ``NUM_PROXIES`` is unset);
- at the rate ``THROTTLE_RATES[scope]`` (``"10/hour"``), read at each request, so settings and tests change it;
- in Django's default cache, Redis, shared by every worker process of the service;
- ``SHOP_RATE_LIMITS=off`` (``settings.RATE_LIMITS_ON`` false) switches every throttle off; the process says so
  in its log at start (``ThrottlingConfig.ready``).

A refusal is DRF's ``Throttled``: a 429 in the common error shape with ``Retry-After``, answered by the services'
exception handler. ``throttled`` is where a refusal is counted (``shop_throttled_total{service,scope}``).
When Redis does not answer the throttle lets the request through with a warning: a limit is not worth an
outage, and orders must be accepted while Redis is down.
"""
