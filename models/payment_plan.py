"""A call's payment plan (Call.payment_plan) applied to a grant: each instalment's share
in percent, when it may be paid, and its amount in whole kronor. Read both where the orders
are prepared (models.payments) and where the decision letter states the plan
(models.decisions), so that what the letter promises is what is paid."""

from typing import Any


def instalment_amounts(amount: int, plan: list[dict[str, Any]]) -> list[int]:
    """Each instalment's share of `amount` in whole kronor, rounded down, the last taking
    what is left: together exactly the amount granted."""
    shares = [amount * instalment["percent"] // 100 for instalment in plan[:-1]]
    return [*shares, amount - sum(shares)]


def instalments(amount: int, plan: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The plan with each instalment's amount: `percent`, `after` ("acceptance" or
    "final_report") and `amount`, in the plan's order."""
    return [
        {"percent": step["percent"], "after": step["after"], "amount": share}
        for step, share in zip(plan, instalment_amounts(amount, plan), strict=True)
    ]
