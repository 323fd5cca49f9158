"""The bot's side of a chat platform: the `ChatHandlers` the adapters call.

One `ChatBot` per platform routes slash commands to `bot.commands`, presses and form
submissions to `bot.actions`, and holds what both share: who the member is and their
language, exactly-once execution of state changes, and the current PO card.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sqlmodel import Session

from adapters.chat import Command, Interaction, Reply
from bot import cards
from bot.actions import ACTIONS, FORMS
from bot.commands import answer
from bot.i18n import t
from bot.po_webhook import po_webhook
from bot.replies import error_text, outcome_text
from core.inbox import Response, run_once
from core.invites import member_for_chat, migrate_chat
from core.members import NotAMember, find_member
from core.models import Member
from core.permissions import refusal
from core.views import po_view
from core.workflow import ApprovalRules

if TYPE_CHECKING:
    from bot.app import App

log = logging.getLogger(__name__)


@dataclass
class ChatBot:
    """The bot's answers to one chat platform (the adapters' `ChatHandlers`)."""

    app: App
    platform: str
    plan_cache: dict[str, Any] = field(default_factory=dict)  # see bot.commands

    @property
    def rules(self) -> ApprovalRules:
        approval = self.app.settings.approval
        return ApprovalRules(
            approval.second_approver_over,
            approval.emergency_needs_second,
            po_webhook=po_webhook(self.app.settings),  # the ERP hears of each final approval
        )

    def command(self, command: Command) -> Reply:
        return self._safely(command.user, lambda: answer(self, command))

    def action(self, interaction: Interaction) -> Reply:
        handler = ACTIONS.get(interaction.action_id)
        if handler is None:
            locale = self.locale_of(interaction.user)
            return Reply(text=t("chat.unknown_action", locale), refused=True)
        return self._safely(interaction.user, lambda: handler(self, interaction))

    def submit(self, interaction: Interaction) -> Reply:
        handler = FORMS.get(interaction.action_id)
        if handler is None:
            locale = self.locale_of(interaction.user)
            return Reply(text=t("chat.unknown_action", locale), refused=True)
        return self._safely(interaction.user, lambda: handler(self, interaction))

    # --- shared by actions and commands -------------------------------------------------

    def locale_of(self, user: str) -> str:
        with self.app.store.read() as session:
            member = find_member(session, self.platform, user)
            return member.locale if member else self.app.settings.locale

    def once(
        self, event: Interaction | Command, use_case: Callable[[Session, Member], Any]
    ) -> Response:
        """Run a state change exactly once for this press or command (keyed by the
        platform's identity of it); the answer is stored with it."""
        chat = chat_of(event)

        def step(session: Session) -> Response:
            actor = self.actor(session, event.user, chat=chat, name=event.user_name)
            result = use_case(session, actor)
            return result.as_dict() if hasattr(result, "as_dict") else dict(result)

        return run_once(self.app.store, self.platform, event.key, step)

    def actor(self, session: Session, user: str, *, chat: str = "", name: str = "") -> Member:
        """The member acting, as seen from this chat: in a supplier's or partner's group a
        newcomer is linked to it, and someone of another supplier is nobody here."""
        if chat:
            member = member_for_chat(session, self.platform, user, name, chat)
        else:
            member = find_member(session, self.platform, user)
        if member is None:  # a stranger's press is refused, and the refusal audited
            raise refusal(NotAMember(platform=self.platform, user=user), None, "member", user)
        return member

    def chat_migrated(self, old_chat_id: str, new_chat_id: str) -> None:
        with self.app.store.unit_of_work() as session:
            migrate_chat(session, self.platform, old_chat_id, new_chat_id)

    def po_reply(self, number: str, answer: Response, user: str, *, replace: bool) -> Reply:
        locale = self.locale_of(user)
        with self.app.store.read() as session:
            data = po_view(session, number)
        card = cards.po_card(data, locale, self.app.settings.tz) if data else None
        text, refused = self.answer_text(answer, locale), "error" in answer
        return Reply(card=card, text=text, replace=replace, refused=refused)

    def answer_text(self, answer: Response, locale: str) -> str:
        if "error" in answer:
            return error_text(answer["error"], locale, self.app.settings.tz)
        return outcome_text(answer, locale, self.app.settings.tz)

    def _safely(self, user: str, handle: Callable[[], Reply]) -> Reply:
        """Never a stack trace in chat: log it and say sorry in the member's language."""
        try:
            return handle()
        except Exception:
            log.exception("chat handler failed")
            return Reply(text=t("chat.unexpected", self._locale_or_default(user)), refused=True)

    def _locale_or_default(self, user: str) -> str:
        try:
            return self.locale_of(user)
        except Exception:  # the database may be what failed
            return self.app.settings.locale


def chat_of(event: Interaction | Command) -> str:
    """The chat an event happened in (a Slack channel, a Telegram group)."""
    if isinstance(event, Command):
        return event.channel
    return event.message.channel if event.message else event.team
