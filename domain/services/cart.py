"""Use cases of the cart: view it, set a quantity, empty it."""

from __future__ import annotations

from domain.clock import Clock
from domain.model.cart import Cart, CartLine, cart_event_data, check_quantity
from domain.model.errors import InsufficientStock, NotFound, ValidationFailed
from domain.model.events import Event
from domain.model.users import User
from domain.ports import UnitOfWork, UnitOfWorkFactory


def load_cart(uow: UnitOfWork, customer_id: str) -> Cart:
    lines = []
    for product_id, quantity in uow.carts.items(customer_id):
        product = uow.products.get(product_id)
        if product is not None:
            lines.append(CartLine(product, quantity))
    return Cart(lines)


class CartService:
    def __init__(self, uow: UnitOfWorkFactory, clock: Clock) -> None:
        self.uow = uow
        self.clock = clock

    def view(self, user: User) -> Cart:
        with self.uow(read_only=True) as uow:
            return load_cart(uow, user.id)

    def set_quantity(self, user: User, product_id: str, quantity: object) -> Cart:
        quantity = check_quantity(quantity)
        with self.uow() as uow:
            product = uow.products.get(product_id)
            if product is None:
                raise NotFound("product not found")
            if quantity == 0:
                uow.carts.remove(user.id, product_id)
            else:
                if not product.active:
                    raise ValidationFailed.on("productId", f"{product.name} is no longer available")
                if quantity > product.stock:
                    raise InsufficientStock(f"only {product.stock} of {product.name} in stock")
                cart = load_cart(uow, user.id)
                if cart.currency and cart.currency != product.currency and any(
                        line.product.id != product_id for line in cart.lines):
                    raise ValidationFailed.on("productId", f"the cart is in {cart.currency}; "
                                                           f"{product.name} is priced in {product.currency}")
                uow.carts.set(user.id, product_id, quantity, self.clock.now())
            cart = load_cart(uow, user.id)
            uow.publish(Event("cart.updated", cart_event_data(cart), self.clock.now(), customer_id=user.id))
            uow.commit()
        return cart

    def clear(self, user: User) -> None:
        with self.uow() as uow:
            uow.carts.clear(user.id)
            uow.publish(Event("cart.updated", cart_event_data(Cart([])), self.clock.now(), customer_id=user.id))
            uow.commit()
