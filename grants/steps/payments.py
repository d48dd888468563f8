"""The steps of paying a grant, each declared once: preparing the due instalments as payment
orders, attesting one (four eyes), cancelling one not yet sent, and registering one paid by
hand. Edges take them by name through `grants.steps.take`.

Who attests is decided in the domain (`models.payments.attest_order`): the decision maker
or an attestant, of any role, never the person who prepared the order. The layer lets every
person try, so that the refusal says why."""

from datetime import date

from grants.steps.layer import FINANCE, OFFICERS, PEOPLE, At, declare
from models.payments import attest_order, cancel_order, prepare_orders, register_paid
from models.states import CaseState
from models.tables import PaymentOrder

S = CaseState
# A grant is paid once decided; the last instalment may follow the final report, when the
# case may already be closed.
PAYING = [S.decided, S.reporting, S.closed]


@declare("prepare_payment_orders", OFFICERS, PAYING)
def prepared(at: At) -> list[PaymentOrder]:
    return prepare_orders(at.session, at.case, at.person)


@declare("attest_payment_order", PEOPLE, PAYING)
def attested(at: At, *, order_id: int) -> PaymentOrder:
    return attest_order(at.session, at.case, at.person, order_id)


@declare("cancel_payment_order", OFFICERS, PAYING)
def cancelled(at: At, *, order_id: int, reason: str) -> PaymentOrder:
    return cancel_order(at.session, at.case, at.person, order_id, reason)


@declare("register_payment_paid", FINANCE, PAYING)
def paid(at: At, *, order_id: int, on: date) -> PaymentOrder:
    return register_paid(at.session, at.case, at.person, order_id, on)
