from common.messaging.testing import broker

__all__ = ["broker"]
