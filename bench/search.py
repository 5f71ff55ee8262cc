"""Read-path benchmark: projection rebuild speed, search latency, board/stats latency, projection lag.

Run from the repository root (PostgreSQL from DATABASE_URL; a fresh schema ``bench_<random>`` is
made and dropped at the end unless ``--keep-schema``):

    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/test \
        .venv/bin/python -m bench.search --tickets 200000

What it does (progress on stderr, one JSON document on stdout, and in ``--output`` if given):

1. generate: N realistic tickets (Chinese and English devices and faults, contacts, tags, teams,
   customers, a few lifecycle events each, timestamps spread over the last year) built in memory
   as ``Ticket`` aggregates through their command methods and saved straight into the event store
   with ``desk.save(*tickets)``, ``--group`` tickets per transaction, from ``--workers`` processes;
2. rebuild: ``projections.rebuild.rebuild(runner, name, schema)`` for "tickets", then for "audit",
   timing the shadow fill (events/s), each index build, and the switch-over separately; then
   ``VACUUM (ANALYZE)`` of the read-model tables (the steady state autovacuum reaches) — timed;
3. profile (``--profile-batches``): a few fill batches of each projection under cProfile;
4. search: ``read_api.ticket_search.search`` called in-process, each query a fresh call, after a
   warm-up, for admin / agent (team-scoped) / customer readers, without and with filters; per
   statement timings (page query, status/priority facets, tag facets); EXPLAIN (ANALYZE, BUFFERS)
   of the slowest calls (the "alternatives" phase that compared rewrites of the old one-table layout
   is gone with that layout; its findings are in bench/RESULTS.md);
5. http: board, workload, stats and a search sample through the FastAPI app in-process
   (TestClient, auth dependency overridden), and a search sample over real HTTP against a
   ``ledgerdesk serve api`` subprocess (signed in as the first admin);
6. lag: a projector subprocess follows the store (``--lag-projector cli`` runs ``ledgerdesk serve
   projector``; the default ``timed`` runs the same ``ProjectionRunner.run_forever`` with each batch
   timed) while a paced open-loop writer issues ``--lag-rate`` commands/s (comments, status changes,
   creates) through ``desk.change_ticket`` / ``desk.open_ticket`` for ``--lag-seconds``; a poller
   reads the projections' positions every ~2-4 ms; lag = first poll that saw the position reach the
   command's ``receipt.position`` minus the moment the command returned. The backends
   are told apart in pg_stat_activity through PGAPPNAME (sampled every 25 ms).

The machine may be shared: loadavg and the busiest other processes are recorded with the figures.
"""

from __future__ import annotations

import argparse
import contextlib
import cProfile
import io
import json
import multiprocessing
import os
import pstats
import random
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import traceback
import uuid
from collections import Counter, defaultdict
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from bench.machine import host_info

ROOT = Path(__file__).resolve().parent.parent
UTC = timezone.utc
CLK_TCK = os.sysconf("SC_CLK_TCK")


def log(*parts: Any) -> None:
    print("[bench.search]", time.strftime("%H:%M:%S"), *parts, file=sys.stderr, flush=True)


# -- the world: vocabularies, teams, agents, customers ------------------------------------------

# (category zh, kind en, models, Chinese faults, English faults, home team index)
DEVICES: list[tuple[str, str, list[str], list[str], list[str], int]] = [
    ("打印机", "printer", ["HP LaserJet M1005", "Canon LBP2900", "Epson L3158", "Brother HL-2260"],
     ["无法开机", "卡纸", "打印有黑线", "缺墨报警", "无法连接网络", "进纸异响", "打印速度慢"],
     ["paper jam", "prints blank pages", "shows error E3", "won't connect to wifi", "streaks on every page"], 0),
    ("手机", "phone", ["Mi 14 Pro", "iPhone 15", "Huawei Mate 60", "OPPO Find X7", "vivo X100"],
     ["屏幕碎裂", "电池耗电快", "无法充电", "无法开机", "发热严重", "摄像头模糊", "触屏失灵", "信号差"],
     ["screen cracked", "battery drains fast", "won't charge", "overheating", "camera is blurry"], 1),
    ("路由器", "router", ["TP-Link AX3000", "Huawei AX3 Pro", "Xiaomi AX6000", "Netgear R7000"],
     ["频繁掉线", "信号弱", "无法上网", "指示灯不亮", "自动重启", "网速很慢"],
     ["keeps rebooting", "weak signal", "drops connection", "no internet access"], 2),
    ("空调", "air conditioner", ["格力 KFR-35GW", "美的 KFR-26GW", "海尔 KFR-50LW", "Daikin FTXS35"],
     ["不制冷", "漏水", "异响", "遥控失灵", "显示故障代码E1", "制热效果差", "外机噪音大"],
     ["not cooling", "leaking water", "makes loud noise", "remote not working"], 3),
    ("监护仪", "patient monitor", ["Mindray BeneView T5", "Philips MX450", "GE Carescape B450"],
     ["报警失灵", "屏幕闪烁", "血氧读数异常", "无法开机", "心电导联脱落报警"],
     ["alarm not working", "screen flickers", "SpO2 readings wrong", "ECG lead off alarm"], 4),
    ("投影仪", "projector", ["Epson CB-X06", "BenQ MW560", "Sony VPL-EX570", "NEC ME372W"],
     ["无法开机", "灯泡不亮", "画面模糊", "颜色失真", "风扇噪音大", "遥控失灵"],
     ["image is blurry", "lamp failure", "colors look wrong", "fan is very loud"], 5),
    ("笔记本", "laptop", ["ThinkPad X1 Carbon", "MacBook Air M2", "Dell XPS 13", "HP EliteBook 840"],
     ["蓝屏", "键盘失灵", "电池鼓包", "风扇噪音大", "无法开机", "屏幕闪烁", "触控板失灵"],
     ["blue screen", "battery drains fast", "keyboard not responding", "won't boot", "overheating"], 6),
    ("冰箱", "refrigerator", ["海尔 BCD-470", "西门子 KA92NV", "美的 BCD-516", "容声 BCD-529"],
     ["不制冷", "漏水", "结霜严重", "噪音大", "显示屏不亮", "门封条老化"],
     ["not cooling", "leaking water", "too much frost", "noisy compressor"], 7),
    ("洗衣机", "washing machine", ["小天鹅 TG100", "海尔 EG100", "LG FCV10", "博世 WAU28"],
     ["不脱水", "漏水", "门锁打不开", "显示E4", "震动很大", "不进水"],
     ["won't spin", "leaking water", "door won't open", "shows error E4"], 7),
    ("电视", "TV", ["小米电视 6", "索尼 X90J", "海信 E8K", "TCL Q10G"],
     ["黑屏", "无信号", "遥控失灵", "画面有条纹", "无法联网", "声音异常"],
     ["black screen", "no signal", "lines on the screen", "no sound"], 8),
    ("门禁", "access control", ["海康 DS-K1T", "ZKTeco F22", "大华 ASI1201"],
     ["无法识别人脸", "刷卡没反应", "门锁不开", "离线", "时间不同步"],
     ["face recognition fails", "card reader dead", "door stays locked", "device offline"], 9),
    ("服务器", "server", ["Dell PowerEdge R740", "华为 2288H V5", "浪潮 NF5280M6", "HPE DL380"],
     ["硬盘故障", "电源告警", "无法远程管理", "内存报错", "风扇告警", "RAID降级"],
     ["disk failure", "PSU alarm", "iDRAC unreachable", "memory ECC errors", "RAID degraded"], 9),
    ("交互平板", "interactive display", ["希沃 MAXHUB", "鸿合 HiteVision", "Smart MX275"],
     ["触摸不准", "无法开机", "投屏失败", "声音小", "画面卡顿"],
     ["touch is off", "screen mirroring fails", "no sound", "display freezes"], 11),
    ("呼吸机", "ventilator", ["迈瑞 SV300", "Drager Savina 300", "Hamilton C1"],
     ["氧浓度报警", "压力异常", "无法自检", "触摸屏失灵"],
     ["oxygen alarm", "pressure error", "self test fails"], 10),
]
DEVICE_WEIGHTS = [10, 14, 8, 9, 3, 4, 10, 6, 6, 6, 3, 3, 3, 2]
TEAM_NAMES = ["打印机售后", "手机售后", "网络运维", "空调售后", "医疗设备", "教育投影", "笔记本售后", "白电售后",
              "电视售后", "Enterprise IT", "Hospital Devices", "School AV"]
AGENTS_PER_TEAM = 8
TAGS = ["保修内", "过保", "投诉", "上门", "寄修", "vip", "加急", "重复报修", "备件", "远程", "安装", "续保"]
TAG_WEIGHTS = [30, 15, 6, 18, 10, 5, 6, 5, 8, 8, 4, 3]
REGIONS = ["华东", "华北", "华南", "西南", "华中", "西北", "东北"]
REGION_WEIGHTS = [30, 22, 20, 10, 9, 5, 4]
CHANNELS = ["web", "email", "phone", "wechat", "api"]
CHANNEL_WEIGHTS = [35, 15, 20, 25, 5]
PRIORITIES = ["low", "normal", "high", "urgent"]
PRIORITY_WEIGHTS = [2, 6, 3, 1]
SURNAMES = "李王张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗"
GIVEN = ["伟", "芳", "娜", "敏", "静", "丽", "强", "磊", "军", "洋", "勇", "艳", "杰", "娟", "涛", "明", "超", "秀英",
         "霞", "平", "刚", "桂英", "梅梅", "雷"]
EN_NAMES = ["Emily Chen", "John Smith", "David Wang", "Grace Liu", "Kevin Zhang", "Linda Zhou", "Michael Li"]
HANDLES = ["li.wei", "wangfang", "zhang.min", "liuyang", "chenjing", "emily.chen", "john.smith", "zhaomin", "zhoujie",
           "huanglei", "wu.qiang", "yang.li", "gaoxia", "service", "it.support", "admin.office"]
DOMAINS = ["qq.com", "163.com", "126.com", "example.cn", "corp.example.com", "hospital.example.org",
           "school.example.edu.cn", "gmail.com"]
CITIES = ["上海", "北京", "广州", "深圳", "杭州", "成都", "武汉", "南京", "西安", "重庆", "苏州", "天津"]
ORG_KINDS = ["人民医院", "第一中学", "实验小学", "科技有限公司", "电子商务有限公司", "物流有限公司", "大酒店", "区政务中心",
             "职业技术学院", "妇幼保健院"]
EXTRAS_ZH = ["已尝试重启，问题依旧。", "在保修期内。", "客户要求上门维修。", "第二次报修，请尽快处理。", "影响正常使用。",
             "周末也可以上门。", "已经过保，愿意付费维修。", "设备放在三楼机房。", "急用，请优先处理！", ""]
EXTRAS_EN = ["Restarted it twice, no luck.", "Still under warranty.", "Please send a technician.",
             "This is the second time it happened.", "We need it fixed before Monday.", ""]
AGENT_REPLIES = ["您好，已收到您的报修，工程师将在24小时内联系您。", "请提供购买凭证和设备序列号。",
                 "已安排上门维修，预计明天下午到达。", "请尝试恢复出厂设置后再观察一下。", "备件已寄出，快递单号稍后发您。",
                 "Hi, we received your request and a technician will call you today.",
                 "Could you send a photo of the error screen?", "The replacement part has shipped."]
CUSTOMER_REPLIES = ["好的，谢谢", "什么时候能修好？", "问题依旧存在", "师傅几点到？", "已经发了照片", "Thanks, that worked.",
                    "Still broken after the reset.", "请尽快，很着急"]
INTERNAL_NOTES = ["客户情绪激动，注意沟通。", "备件缺货，已向仓库申请。", "疑似主板故障，需要返厂检测。", "同型号本月第三例，上报质量部。",
                  "Escalate to the vendor if not fixed by Friday.", "Customer is a key account, handle with care."]
RESOLUTIONS = ["已更换电池", "已上门更换主板", "远程指导重置后恢复正常", "已更换电源模块", "清洁保养后恢复", "更换屏幕总成",
               "固件升级后解决", "Replaced the power supply", "Reset to factory settings, works now", "Swapped the faulty disk"]
RATING_COMMENTS = ["服务很好", "响应很快", "师傅很专业", "等太久了", "", "Great service", ""]

# Query vocabularies for the search benchmark (all occur in the generated text above).
Q_ZH2 = ["开机", "漏水", "屏幕", "电池", "报警", "蓝屏", "异响", "掉线", "制冷", "遥控", "硬盘", "人脸", "投屏", "维修",
         "噪音", "结霜"]
Q_ZH4 = ["无法开机", "屏幕碎裂", "频繁掉线", "电池鼓包", "血氧读数", "门锁打不", "硬盘故障", "触摸不准", "上门维修", "画面模糊"]
Q_EN_WORDS = ["router", "battery", "printer", "screen", "noise", "charge", "thinkpad", "jam", "raid", "flickers",
              "technician"]
Q_EN_PREFIXES = ["rout", "batt", "prin", "flick", "overh", "think", "leak", "disk"]
Q_MIXED = ["ThinkPad 蓝屏", "格力 漏水", "Mate 无法充电", "printer 卡纸", "X1 键盘"]


class World:
    """Everything tickets refer to, derived from the seed alone so every worker process agrees."""

    def __init__(self, seed: int, tickets: int, team_ids: list[str]) -> None:
        self.seed = seed
        self.team_ids = team_ids
        self.agents = {team: [str(uuid5(NAMESPACE_URL, f"bench:{seed}:agent:{t}:{k}")) for k in range(AGENTS_PER_TEAM)]
                       for t, team in enumerate(team_ids)}
        self.supervisors = {team: str(uuid5(NAMESPACE_URL, f"bench:{seed}:lead:{t}")) for t, team in enumerate(team_ids)}
        self.n_customers = max(500, tickets // 20)
        self._customers: dict[int, dict[str, Any]] = {}
        rng = random.Random(f"{seed}:orgs")
        self.organizations = list(dict.fromkeys(rng.choice(CITIES) + rng.choice(CITIES[:4] + ["市", "区", ""])
                                                + rng.choice(ORG_KINDS) for _ in range(400)))

    def customer(self, index: int) -> dict[str, Any]:
        found = self._customers.get(index)
        if found is None:
            rng = random.Random(f"{self.seed}:customer:{index}")
            tier = rng.choices(["VIP", "gold", "standard"], [5, 15, 80])[0]
            organization = rng.choice(self.organizations) if rng.random() < 0.5 else None
            found = {"id": str(uuid5(NAMESPACE_URL, f"bench:{self.seed}:customer:{index}")), "tier": tier,
                     "organization": organization, "region": rng.choices(REGIONS, REGION_WEIGHTS)[0],
                     "contact": random_contact(rng)}
            self._customers[index] = found
        return found

    def pick_customer(self, rng: random.Random) -> dict[str, Any]:
        return self.customer(int(self.n_customers * rng.random() ** 2))  # skewed: key accounts file a lot

    def agent_actor(self, rng: random.Random, team: str | None) -> Any:
        from events.actor import Actor

        team = team or rng.choice(self.team_ids)
        return Actor(rng.choice(self.agents[team]), "agent", team_ids=(team,))


def random_contact(rng: random.Random) -> dict[str, Any]:
    if rng.random() < 0.85:
        name = rng.choice(SURNAMES) + rng.choice(GIVEN)
    else:
        name = rng.choice(EN_NAMES)
    phone = "1" + rng.choice("3456789") + "".join(rng.choice("0123456789") for _ in range(9))
    email = f"{rng.choice(HANDLES)}{rng.randrange(1, 10000)}@{rng.choice(DOMAINS)}" if rng.random() < 0.7 else None
    return {"name": name, "phone": phone, "email": email}


def ticket_form(world: World, rng: random.Random) -> tuple[dict[str, Any], dict[str, Any]]:
    """(the Created attributes, the customer) of one new ticket."""
    category, kind_en, models, faults_zh, faults_en, home = rng.choices(DEVICES, DEVICE_WEIGHTS)[0]
    model = rng.choice(models)
    year = rng.randint(2019, 2026)
    if rng.random() < 0.72:
        fault = rng.choice(faults_zh)
        title = rng.choice([f"{category}{fault}", f"{model} {fault}", f"{category}{fault}，请尽快处理"])
        description = f"{category} {model}：{fault}。购买于 {year} 年。{rng.choice(EXTRAS_ZH)}"
        if rng.random() < 0.3:
            description += f"另外{rng.choice(faults_zh)}。"
    else:
        fault = rng.choice(faults_en)
        title = rng.choice([f"{kind_en.capitalize()} {fault}", f"{model} {fault}"])
        description = f"My {model} {fault}. Bought in {year}. {rng.choice(EXTRAS_EN)}"
    customer = world.pick_customer(rng)
    contact = dict(customer["contact"]) if rng.random() < 0.8 else random_contact(rng)
    roll = rng.random()
    team = world.team_ids[home] if roll < 0.85 else rng.choice(world.team_ids) if roll < 0.95 else None
    tags = list(dict.fromkeys(rng.choices(TAGS, TAG_WEIGHTS, k=rng.choice([0, 1, 1, 2, 2, 3]))))
    serial = "SN" + "".join(rng.choice("ABCDEFGHJKLMNPQRSTUVWXYZ0123456789") for _ in range(10))
    form = {
        "title": title, "description": description,
        "priority": rng.choices(PRIORITIES, PRIORITY_WEIGHTS)[0],
        "channel": rng.choices(CHANNELS, CHANNEL_WEIGHTS)[0], "category": category, "tags": tags,
        "contact": contact, "custom_fields": {"purchase_year": year},
        "customer": {"id": customer["id"], "organization": customer["organization"], "tier": customer["tier"]},
        "region": customer["region"], "product": {"name": category, "model": model, "serial_number": serial},
        "team_id": team,
    }
    return form, customer


# -- generation: Ticket aggregates built in memory, saved in big groups ------------------------

_CLOCK: list[datetime | None] = [None]


def _bench_timestamp() -> datetime:
    now = _CLOCK[0]
    return now if now is not None else datetime.now(UTC)


def build_ticket(world: World, rng: random.Random, numbers: Any, created_at: datetime, now: datetime,
                 index: int) -> Any:
    """One ticket with a plausible history; events are time-stamped by the virtual clock."""
    from events.actor import Actor
    from events.ticket import Ticket

    form, customer = ticket_form(world, rng)
    customer_actor = Actor(customer["id"], "customer", correlation_id=f"gen-{index}")
    agent = world.agent_actor(rng, form["team_id"])
    by = customer_actor if form["channel"] in ("web", "wechat", "api") else agent
    clock = created_at
    _CLOCK[0] = clock
    ticket_id = UUID(int=rng.getrandbits(128), version=4)
    ticket = Ticket.open(ticket_id, number=numbers.next(), meta=by.meta(), **form)

    def later(low: float, high: float) -> bool:
        nonlocal clock
        clock = clock + timedelta(seconds=rng.uniform(low, high))
        _CLOCK[0] = clock
        return clock < now

    age_days = (now - created_at).total_seconds() / 86400
    if rng.random() > 0.97 or not later(120, 8 * 3600):
        return ticket
    if ticket.team_id is None:
        team = rng.choice(world.team_ids)
        agent = world.agent_actor(rng, team)
        ticket.assign(agent.id, Actor(world.supervisors[team], "supervisor", (team,)), team_id=team)
    elif rng.random() < 0.4:
        ticket.claim(agent)
    else:
        ticket.assign(agent.id, Actor(world.supervisors[ticket.team_id], "supervisor", (ticket.team_id,)))
    if rng.random() < 0.65 and later(300, 86400):
        ticket.add_comment(rng.choice(AGENT_REPLIES), True, agent)
    if rng.random() < 0.05 and later(60, 3600):
        ticket.change_priority(rng.choice([p for p in PRIORITIES if p != ticket.priority]), agent, "客户催促")
    if rng.random() > 0.85 or not later(600, 2 * 86400):
        return ticket
    ticket.start(agent)
    if rng.random() < 0.25 and later(600, 86400):
        ticket.add_comment(rng.choice(INTERNAL_NOTES), False, agent)
    if rng.random() < 0.25 and later(600, 86400):
        ticket.add_comment(rng.choice(CUSTOMER_REPLIES), True, customer_actor)
    if rng.random() < 0.04 and later(60, 3600):
        extra = [t for t in TAGS if t not in ticket.tags]
        ticket.retag([rng.choice(extra)], [], agent)
    if rng.random() < 0.08 and later(3600, 86400):
        ticket.hold("等待备件", agent)
        if not later(3600, 3 * 86400):
            return ticket
        ticket.resume(agent)
    resolve_chance = 0.93 if age_days > 10 else 0.09 * age_days
    if rng.random() > resolve_chance or not later(1800, 4 * 86400):
        return ticket
    ticket.resolve(rng.choice(RESOLUTIONS), agent)
    if rng.random() > 0.65 or not later(3600, 3 * 86400):
        return ticket
    ticket.close(customer_actor if rng.random() < 0.5 else Actor.system("auto-close"))
    if rng.random() < 0.15 and later(60, 86400):
        ticket.rate(rng.choices([5, 4, 3, 2, 1], [50, 25, 12, 6, 7])[0], rng.choice(RATING_COMMENTS), customer_actor)
    return ticket


def _generate_worker(database_url: str, schema: str, seed: int, worker: int, first: int, count: int, total: int,
                     group: int, team_ids: list[str], now_iso: str, span_days: int, lock: Any, results: Any) -> None:
    """A worker process: its share of the tickets, saved `group` at a time."""
    from events.ticket import Ticket
    from ledgerdesk.bootstrap import bootstrap
    from ledgerdesk.settings import Settings

    Ticket.Event.create_timestamp = staticmethod(_bench_timestamp)  # type: ignore[method-assign]
    os.environ["PGAPPNAME"] = "bench-search-generator"
    try:
        with lock:  # concurrent CREATE ... IF NOT EXISTS / CREATE OR REPLACE FUNCTION can collide
            container = bootstrap(Settings(database_url=database_url, database_schema=schema, pool_size=2))
        desk = container.desk
        desk.numbers.block = max(group, 50)  # type: ignore[union-attr]
        world = World(seed, total, team_ids)
        rng = random.Random(f"{seed}:gen:{worker}")
        now = datetime.fromisoformat(now_iso)
        start = now - timedelta(days=span_days)
        span = (now - start).total_seconds()
        built_s = saved_s = 0.0
        events = 0
        done = 0
        began = time.perf_counter()
        next_report = began + 15
        while done < count:
            size = min(group, count - done)
            t0 = time.perf_counter()
            tickets = []
            for k in range(size):
                i = first + done + k
                created = start + timedelta(seconds=span * (i / total) + rng.uniform(-1800, 1800))
                tickets.append(build_ticket(world, rng, desk.numbers, min(created, now - timedelta(seconds=5)), now,
                                            i))
            t1 = time.perf_counter()
            desk.save(*tickets)
            t2 = time.perf_counter()
            built_s += t1 - t0
            saved_s += t2 - t1
            events += sum(t.version for t in tickets)
            done += size
            if desk.repository.cache is not None:  # the generator never reads them back
                for t in tickets:
                    desk.evict(t.id)
            if t2 > next_report:
                log(f"worker {worker}: {done}/{count} tickets, {events} events, "
                    f"{done / (t2 - began):.0f} tickets/s")
                next_report = t2 + 15
        container.close()
        results.put({"worker": worker, "tickets": done, "events": events, "build_seconds": round(built_s, 2),
                     "save_seconds": round(saved_s, 2), "wall_seconds": round(time.perf_counter() - began, 2)})
    except BaseException as error:  # noqa: BLE001 - reported to the parent
        import traceback

        results.put({"worker": worker, "error": repr(error), "traceback": traceback.format_exc()})


def generate(args: argparse.Namespace, schema: str, team_ids: list[str]) -> dict[str, Any]:
    ctx = multiprocessing.get_context("spawn")
    lock, results = ctx.Lock(), ctx.Queue()
    now = datetime.now(UTC)
    workers = max(1, args.workers)
    shares = [args.tickets // workers + (1 if w < args.tickets % workers else 0) for w in range(workers)]
    firsts = [sum(shares[:w]) for w in range(workers)]
    began = time.perf_counter()
    procs = [ctx.Process(target=_generate_worker, args=(args.database_url, schema, args.seed, w, firsts[w], shares[w],
                                                        args.tickets, args.group, team_ids, now.isoformat(),
                                                        args.span_days, lock, results)) for w in range(workers)]
    for p in procs:
        p.start()
    reports = [results.get() for _ in procs]
    for p in procs:
        p.join()
    wall = time.perf_counter() - began
    errors = [r for r in reports if "error" in r]
    if errors:
        raise RuntimeError(f"generation failed: {errors[0]['traceback']}")
    tickets = sum(r["tickets"] for r in reports)
    events = sum(r["events"] for r in reports)
    return {"tickets": tickets, "events": events, "events_per_ticket": round(events / tickets, 2),
            "workers": workers, "group": args.group, "wall_seconds": round(wall, 1),
            "tickets_per_second": round(tickets / wall), "events_per_second": round(events / wall),
            "per_worker": sorted(reports, key=lambda r: r["worker"]), "loadavg_after": list(os.getloadavg())}


# -- small helpers ---------------------------------------------------------------------------


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, int(round(q / 100 * len(ordered) + 0.5)) - 1))]


def summary_ms(seconds: list[float]) -> dict[str, Any]:
    ms = [s * 1000 for s in seconds]
    if not ms:
        return {"n": 0}
    return {"n": len(ms), "p50_ms": round(pct(ms, 50), 2), "p95_ms": round(pct(ms, 95), 2),
            "p99_ms": round(pct(ms, 99), 2), "max_ms": round(max(ms), 2), "mean_ms": round(sum(ms) / len(ms), 2)}


class StatementLog:
    """A cursor wrapper that times every execute (query, params, seconds)."""

    def __init__(self, cur: Any, sink: list[tuple[Any, Any, float]]) -> None:
        self._cur = cur
        self._sink = sink

    def execute(self, query: Any, params: Any = None, **kwargs: Any) -> Any:
        t0 = time.perf_counter()
        result = self._cur.execute(query, params, **kwargs)
        self._sink.append((query, params, time.perf_counter() - t0))
        return result

    def __getattr__(self, name: str) -> Any:
        return getattr(self._cur, name)


class RecordingModels:
    """ReadModels whose cursor() records each statement's time; everything else is the real thing."""

    def __init__(self, models: Any) -> None:
        self._models = models
        self.table = models.table
        self.statements: list[tuple[Any, Any, float]] = []

    @contextlib.contextmanager
    def cursor(self) -> Any:
        with self._models.cursor() as cur:
            yield StatementLog(cur, self.statements)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._models, name)


def explain(container: Any, query: Any, params: Any, settings: tuple[str, ...] = ()) -> list[str]:
    from psycopg.sql import SQL

    with container.read_models.cursor() as cur:
        for setting in settings:  # the SET LOCALs search() ran first
            cur.execute(setting)
        cur.execute(SQL("EXPLAIN (ANALYZE, BUFFERS) ") + query, params)
        return [row["QUERY PLAN"] for row in cur.fetchall()][:40]


def sql_text(query: Any, cur: Any) -> str:
    return query.as_string(cur) if hasattr(query, "as_string") else str(query)


def stop_process(proc: subprocess.Popen[bytes], timeout: float = 20) -> None:
    """SIGTERM, then SIGKILL if it has not ended within `timeout` seconds."""
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def proc_cpu_seconds(pid: int) -> float:
    with open(f"/proc/{pid}/stat", "rb") as f:
        data = f.read()
    fields = data[data.rindex(b")") + 2:].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def machine_info(database_url: str) -> dict[str, Any]:
    import psycopg

    pg: dict[str, Any] = {}
    with psycopg.connect(database_url, autocommit=True) as conn:
        pg["version"] = conn.execute("SELECT version()").fetchone()[0]  # type: ignore[index]
        for name in ("shared_buffers", "work_mem", "maintenance_work_mem", "effective_cache_size",
                     "max_parallel_workers_per_gather", "synchronous_commit", "random_page_cost", "jit",
                     "autovacuum", "gin_pending_list_limit", "max_wal_size", "checkpoint_timeout"):
            pg[name] = conn.execute(f"SHOW {name}").fetchone()[0]  # type: ignore[index]
    git = {}
    with contextlib.suppress(OSError, subprocess.SubprocessError):
        def run(*cmd: str) -> str:
            return subprocess.run(["git", *cmd], cwd=ROOT, capture_output=True, text=True, timeout=10).stdout.strip()
        git = {"commit": run("rev-parse", "--short", "HEAD"),
               "uncommitted_paths": [ln[3:] for ln in run("status", "--porcelain").splitlines() if ln.strip()]}
    return {**host_info(), "postgresql": pg, "code": git}


def busy_processes() -> list[str]:
    """Other CPU-hungry processes right now (this machine is shared with other work)."""
    with contextlib.suppress(OSError, subprocess.SubprocessError):
        out = subprocess.run(["ps", "-eo", "pcpu,args", "--sort=-pcpu"], capture_output=True, text=True,
                             timeout=10).stdout.splitlines()[1:8]
        return [line.strip()[:120] for line in out if line.strip() and float(line.split()[0]) >= 5.0]
    return []


# -- rebuild ---------------------------------------------------------------------------------


def timed_rebuild(container: Any, name: str, schema: str) -> dict[str, Any]:
    """rebuild(runner, name, schema) with the fill, each index and the switch timed apart."""
    import projections.rebuild as rebuild_module

    runner = container.projector()
    head = container.desk.recorder.max_notification_id() or 0
    steps: list[tuple[float, int]] = []
    indexes: list[tuple[str, float]] = []
    marks: dict[str, float] = {}
    original_step = runner.step
    original_fill = rebuild_module.fill_shadow
    original_build = rebuild_module._build_indexes

    def step(projection: Any, limit: int | None = None) -> int:
        t0 = time.perf_counter()
        moved = original_step(projection, limit)
        steps.append((time.perf_counter() - t0, moved))
        return moved

    def fill(*a: Any, **k: Any) -> Any:
        t0 = time.perf_counter()
        shadow = original_fill(*a, index_timings=indexes, **k)
        marks["fill_shadow"] = time.perf_counter() - t0
        return shadow

    def build(*a: Any, **k: Any) -> Any:
        t0 = time.perf_counter()
        timings = original_build(*a, **k)
        marks["indexes"] = time.perf_counter() - t0
        return timings

    runner.step = step  # type: ignore[method-assign]
    rebuild_module.fill_shadow = fill
    rebuild_module._build_indexes = build
    try:
        t0 = time.perf_counter()
        position = rebuild_module.rebuild(runner, name, schema)
        total = time.perf_counter() - t0
    finally:
        runner.step = original_step  # type: ignore[method-assign]
        rebuild_module.fill_shadow = original_fill
        rebuild_module._build_indexes = original_build
    applied = sum(n for _, n in steps)
    fill_seconds = sum(s for s, _ in steps)
    tenth = max(1, len(steps) // 10)
    first, last = steps[:tenth], [s for s in steps if s[1]][-tenth:]

    def rate(part: list[tuple[float, int]]) -> float:
        return round(sum(n for _, n in part) / max(1e-9, sum(s for s, _ in part)))

    return {
        "events": applied, "head_position": head, "position_reached": position,
        "total_seconds": round(total, 1), "fill_seconds": round(fill_seconds, 1),
        "index_seconds": round(marks.get("indexes", 0), 1),
        "switch_seconds": round(total - marks.get("fill_shadow", total), 2),
        "fill_events_per_second": round(applied / fill_seconds) if fill_seconds else None,
        "overall_events_per_second": round(applied / total) if total else None,
        "fill_rate_first_tenth": rate(first), "fill_rate_last_tenth": rate(last),
        "batches": len(steps), "index_workers": rebuild_module.INDEX_WORKERS,
        "indexes": [{"index": re.sub(r'^CREATE INDEX ON \S+ (USING )?', "", d), "seconds": round(s, 2)}
                    for d, s in indexes],
        "loadavg_after": list(os.getloadavg()),
    }


def vacuum_analyze(database_url: str, schema: str, tables: tuple[str, ...] = (
        "ticket_summary", "ticket_search", "audit_log", "audit_subjects", "daily_stats", "agent_workload")) -> dict[str, float]:
    import psycopg

    out = {}
    with psycopg.connect(database_url, autocommit=True) as conn:
        for table in tables:
            t0 = time.perf_counter()
            conn.execute(f'VACUUM (ANALYZE) "{schema}"."{table}"')
            out[table] = round(time.perf_counter() - t0, 2)
    return out


def sizes(database_url: str, schema: str) -> dict[str, Any]:
    import psycopg

    with psycopg.connect(database_url, autocommit=True) as conn:
        rows = conn.execute(
            "SELECT c.relname, c.relkind, pg_total_relation_size(c.oid) AS total, pg_relation_size(c.oid) AS main,"
            " c.reltuples FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
            " WHERE n.nspname = %s AND c.relkind IN ('r', 'i') ORDER BY pg_relation_size(c.oid) DESC", (schema,)
        ).fetchall()
    mib = 1024 * 1024
    return {"tables": {r[0]: {"total_mib": round(r[2] / mib, 1), "heap_mib": round(r[3] / mib, 1), "rows": int(r[4])}
                       for r in rows if r[1] == "r"},
            "indexes": {r[0]: round(r[3] / mib, 1) for r in rows if r[1] == "i" and r[3] > mib}}


def profile_fill(container: Any, schema: str, name: str, batches: int) -> dict[str, Any]:
    """A few fill batches of one projection under cProfile, into throw-away tables."""
    from psycopg.sql import SQL, Identifier

    from projections.registry import build

    runner = container.projector()
    projection = build(name, schema, suffix="__prof")
    projection.name = name + "__prof"
    datastore = container.desk.recorder.datastore
    with datastore.transaction(commit=True) as cur:
        for table in projection.tables:
            cur.execute(SQL("DROP TABLE IF EXISTS {}.{}").format(Identifier(schema), Identifier(table + "__prof")))
        runner.positions.lock(cur, projection.name)
        runner.positions.advance(cur, projection.name, 0)
        projection.create_tables(cur, with_indexes=False)
    profiler = cProfile.Profile()
    moved = 0
    t0 = time.perf_counter()
    profiler.enable()
    for _ in range(batches):
        moved += runner.step(projection, limit=5000)
    profiler.disable()
    seconds = time.perf_counter() - t0
    with datastore.transaction(commit=True) as cur:
        for table in projection.tables:
            cur.execute(SQL("DROP TABLE IF EXISTS {}.{}").format(Identifier(schema), Identifier(table + "__prof")))
        runner.positions.delete(cur, projection.name)
    stream = io.StringIO()
    stats = pstats.Stats(profiler, stream=stream)
    stats.sort_stats("tottime")
    top = []
    for (filename, line, func), (_cc, nc, tt, ct, _callers) in sorted(
            stats.stats.items(), key=lambda kv: -kv[1][2])[:18]:  # type: ignore[attr-defined]
        where = filename.replace(str(ROOT) + "/", "").split("site-packages/")[-1]
        top.append({"function": f"{where}:{line}({func})", "calls": nc, "self_s": round(tt, 3),
                    "cumulative_s": round(ct, 3)})
    return {"events": moved, "seconds": round(seconds, 2), "events_per_second": round(moved / seconds),
            "top_by_self_time": top}


# -- search ------------------------------------------------------------------------------------


def sample_values(database_url: str, schema: str, rng: random.Random) -> dict[str, Any]:
    """Numbers, phones, emails and ids that really occur, for the queries."""
    import psycopg

    with psycopg.connect(database_url, autocommit=True) as conn:
        rows = conn.execute(
            f'SELECT number, state->\'contact\'->>\'phone\', state->\'contact\'->>\'email\', customer_id'
            f' FROM "{schema}".ticket_summary TABLESAMPLE SYSTEM (1) LIMIT 3000').fetchall()
        if len(rows) < 200:
            rows = conn.execute(
                f'SELECT number, state->\'contact\'->>\'phone\', state->\'contact\'->>\'email\', customer_id'
                f' FROM "{schema}".ticket_summary LIMIT 3000').fetchall()
        counts = conn.execute(
            f'SELECT customer_id, count(*) FROM "{schema}".ticket_summary GROUP BY customer_id').fetchall()
        team_counts = conn.execute(
            f'SELECT team_id, count(*) FROM "{schema}".ticket_summary GROUP BY team_id ORDER BY 2 DESC').fetchall()
    counts.sort(key=lambda r: r[1])
    return {"numbers": [r[0] for r in rows], "phones": [r[1] for r in rows if r[1]],
            "emails": [r[2] for r in rows if r[2]],
            # a typical customer (median ticket count) and a key account (the 99.9th percentile)
            "customer_median": counts[len(counts) // 2], "customer_heavy": counts[int(len(counts) * 0.999)],
            "teams": [(t, n) for t, n in team_counts if t]}


QUERY_KINDS = ["zh2", "zh4", "en_word", "en_prefix", "phone4", "phone_full", "number", "email", "mixed"]


def make_q(kind: str, rng: random.Random, values: dict[str, Any]) -> str:
    if kind == "zh2":
        return rng.choice(Q_ZH2)
    if kind == "zh4":
        return rng.choice(Q_ZH4)
    if kind == "en_word":
        return rng.choice(Q_EN_WORDS)
    if kind == "en_prefix":
        return rng.choice(Q_EN_PREFIXES)
    if kind == "phone4":
        return rng.choice(values["phones"])[-4:]
    if kind == "phone_full":
        return rng.choice(values["phones"])
    if kind == "number":
        return rng.choice(values["numbers"])
    if kind == "email":
        return rng.choice(values["emails"])
    return rng.choice(Q_MIXED)


def make_filters(rng: random.Random, team: str, now: datetime) -> tuple[str, dict[str, Any]]:
    options: list[tuple[str, dict[str, Any]]] = [
        ("status_active", {"status": ["open", "in_progress"]}),
        ("priority_high", {"priority": ["high", "urgent"]}),
        ("tag_complaint", {"tags": ["投诉"]}),
        ("team", {"team": team}),
        ("created_30d", {"created_from": now - timedelta(days=30)}),
        ("closed_in_range", {"status": ["resolved", "closed"], "created_from": now - timedelta(days=90),
                             "created_to": now - timedelta(days=60)}),
        ("team_urgent_new", {"status": ["new", "open"], "priority": ["urgent"], "team": team}),
        ("team_active_7d", {"team": team, "status": ["new", "open", "in_progress", "pending"],
                            "created_from": now - timedelta(days=7)}),
    ]
    picked = rng.sample(options, rng.choice([1, 1, 2]))
    filters: dict[str, Any] = {}
    for _, f in picked:
        for key, value in f.items():
            filters[key] = sorted(set(filters[key]) | set(value)) if isinstance(value, list) and key in filters \
                else value
    return "+".join(n for n, _ in picked), filters


def run_search(args: argparse.Namespace, container: Any, schema: str, values: dict[str, Any]) -> dict[str, Any]:
    from events.actor import Actor
    from read_api.search_filters import SearchPage
    from read_api.ticket_search import search

    rng = random.Random(f"{args.seed}:search")
    world_team, _ = values["teams"][0]
    team_sizes = dict(values["teams"])
    agent_team = values["teams"][len(values["teams"]) // 2][0]  # a mid-sized team
    world = World(args.seed, args.tickets, values["team_ids"])
    readers = {
        "admin": Actor("bench-admin", "admin"),
        "agent": Actor(world.agents[agent_team][0], "agent", team_ids=(agent_team,)),
        "customer": Actor(values["customer_median"][0], "customer"),
        "customer_key_account": Actor(values["customer_heavy"][0], "customer"),
    }
    now = datetime.now(UTC)
    models = RecordingModels(container.read_models)
    results: dict[str, Any] = {"readers": {
        "agent_team_tickets": team_sizes.get(agent_team), "customer_tickets": values["customer_median"][1],
        "customer_key_account_tickets": values["customer_heavy"][1]}, "scenarios": {}}
    calls: list[dict[str, Any]] = []
    for reader_name, reader in readers.items():
        for filtered in (False, True):
            scenario = f"{reader_name}/{'filtered' if filtered else 'q_only'}"
            n = args.queries if not reader_name.endswith("key_account") else max(20, args.queries // 2)
            specs = []
            for i in range(n + args.warmup):
                kind = QUERY_KINDS[i % len(QUERY_KINDS)] if i >= args.warmup else rng.choice(QUERY_KINDS)
                q: str | None = make_q(kind, rng, values)
                label = kind
                filters: dict[str, Any] = {}
                if filtered:
                    fname, filters = make_filters(rng, agent_team if reader.role == "agent" else world_team, now)
                    if rng.random() < 0.25:
                        q, label = None, "no_q"
                    label = f"{label}|{fname}"
                specs.append((label, SearchPage(q=q, **filters)))
            timings: list[float] = []
            by_kind: dict[str, list[float]] = defaultdict(list)
            statement_share: Counter[str] = Counter()
            began = time.perf_counter()
            for i, (label, page) in enumerate(specs):
                models.statements = []
                t0 = time.perf_counter()
                out = search(models, page, reader)  # type: ignore[arg-type]
                elapsed = time.perf_counter() - t0
                if i < args.warmup:
                    continue
                timings.append(elapsed)
                by_kind[label.split("|")[0]].append(elapsed)
                matched = sum(out["facets"]["status"].values())
                parts = [s for q, _, s in models.statements if not isinstance(q, str)]
                for part_name, s in zip(("facets", "page"), parts):
                    statement_share[part_name] += s
                calls.append({"scenario": scenario, "label": label, "q": page.q, "ms": round(elapsed * 1000, 2),
                              "matched": matched, "statements_ms": [round(s * 1000, 2) for s in parts],
                              "statements": models.statements, "reader": reader})
                if time.perf_counter() - began > args.scenario_seconds:
                    log(f"{scenario}: time budget reached after {len(timings)} queries")
                    break
            total_statement = sum(statement_share.values()) or 1
            results["scenarios"][scenario] = {
                **summary_ms(timings),
                "by_kind": {k: summary_ms(v) for k, v in sorted(by_kind.items())},
                "time_share": {k: round(v / total_statement, 3) for k, v in statement_share.items()},
            }
            s = results["scenarios"][scenario]
            log(f"search {scenario}: p50 {s.get('p50_ms')} ms, p95 {s.get('p95_ms')} ms, p99 {s.get('p99_ms')} ms")
    results["all_calls"] = summary_ms([c["ms"] / 1000 for c in calls])
    calls.sort(key=lambda c: -c["ms"])
    results["slowest"] = [{k: c[k] for k in ("scenario", "label", "q", "ms", "matched", "statements_ms")}
                          for c in calls[:15]]
    results["explain"] = explain_slowest(container, calls, args.explain)
    slowest_per_scenario: list[dict[str, Any]] = []
    for scenario in results["scenarios"]:
        mine = [c for c in calls if c["scenario"] == scenario]
        if mine and args.explain and not scenario.startswith("admin"):
            slowest_per_scenario += explain_slowest(container, mine, 1)
    results["explain_slowest_per_scenario"] = slowest_per_scenario
    return results


def explain_slowest(container: Any, calls: list[dict[str, Any]], how_many: int) -> list[dict[str, Any]]:
    """EXPLAIN (ANALYZE, BUFFERS) of every statement of the slowest distinct calls."""
    seen: set[tuple[str, str]] = set()
    out = []
    for call in calls:
        key = (call["scenario"].split("/")[0], call["label"].split("|")[0] + str(call["q"]))
        if key in seen or not call["statements"]:
            continue
        seen.add(key)
        settings = tuple(q for q, _, _ in call["statements"] if isinstance(q, str))
        queries = [(q, p, s) for q, p, s in call["statements"] if not isinstance(q, str)]
        plans = [{"part": part, "ms_in_run": round(seconds * 1000, 1),
                  "plan": explain(container, query, params, settings)}
                 for (query, params, seconds), part in zip(queries, ("facets", "page"))]
        out.append({"scenario": call["scenario"], "label": call["label"], "q": call["q"], "ms": call["ms"],
                    "matched": call["matched"], "plans": plans})
        if len(out) >= how_many:
            break
    return out


# -- board, stats, search over HTTP ------------------------------------------------------------


def run_http_inprocess(args: argparse.Namespace, container: Any, values: dict[str, Any]) -> dict[str, Any]:
    """Board / workload / stats (and a search sample) through the FastAPI app, auth overridden."""
    from fastapi.testclient import TestClient

    from events.actor import Actor
    from identity.deps import current_actor
    from ledgerdesk.app import create_app

    app = create_app(container)
    recording = RecordingModels(container.read_models)
    app.state.read_models = recording
    team = values["teams"][0][0]
    agent_team = values["teams"][len(values["teams"]) // 2][0]
    world = World(args.seed, args.tickets, values["team_ids"])
    actors = {"admin": Actor("bench-admin", "admin"),
              "agent": Actor(world.agents[agent_team][0], "agent", team_ids=(agent_team,))}
    who: list[Any] = [actors["admin"]]
    app.dependency_overrides[current_actor] = lambda: who[0]
    cases = [
        ("board admin", "admin", "/api/v1/board", {}),
        ("board admin team", "admin", "/api/v1/board", {"team": team}),
        ("board agent", "agent", "/api/v1/board", {}),
        ("workload", "admin", "/api/v1/workload", {}),
        ("stats 30d", "admin", "/api/v1/stats", {}),
        ("stats 30d team", "admin", "/api/v1/stats", {"team": team}),
        ("stats 365d", "admin", "/api/v1/stats", {"from": (datetime.now(UTC) - timedelta(days=365)).date().isoformat()}),
    ]
    rng = random.Random(f"{args.seed}:http")
    out: dict[str, Any] = {}
    with TestClient(app) as client:
        for name, actor, path, params in cases:
            who[0] = actors[actor]
            for _ in range(3):
                client.get(path, params=params).raise_for_status()
            timings = []
            for _ in range(args.board_repeats):
                recording.statements = []
                t0 = time.perf_counter()
                client.get(path, params=params).raise_for_status()
                timings.append(time.perf_counter() - t0)
            out[name] = summary_ms(timings)
            statements = list(recording.statements)
            out[name]["statements_ms"] = [round(sec * 1000, 1) for _, _, sec in statements]
            if statements and args.explain:
                query, query_params, _ = max(statements, key=lambda st: st[2])
                out[name]["slowest_statement_plan"] = explain(container, query, query_params)
            log(f"http-inprocess {name}: p50 {out[name]['p50_ms']} ms, p95 {out[name]['p95_ms']} ms")
        who[0] = actors["admin"]
        timings = []
        for i in range(args.http_queries + 10):
            q = make_q(QUERY_KINDS[i % len(QUERY_KINDS)], rng, values)
            t0 = time.perf_counter()
            client.get("/api/v1/tickets", params={"q": q}).raise_for_status()
            if i >= 10:
                timings.append(time.perf_counter() - t0)
        out["search admin q_only (TestClient)"] = summary_ms(timings)
    return out


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run_http_server(args: argparse.Namespace, schema: str, values: dict[str, Any]) -> dict[str, Any]:
    """A search sample over real HTTP: `ledgerdesk serve api` subprocess, signed in as the first admin."""
    import httpx

    port = _free_port()
    email, password = "bench-admin@example.test", "Bench-Passw0rd-42!"
    env = {**os.environ, "DATABASE_URL": args.database_url, "LEDGERDESK_DATABASE_SCHEMA": schema,
           "PGAPPNAME": "bench-search-api", "LEDGERDESK_PORT": str(port), "LEDGERDESK_ADMIN_EMAIL": email, "LEDGERDESK_ADMIN_PASSWORD": password,
           "LEDGERDESK_ARGON2_TIME_COST": "1", "LEDGERDESK_ARGON2_MEMORY_KIB": "8192"}
    logfile = open(f"/tmp/bench_search_api_{schema}.log", "wb")  # noqa: SIM115
    proc = subprocess.Popen([sys.executable, "-m", "ledgerdesk.cli", "serve", "api"], cwd=ROOT, env=env,
                            stdout=logfile, stderr=subprocess.STDOUT)
    rng = random.Random(f"{args.seed}:http-server")
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while True:
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(base + "/healthz", timeout=2).status_code == 200:
                    break
            if time.monotonic() > deadline or proc.poll() is not None:
                raise RuntimeError("api server did not come up")
            time.sleep(0.2)
        with httpx.Client(base_url=base + "/api/v1", timeout=60) as client:
            r = client.post("/auth/login", json={"login": email, "password": password})
            r.raise_for_status()
            client.headers["Authorization"] = "Bearer " + r.json()["access_token"]
            out = {}
            for label, filtered in (("search admin q_only", False), ("search admin filtered", True)):
                timings = []
                for i in range(args.http_queries + 10):
                    params: list[tuple[str, Any]] = [("q", make_q(QUERY_KINDS[i % len(QUERY_KINDS)], rng, values))]
                    if filtered:
                        params = [("status", "open"), ("status", "in_progress"), ("priority", "high"),
                                  ("priority", "urgent")] + (params if i % 4 else [])
                    t0 = time.perf_counter()
                    client.get("/tickets", params=params).raise_for_status()
                    if i >= 10:
                        timings.append(time.perf_counter() - t0)
                out[label] = summary_ms(timings)
                log(f"http-server {label}: p50 {out[label]['p50_ms']} ms, p95 {out[label]['p95_ms']} ms")
            for path in ("/board", "/stats"):
                timings = []
                for _ in range(args.board_repeats):
                    t0 = time.perf_counter()
                    client.get(path).raise_for_status()
                    timings.append(time.perf_counter() - t0)
                out[path.strip("/") + " admin"] = summary_ms(timings)
        return out
    finally:
        stop_process(proc)
        logfile.close()


# -- projection lag while commands flow ---------------------------------------------------------


def run_lag(args: argparse.Namespace, container: Any, schema: str, values: dict[str, Any]) -> dict[str, Any]:
    """Projection lag at a paced command rate, against a projector process as shipped (GIN janitor included)."""
    import psycopg

    from events.actor import Actor
    from events.errors import DomainError

    desk = container.desk
    world = World(args.seed, args.tickets, values["team_ids"])
    with psycopg.connect(args.database_url, autocommit=True) as conn:
        pool = [(UUID(str(r[0])), r[1]) for r in conn.execute(
            f'SELECT id, team_id FROM "{schema}".ticket_summary TABLESAMPLE SYSTEM (2)'
            f" WHERE status <> 'merged' LIMIT 20000").fetchall()]
    if len(pool) < 100:
        with psycopg.connect(args.database_url, autocommit=True) as conn:
            pool = [(UUID(str(r[0])), r[1]) for r in conn.execute(
                f'SELECT id, team_id FROM "{schema}".ticket_summary WHERE status <> \'merged\' LIMIT 20000').fetchall()]
    pool_lock = threading.Lock()
    env = {**os.environ, "DATABASE_URL": args.database_url, "LEDGERDESK_DATABASE_SCHEMA": schema,
           "PGAPPNAME": "bench-search-projector"}
    logfile = open(f"/tmp/bench_search_projector_{schema}.log", "wb")  # noqa: SIM115
    batches_path = f"/tmp/bench_search_batches_{schema}.json"
    command = ([sys.executable, "-m", "ledgerdesk.cli", "serve", "projector"] if args.lag_projector == "cli" else
               [sys.executable, "-m", "bench.search", "--serve-timed-projector", batches_path])
    projector = subprocess.Popen(command, cwd=ROOT, env=env, stdout=logfile, stderr=subprocess.STDOUT)
    positions_sql = f'SELECT name, position FROM "{schema}".projection_positions WHERE name IN (\'tickets\', \'audit\')'
    samples: list[tuple[float, int, int]] = []
    stop_polling = threading.Event()

    def poll() -> None:
        with psycopg.connect(args.database_url, autocommit=True) as conn:
            while not stop_polling.is_set():
                rows = dict(conn.execute(positions_sql, prepare=True).fetchall())
                samples.append((time.perf_counter(), rows.get("tickets", 0), rows.get("audit", 0)))
                time.sleep(0.002)

    activity: Counter[str] = Counter()
    activity_samples = [0]

    def sample_activity() -> None:
        """What our backends are doing, every 25 ms: (process, state, wait event, statement)."""
        with psycopg.connect(args.database_url, autocommit=True) as conn:
            while not stop_polling.is_set():
                rows = conn.execute(
                    "SELECT application_name, state, coalesce(wait_event_type || ':' || wait_event, 'cpu'),"
                    " regexp_replace(left(query, 70), '\\s+', ' ', 'g') FROM pg_stat_activity"
                    " WHERE ((application_name LIKE 'bench-search%%' AND state <> 'idle')"
                    " OR (backend_type = 'autovacuum worker' AND query LIKE %s))"
                    " AND pid <> pg_backend_pid()", (f"%{schema}%",)).fetchall()
                activity_samples[0] += 1
                for app, state, wait, query in rows:
                    query = query.replace(f'"{schema}".', "")
                    who = app.removeprefix("bench-search") or "-writer" if app.startswith("bench-search") else "autovacuum"
                    activity[f"{who} | {state} | {wait} | {query}"] += 1
                time.sleep(0.025)

    loads: list[float] = []
    saves: list[float] = []
    original_ticket, original_insert = desk.ticket, desk.recorder.insert_events

    def timed_ticket(*a: Any, **k: Any) -> Any:
        t0 = time.perf_counter()
        try:
            return original_ticket(*a, **k)
        finally:
            loads.append(time.perf_counter() - t0)

    def timed_insert(*a: Any, **k: Any) -> Any:
        t0 = time.perf_counter()
        try:
            return original_insert(*a, **k)
        finally:
            saves.append(time.perf_counter() - t0)

    try:
        head = desk.recorder.max_notification_id() or 0
        deadline = time.monotonic() + 600
        with psycopg.connect(args.database_url, autocommit=True) as conn:
            while True:
                rows = dict(conn.execute(positions_sql).fetchall())
                if min(rows.get("tickets", 0), rows.get("audit", 0)) >= head:
                    break
                if time.monotonic() > deadline or projector.poll() is not None:
                    raise RuntimeError("projector did not catch up")
                time.sleep(0.2)
        log(f"lag: projector caught up at {head}; writing {args.lag_rate}/s for {args.lag_seconds}s")
        checkpoints_sql = "SELECT checkpoints_timed + checkpoints_req FROM pg_stat_bgwriter"
        with psycopg.connect(args.database_url, autocommit=True) as conn:
            checkpoints_before = conn.execute(checkpoints_sql).fetchone()[0]  # type: ignore[index]
        poller = threading.Thread(target=poll, daemon=True)
        poller.start()
        sampler = threading.Thread(target=sample_activity, daemon=True)
        sampler.start()
        desk.ticket = timed_ticket  # type: ignore[method-assign]
        desk.recorder.insert_events = timed_insert  # type: ignore[method-assign]
        records: list[dict[str, Any]] = []
        errors: Counter[str] = Counter()
        counter = [0]
        counter_lock = threading.Lock()
        total = int(args.lag_rate * args.lag_seconds)
        t_start = time.perf_counter() + 0.5
        t_start_wall = time.time() + 0.5
        cpu_before = proc_cpu_seconds(projector.pid)
        own_before = time.process_time()

        def command(rng: random.Random) -> tuple[str, Any]:
            roll = rng.random()
            if roll < 0.2:
                form, customer = ticket_form(world, rng)
                receipt = desk.open_ticket(form, Actor(customer["id"], "customer", correlation_id="lag"))
                with pool_lock:
                    pool.append((receipt.id, form["team_id"]))
                return "create", receipt
            with pool_lock:
                ticket_id, team = rng.choice(pool)
            agent = world.agent_actor(rng, team)
            if roll < 0.65:
                public = rng.random() < 0.6
                body = rng.choice(AGENT_REPLIES if public else INTERNAL_NOTES)

                def change(t: Any) -> None:
                    t.add_comment(body, public, agent)
                return "comment", desk.change_ticket(ticket_id, change)
            pick = rng.random()

            def move(t: Any) -> None:
                s = t.status
                if s == "new":
                    t.assign(agent.id, agent)
                elif s == "open":
                    t.start(agent)
                elif s == "in_progress":
                    t.resolve(rng.choice(RESOLUTIONS), agent) if pick < 0.6 else t.hold("等待备件", agent)
                elif s == "pending":
                    t.resume(agent)
                elif s == "resolved":
                    t.close(Actor.system("auto-close")) if pick < 0.7 else t.reopen("又坏了", agent)
                elif s == "closed":
                    t.reopen("问题复现", agent)
                else:
                    t.add_comment("merged ticket note", False, agent)
            return "status", desk.change_ticket(ticket_id, move)

        def writer(w: int) -> None:
            rng = random.Random(f"{args.seed}:lag:{w}")
            while True:
                with counter_lock:
                    i = counter[0]
                    counter[0] += 1
                if i >= total:
                    return
                due = t_start + i / args.lag_rate
                delay = due - time.perf_counter()
                if delay > 0:
                    time.sleep(delay)
                began = time.perf_counter()
                try:
                    kind, receipt = command(rng)
                except DomainError as error:
                    errors[type(error).__name__] += 1
                    continue
                returned = time.perf_counter()
                records.append({"kind": kind, "due": due, "began": began, "returned": returned,
                                "position": receipt.position})

        threads = [threading.Thread(target=writer, args=(w,), daemon=True) for w in range(args.lag_threads)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        t_end = time.perf_counter()
        highest = max((r["position"] or 0) for r in records) if records else 0
        wait_until = time.perf_counter() + 30
        while (not samples or min(samples[-1][1], samples[-1][2]) < highest) and time.perf_counter() < wait_until:
            time.sleep(0.01)
        time.sleep(0.05)
        stop_polling.set()
        poller.join(timeout=5)
        sampler.join(timeout=5)
        cpu_after = proc_cpu_seconds(projector.pid)
        own_cpu = time.process_time() - own_before
        with psycopg.connect(args.database_url, autocommit=True) as conn:
            checkpoints = conn.execute(checkpoints_sql).fetchone()[0] - checkpoints_before  # type: ignore[index]
    finally:
        desk.ticket = original_ticket  # type: ignore[method-assign]
        desk.recorder.insert_events = original_insert  # type: ignore[method-assign]
        stop_polling.set()
        stop_process(projector)
        logfile.close()

    batches = batch_report(batches_path, t_start_wall) if args.lag_projector == "timed" else {}
    times = [s[0] for s in samples]
    poll_gaps = [b - a for a, b in zip(times, times[1:])]

    def lag_for(position: int, returned: float, column: int) -> float | None:
        # samples are in time order and positions only grow: first sample at or past `position`
        lo, hi = 0, len(samples)
        while lo < hi:
            mid = (lo + hi) // 2
            if samples[mid][column] >= position:
                hi = mid
            else:
                lo = mid + 1
        if lo == len(samples):
            return None
        return max(0.0, samples[lo][0] - returned)

    lags: dict[str, list[float]] = {"tickets": [], "audit": [], "both": []}
    timed_lags: list[tuple[float, float]] = []
    missing = 0
    for r in records:
        if r["position"] is None:
            continue
        lt, la = lag_for(r["position"], r["returned"], 1), lag_for(r["position"], r["returned"], 2)
        if lt is None or la is None:
            missing += 1
            continue
        lags["tickets"].append(lt)
        lags["audit"].append(la)
        lags["both"].append(max(lt, la))
        timed_lags.append((r["returned"], max(lt, la)))
    duration = t_end - t_start
    timeline: dict[int, list[float]] = defaultdict(list)
    for returned, lag in timed_lags:
        timeline[int(returned - t_start)].append(lag)
    command_latency = [r["returned"] - r["began"] for r in records]
    slip = [r["began"] - r["due"] for r in records]
    by_kind = Counter(r["kind"] for r in records)
    return {
        "target_rate": args.lag_rate, "seconds": round(duration, 1), "commands": len(records),
        "achieved_rate": round(len(records) / duration, 1) if duration > 0 else None,
        "by_kind": dict(by_kind), "refused": dict(errors), "writer_threads": args.lag_threads,
        "command_latency": summary_ms(command_latency), "schedule_slip": summary_ms(slip),
        "command_parts": {"load_ticket": summary_ms(loads), "insert_events_incl_group_commit": summary_ms(saves)},
        "db_activity": {"samples": activity_samples[0], "top": [
            {"where": k, "share_of_samples": round(n / max(1, activity_samples[0]), 3)}
            for k, n in activity.most_common(25)]},
        "lag_tickets": summary_ms(lags["tickets"]), "lag_audit": summary_ms(lags["audit"]),
        "lag_both": summary_ms(lags["both"]), "unreached": missing,
        "lag_timeline_per_second": [{"second": sec, "commands": len(v), "max_lag_ms": round(max(v) * 1000),
                                     "p50_lag_ms": round(pct(v, 50) * 1000)} for sec, v in sorted(timeline.items())],
        "checkpoints_during": checkpoints, "projector_batches": batches,
        "poll_interval_ms_mean": round(1000 * sum(poll_gaps) / len(poll_gaps), 2) if poll_gaps else None,
        "projector_cpu_share": round((cpu_after - cpu_before) / duration, 2) if duration > 0 else None,
        "bench_process_cpu_share": round(own_cpu / duration, 2) if duration > 0 else None,
        "loadavg_after": list(os.getloadavg()),
    }


def serve_timed_projector(out_path: str) -> int:
    """`ledgerdesk serve projector`, with every batch timed (written to out_path on SIGTERM)."""
    from ledgerdesk.bootstrap import bootstrap
    from ledgerdesk.settings import Settings

    container = bootstrap(Settings())
    runner = container.projector()
    batches: list[dict[str, Any]] = []
    apply_seconds: dict[str, float] = {}
    original_step = runner.step

    def timing(apply: Any, name: str) -> Any:
        def timed_apply(cur: Any, events: Any) -> None:
            t0 = time.perf_counter()
            apply(cur, events)
            apply_seconds[name] = time.perf_counter() - t0
        return timed_apply

    for projection in runner.projections:
        projection.apply = timing(projection.apply, projection.name)  # type: ignore[method-assign]

    def step(projection: Any, limit: int | None = None) -> int:
        at, t0 = time.time(), time.perf_counter()
        apply_seconds.pop(projection.name, None)
        moved = original_step(projection, limit)
        if moved:
            batches.append({"at": at, "name": projection.name, "events": moved,
                            "seconds": time.perf_counter() - t0, "apply_seconds": apply_seconds.get(projection.name)})
        return moved

    runner.step = step  # type: ignore[method-assign]
    signal.signal(signal.SIGTERM, lambda *_: runner.stop())
    try:
        runner.run_forever()
    finally:
        Path(out_path).write_text(json.dumps(batches))
        container.close()
    return 0


def batch_report(path: str, t_start_wall: float) -> dict[str, Any]:
    with contextlib.suppress(OSError, ValueError):
        batches = json.loads(Path(path).read_text())
        out: dict[str, Any] = {}
        for name in ("tickets", "audit"):
            mine = [b for b in batches if b["name"] == name and b["at"] >= t_start_wall]
            if not mine:
                continue
            out[name] = {"batches": len(mine), "events_per_batch_p50": pct([b["events"] for b in mine], 50),
                         "events_per_batch_max": max(b["events"] for b in mine),
                         "duration": summary_ms([b["seconds"] for b in mine]),
                         "apply": summary_ms([b["apply_seconds"] for b in mine if b["apply_seconds"] is not None]),
                         "longest": [{"at_s": round(b["at"] - t_start_wall, 2), "events": b["events"],
                                      "ms": round(b["seconds"] * 1000), "apply_ms": round((b["apply_seconds"] or 0)
                                                                                          * 1000)}
                                     for b in sorted(mine, key=lambda b: -b["seconds"])[:6]]}
        return out
    return {}


# -- main --------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tickets", type=int, default=200_000)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--queries", type=int, default=150, help="measured search calls per scenario")
    parser.add_argument("--warmup", type=int, default=30, help="unmeasured search calls before each scenario")
    parser.add_argument("--scenario-seconds", type=float, default=150, help="time budget per search scenario")
    parser.add_argument("--explain", type=int, default=6, help="EXPLAIN ANALYZE this many slowest distinct calls")
    parser.add_argument("--workers", type=int, default=2, help="generator processes")
    parser.add_argument("--group", type=int, default=500, help="tickets per desk.save() transaction")
    parser.add_argument("--span-days", type=int, default=365, help="tickets are created over this many past days")
    parser.add_argument("--profile-batches", type=int, default=6, help="fill batches profiled per projection (0: off)")
    parser.add_argument("--board-repeats", type=int, default=30)
    parser.add_argument("--http-queries", type=int, default=60)
    parser.add_argument("--lag-rate", type=float, default=300)
    parser.add_argument("--lag-seconds", type=float, default=20)
    parser.add_argument("--lag-threads", type=int, default=48)
    parser.add_argument("--lag-projector", choices=["cli", "timed"], default="timed",
                        help="cli: `ledgerdesk serve projector`; timed: the same run_forever with each batch timed")
    parser.add_argument("--serve-timed-projector", help=argparse.SUPPRESS)
    parser.add_argument("--skip", default="", help="comma list of phases to skip: profile,http,server,lag")
    parser.add_argument("--keep-schema", action="store_true")
    parser.add_argument("--rebuild", default="tickets,audit", help="projections to rebuild and time")
    parser.add_argument("--facet-sample", type=int, help="override read_api.ticket_search.FACET_SAMPLE (experiments)")
    parser.add_argument("--reuse-schema", help="measure an event store a --keep-schema run generated (skips generation)")
    parser.add_argument("--output", help="also write the JSON here")
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL"))
    args = parser.parse_args(argv)
    if args.serve_timed_projector:
        return serve_timed_projector(args.serve_timed_projector)
    if not args.database_url:
        parser.error("set DATABASE_URL or --database-url")
    skip = {s.strip() for s in args.skip.split(",") if s.strip()}
    sys.path.insert(0, str(ROOT))
    if args.facet_sample:
        import read_api.ticket_search
        read_api.ticket_search.FACET_SAMPLE = args.facet_sample
    os.environ["PGAPPNAME"] = "bench-search"  # libpq picks it up: pg_stat_activity tells the processes apart

    import psycopg

    from events.actor import Actor
    from ledgerdesk.bootstrap import bootstrap
    from ledgerdesk.settings import Settings

    schema = args.reuse_schema or f"bench_{uuid.uuid4().hex[:10]}"
    result: dict[str, Any] = {"benchmark": "bench.search", "args": {k: v for k, v in vars(args).items()
                                                                    if k != "database_url"},
                              "schema": schema, "machine": machine_info(args.database_url),
                              "busy_processes_at_start": busy_processes()}
    log(f"schema {schema}; machine {result['machine']['nproc']} CPUs, load {result['machine']['loadavg_at_start']}")
    container = bootstrap(Settings(database_url=args.database_url, database_schema=schema, pool_size=8))
    began = time.perf_counter()
    try:
        if args.reuse_schema:
            from events.account import Team
            team_ids = [str(Team.create_id(name)) for name in TEAM_NAMES]
            log(f"reusing the event store in {schema}")
        else:
            team_ids = [str(container.desk.found_team(name, Actor.system("bench")).id) for name in TEAM_NAMES]
            log(f"generating {args.tickets} tickets with {args.workers} workers")
            result["generate"] = generate(args, schema, team_ids)
            g = result["generate"]
            log(f"generated {g['tickets']} tickets / {g['events']} events in {g['wall_seconds']} s "
                f"({g['tickets_per_second']} tickets/s, {g['events_per_second']} events/s)")
        # Without statistics (autovacuum is off on some servers, and a bulk load outruns it anyway) the
        # planner estimates 0.5% of the table for originator_id = $1 and loads aggregates with a
        # parallel seq scan over the whole event store once it has a few million rows.
        result["analyze_event_store_seconds"] = vacuum_analyze(args.database_url, schema, ("ledgerdesk_events",))
        result["rebuild"] = {}
        for name in [n.strip() for n in args.rebuild.split(",") if n.strip()]:
            log(f"rebuilding {name}")
            r = result["rebuild"][name] = timed_rebuild(container, name, schema)
            log(f"rebuilt {name}: {r['events']} events, fill {r['fill_seconds']} s ({r['fill_events_per_second']}/s),"
                f" indexes {r['index_seconds']} s, switch {r['switch_seconds']} s, total {r['total_seconds']} s")
        t0 = time.perf_counter()
        result["vacuum_analyze_seconds"] = vacuum_analyze(args.database_url, schema)
        log(f"vacuum analyze in {time.perf_counter() - t0:.1f} s")
        result["sizes"] = sizes(args.database_url, schema)
        if "profile" not in skip and args.profile_batches:
            result["profile"] = {}
            for name in ("tickets", "audit"):
                log(f"profiling {args.profile_batches} fill batches of {name}")
                result["profile"][name] = profile_fill(container, schema, name, args.profile_batches)
        values = sample_values(args.database_url, schema, random.Random(args.seed))
        values["team_ids"] = team_ids
        log("search latency")
        result["search"] = run_search(args, container, schema, values)
        if "http" not in skip:
            log("board / stats / search through the FastAPI app in-process")
            result["http_inprocess"] = run_http_inprocess(args, container, values)
        if "server" not in skip:
            try:
                result["http_server"] = run_http_server(args, schema, values)
            except Exception as error:  # noqa: BLE001 - optional phase
                result["http_server"] = {"error": repr(error)}
        if "lag" not in skip:
            lg = result["lag"] = run_lag(args, container, schema, values)
            log(f"lag: {lg['achieved_rate']}/s achieved; tickets p50 {lg['lag_tickets'].get('p50_ms')} "
                f"p95 {lg['lag_tickets'].get('p95_ms')} p99 {lg['lag_tickets'].get('p99_ms')} ms; "
                f"both p99 {lg['lag_both'].get('p99_ms')} ms")
        result["busy_processes_at_end"] = busy_processes()
        result["wall_seconds"] = round(time.perf_counter() - began, 1)
    except Exception:  # keep what was measured before the failure
        result["error"] = traceback.format_exc()
        log(result["error"])
    finally:
        container.close()
        if not (args.keep_schema or args.reuse_schema):
            with psycopg.connect(args.database_url, autocommit=True) as conn:
                conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
            log(f"dropped schema {schema}")
    text = json.dumps(result, ensure_ascii=False, indent=2, default=str)
    if args.output:
        Path(args.output).write_text(text + "\n", encoding="utf-8")
    print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
