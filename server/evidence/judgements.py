"""O&M records whose computed judgement fails (计算判定不合格, seed 003 表单详情): a zero or span drift,
a comparison error or a standard-sample check outside the limit of HJ 355-2019 / HJ 75-2017. Such a
record is evidence: the regulator's queue and the agency's home show it with the value, the limit and
the clause, 待核实 when the limit set is not confirmed against the standard's text.

Only records past draft count (submitted, confirmed by the enterprise, approved): a draft is still
being typed on the phone. A voided record is no longer evidence of anything and leaves the lists.

The judgements are a JSON list on the record (``OmRecord.judgements``); which records hold a failing
one is asked of the database itself, so that a list reads a page of rows, never every record."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db import NotSupportedError
from django.db.models import BooleanField, Expression, F, QuerySet

from server.om import forms
from server.om.models import OmRecord

# What "past draft" means here: the record has reached someone other than the technician.
COUNTED = (OmRecord.Status.SUBMITTED, OmRecord.Status.CONFIRMED, OmRecord.Status.APPROVED)


class HasFailedJudgement(Expression):
    """True when a JSON list of judgements holds one with ``"passed": false``. SQLite walks the list
    with json_each; PostgreSQL asks jsonb containment (served by the column's own data)."""

    output_field = BooleanField()

    def __init__(self, column: str = "judgements") -> None:
        super().__init__()
        self.column = F(column)

    def get_source_expressions(self):
        return [self.column]

    def set_source_expressions(self, exprs):
        (self.column,) = exprs

    def resolve_expression(self, query=None, allow_joins=True, reuse=None, summarize=False, for_save=False):
        clone = self.copy()
        clone.column = self.column.resolve_expression(query, allow_joins, reuse, summarize, for_save)
        return clone

    def as_sql(self, compiler, connection):  # pragma: no cover - the two engines Fieldtrace runs on
        raise NotSupportedError(f"HasFailedJudgement is not written for {connection.vendor}")

    def as_sqlite(self, compiler, connection):
        column, params = compiler.compile(self.column)
        # ``column`` is the compiled column reference, never user input.
        sql = (
            f"EXISTS (SELECT 1 FROM json_each(CASE WHEN json_valid({column}) THEN {column} ELSE '[]' END) "  # noqa: S608
            "WHERE json_type(json_each.value, '$.passed') = 'false')"
        )
        return sql, [*params, *params]

    def as_postgresql(self, compiler, connection):
        column, params = compiler.compile(self.column)
        return f"({column} @> %s::jsonb)", [*params, '[{"passed": false}]']


def failing_records(records: QuerySet[OmRecord]) -> QuerySet[OmRecord]:
    """Of ``records`` (already scoped), those past draft and not voided with a failing judgement."""
    return records.filter(status__in=COUNTED).filter(HasFailedJudgement())


@dataclass
class Failure:
    """One failing judgement as a person reads it."""

    label: str  # 零点漂移, with the instrument when the form repeats per instrument
    value: str  # 12.5%
    limit: str  # ±10%
    source: str  # the standard's clause
    provisional: bool  # 待核实: the limit set is not confirmed against the standard's text
    raw: dict = field(default_factory=dict)

    @property
    def text(self) -> str:
        flag = "（待核实）" if self.provisional else ""
        clause = f"（{self.source}）" if self.source else ""
        return f"{self.label} {self.value}，限值 {self.limit}{clause}{flag}"

    def as_dict(self) -> dict:
        return {
            "label": self.label,
            "value": self.raw.get("value"),
            "value_text": self.value,
            "limit": self.raw.get("limit"),
            "limit_text": self.limit,
            "limit_type": self.raw.get("limit_type"),
            "limit_unit": self.raw.get("limit_unit"),
            "kind": self.raw.get("kind"),
            "instrument": self.raw.get("instrument"),
            "provisional": self.provisional,
            "source": self.source,
            "text": self.text,
        }


def failures(record: OmRecord) -> list[Failure]:
    """The record's failing judgements, in the form's order. ``record.instruments`` should be
    prefetched: an instrument block's judgement is named with its instrument."""
    names = {i.pk: i.display_name for i in record.instruments.all()}
    out = []
    for j in record.judgements or []:
        if not isinstance(j, dict) or j.get("passed") is not False:
            continue
        shown = forms.judgement_out(j)
        label = shown["label"] or j.get("key", "")
        instrument = names.get(j.get("instrument"))
        if instrument:
            label = f"{instrument} {label}"
        out.append(
            Failure(
                label=label,
                value=shown["value_text"],
                limit=shown["limit_text"],
                source=shown["source"],
                provisional=shown["provisional"],
                raw=j,
            )
        )
    return out


def judged_count(record: OmRecord) -> int:
    return sum(1 for j in record.judgements or [] if isinstance(j, dict))
