"""The tradable product and the grid that every price and size sent for it must lie on."""

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from gpttrader.domain.enums import ProductType
from gpttrader.domain.errors import DomainError
from gpttrader.domain.values import require_decimal, require_utc


@dataclass(frozen=True, slots=True)
class Product:
    product_id: str
    base_currency: str
    quote_currency: str
    base_increment: Decimal
    quote_increment: Decimal
    base_min_size: Decimal
    base_max_size: Decimal
    quote_min_size: Decimal
    product_type: ProductType = ProductType.SPOT
    contract_size: Decimal | None = None
    expiry: datetime | None = None
    tradable: bool = True  # false while the venue has trading disabled, or the market cancel-only
    # A CFM future that pays funding like a perpetual (Coinbase's US perpetual-style futures, BIP/ETP: a
    # five-year expiry, funding accrued hourly and settled twice a day; gpttrader.domain.funding).
    perpetual_style: bool = False

    def __post_init__(self) -> None:
        if not self.product_id:
            raise DomainError("product_id must not be empty")
        for name in ("base_increment", "quote_increment"):
            require_decimal(f"{self.product_id}.{name}", getattr(self, name), positive=True)
        for name in ("base_min_size", "base_max_size", "quote_min_size"):
            require_decimal(f"{self.product_id}.{name}", getattr(self, name), non_negative=True)
        if self.base_max_size < self.base_min_size:
            raise DomainError(
                f"{self.product_id}.base_max_size {self.base_max_size} is below base_min_size {self.base_min_size}"
            )
        if self.perpetual_style and self.product_type is not ProductType.FUTURE:
            raise DomainError(f"{self.product_id}: only a FUTURE is perpetual-style")
        if self.product_type is ProductType.SPOT:
            if self.contract_size is not None or self.expiry is not None:
                raise DomainError(f"{self.product_id}: a SPOT product has no contract_size or expiry")
            return
        if self.contract_size is None:
            raise DomainError(f"{self.product_id}: a {self.product_type} product needs a contract_size")
        require_decimal(f"{self.product_id}.contract_size", self.contract_size, positive=True)
        if self.product_type is ProductType.FUTURE:
            if self.expiry is None:
                raise DomainError(f"{self.product_id}: a FUTURE product needs an expiry")
            object.__setattr__(self, "expiry", require_utc(f"{self.product_id}.expiry", self.expiry))
        elif self.expiry is not None:
            raise DomainError(f"{self.product_id}: a PERPETUAL product has no expiry")

    @property
    def multiplier(self) -> Decimal:
        """Units of the base asset that one unit of size stands for (1 for spot)."""
        return self.contract_size if self.contract_size is not None else Decimal(1)

    @property
    def is_derivative(self) -> bool:
        return self.product_type is not ProductType.SPOT
