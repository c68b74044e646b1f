"""Orders: the cart, orders and their items, the payment ledger, receipts, the subscriptions an
order creates, and refunds. The checkout workflow's activities call `domain.orders.service`."""
