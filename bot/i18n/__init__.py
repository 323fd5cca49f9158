"""Every user-facing sentence, in Traditional Chinese (default) and English.

`t(key, locale, **params)` looks a message up; a key missing from one catalog falls back
to English, then to the key itself, so a gap shows up as text rather than a crash. A test
checks that both catalogs have the same keys.
"""

from core.fields import Problem
from core.tabular import TableError

from . import (
    audit_en,
    audit_zh_tw,
    demo_en,
    demo_zh_tw,
    emergency_en,
    emergency_zh_tw,
    en,
    jobs_en,
    jobs_zh_tw,
    kpi_en,
    kpi_zh_tw,
    mail_en,
    mail_zh_tw,
    po_document_en,
    po_document_zh_tw,
    report_en,
    report_zh_tw,
    supplier_en,
    supplier_zh_tw,
    zh_tw,
)

# The supplier flow's, the reports' and the e-mail fallback's texts live in their own modules;
# merged here, so every reader of the catalogs (t, known, the tests) sees one dictionary per
# language.
zh_tw.MESSAGES.update(supplier_zh_tw.MESSAGES)
en.MESSAGES.update(supplier_en.MESSAGES)
zh_tw.MESSAGES.update(report_zh_tw.MESSAGES)
en.MESSAGES.update(report_en.MESSAGES)
zh_tw.MESSAGES.update(mail_zh_tw.MESSAGES)
en.MESSAGES.update(mail_en.MESSAGES)
# The scheduler's jobs and `replenish run | scheduler | jobs`, likewise.
zh_tw.MESSAGES.update(jobs_zh_tw.MESSAGES)
en.MESSAGES.update(jobs_en.MESSAGES)
# The KPIs (`replenish kpi`, `/replenish kpi`), likewise.
zh_tw.MESSAGES.update(kpi_zh_tw.MESSAGES)
en.MESSAGES.update(kpi_en.MESSAGES)
# Emergency orders (緊急補貨), likewise.
zh_tw.MESSAGES.update(emergency_zh_tw.MESSAGES)
en.MESSAGES.update(emergency_en.MESSAGES)
# The supplier's purchase order document (PDF/PNG), likewise.
zh_tw.MESSAGES.update(po_document_zh_tw.MESSAGES)
en.MESSAGES.update(po_document_en.MESSAGES)
# The console demo (`replenish demo`) and receiving goods, likewise.
zh_tw.MESSAGES.update(demo_zh_tw.MESSAGES)
en.MESSAGES.update(demo_en.MESSAGES)
# `replenish audit verify`, likewise.
zh_tw.MESSAGES.update(audit_zh_tw.MESSAGES)
en.MESSAGES.update(audit_en.MESSAGES)

CATALOGS: dict[str, dict[str, str]] = {"zh-TW": zh_tw.MESSAGES, "en": en.MESSAGES}
DEFAULT_LOCALE = "zh-TW"


def t(key: str, locale: str = DEFAULT_LOCALE, **params: object) -> str:
    template = CATALOGS.get(locale, {}).get(key)
    if template is None:  # "" is a real translation (a blank column header), not a gap
        template = en.MESSAGES.get(key, key)
    try:
        return template.format(**params)
    except (KeyError, IndexError):
        return template


def field_label(name: str, locale: str) -> str:
    return t(f"field.{name}", locale) if f"field.{name}" in en.MESSAGES else name


def problem_text(problem: Problem, locale: str = DEFAULT_LOCALE) -> str:
    """`qty: 不可為負數（-3）` — the field, the rule, and the value that broke it."""
    label = field_label(problem.field, locale) if "+" not in problem.field else problem.field
    return t(f"problem.{problem.code}", locale, field=label, value=problem.value, **problem.params)


def table_error_text(error: TableError, locale: str = DEFAULT_LOCALE) -> str:
    return t(f"table.{error.code}", locale, **error.params)
