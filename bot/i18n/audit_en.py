"""English: `replenish audit verify` (the audit trail's hash chain). Merged into `en.MESSAGES`
(see `bot/i18n/__init__.py`); the same keys as `audit_zh_tw`."""

MESSAGES: dict[str, str] = {
    "audit.verify.ok": "Audit trail intact: {count} rows checked, hash chain unbroken. Newest row's hash: {head}",
    "audit.verify.hash": "Audit row {id} was altered: its content does not match its hash ({checked} rows checked).",
    "audit.verify.link": "Audit row {id}: its prev_hash does not match the hash of the row before it (row {previous}): a row between them was deleted or inserted, or row {previous} was rewritten with a new hash ({checked} rows checked).",
    "audit.verify.link_first": "Audit row {id} is the first row left, but its prev_hash is not the chain's start: earlier rows were deleted.",
    "audit.verify.unguarded": "The audit table's triggers that refuse UPDATE and DELETE are missing or disabled: rows could be changed. Ask the database administrator to recreate them (see core/audit_guard.py).",
}
