"""The refusals of the PO workflow (`core.workflow`, `core.supplier_flow`): each a DomainError
with a stable `code` the bot words in the reader's language and its params (`po`, `sku`, …)."""

from core.permissions import DomainError


class IllegalTransition(DomainError):  # noqa: N818 (domain language)
    code = "illegal_transition"


class AlreadyDone(DomainError):  # noqa: N818 (domain language)
    """Someone else got there first: params name who (`by`) and when (`at`)."""

    code = "already_done"


class SecondApproverRequired(DomainError):  # noqa: N818 (domain language)
    code = "second_approver_required"


class ChangedMeanwhile(DomainError):  # noqa: N818 (domain language)
    """The PO changed under us without making this action moot: look again and retry."""

    code = "po_changed"


class PoNotFound(DomainError):  # noqa: N818 (domain language)
    code = "po_not_found"


class ReasonRequired(DomainError):  # noqa: N818 (domain language)
    code = "reason_required"


class NotOnOrder(DomainError):  # noqa: N818 (domain language)
    code = "sku_not_on_po"


class BadQuantity(DomainError):  # noqa: N818 (domain language)
    code = "bad_quantity"
