"""Search quality over a fixed corpus: every query finds exactly the tickets it should, no more.

Each expectation is worked out from the corpus itself, by what a person at the desk means:
a Chinese word is found where that exact string is written, an English word by any word it
begins, a phone by its last four or more digits, a number or email exactly. The search code
is not consulted; `hits` and `misses` pin down, by hand, what each expectation must say.
"""

from __future__ import annotations

import re
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any
from uuid import UUID

import pytest

from events.actor import Actor
from ledgerdesk.bootstrap import Container, bootstrap
from ledgerdesk.settings import Settings
from read_api.search_filters import SearchPage
from read_api.ticket_search import search
from tests.integration.search_corpus import BY_KEY, CORPUS, CorpusTicket

if TYPE_CHECKING:
    from events.ticket import Ticket

INTAKE = Actor("staff-intake", "admin")
READER = Actor("staff-reader", "admin")
RANK = {"low": 0, "normal": 1, "high": 2, "urgent": 3}


@dataclass(frozen=True)
class Filed:
    """A corpus ticket once filed, and what a person would expect to find it by."""

    t: CorpusTicket
    id: UUID
    number: str

    @property
    def key(self) -> str:
        return self.t.key

    def text(self, staff: bool = True) -> str:
        t = self.t
        parts = [t.title, t.description, t.contact.name, t.category, *t.final_tags, t.customer.organization or "",
                 t.region or "", *t.product, *(body for body, public in t.comments if public or staff)]
        return "\n".join(parts).casefold()

    def says(self, phrase: str) -> bool:
        return phrase.casefold() in self.text()

    def word(self, prefix: str) -> bool:
        """Some word of the text (or of the contact's email) begins with `prefix`."""
        words = re.findall(r"[0-9a-z]+", self.text() + " " + (self.t.contact.email or "").casefold())
        return any(w.startswith(prefix) for w in words)

    def dialled(self, digits: str) -> bool:
        """Digits find a phone ending in them, the ticket with that number, or the number written as a word."""
        phone = re.sub(r"\D", "", self.t.contact.phone or "")
        written = re.findall(r"[0-9a-z]+", self.text())
        return (len(digits) >= 4 and phone.endswith(digits)) or digits in written \
            or int(self.number.rsplit("-", 1)[1]) == int(digits)


@dataclass
class Loaded:
    container: Container
    filed: dict[str, Filed]
    key_of: dict[str, str]  # number -> key
    waves: list[datetime]  # waves[w] <= created_at of wave w < waves[w + 1]
    order: list[str]  # keys in filing order


def _form(t: CorpusTicket) -> dict[str, Any]:
    return {"title": t.title, "description": t.description, "priority": t.priority, "channel": t.channel,
            "category": t.category, "tags": list(t.tags),
            "contact": {"name": t.contact.name, "phone": t.contact.phone, "email": t.contact.email},
            "custom_fields": {}, "region": t.region, "team_id": t.team,
            "customer": {"id": t.customer.id, "tier": t.customer.tier, "organization": t.customer.organization},
            "product": {"name": t.product[0], "model": t.product[1]}}


def _live_through(ticket: Ticket, t: CorpusTicket) -> None:
    """The ticket's story after filing, up to the status the corpus says it ends in."""
    agent = Actor(t.assignee, "agent", (t.team,) if t.team else ()) if t.assignee else INTAKE
    if t.assignee:
        ticket.assign(t.assignee, INTAKE)
    for body, public in t.comments:
        ticket.add_comment(body, public, agent)
    if t.added_tags:
        ticket.retag(list(t.added_tags), [], agent)
    if t.raised_to:
        ticket.change_priority(t.raised_to, agent, reason="客户加急")
    if t.status in ("in_progress", "pending"):
        ticket.start(agent)
    if t.status == "pending":
        ticket.hold("等待配件", agent)
    if t.status in ("resolved", "closed") or t.reopened:
        ticket.resolve("", agent)
    if t.status == "closed":
        ticket.close(agent)
    if t.reopened:
        ticket.reopen("问题复发", agent)


def _load(container: Container) -> Loaded:
    desk = container.desk
    filed: dict[str, Filed] = {}
    waves, order = [], []
    for wave in range(3):
        time.sleep(0.002)
        waves.append(datetime.now(timezone.utc))
        time.sleep(0.002)
        for t in (t for t in CORPUS if t.wave == wave):
            receipt = desk.open_ticket(_form(t), INTAKE)
            filed[t.key] = Filed(t, receipt.id, receipt.number or "")
            order.append(t.key)
    time.sleep(0.002)
    waves.append(datetime.now(timezone.utc))
    for t in CORPUS:
        if t.merged_into:
            desk.merge_tickets(filed[t.key].id, filed[t.merged_into].id, lambda source, target: None, INTAKE)
        elif t.status != "new" or t.comments or t.added_tags or t.raised_to:
            desk.change_ticket(filed[t.key].id, lambda ticket, t=t: _live_through(ticket, t))
    runner = container.projector()
    runner.create_tables()
    runner.catch_up()
    return Loaded(container, filed, {f.number: k for k, f in filed.items()}, waves, order)


@pytest.fixture(scope="module")
def loaded(database_url: str) -> Iterator[Loaded]:
    """The whole corpus filed and lived through once for this module, in a schema of its own."""
    container = bootstrap(Settings(database_url=database_url, database_schema=f"t_{uuid.uuid4().hex[:12]}"))
    try:
        yield _load(container)
    finally:
        container.close()


def _pages(loaded: Loaded, filters: dict[str, Any], reader: Actor = READER) -> list[list[str]]:
    """Every page of the search, following next_cursor; each page as ticket keys."""
    pages, cursor = [], None
    params = {"limit": 100, **filters}
    for _ in range(50):
        result = search(loaded.container.read_models, SearchPage(**params, cursor=cursor), reader)
        pages.append([loaded.key_of[row["number"]] for row in result["data"]])
        cursor = result["next_cursor"]
        if cursor is None:
            return pages
    raise AssertionError("the cursor never ran out")


def _explain(loaded: Loaded, keys: set[str], shown: int = 6) -> str:
    listed = "; ".join(f"{k} {loaded.filed[k].number} {BY_KEY[k].title!r}" for k in sorted(keys)[:shown])
    return f"{len(keys)}: {listed}" + (" …" if len(keys) > shown else "") if keys else "-"


@dataclass(frozen=True)
class Case:
    name: str
    filters: dict[str, Any] | Callable[[Loaded], dict[str, Any]]
    expect: Callable[[Filed], bool]
    hits: tuple[str, ...] = ()
    misses: tuple[str, ...] = ()


def _q(q: str, expect: Callable[[Filed], bool], hits: tuple[str, ...] = (), misses: tuple[str, ...] = (),
       **filters: Any) -> Case:
    return Case(f"q={q}" + "".join(f" {k}={v}" for k, v in filters.items()), {"q": q, **filters}, expect, hits, misses)


CASES = [
    # Chinese: two, three and four characters, the exact string and nothing that merely shares characters
    _q("打印", lambda f: f.says("打印"), ("h-printer-lid", "h-lilei-printer", "h-reprint"),
       ("h-projector-open", "h-ac-wont-open", "h-blueprint")),
    _q("打开", lambda f: f.says("打开"), ("h-projector-open", "h-printer-lid"), ("h-ac-wont-open", "h-lilei-printer")),
    _q("开机", lambda f: f.says("开机"), ("h-slow-boot", "h-lilei-printer", "h-screen-broken"),
       ("h-on-off-loop", "h-laptop-shutdown", "h-switch-broken")),
    _q("关机", lambda f: f.says("关机"), ("h-on-off-loop", "h-laptop-shutdown"), ("h-slow-boot", "h-lilei-printer")),
    _q("漏水", lambda f: f.says("漏水"), ("h-fridge-leak", "h-ac-leak", "h-fridge-leak-reopened"),
       ("h-socket-leak", "h-ac-drip-english")),
    _q("医院", lambda f: f.says("医院"), ("h-pumch-alarm", "h-no-display"), ("h-school-batch",)),
    _q("李雷", lambda f: f.says("李雷"), ("h-lilei-printer", "h-liming-fridge"), ("h-lilei2-battery",)),
    _q("不制冷", lambda f: f.says("不制冷"), ("h-fridge-not-cool", "h-hanmm-ac"), ("h-heat-not-cool",)),
    _q("无法开机", lambda f: f.says("无法开机"), ("h-lilei-printer", "h-school-batch"),
       ("h-no-connect-then-boot", "h-slow-boot")),
    _q("屏幕碎裂", lambda f: f.says("屏幕碎裂"), ("h-iphone-cracked",), ("h-outer-glass", "h-screen-broken")),
    _q("电池鼓包", lambda f: f.says("电池鼓包"), ("h-zhangwei-battery",), ("h-lilei2-battery",)),
    _q("频繁断网", lambda f: f.says("频繁断网"), ("h-wangfang-router",), ("h-switch-broken",)),
    _q("压缩机批次", lambda f: f.says("压缩机批次"), ("h-fridge-not-cool",), ("h-liming-fridge",)),  # an internal note
    _q("无法 开机", lambda f: f.says("无法") and f.says("开机"), ("h-no-connect-then-boot", "h-lilei-printer"),
       ("h-slow-boot",)),
    # Chinese with English, spaced or not
    _q("HP 卡纸", lambda f: f.word("hp") and f.says("卡纸"), ("h-hp-jam",), ("h-liuyang-jam",)),
    _q("iPhone 屏幕碎裂", lambda f: f.word("iphone") and f.says("屏幕碎裂"), ("h-iphone-cracked",), ("h-screen-broken",)),
    _q("ThinkPad蓝屏", lambda f: f.word("thinkpad") and f.says("蓝屏"), ("h-thinkpad-bsod",), ("h-laptop-shutdown",)),
    # English: prefixes, any case, never the middle of a word
    _q("print", lambda f: f.word("print"), ("h-printing-slow", "h-print-queue", "h-reprint"),
       ("h-sprint-room", "h-blueprint")),
    _q("PRINTER", lambda f: f.word("printer"), ("h-reprint",), ("h-printing-slow",)),
    _q("LaserJet", lambda f: f.word("laserjet"), ("h-lilei-printer", "h-printing-slow", "h-hp-jam"),
       ("h-liuyang-jam",)),
    _q("boot", lambda f: f.word("boot"), ("h-tom-laptop", "h-slow-boot"), ("h-on-off-loop", "h-reprint")),
    _q("reboot", lambda f: f.word("reboot"), ("h-on-off-loop", "h-reprint"), ("h-tom-laptop",)),
    _q("battery drains", lambda f: f.word("battery") and f.word("drains"), ("h-laptop-shutdown", "h-lilei2-battery"),
       ("h-zhangwei-battery",)),
    _q("mail", lambda f: f.word("mail"), ("h-mailbox",), ("h-lilei-printer",)),
    _q("no display", lambda f: f.word("no") and f.word("display"), ("h-no-display",), ("h-display-flicker",)),
    _q("BCD-470", lambda f: f.says("bcd-470"), ("h-fridge-not-cool", "h-fridge-leak"), ("h-bcd516-frost",)),
    # phones: the last four or more digits, or the whole number however it is written
    _q("8000", lambda f: f.dialled("8000"),
       ("h-lilei-printer", "h-liming-fridge", "h-zhangwei-battery", "h-pumch-alarm"),
       ("h-hanmm-ac", "h-wangfang-router")),
    _q("0138000", lambda f: f.dialled("0138000"), ("h-lilei-printer", "h-liming-fridge", "h-zhangwei-battery"),
       ("h-pumch-alarm", "h-hanmm-ac")),
    _q("138-0013-8000", lambda f: f.dialled("13800138000"), ("h-lilei-printer",),
       ("h-liming-fridge", "h-zhangwei-battery", "h-wangfang-router")),
    _q("13800138001", lambda f: f.dialled("13800138001"), ("h-wangfang-router",), ("h-lilei-printer",)),
    _q("1234", lambda f: f.dialled("1234"), ("h-liuyang-jam",), ("h-chenjing-jam",)),
    _q("+86 139 0013 8000", lambda f: f.dialled("8613900138000"), ("h-zhangwei-battery",), ("h-liming-fridge",)),
    # ticket numbers and emails: exactly that one
    Case("number as issued", lambda l: {"q": l.filed["h-sprint-room"].number}, lambda f: f.key == "h-sprint-room"),
    Case("number in lower case", lambda l: {"q": l.filed["h-heat-not-cool"].number.lower()},
         lambda f: f.key == "h-heat-not-cool"),
    _q("GD-000012", lambda f: f.number == "GD-000012"),
    _q("gd-120", lambda f: f.number == "GD-000120"),
    _q("LI.LEI@example.com", lambda f: (f.t.contact.email or "").casefold() == "li.lei@example.com",
       ("h-lilei-printer",), ("h-liming-fridge", "h-lilei2-battery")),
    _q("lilei@example.com", lambda f: f.t.contact.email == "lilei@example.com", ("h-lilei2-battery",),
       ("h-lilei-printer",)),
    # filters alone, and with words
    Case("status pending", {"status": ["pending"]}, lambda f: f.t.status == "pending", ("h-on-off-loop", "h-hp-jam")),
    Case("status resolved or closed", {"status": ["resolved", "closed"]},
         lambda f: f.t.status in ("resolved", "closed"), ("h-iphone-cracked", "h-fridge-leak"),
         ("h-fridge-leak-reopened",)),
    Case("status merged", {"status": ["merged"]}, lambda f: f.t.status == "merged", ("h-lamp-dup1", "h-lamp-dup2")),
    Case("priority urgent", {"priority": ["urgent"]}, lambda f: f.t.final_priority == "urgent",
         ("h-ac-leak", "h-icu-pump", "h-socket-leak")),
    Case("priority high/urgent, status new/open", {"priority": ["high", "urgent"], "status": ["new", "open"]},
         lambda f: f.t.final_priority in ("high", "urgent") and f.t.status in ("new", "open"), ("h-icu-pump",),
         ("h-no-display",)),
    Case("tags any", {"tags": ["上门", "返修"]}, lambda f: bool({"上门", "返修"} & set(f.t.final_tags)),
         ("h-fridge-leak-reopened", "h-bcd516-frost", "h-ac-leak")),
    Case("tags all", {"tags": ["上门", "保修期内"], "tags_mode": "all"},
         lambda f: {"上门", "保修期内"} <= set(f.t.final_tags), ("h-school-batch", "h-fridge-not-cool"), ("h-ac-leak",)),
    Case("tier VIP", {"tier": "VIP"}, lambda f: f.t.customer.tier == "VIP", ("h-icu-pump", "h-lilei-printer")),
    Case("region 华南", {"region": "华南"}, lambda f: f.t.region == "华南", ("h-sprint-room",)),
    Case("channel wechat", {"channel": "wechat"}, lambda f: f.t.channel == "wechat", ("h-iphone-cracked",)),
    Case("team", {"team": "team-east"}, lambda f: f.t.team == "team-east", ("h-icu-pump",), ("h-ac-drip-english",)),
    Case("assignee", {"assignee": "agent-team-south"}, lambda f: f.t.assignee == "agent-team-south", ("h-lamp",)),
    _q("漏水", lambda f: f.t.category == "冰箱" and f.says("漏水"), ("h-fridge-leak",), ("h-ac-leak",), category="冰箱"),
    # words with a team, assignee or customer filter (these also narrow through the terms index)
    _q("打印", lambda f: f.t.team == "team-east" and f.says("打印"), team="team-east"),
    _q("漏水", lambda f: f.t.assignee == "agent-team-south" and f.says("漏水"), assignee="agent-team-south"),
    _q("蓝屏", lambda f: f.t.customer.id == "cust-cdqz" and f.says("蓝屏"), ("h-thinkpad-bsod",),
       customer="cust-cdqz"),
    _q("无法开机", lambda f: f.t.customer.tier == "VIP" and f.says("无法开机"), ("h-lilei-printer",),
       ("h-school-batch",), tier="VIP"),
    Case("created in wave 1", lambda l: {"created_from": l.waves[1], "created_to": l.waves[2]},
         lambda f: f.t.wave == 1, ("h-projector-open",), ("h-ac-wont-open", "h-lilei-printer")),
    Case("created since wave 2, high", lambda l: {"created_from": l.waves[2], "priority": ["high"]},
         lambda f: f.t.wave == 2 and f.t.final_priority == "high"),
    # words with filters that also narrow through the terms index (priority, tags, region, channel, creation days)
    _q("屏幕", lambda f: f.t.final_priority in ("high", "urgent") and f.says("屏幕"), priority=["high", "urgent"]),
    _q("上门", lambda f: bool({"上门", "返修"} & set(f.t.final_tags)) and f.says("上门"), tags=["上门", "返修"]),
    _q("上门", lambda f: {"上门", "保修期内"} <= set(f.t.final_tags) and f.says("上门"), tags=["上门", "保修期内"],
       tags_mode="all"),
    _q("维修", lambda f: f.t.region == "华东" and f.says("维修"), region="华东"),
    _q("无法", lambda f: f.t.channel == "phone" and f.says("无法"), channel="phone"),
    Case("created in wave 1, q=无法", lambda l: {"created_from": l.waves[1], "created_to": l.waves[2], "q": "无法"},
         lambda f: f.t.wave == 1 and f.says("无法")),
    Case("created before wave 1, q=打印", lambda l: {"created_to": l.waves[1], "q": "打印"},
         lambda f: f.t.wave == 0 and f.says("打印"), ("h-lilei-printer",), ("h-printer-lid",)),
]


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_a_search_finds_exactly_the_tickets_it_should(loaded: Loaded, case: Case, search_path: str) -> None:
    filters = case.filters(loaded) if callable(case.filters) else case.filters
    expected = {f.key for f in loaded.filed.values() if case.expect(f)}
    assert set(case.hits) <= expected and not set(case.misses) & expected, "the expectation itself is off"
    assert 0 < len(expected) < len(CORPUS), "a query expecting nothing or everything tells nothing"
    found = [key for page in _pages(loaded, filters) for key in page]
    twice = {k for k in found if found.count(k) > 1}
    assert not twice, f"found twice: {_explain(loaded, twice)}"
    missing, unexpected = expected - set(found), set(found) - expected
    assert not missing and not unexpected, \
        f"missing: {_explain(loaded, missing)}\nunexpected: {_explain(loaded, unexpected)}"


@pytest.mark.parametrize("sort", ["created", "updated", "priority"])
def test_pages_of_the_whole_desk_neither_overlap_nor_skip(loaded: Loaded, sort: str) -> None:
    pages = _pages(loaded, {"sort": sort, "limit": 17})
    found = [key for page in pages for key in page]
    assert len(pages) == -(-len(CORPUS) // 17) and all(len(p) == 17 for p in pages[:-1])
    assert len(found) == len(set(found)) and set(found) == set(BY_KEY)
    position = {key: i for i, key in enumerate(loaded.order)}
    if sort == "created":
        assert found == sorted(found, key=lambda k: -position[k])
    if sort == "priority":
        assert found == sorted(found, key=lambda k: (-RANK[BY_KEY[k].final_priority], -position[k]))


@pytest.mark.parametrize("sort", [None, "created", "priority", "relevance"])
def test_pages_of_a_keyword_search_neither_overlap_nor_skip(loaded: Loaded, sort: str | None, search_path: str) -> None:
    expected = {f.key for f in loaded.filed.values() if f.says("打印")}
    pages = _pages(loaded, {"q": "打印", "limit": 6, "sort": sort})
    found = [key for page in pages for key in page]
    assert len(expected) > 12
    assert len(found) == len(set(found)), "a ticket came back on two pages"
    assert set(found) == expected, f"{len(pages)} pages; skipped {_explain(loaded, expected - set(found))}"
    assert len(pages) == -(-len(expected) // 6)


def test_a_creation_range_that_ends_before_it_starts_finds_nothing(loaded: Loaded, search_path: str) -> None:
    page = SearchPage(q="打印", created_from=loaded.waves[2], created_to=loaded.waves[1])
    assert search(loaded.container.read_models, page, READER)["data"] == []


def test_facets_count_every_match_not_just_the_page(loaded: Loaded) -> None:
    matching = [f.t for f in loaded.filed.values() if f.says("无法开机")]
    result = search(loaded.container.read_models, SearchPage(q="无法开机", limit=5), READER)
    assert len(result["data"]) == 5 < len(matching)
    assert result["facets"]["status"] == Counter(t.status for t in matching)
    assert result["facets"]["priority"] == Counter(t.final_priority for t in matching)
    tags = Counter(tag for t in matching for tag in t.final_tags)
    assert len(tags) <= 30 and result["facets"]["tags"] == tags
