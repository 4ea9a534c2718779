"""Every service's ``DEFAULT_SCHEMA_CLASS``: drf-standardized-errors' ``AutoSchema``, documenting a 429 only where a
throttle can answer one.

``ScopedThrottle`` is every view's throttle class, so drf-standardized-errors (which documents a 429 wherever a
view has throttles) would list one on every operation; only the operations of a view with a ``throttle_scope``,
in its ``throttle_methods``, can be throttled.
"""

from drf_standardized_errors.openapi import AutoSchema as StandardizedErrorsAutoSchema

from common.throttling.throttles import throttled_method


class AutoSchema(StandardizedErrorsAutoSchema):
    def _should_add_http429_error_response(self) -> bool:
        return throttled_method(self.view, self.method)
