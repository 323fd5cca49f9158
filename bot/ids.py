"""Every button and form id the bot routes on, and their short Telegram callback codes.

Slack carries the id as the button's action_id; Telegram's callback data has 64 bytes, so
each id has a two-letter code there (`pa|PO20261125-001`). Codes never change meaning: a
button posted last week must still do what it said.
"""

# The manager's side: PO approval and alerts.
APPROVE = "po.approve"
REJECT = "po.reject"
EDIT = "po.edit"
DRAFT_PO = "alert.draft_po"
SNOOZE = "alert.snooze"
DISMISS = "alert.dismiss"
EMERGENCY = "alert.emergency"  # 緊急補貨: opens EMERGENCY_FORM (quantity, reason)
REASSIGN = "po.reassign"  # give the declined (or late) lines to the backup supplier
PRICE_ACCEPT = "price.accept"
PRICE_REFUSE = "price.refuse"

# The supplier's side.
CONFIRM = "supplier.confirm"  # then a lead-time choice
LEAD_TIME = "supplier.lead_time"  # value: "<po>:<extra days>" or "<po>:date"
PROPOSE_PRICE = "supplier.price"  # then the line, then the price
PRICE_LINE = "supplier.price_line"  # value: "<po>:<sku>"
DECLINE = "supplier.decline"
SHIPPED = "supplier.shipped"

# Dropship partners.
PICK_ACK = "pick.ack"

# Forms (Slack modals; Telegram replies to a prompt).
REJECT_FORM = "po.reject_form"
EDIT_FORM = "po.edit_form"
DISMISS_FORM = "alert.dismiss_form"
EMERGENCY_FORM = "alert.emergency_form"
ARRIVAL_FORM = "supplier.arrival_form"
PRICE_FORM = "supplier.price_form"
DECLINE_FORM = "supplier.decline_form"
SHIPPED_FORM = "supplier.shipped_form"

CALLBACK_CODES = {
    APPROVE: "pa",
    REJECT: "pr",
    EDIT: "pe",
    DRAFT_PO: "ad",
    SNOOZE: "as",
    DISMISS: "ax",
    EMERGENCY: "ae",
    REASSIGN: "rb",
    PRICE_ACCEPT: "qa",
    PRICE_REFUSE: "qr",
    CONFIRM: "sc",
    LEAD_TIME: "sl",
    PROPOSE_PRICE: "sp",
    PRICE_LINE: "sq",
    DECLINE: "sd",
    SHIPPED: "ss",
    PICK_ACK: "pk",
}
