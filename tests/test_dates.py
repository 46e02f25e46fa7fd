"""Publication days read from the dates feeds and readers write (for "published since")."""

from datetime import date

import pytest

from qa.text.dates import published_on


@pytest.mark.parametrize(
    ("written", "day"),
    [
        ("2026-02-01", date(2026, 2, 1)),
        ("2026-02-01T23:30:00Z", date(2026, 2, 1)),
        ("2026-02-01 (updated)", date(2026, 2, 1)),
        ("2026-02-01T08:00:00Z[UTC]", date(2026, 2, 1)),
        ("2026/02/01", date(2026, 2, 1)),
        ("Sun, 01 Feb 2026 08:00:00 GMT", date(2026, 2, 1)),
        ("February 1, 2026", date(2026, 2, 1)),
        ("1 Feb 2026", date(2026, 2, 1)),
        ("Feb 1 2026 10:00 PST", date(2026, 2, 1)),
        ("01/02/2026", None),  # January 2 or February 1?
        ("February 2026", None),  # no day: not a day
        ("Feb 1", None),  # no year
        ("2026", None),
        ("yesterday", None),
        ("", None),
    ],
)
def test_publication_days_are_read_in_the_forms_feeds_write(written: str, day: date | None) -> None:
    assert published_on(written) == day
