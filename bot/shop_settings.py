"""`shop.*` settings: who we are on the purchase order a supplier receives (the PO document,
`bot/po_document.py`).

Kept beside bot/settings.py (which includes it as `Settings.shop`) so that module stays
small; nothing here is read at import time.
"""

from pydantic import BaseModel, Field


class ShopSettings(BaseModel):
    """The letterhead of the PO document. All optional: an unset name reads "our
    group-buying shop", an unset delivery place falls back to the default location's name."""

    name: str = Field(
        "", max_length=100, description="The shop's name at the top of every PO document."
    )
    address: str = Field(
        "", max_length=200, description="The shop's address, under its name on PO documents."
    )
    phone: str = Field("", max_length=50, description="A phone number suppliers can call.")
    deliver_to: str = Field(
        "",
        max_length=200,
        description="Where suppliers deliver (the warehouse's address). Unset: the name of "
        "the `default_location`.",
    )
    po_notes: str = Field(
        "",
        max_length=1000,
        description="Standing notes printed under the lines of every PO document (invoice "
        "title, tax ID, receiving hours…).",
    )
