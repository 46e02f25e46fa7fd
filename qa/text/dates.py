"""Publication days from the dates feeds and readers write, for "published since" filters."""

from __future__ import annotations

import re
from datetime import date, datetime

from dateutil import parser as dateparser

_YEAR_FIRST = re.compile(r"(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})(?!\d)")
_WORDS = re.compile(r"[A-Za-z]{3}")  # a month name ("May", "Feb") or other words for dateutil


def published_on(article_published: str | None) -> date | None:
    """An article's publication day, from the dates feeds and readers write: ISO dates or
    datetimes (with anything after them), "2024/05/01", RFC 2822 ("Wed, 01 May 2024 08:00:00
    GMT"), "May 1, 2024". None when it has none or no full date can be read: a day needs its
    year ("May 1" is not one), and all-number dates in another order ("01/05/2024": January or
    May?) are ambiguous."""
    if not article_published:
        return None
    text = article_published.strip()
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00")).date()
    except ValueError:
        pass
    if numeric := _YEAR_FIRST.match(text):
        try:
            return date(*(int(part) for part in numeric.groups()))
        except ValueError:
            return None
    if not _WORDS.search(text):  # all numbers, not year first: ambiguous
        return None
    defaults = (datetime(2000, 1, 1), datetime(2001, 2, 2))
    try:  # parsed twice with different defaults: a part taken from a default is missing
        first, second = (dateparser.parse(text, default=d, ignoretz=True) for d in defaults)
    except (ValueError, OverflowError, TypeError, IndexError):  # older dateutils raise the last two
        return None
    return first.date() if first == second else None
