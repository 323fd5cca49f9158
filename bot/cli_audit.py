"""`replenish audit verify [--db]`: walk the audit trail's hash chain (core/audit_chain.py).

Exit 0 when every row checks out (the count and the newest hash printed, to note down
elsewhere: a cut-off end leaves a valid but shorter chain); exit 1 naming the first broken
row, or when the append-only triggers are missing or disabled."""

import typer

from bot.cli_common import (
    EXIT_REJECTED,
    ConfigOption,
    DbOption,
    LangOption,
    build_or_exit,
    console,
    errors,
)
from bot.i18n import t
from core.audit_chain import Break, VerifyResult, verify
from core.audit_guard import guards_present

audit_app = typer.Typer(no_args_is_help=True, help="The audit trail (append-only, hash-chained).")


def register(app: typer.Typer) -> None:
    app.add_typer(audit_app, name="audit")


@audit_app.command("verify")
def verify_command(
    db: DbOption = None, config: ConfigOption = None, lang: LangOption = None
) -> None:
    """Check every audit row's hash and link in id order, and the append-only triggers."""
    application = build_or_exit(db, config, lang)
    ui = application.locale
    with application.store.read() as session:
        result = verify(session)
        guarded = guards_present(session.connection())
    if not result.ok:
        errors.print(broken_text(result, ui), markup=False)
        raise typer.Exit(EXIT_REJECTED)
    console.print(t("audit.verify.ok", ui, count=result.checked, head=result.head), markup=False)
    if not guarded:
        errors.print(t("audit.verify.unguarded", ui), markup=False)
        raise typer.Exit(EXIT_REJECTED)


def broken_text(result: VerifyResult, ui: str) -> str:
    """Which row broke the chain and what that means, in the reader's language."""
    params = {"id": result.broken_id, "previous": result.previous_id, "checked": result.checked}
    if result.reason is Break.HASH:
        return t("audit.verify.hash", ui, **params)
    if result.previous_id is None:
        return t("audit.verify.link_first", ui, **params)
    return t("audit.verify.link", ui, **params)
