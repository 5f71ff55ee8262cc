"""How a search turns filters into index terms, and when it walks a time index."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from read_api.search_filters import SearchFilters, SearchPage
from read_api.ticket_search import _created_days, _walks, filter_terms


def test_a_creation_range_is_covered_by_whole_months_and_the_days_around_them() -> None:
    days = _created_days(datetime(2026, 9, 29, 15, tzinfo=UTC), datetime(2026, 11, 2, tzinfo=UTC))
    assert days == ["#day:2026-09-29", "#day:2026-09-30", "#mon:2026-10", "#day:2026-11-01", "#day:2026-11-02"]


def test_the_cover_uses_utc_dates_so_it_holds_every_ticket_of_the_range() -> None:
    shanghai_midnight = datetime(2026, 11, 5, 0, 30, tzinfo=UTC) - timedelta(hours=8)  # 4 Nov 16:30 UTC
    assert _created_days(shanghai_midnight, shanghai_midnight + timedelta(hours=1)) == ["#day:2026-11-04"]


def test_an_open_ended_or_very_long_range_adds_no_terms() -> None:
    now = datetime.now(UTC)
    assert _created_days(None, now) is None
    assert _created_days(now - timedelta(days=500), None) is None
    assert _created_days(now - timedelta(days=500), now) is None
    assert _created_days(now - timedelta(days=3), None)[-1] >= "#day:" + now.date().isoformat()


def test_filters_become_terms_any_of_a_list_all_of_tags_when_asked() -> None:
    terms = filter_terms(SearchFilters(team="t1", priority=["high", "urgent"], tags=["vip", "投诉"], tags_mode="all",
                                       channel="phone"))
    assert terms == ["'#team:t1'", "'#ch:phone'", "('#pri:high' | '#pri:urgent')", "'#tag:vip'", "'#tag:投诉'"]
    assert filter_terms(SearchFilters(tags=["vip", "投诉"]))[-1] == "('#tag:vip' | '#tag:投诉')"
    assert filter_terms(SearchFilters(status=["open"], q="打印")) == []  # status changes too often to be a term


def test_many_matches_walk_a_time_index_unless_the_order_or_an_old_range_makes_that_long() -> None:
    now = datetime.now(UTC)
    assert _walks(SearchPage(q="打印"), "updated") and _walks(SearchPage(q="打印"), "created")
    assert not _walks(SearchPage(q="打印"), "priority")
    old = SearchPage(q="打印", created_from=now - timedelta(days=90), created_to=now - timedelta(days=60))
    assert not _walks(old, "updated") and not _walks(old, "relevance") and _walks(old, "created")
    assert _walks(SearchPage(q="打印", created_from=now - timedelta(days=90)), "updated")
