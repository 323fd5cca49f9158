"""Who may do what: the domain errors, the actions, and the one permission table.

Errors carry a `code` and `params`, never prose: the bot renders them through its catalogs
(`error.<code>` in zh-TW and en). Refusals that matter for security (`audited = True`) are
written to the audit log by `workflow.attempt` even though the attempted change is undone.
"""

from collections.abc import Iterable
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from core.models import Member, Role


class DomainError(Exception):
    """A refusal the user should read about; `code` picks the message, `params` fill it."""

    code = "domain_error"
    audited = False

    def __init__(self, **params: Any) -> None:
        super().__init__(self.code, params)
        self.params = params
        self.audit_ref: tuple[int | None, str, str] | None = None  # actor id, entity, id
        # Facts for the audit row only, never shown to the user (e.g. why a code was refused).
        self.audit_extra: dict[str, Any] = {}
        self.audit_at: datetime | None = None  # the use case's clock, when it has one

    def as_dict(self) -> dict[str, Any]:
        return {"code": self.code, "params": {k: _plain(v) for k, v in self.params.items()}}


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, list | tuple | frozenset | set):
        return [_plain(v) for v in value]
    return value


class PermissionDenied(DomainError):  # noqa: N818 (domain language)
    code = "permission_denied"
    audited = True


class SelfApproval(DomainError):  # noqa: N818 (domain language)
    code = "self_approval"
    audited = True


class UnknownRole(DomainError):  # noqa: N818 (domain language)
    code = "unknown_role"


class Action(StrEnum):
    SUBMIT = "submit"
    APPROVE = "approve"
    REJECT = "reject"
    EDIT = "edit"
    CANCEL = "cancel"
    SEND = "send"
    CONFIRM = "confirm"
    DECLINE = "decline"
    REASSIGN = "reassign"
    RECEIVE = "receive"
    CLOSE = "close"
    PROPOSE_PRICE = "propose_price"
    DECIDE_PRICE = "decide_price"
    SHIP = "ship"
    MANAGE_MEMBERS = "manage_members"
    DRAFT_PO = "draft_po"
    SNOOZE_ALERT = "snooze_alert"
    DISMISS_ALERT = "dismiss_alert"
    ACK_PICKS = "ack_picks"


# The one place that says which role may do what. Supplier actions also need the member to
# belong to the PO's supplier (see `require`).
PERMISSIONS: dict[Action, frozenset[Role]] = {
    Action.SUBMIT: frozenset({Role.MANAGER, Role.INVENTORY_CLERK, Role.BUYER}),
    Action.APPROVE: frozenset({Role.MANAGER}),
    Action.REJECT: frozenset({Role.MANAGER}),
    Action.EDIT: frozenset({Role.MANAGER, Role.INVENTORY_CLERK}),
    Action.CANCEL: frozenset({Role.MANAGER}),
    Action.SEND: frozenset({Role.BUYER, Role.MANAGER}),
    Action.CONFIRM: frozenset({Role.SUPPLIER}),
    Action.DECLINE: frozenset({Role.SUPPLIER}),
    Action.REASSIGN: frozenset({Role.BUYER, Role.MANAGER}),
    Action.RECEIVE: frozenset({Role.LOGISTICS, Role.INVENTORY_CLERK, Role.MANAGER}),
    Action.CLOSE: frozenset({Role.BUYER, Role.MANAGER}),
    Action.PROPOSE_PRICE: frozenset({Role.SUPPLIER}),
    Action.DECIDE_PRICE: frozenset({Role.MANAGER}),  # price escalations (價格浮動範圍)
    Action.SHIP: frozenset({Role.SUPPLIER}),
    Action.MANAGE_MEMBERS: frozenset({Role.MANAGER}),
    Action.DRAFT_PO: frozenset({Role.MANAGER, Role.INVENTORY_CLERK, Role.BUYER}),
    Action.SNOOZE_ALERT: frozenset({Role.MANAGER, Role.INVENTORY_CLERK, Role.BUYER}),
    Action.DISMISS_ALERT: frozenset({Role.MANAGER, Role.INVENTORY_CLERK}),
    Action.ACK_PICKS: frozenset({Role.DROPSHIP, Role.LOGISTICS, Role.MANAGER}),
}
SUPPLIER_ACTIONS = frozenset({Action.CONFIRM, Action.DECLINE, Action.PROPOSE_PRICE, Action.SHIP})
# Partner actions: a dropship partner's people act for their own partner only; the shop's
# logistics coordinators and managers act for any partner.
PARTNER_ACTIONS = frozenset({Action.ACK_PICKS})
PARTNER_STAFF = frozenset({Role.LOGISTICS, Role.MANAGER})


def can(
    member: Member,
    action: Action,
    *,
    supplier_id: int | None = None,
    partner_id: int | None = None,
) -> bool:
    """True when an active member holds a role allowed to do `action` (for a supplier
    action: and belongs to that supplier; for a partner action: staff, or that partner's)."""
    if not member.active or not set(member.roles) & PERMISSIONS[action]:
        return False
    if action in PARTNER_ACTIONS:
        return bool(set(member.roles) & PARTNER_STAFF) or (
            member.partner_id is not None and member.partner_id == partner_id
        )
    return action not in SUPPLIER_ACTIONS or (
        member.supplier_id is not None and member.supplier_id == supplier_id
    )


def require(
    member: Member,
    action: Action,
    *,
    entity: str,
    entity_id: str,
    supplier_id: int | None = None,
    partner_id: int | None = None,
) -> None:
    """Raise an audited `PermissionDenied` unless `member` may do `action`."""
    if can(member, action, supplier_id=supplier_id, partner_id=partner_id):
        return
    error = PermissionDenied(
        action=action.value,
        user=member.display_name or member.user_id,
        needed=sorted(PERMISSIONS[action]),
    )
    raise refusal(error, member, entity, entity_id)


def refusal(
    error: DomainError,
    member: Member | None,
    entity: str,
    entity_id: str,
    *,
    at: datetime | None = None,
) -> DomainError:
    """Attach what the audit row of an audited refusal needs."""
    error.audit_ref = (member.id if member else None, entity, entity_id)
    error.audit_at = at
    return error


def parse_roles(names: Iterable[str]) -> list[str]:
    """Validated, de-duplicated role names in the order given."""
    valid = [role.value for role in Role]
    roles: list[str] = []
    for name in names:
        cleaned = name.strip().lower().replace("-", "_")
        if cleaned not in valid:
            raise UnknownRole(role=name, valid=valid)
        if cleaned not in roles:
            roles.append(cleaned)
    return roles
