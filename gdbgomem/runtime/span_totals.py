"""Sums over every span (per size class, per group, objects), from Span objects or, at many
spans, from columns (runtime.span_columns): the same figures either way.

Below COLUMNS_FROM spans, importing numpy (about 0.15 s, once per debugger session) costs
more than making a Span of each (a few microseconds a span); above, the columns take a
fraction of the objects' time.
"""

from __future__ import annotations

from typing import Dict, Set, Tuple

from gdbgomem.runtime import spans
from gdbgomem.runtime.goruntime import GoRuntime

COLUMNS_FROM = 20_000


def _columns(rt: GoRuntime):
    """The span columns, None where there are too few spans for them to pay or numpy cannot be imported."""
    if spans.allspans_length(rt) < COLUMNS_FROM:
        return None
    try:
        from gdbgomem.runtime import span_columns
    except ImportError:
        return None
    return span_columns


def class_totals(rt: GoRuntime) -> Dict[tuple, list]:
    """spans.class_totals of every span."""
    columns = _columns(rt)
    return columns.class_totals(columns.span_columns(rt)) if columns else spans.class_totals(spans.all_spans(rt))


def group_totals(rt: GoRuntime) -> Dict[str, tuple]:
    """spans.group_totals of every span."""
    columns = _columns(rt)
    return columns.group_totals(columns.span_columns(rt)) if columns else spans.group_totals(spans.all_spans(rt))


def object_totals(rt: GoRuntime, cached: Set[int]) -> Tuple[int, int]:
    """spans.object_totals of every span."""
    columns = _columns(rt)
    return columns.object_totals(columns.span_columns(rt), cached) if columns else \
        spans.object_totals(spans.all_spans(rt), cached)
