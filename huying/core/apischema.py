"""Pieces every API router shares: the one error body and input types bounded at the boundary.

Bounds are checked by pydantic, so a value outside them is a 422 with the error body (and the
bound is written into the OpenAPI schema) instead of an overflow in the database or in date
arithmetic: ids fit a signed 64-bit column, pages stop at MAX_PAGE, years and dates lie in
1900–2100.
"""

from datetime import UTC, date, datetime
from typing import Annotated, Any

from ninja import Field, Schema
from pydantic import AfterValidator

MAX_ID = 2**63 - 1  # PostgreSQL bigint; SQLite's INTEGER is the same width
MAX_PAGE = 10_000
MAX_PAGE_SIZE = 200
MIN_YEAR, MAX_YEAR = 1900, 2100


class ErrorOut(Schema):
    """Every refusal: `code` is stable, `message` is for people, `field` names the wrong input."""

    code: str
    message: str
    field: str | None = None
    details: dict[str, Any] | None = None


Id = Annotated[int, Field(ge=1, le=MAX_ID)]
Version = Annotated[int, Field(ge=1, le=MAX_ID, description="读取时得到的版本号")]
Page = Annotated[int, Field(ge=1, le=MAX_PAGE)]
PageSize = Annotated[int, Field(ge=1, le=MAX_PAGE_SIZE)]
Year = Annotated[int, Field(ge=MIN_YEAR, le=MAX_YEAR)]


def _date_in_range(value: date) -> date:
    if not MIN_YEAR <= value.year <= MAX_YEAR:
        raise ValueError(f"date must lie between {MIN_YEAR}-01-01 and {MAX_YEAR}-12-31")
    return value


def _datetime_in_range(value: datetime) -> datetime:
    # The year as written is checked first: converting 9999-12-31T23:59-23:59 to UTC overflows.
    if not MIN_YEAR <= value.year <= MAX_YEAR:
        raise ValueError(f"datetime must lie between {MIN_YEAR}-01-01 and {MAX_YEAR}-12-31")
    # In UTC: PostgreSQL refuses offsets past ±15:59, which ISO 8601 allows (-23:59).
    return value.astimezone(UTC) if value.tzinfo else value


Day = Annotated[date, AfterValidator(_date_in_range), Field(description=f"{MIN_YEAR}–{MAX_YEAR}")]
Moment = Annotated[datetime, AfterValidator(_datetime_in_range), Field(description=f"{MIN_YEAR}–{MAX_YEAR}")]
