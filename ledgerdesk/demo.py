"""`ledgerdesk demo`: fill a running instance with realistic tickets through the command API."""

from __future__ import annotations

import random
from typing import Any

import httpx

TEAMS = ["打印机售后", "手机售后", "网络运维", "Hospital Devices", "School AV"]
PRODUCTS = [
    ("打印机", "HP LaserJet M1005", ["打印机无法开机", "打印机卡纸", "打印出来有黑线", "printer shows error E3"]),
    ("手机", "Mi 14 Pro", ["手机屏幕碎裂", "手机电池耗电快", "phone won't charge", "手机无法开机"]),
    ("路由器", "TP-Link AX3000", ["路由器频繁掉线", "router keeps rebooting", "WiFi 信号弱"]),
    ("空调", "格力 KFR-35GW", ["空调不制冷", "空调漏水", "air conditioner makes loud noise"]),
    ("监护仪", "Mindray BeneView T5", ["监护仪报警失灵", "patient monitor screen flickers"]),
    ("投影仪", "Epson CB-X06", ["投影仪无法开机", "projector image is blurry", "投影仪灯泡不亮"]),
    ("笔记本", "ThinkPad X1 Carbon", ["笔记本蓝屏", "laptop battery drains fast", "键盘部分按键失灵"]),
]
NAMES = ["李雷", "韩梅梅", "王强", "张伟", "刘洋", "陈静", "Emily Chen", "John Smith", "赵敏", "周杰"]
REGIONS = ["华东", "华北", "华南", "西南", "华中"]
PASSWORD = "Demo-Passw0rd!"


class Demo:
    """Drives the HTTP API as the admin, the staff and the customers would."""

    def __init__(self, url: str, login: str, password: str, seed: int = 2026) -> None:
        self.url = url.rstrip("/") + "/api/v1"
        self.rng = random.Random(seed)
        self.admin = self._session(login, password)

    def _session(self, login: str, password: str) -> httpx.Client:
        client = httpx.Client(base_url=self.url, timeout=30)
        response = client.post("/auth/login", json={"login": login, "password": password})
        response.raise_for_status()
        client.headers["Authorization"] = "Bearer " + response.json()["access_token"]
        return client

    def _account(self, email: str, role: str, name: str, teams: list[str], phone: str | None = None) -> httpx.Client:
        body = {"email": email, "real_name": name, "role": role, "team_ids": teams, "password": PASSWORD,
                "phone": phone}
        response = self.admin.post("/accounts", json=body)
        if response.status_code not in (201, 409):
            response.raise_for_status()
        return self._session(email, PASSWORD)

    def run(self, tickets: int) -> dict[str, int]:
        rng = self.rng
        teams = []
        for name in TEAMS:
            response = self.admin.post("/teams", json={"name": name})
            teams.append(response.json()["id"] if response.status_code == 201 else None)
        teams = [t for t in teams if t]
        tag = rng.randrange(10**6)
        staff = [self._account(f"agent{i}.{tag}@demo.ledgerdesk", "agent", rng.choice(NAMES), [team])
                 for i, team in enumerate(teams)]
        supervisors = [self._account(f"lead{i}.{tag}@demo.ledgerdesk", "supervisor", rng.choice(NAMES), [team])
                       for i, team in enumerate(teams)]
        customers = [self._account(f"customer{i}.{tag}@demo.ledgerdesk", "customer", rng.choice(NAMES), [],
                                   phone=f"+86 139{rng.randrange(10**8):08d}") for i in range(12)]
        counts: dict[str, int] = {}
        for _ in range(tickets):
            status = self._one_ticket(rng.choice(customers), rng.randrange(len(teams)), teams, staff, supervisors)
            counts[status] = counts.get(status, 0) + 1
        return counts

    def _one_ticket(self, customer: httpx.Client, t: int, teams: list[str], staff: list[httpx.Client],
                    supervisors: list[httpx.Client]) -> str:
        rng = self.rng
        kind, model, faults = rng.choice(PRODUCTS)
        fault = rng.choice(faults)
        name = rng.choice(NAMES)
        body: dict[str, Any] = {
            "title": fault, "description": f"{kind} {model}：{fault}。购买于 {rng.randint(2021, 2026)} 年，已尝试重启。",
            "priority": rng.choices(["low", "normal", "high", "urgent"], [2, 6, 3, 1])[0],
            "channel": rng.choice(["web", "email", "phone", "wechat"]), "category": kind,
            "tags": rng.sample(["保修内", "过保", "投诉", "上门", "寄修", "vip"], rng.randint(0, 3)),
            "contact": {"name": name, "phone": f"138{rng.randrange(10**8):08d}",
                        "email": f"user{rng.randrange(10**5)}@example.cn"},
            "region": rng.choice(REGIONS), "team_id": teams[t],
            "product": {"name": kind, "model": model, "serial_number": f"SN{rng.randrange(10**9):09d}"},
            "custom_fields": {"warranty": rng.choice(["in", "out"])},
        }
        ticket = customer.post("/tickets", json=body).json()["id"]
        agent, lead = staff[t], supervisors[t]
        path = rng.choices(["new", "open", "in_progress", "pending", "resolved", "closed", "reopened"],
                           [2, 2, 3, 2, 2, 4, 1])[0]
        if path == "new":
            return "new"
        agent_id = agent.get("/me").json()["id"]
        lead.post(f"/tickets/{ticket}/assign", json={"assignee_id": agent_id})
        if path == "open":
            return "open"
        agent.post(f"/tickets/{ticket}/start")
        agent.post(f"/tickets/{ticket}/comments", json={"body": "您好，我们已收到，正在排查。", "public": True})
        agent.post(f"/tickets/{ticket}/comments", json={"body": "内部备注：疑似主板故障，需备件。", "public": False})
        if path == "in_progress":
            return path
        if path == "pending":
            agent.post(f"/tickets/{ticket}/hold", json={"reason": "等待客户寄回设备"})
            return path
        agent.post(f"/tickets/{ticket}/resolve", json={"resolution": "已更换配件并测试正常"})
        if path == "resolved":
            return path
        customer.post(f"/tickets/{ticket}/close")
        customer.post(f"/tickets/{ticket}/rating", json={"score": rng.randint(3, 5), "comment": "服务很好"})
        if path == "reopened":
            customer.post(f"/tickets/{ticket}/reopen", json={"reason": "问题又出现了"})
            return "open"
        return "closed"
