"""`replenish member add|list|remove`: who may press which buttons.

The CLI is the local administrator: its changes are audited with no actor (actor None).
"""

import json
from typing import Annotated, Any

import typer
from rich.table import Table
from sqlmodel import Session, select

from bot.cli_common import (
    EXIT_REFUSED,
    ConfigOption,
    DbOption,
    LangOption,
    build_or_exit,
    console,
    errors,
    refuse,
)
from bot.i18n import t
from core.members import add_member, list_members, remove_member
from core.models import Location, Member, Supplier
from core.permissions import DomainError

member_app = typer.Typer(no_args_is_help=True, help="Members: platform users and their roles.")

PlatformOption = Annotated[str, typer.Option("--platform", help="slack or telegram.")]
UserOption = Annotated[str, typer.Option("--user", help="The platform's user id, e.g. U123.")]


def register(app: typer.Typer) -> None:
    app.add_typer(member_app, name="member")


@member_app.command("add")
def add_command(
    user: UserOption,
    role: Annotated[list[str], typer.Option("--role", help="Repeat for several roles.")],
    platform: PlatformOption = "slack",
    name: Annotated[str | None, typer.Option("--name", help="Display name.")] = None,
    locale: Annotated[str | None, typer.Option("--locale", help="zh-TW or en.")] = None,
    supplier: Annotated[str | None, typer.Option("--supplier", help="Supplier code.")] = None,
    partner: Annotated[str | None, typer.Option("--partner", help="Partner code.")] = None,
    email: Annotated[
        str | None,
        typer.Option("--email", help='Where red alerts are also mailed ("" removes it).'),
    ] = None,
    db: DbOption = None,
    config: ConfigOption = None,
    lang: LangOption = None,
) -> None:
    """Add a member, or update the roles of one already there (reactivating it)."""
    application = build_or_exit(db, config, lang)
    ui = application.locale
    try:
        with application.store.unit_of_work() as session:
            member = add_member(
                session,
                None,
                platform=platform,
                user_id=user,
                roles=role,
                display_name=name,
                locale=locale,
                supplier_id=_code_to_id(session, Supplier, supplier, ui),
                partner_id=_code_to_id(session, Location, partner, ui),
                email=email,
            )
            shown = _row(member, ui)
    except DomainError as error:
        refuse(error, ui)
    saved = {key: shown[key] for key in ("user", "platform", "roles")}
    console.print(t("cli.member.saved", ui, lang=shown["locale"], **saved))


@member_app.command("list")
def list_command(
    as_json: Annotated[bool, typer.Option("--json", help="Print as JSON.")] = False,
    include_all: Annotated[bool, typer.Option("--all", help="Include removed members.")] = False,
    db: DbOption = None,
    config: ConfigOption = None,
    lang: LangOption = None,
) -> None:
    """List members and their roles."""
    application = build_or_exit(db, config, lang)
    ui = application.locale
    with application.store.read() as session:
        members = list_members(session, include_inactive=include_all)
        rows = [_row(member, ui) for member in members]
        plain = [_plain(member) for member in members]
    if as_json:
        print(json.dumps(plain, ensure_ascii=False))
        return
    if not rows:
        console.print(t("cli.member.none", ui))
        return
    table = Table(title=t("cli.member.title", ui), title_justify="left")
    columns = ("platform", "user", "name", "roles", "locale", "active")
    for column in columns:
        table.add_column(t(f"cli.member.{column}", ui))
    for row in rows:
        table.add_row(*(str(row[column]) for column in columns))
    console.print(table)


@member_app.command("remove")
def remove_command(
    user: UserOption,
    platform: PlatformOption = "slack",
    db: DbOption = None,
    config: ConfigOption = None,
    lang: LangOption = None,
) -> None:
    """Remove a member (deactivated: the audit trail keeps their name)."""
    application = build_or_exit(db, config, lang)
    ui = application.locale
    try:
        with application.store.unit_of_work() as session:
            remove_member(session, None, platform=platform, user_id=user)
    except DomainError as error:
        refuse(error, ui)
    console.print(t("cli.member.removed", ui, platform=platform, user=user))


def _code_to_id(
    session: Session, table: type[Supplier] | type[Location], code: str | None, ui: str
) -> int | None:
    if code is None:
        return None
    found = session.scalar(select(table.id).where(table.code == code))
    if found is None:
        kind = "supplier" if table is Supplier else "partner"
        errors.print(t(f"cli.member.unknown_{kind}", ui, code=code))
        raise typer.Exit(EXIT_REFUSED)
    return found


def _row(member: Member, ui: str) -> dict[str, Any]:
    separator = t("list.separator", ui)
    return {
        "platform": member.platform,
        "user": member.user_id,
        "name": member.display_name,
        "roles": separator.join(t(f"role.{role}", ui) for role in member.roles),
        "locale": member.locale,
        "active": t("cli.member.yes" if member.active else "cli.member.no", ui),
    }


def _plain(member: Member) -> dict[str, Any]:
    return {
        "platform": member.platform,
        "user": member.user_id,
        "name": member.display_name,
        "roles": list(member.roles),
        "locale": member.locale,
        "active": member.active,
        "supplier_id": member.supplier_id,
        "partner_id": member.partner_id,
        "email": member.email,
    }
