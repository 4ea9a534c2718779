from common.messaging.testing import broker

pytest_plugins = ["common.testing.fixtures"]

__all__ = ["broker"]
