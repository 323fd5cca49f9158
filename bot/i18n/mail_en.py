"""English: the e-mail fallback's (bot/mail.py) subjects, intro lines and footers, and the
`--email` refusal. Merged into `en.MESSAGES` (see `bot/i18n/__init__.py`); the same keys as
`mail_zh_tw`."""

MESSAGES: dict[str, str] = {
    # subjects: the card's own title after a tag the inbox can be sorted by
    "mail.subject.red_alert": "[Red alert] {title}",
    "mail.subject.undelivered": "[Chat message not delivered] {title}",
    "mail.subject.emergency": "[Emergency order] {title}",
    # the first paragraph: why this mail came
    "mail.intro.red_alert": "This is a red alert: stock may run out before a reorder could arrive. Please act soon.",
    "mail.intro.undelivered": "This message for {platform} {target} has not been delivered since {since} ({status}), so it comes to you by e-mail. The chat message may still arrive.",
    "mail.intro.emergency": "An emergency order needs you soon.",
    "mail.status.pending": "still retrying",
    "mail.status.failed": "no longer retried; an operator has to look",
    "mail.platform.slack": "Slack",
    "mail.platform.telegram": "Telegram",
    # the footer
    "mail.footer.act_in_chat": "A mail has no buttons: act on the same message in Slack or Telegram, or with a /replenish command.",
    "mail.footer.auto": "Sent automatically by the Replenish bot; replies are not read.",
    # replenish member add --email
    "error.invalid_email": "{value} is not an e-mail address we can use (e.g. name@shop.tw, at most 100 characters)",
}
