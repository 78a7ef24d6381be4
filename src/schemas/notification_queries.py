"""Query strings of the caller's notification lists (contract 6.9, 1.7)."""

from __future__ import annotations

from src.schemas.query_rules import DateRangeQuery, QueryFlag, lenient_int

DEFAULT_PER_PAGE = 20
MAX_PER_PAGE = 100
# Far beyond any real page, small enough that the OFFSET still fits a 64-bit integer.
MAX_PAGE = 10**9


class NotificationListQuery(DateRangeQuery):
    """`GET /notifications`: `per_page` below 1 means the default, not 1 (1.7)."""

    page: lenient_int(1, 1, MAX_PAGE) = 1  # type: ignore[valid-type]  # an Annotated type built by lenient_int
    per_page: lenient_int(  # type: ignore[valid-type]  # as above
        DEFAULT_PER_PAGE, 1, MAX_PER_PAGE, below_minimum=DEFAULT_PER_PAGE
    ) = DEFAULT_PER_PAGE
    unread_only: QueryFlag = False
