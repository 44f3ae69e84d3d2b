"""Column types shared by the models."""
from datetime import datetime, timezone
from decimal import Decimal

from sqlalchemy import BigInteger
from sqlalchemy.types import TypeDecorator


class ScaledDecimal(TypeDecorator):
    """A Decimal stored as an exact integer (value × 10^scale): cents for money.

    SQLite has no exact decimal type, so every engine stores the same integers.
    """

    impl = BigInteger
    cache_ok = True

    def __init__(self, scale: int = 2):
        super().__init__()
        self.scale = scale

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        scaled = Decimal(value).scaleb(self.scale)
        if scaled != scaled.to_integral_value():
            raise ValueError(f"{value} a plus de {self.scale} décimales")
        return int(scaled)

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        return Decimal(value).scaleb(-self.scale)


def Money():  # noqa: N802 - reads like a type in the models
    return ScaledDecimal(2)


def utcnow() -> datetime:
    return datetime.now(timezone.utc).replace(tzinfo=None)
