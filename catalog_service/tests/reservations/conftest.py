from common_testing.messaging import broker

__all__ = ["broker"]
