"""A fixed after-sales corpus for search-quality tests: 200+ tickets with deliberate near-misses.

The hand-written tickets carry the traps: 打印 next to 打开 and 打不开, 开机 next to 关机
and 开关机, 不制冷 next to 制冷…不制热 (every bigram present, the word absent), 屏幕碎裂
next to 外屏碎裂, print next to sprint and blueprint, boot next to reboot, phones that share
their last three, four or seven digits but not more, emails that differ by a dot. The bulk
is a deterministic mix of devices, faults and customers, so filters and facets have volume.
Nothing here is random: every run files the same tickets in the same order.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Contact:
    name: str
    phone: str | None = None
    email: str | None = None


@dataclass(frozen=True)
class Customer:
    id: str
    tier: str
    organization: str | None
    region: str | None
    contacts: tuple[Contact, ...]


@dataclass(frozen=True)
class CorpusTicket:
    """One ticket as filed, and the story it lives through before the searches run."""

    key: str
    title: str
    description: str
    customer: Customer
    contact: Contact
    category: str
    product: tuple[str, str]  # (name, model)
    tags: tuple[str, ...]
    region: str | None
    team: str | None
    channel: str
    priority: str
    status: str  # where the story ends
    comments: tuple[tuple[str, bool], ...] = ()  # (body, public), by the assigned agent
    raised_to: str | None = None  # priority changed after filing
    added_tags: tuple[str, ...] = ()
    reopened: bool = False  # resolved, then reopened: ends "open"
    merged_into: str | None = None  # key of the ticket it is merged into
    wave: int = 0  # filed in wave 0, 1 or 2; waves are apart in time

    @property
    def final_priority(self) -> str:
        return self.raised_to or self.priority

    @property
    def final_tags(self) -> tuple[str, ...]:
        return self.tags + tuple(t for t in self.added_tags if t not in self.tags)

    @property
    def assignee(self) -> str | None:
        return None if self.status in ("new", "merged") else f"agent-{self.team or 'pool'}"


def _people(*people: tuple[str, str | None, str | None]) -> tuple[Contact, ...]:
    return tuple(Contact(*p) for p in people)


CUSTOMERS = {c.id: c for c in (
    # individuals: phones sharing suffixes, emails differing by a dot
    Customer("cust-lilei", "VIP", None, None, _people(("李雷", "138-0013-8000", "Li.Lei@Example.com"))),
    Customer("cust-liming", "standard", None, None, _people(("李雷明", "13900138000", "li.leiming@example.com"))),
    Customer("cust-lilei2", "standard", None, None, _people(("李磊", "13600136000", "lilei@example.com"))),
    Customer("cust-hanmm", "gold", None, None, _people(("韩梅梅", "13800139000", "han.meimei@example.com"))),
    Customer("cust-wangfang", "standard", None, None, _people(("王芳", "13800138001", "wangfang@example.cn"))),
    Customer("cust-zhangwei", "VIP", None, None, _people(("张伟", "+86 139 0013 8000", "zhang.wei@example.com"))),
    Customer("cust-liuyang", "standard", None, None, _people(("刘洋", "13700001234", None))),
    Customer("cust-chenjing", "standard", None, None, _people(("陈静", "13700002234", "chenjing@example.cn"))),
    Customer("cust-tom", "standard", None, None, _people(("Tom Baker", "+1 415 555 0138", "tom.baker@example.com"))),
    # organisations
    Customer("cust-pumch", "VIP", "北京协和医院", "华北", _people(
        ("何伟", "010-6915-2271", "hewei@pumch.cn"), ("设备科值班", "010-6915-8000", None))),
    Customer("cust-huashan", "VIP", "复旦大学附属华山医院", "华东", _people(
        ("高洁", "021-6437-0189", "gaojie@huashan.org.cn"), ("吴敏", "18655129043", None))),
    Customer("cust-renji", "gold", "上海仁济医院", "华东", _people(("马超", "18822916650", "machao@renji.com"))),
    Customer("cust-hz1z", "standard", "杭州第一中学", "华东", _people(
        ("郑浩", "13911827365", "zhenghao@hz1z.edu.cn"), ("孙丽", "0571-8702-3316", "sunli@hz1z.edu.cn"))),
    Customer("cust-szsy", "standard", "深圳实验学校", "华南", _people(
        ("黄蕾", "13564870921", "huanglei@szsy.edu.cn"),)),
    Customer("cust-cdqz", "gold", "成都七中", "西南", _people(
        ("赵静", "028-8554-6610", "zhaojing@cdqz.edu.cn"), ("林涛", "13287659013", None))),
    Customer("cust-acme", "gold", "Acme Logistics", "东北", _people(
        ("周杰", "15021346677", "zhou.jie@acme-logistics.com"),
        ("Alice Chen", "+86 186 2177 4450", "alice.chen@acme-logistics.com"))),
    Customer("cust-sprintex", "standard", "Sprintex Media", "华南", _people(
        ("Bob Miller", "+1 206 555 0147", "bob.miller@sprintex.com"),)),
)}

REGIONS = ("华东", "华北", "华南", "西南", "东北")
TEAM_BY_REGION = {"华东": "team-east", "华北": "team-north", "华南": "team-south", "西南": "team-west"}  # 东北: unrouted

LASERJET = ("惠普激光打印机", "HP LaserJet Pro M404dn")
CANON = ("佳能彩色打印机", "Canon imageCLASS MF643Cdw")
BROTHER = ("兄弟打印机", "Brother HL-2260D")
MATE60 = ("华为手机", "Huawei Mate 60 Pro")
IPHONE = ("苹果手机", "iPhone 15")
XIAOMI = ("小米手机", "Xiaomi 14")
THINKPAD = ("联想笔记本", "Lenovo ThinkPad X1 Carbon")
XPS = ("戴尔笔记本", "Dell XPS 13")
MACBOOK = ("苹果笔记本", "MacBook Air M2")
ARCHER = ("TP-Link路由器", "TP-Link Archer AX73")
AX3 = ("华为路由器", "Huawei AX3 Pro")
HAIER = ("海尔冰箱", "Haier BCD-470WDPG")
MIDEA_FRIDGE = ("美的冰箱", "Midea BCD-516WKPZM")
GREE = ("格力空调", "Gree KFR-35GW")
MIDEA_AC = ("美的空调", "Midea KFR-26GW")
MONITOR = ("迈瑞监护仪", "Mindray BeneView T5")
PUMP = ("输液泵", "Baxter Sigma Spectrum")
ULTRASOUND = ("B超机", "GE Voluson E8")
EPSON = ("爱普生投影仪", "Epson CB-X06")
BENQ = ("明基投影仪", "BenQ MX560")


@dataclass(frozen=True)
class _Kind:
    category: str
    customers: tuple[str, ...]
    products: tuple[tuple[str, str], ...]
    faults: tuple[tuple[str, str], ...]  # (Chinese title part, English description)


_KINDS = (
    _Kind("打印机", ("cust-acme", "cust-pumch", "cust-hz1z", "cust-szsy", "cust-renji"), (LASERJET, CANON, BROTHER), (
        ("卡纸", "Paper jam in tray 2"), ("打印模糊", "Prints come out blurry"),
        ("无法开机", "Printer won't power on"), ("脱机", "Shows offline and cannot print"),
        ("无法连接无线网络", "Can't join the Wi-Fi network"))),
    _Kind("手机", ("cust-lilei", "cust-hanmm", "cust-wangfang", "cust-zhangwei", "cust-tom", "cust-lilei2"),
          (MATE60, IPHONE, XIAOMI), (
        ("屏幕碎裂", "Cracked screen after a drop"), ("电池耗电快", "Battery drains within hours"),
        ("无法开机", "Won't boot, stuck on the logo"), ("充电很慢", "Charging is very slow"),
        ("自动关机", "Shuts down by itself"))),
    _Kind("笔记本电脑", ("cust-acme", "cust-sprintex", "cust-tom", "cust-zhangwei", "cust-cdqz"), (THINKPAD, XPS, MACBOOK), (
        ("蓝屏", "Blue screen on startup"), ("无法开机", "Won't boot at all"),
        ("键盘失灵", "Keyboard keys not responding"), ("电池鼓包", "Battery is swollen"),
        ("风扇噪音大", "Fan is very noisy"))),
    _Kind("路由器", ("cust-acme", "cust-sprintex", "cust-wangfang", "cust-hz1z"), (ARCHER, AX3), (
        ("频繁断网", "Connection keeps dropping"), ("指示灯一直闪烁", "Status light keeps blinking"),
        ("无法登录管理页面", "Cannot log in to the admin page"), ("信号弱", "Weak signal upstairs"))),
    _Kind("冰箱", ("cust-lilei", "cust-hanmm", "cust-liming", "cust-liuyang", "cust-chenjing"), (HAIER, MIDEA_FRIDGE), (
        ("不制冷", "Not cooling, food is spoiling"), ("漏水", "Water leaking under the fridge"),
        ("压缩机噪音大", "Compressor is noisy at night"), ("冷冻室结霜严重", "Heavy frost in the freezer"))),
    _Kind("空调", ("cust-hanmm", "cust-liuyang", "cust-chenjing", "cust-szsy", "cust-zhangwei"), (GREE, MIDEA_AC), (
        ("不制冷", "Blows warm air, not cooling"), ("室内机漏水", "Indoor unit dripping water"),
        ("遥控器失灵", "Remote control does nothing"), ("无法打开", "Unit won't turn on"))),
    _Kind("医疗设备", ("cust-pumch", "cust-huashan", "cust-renji"), (MONITOR, PUMP, ULTRASOUND), (
        ("报警不停", "Alarm keeps sounding"), ("屏幕无显示", "No display on screen"),
        ("无法开机", "Device won't power on"), ("数据无法上传", "Data upload to HIS fails"))),
    _Kind("投影仪", ("cust-hz1z", "cust-szsy", "cust-cdqz", "cust-sprintex"), (EPSON, BENQ), (
        ("投影画面模糊", "Projected image is blurry"), ("灯泡不亮", "Lamp won't light up"),
        ("无法打开", "Projector won't turn on"), ("过热自动关机", "Overheats and shuts off"))),
)

_NOTES = ("", "设备在保修期内，请尽快安排。", "已按说明重启，问题依旧。", "Customer asks for a callback before noon.",
          "本月第二次报修。", "Happens every morning.", "已拍照上传。")
_REPLIES = ("已安排工程师上门检测。", "Engineer booked for Thursday morning.", "已寄出备件，请注意查收。",
            "请提供购买凭证和序列号。", "Remote diagnosis done, replacing the part.", "已电话联系客户确认故障现象。")
_INTERNAL = ("内部：疑似人为损坏，需拍照留证。", "Internal: check serial against the recall list.",
             "内部：配件缺货，预计下周到。")
_CHANNELS = ("web", "email", "phone", "wechat", "api")
_PRIORITIES = ("normal", "low", "normal", "high", "normal", "urgent", "high", "normal")
_STATUSES = ("new", "open", "in_progress", "pending", "resolved", "closed", "open", "new", "in_progress")


def _ticket(key: str, title: str, description: str, customer: str, category: str, product: tuple[str, str], *,
            contact: int = 0, region: str | None = None, unrouted: bool = False, **story: object) -> CorpusTicket:
    who = CUSTOMERS[customer]
    region = region or who.region or "华东"
    team = None if unrouted else TEAM_BY_REGION.get(region)
    story = {"tags": (), "channel": "web", "priority": "normal", "status": "new", **story}
    return CorpusTicket(key, title, description, who, who.contacts[contact], category, product,
                        region=region, team=team, **story)  # type: ignore[arg-type]


def _bulk(count: int) -> list[CorpusTicket]:
    tickets = []
    for i in range(count):
        kind, lap = _KINDS[i % len(_KINDS)], i // len(_KINDS)
        product = kind.products[lap % len(kind.products)]
        fault_zh, fault_en = kind.faults[(lap + i // 24) % len(kind.faults)]
        customer = CUSTOMERS[kind.customers[lap % len(kind.customers)]]
        status = _STATUSES[(i * 5) % len(_STATUSES)]
        tags = ("保修期内" if i % 3 == 0 else "保修期外",) + (("上门",) if i % 4 == 1 else ()) \
            + (("返修",) if i % 7 == 3 else ()) + (("批量",) if i % 11 == 5 else ())
        comments: tuple[tuple[str, bool], ...] = ()
        if status != "new":
            comments += ((_REPLIES[i % len(_REPLIES)], True),)
            if i % 5 == 2:
                comments += ((_INTERNAL[i % len(_INTERNAL)], False),)
        priority = _PRIORITIES[(i * 3) % len(_PRIORITIES)]
        tickets.append(_ticket(
            f"b{i:03d}", f"{product[0]}{fault_zh}", f"{product[1]}: {fault_en}. {_NOTES[i % len(_NOTES)]}".strip(),
            customer.id, kind.category, product, contact=lap % len(customer.contacts),
            region=customer.region or REGIONS[i % len(REGIONS)], unrouted=i % 10 == 9, tags=tags,
            channel=_CHANNELS[(i * 3) % len(_CHANNELS)], priority=priority, status=status, comments=comments,
            raised_to="urgent" if i % 17 == 4 and priority != "urgent" else None,
            added_tags=("已回访",) if i % 13 == 6 else (), wave=i % 3))
    return tickets


_HAND = [
    # 打印 / 打开 / 打不开
    _ticket("h-lilei-printer", "HP LaserJet 打印机无法开机", "办公室的 HP LaserJet Pro M404dn 按电源键没有反应，won't power on。",
            "cust-lilei", "打印机", LASERJET, tags=("保修期内", "上门"), channel="phone", priority="high",
            status="in_progress", comments=(("已安排工程师上门。", True), ("内部：主板可能烧毁。", False))),
    _ticket("h-projector-open", "教室投影仪无法打开", "Epson CB-X06 按开关没有任何反应，指示灯不亮。", "cust-hz1z",
            "投影仪", EPSON, contact=1, tags=("保修期内",), wave=1),
    _ticket("h-ac-wont-open", "空调用遥控器打不开", "Gree KFR-35GW 遥控器换了电池还是打不开空调。", "cust-hanmm", "空调", GREE,
            channel="wechat", wave=2),
    _ticket("h-printer-lid", "打开打印机盖子后一直卡纸", "Canon imageCLASS MF643Cdw 每次打开前盖再合上就提示卡纸。",
            "cust-szsy", "打印机", CANON, status="open", comments=(("请拍一下卡纸位置。", True),), wave=1),
    # 开机 / 关机 / 开关机 / 开关
    _ticket("h-on-off-loop", "手机反复开关机", "Huawei Mate 60 Pro 一直反复开关机，reboots every few minutes。",
            "cust-wangfang", "手机", MATE60, priority="high", status="pending",
            comments=(("请备份数据后寄修。", True),)),
    _ticket("h-laptop-shutdown", "笔记本电脑自动关机", "ThinkPad X1 Carbon 用半小时就自动关机，battery drains fast too.",
            "cust-zhangwei", "笔记本电脑", THINKPAD, tags=("VIP加急",), priority="urgent", status="open",
            comments=(("已远程收集日志。", True),)),
    _ticket("h-slow-boot", "电脑开机很慢", "Dell XPS 13 开机要五分钟，bootloader 提示错误。", "cust-acme", "笔记本电脑", XPS,
            contact=1, channel="email", wave=2),
    _ticket("h-no-connect-then-boot", "无法连接打印机，开机后驱动报错", "Brother HL-2260D 驱动在开机后报错，无法连接。",
            "cust-renji", "打印机", BROTHER, status="resolved", comments=(("已重装驱动。", True),)),
    _ticket("h-switch-broken", "路由器电源开关坏了", "TP-Link Archer AX73 的电源开关按下去弹不起来。", "cust-wangfang",
            "路由器", ARCHER, wave=1),
    # 不制冷 / 不制热 / 漏水 / 漏电
    _ticket("h-heat-not-cool", "空调制冷正常但不制热", "Gree KFR-35GW 冬天开暖风不制热，夏天制冷没问题。", "cust-liuyang",
            "空调", GREE, status="open", comments=(("已预约上门。", True),), wave=1),
    _ticket("h-fridge-not-cool", "冰箱不制冷", "Haier BCD-470WDPG 冷藏室温度很高，not cooling.", "cust-lilei", "冰箱",
            HAIER, tags=("保修期内", "上门"), priority="high", status="in_progress",
            comments=(("备件已发出。", True), ("内部：压缩机批次问题，走召回流程。", False))),
    _ticket("h-socket-leak", "冰箱插座漏电跳闸", "Midea BCD-516WKPZM 一插电就跳闸，怀疑漏电。", "cust-chenjing", "冰箱",
            MIDEA_FRIDGE, priority="urgent", wave=2),
    _ticket("h-fridge-leak", "冰箱底部漏水", "Haier BCD-470WDPG 冷藏室底部有积水。", "cust-liming", "冰箱", HAIER,
            tags=("保修期外",), status="closed", comments=(("排水管已疏通。", True),)),
    _ticket("h-ac-leak", "室内机漏水滴到床上", "Midea KFR-26GW 室内机一开就漏水。", "cust-zhangwei", "空调", MIDEA_AC,
            tags=("上门", "VIP加急"), priority="high", status="open", raised_to="urgent",
            comments=(("师傅今天下午到。", True),), wave=1),
    _ticket("h-ac-drip-english", "Water dripping from AC indoor unit", "Gree KFR-35GW drips onto the carpet.",
            "cust-acme", "空调", GREE, contact=1, channel="email", region="东北"),
    _ticket("h-fridge-leak-reopened", "冰箱维修后再次漏水", "上次维修后两周又开始漏水。", "cust-hanmm", "冰箱",
            MIDEA_FRIDGE, tags=("返修",), status="open", reopened=True, comments=(("已再次派单。", True),), wave=2),
    # 屏幕碎裂 / 外屏碎裂 / 屏幕碎了
    _ticket("h-iphone-cracked", "iPhone 15 屏幕碎裂", "摔了一下屏幕碎裂，触摸失灵。Cracked screen.", "cust-tom", "手机",
            IPHONE, channel="wechat", status="resolved", comments=(("已更换屏幕总成。", True),)),
    _ticket("h-outer-glass", "外屏碎裂，内屏正常", "Xiaomi 14 外屏碎裂但显示正常。", "cust-lilei2", "手机", XIAOMI,
            region="西南", wave=1),
    _ticket("h-screen-broken", "华为手机屏幕碎了", "Huawei Mate 60 Pro 屏幕碎了，能开机。", "cust-hanmm", "手机", MATE60,
            region="华南", wave=2),
    # print / sprint / blueprint / reprint
    _ticket("h-sprint-room", "Sprint review room projector flickers",
            "BenQ MX560 in the sprint room flickers in meetings.",
            "cust-sprintex", "投影仪", BENQ, channel="email", status="open", comments=(("Sending a spare unit.", True),)),
    _ticket("h-blueprint", "Blueprint plotter shows paper error", "The blueprint plotter in the design office stops.",
            "cust-sprintex", "其他", ("绘图仪", "HP DesignJet T230"), channel="email", wave=1),
    _ticket("h-printing-slow", "Printing is very slow over the network",
            "HP LaserJet Pro M404dn takes minutes per page.",
            "cust-acme", "打印机", LASERJET, channel="email", status="pending", comments=(("Waiting for logs.", True),)),
    _ticket("h-reprint", "Receipt printer keeps reprinting old jobs", "Every reboot reprints yesterday's receipts.",
            "cust-acme", "打印机", ("小票打印机", "Epson TM-T82"), contact=1, channel="api", wave=2),
    _ticket("h-print-queue", "Print queue stuck on Windows 11", "Jobs stay in the queue; the Canon never starts.",
            "cust-hz1z", "打印机", CANON, channel="email", status="closed", comments=(("Spooler restarted.", True),)),
    # boot / reboot / booked; mail / mailbox; no display / display
    _ticket("h-tom-laptop", "Laptop won't boot after update", "MacBook Air M2 won't boot, stuck at the Apple logo.",
            "cust-tom", "笔记本电脑", MACBOOK, channel="email", priority="high", wave=1),
    _ticket("h-mailbox", "Office mailbox sync fails on laptop", "Outlook mail server rejects login on MacBook Air M2.",
            "cust-sprintex", "笔记本电脑", MACBOOK, channel="email", status="open",
            comments=(("Reset the app password.", True),)),
    _ticket("h-no-display", "Patient monitor shows no display",
            "Mindray BeneView T5 screen stays black after power on.",
            "cust-huashan", "医疗设备", MONITOR, tags=("VIP加急", "上门"), priority="urgent", status="in_progress",
            comments=(("工程师已出发。", True), ("内部：同批次已有三台返厂。", False))),
    _ticket("h-display-flicker", "Display flickers on projector",
            "Epson CB-X06 picture flickers when the room is cold.",
            "cust-szsy", "投影仪", EPSON, channel="email", wave=2),
    # phones and emails that nearly match
    _ticket("h-liming-fridge", "冰箱压缩机噪音大", "Midea BCD-516WKPZM 晚上压缩机嗡嗡响。", "cust-liming", "冰箱",
            MIDEA_FRIDGE, channel="phone"),
    _ticket("h-hanmm-ac", "空调不制冷", "Midea KFR-26GW 出风是热的。", "cust-hanmm", "空调", MIDEA_AC, channel="phone",
            status="resolved", comments=(("已补充冷媒。", True),), wave=1),
    _ticket("h-wangfang-router", "路由器频繁断网", "Huawei AX3 Pro 每隔十分钟断一次。", "cust-wangfang", "路由器", AX3,
            channel="wechat", wave=2),
    _ticket("h-zhangwei-battery", "笔记本电池鼓包", "Dell XPS 13 电池鼓包，触控板被顶起。", "cust-zhangwei", "笔记本电脑", XPS,
            tags=("VIP加急",), priority="urgent", status="in_progress", comments=(("已寄出新电池。", True),)),
    _ticket("h-liuyang-jam", "打印机卡纸", "Brother HL-2260D 进纸就卡。", "cust-liuyang", "打印机", BROTHER, wave=1),
    _ticket("h-chenjing-jam", "打印机卡纸", "Brother HL-2260D 双面打印时卡纸。", "cust-chenjing", "打印机", BROTHER,
            channel="phone", wave=2),
    _ticket("h-lilei2-battery", "手机电池耗电快", "Xiaomi 14 一天要充三次电，battery drains.", "cust-lilei2", "手机",
            XIAOMI, region="西南", status="closed", comments=(("已更换电池。", True),)),
    _ticket("h-pumch-alarm", "监护仪报警不停", "Mindray BeneView T5 夜间持续报警。", "cust-pumch", "医疗设备", MONITOR,
            contact=1, channel="phone", priority="urgent", status="open", comments=(("已远程排查。", True),)),
    # mixed Chinese and English
    _ticket("h-hp-jam", "HP打印机卡纸", "HP LaserJet 卡纸 paper jam in tray 2.", "cust-pumch", "打印机", LASERJET,
            status="pending", comments=(("等待配件。", True),), wave=1),
    _ticket("h-thinkpad-bsod", "ThinkPad蓝屏", "Lenovo ThinkPad X1 Carbon 开机蓝屏 0x0000007B。", "cust-cdqz", "笔记本电脑",
            THINKPAD, contact=1, wave=2),
    _ticket("h-router-admin", "Can't log in to router admin page", "TP-Link Archer AX73 rejects the admin password.",
            "cust-acme", "路由器", ARCHER, channel="api"),
    _ticket("h-keyboard-liquid", "笔记本键盘失灵", "MacBook Air M2 部分按键没反应。", "cust-cdqz", "笔记本电脑", MACBOOK,
            status="open", comments=(("请寄回检测。", True), ("内部：客户曾进水，不在保修范围。", False)), wave=1),
    # hospital and school volume with filters that matter
    _ticket("h-icu-pump", "ICU 输液泵报警不停", "Baxter Sigma Spectrum 输液过程中反复报警。", "cust-huashan", "医疗设备", PUMP,
            contact=1, tags=("VIP加急", "上门"), priority="high", raised_to="urgent", status="open",
            comments=(("已调配备用泵。", True),), wave=2),
    _ticket("h-school-batch", "多间教室投影仪无法开机", "BenQ MX560 三间教室同时无法开机。", "cust-cdqz", "投影仪", BENQ,
            tags=("批量", "上门", "保修期内"), priority="high", status="resolved", comments=(("已批量更换电源板。", True),)),
    _ticket("h-bcd516-frost", "冰箱冷冻室结霜", "Midea BCD-516WKPZM 冷冻室结了厚厚一层霜。", "cust-chenjing", "冰箱",
            MIDEA_FRIDGE, status="in_progress", comments=(("已安排除霜。", True),), added_tags=("返修",), wave=1),
    # duplicates merged into the first one
    _ticket("h-lamp", "投影仪灯泡不亮", "Epson CB-X06 灯泡不亮，风扇在转。", "cust-szsy", "投影仪", EPSON,
            status="open", comments=(("灯泡已下单。", True),)),
    _ticket("h-lamp-dup1", "投影仪灯泡不亮（重复提交）", "同一台 Epson CB-X06。", "cust-szsy", "投影仪", EPSON,
            status="merged", merged_into="h-lamp", wave=1),
    _ticket("h-lamp-dup2", "教室投影仪灯泡又不亮了", "还是那台 Epson CB-X06。", "cust-szsy", "投影仪", EPSON,
            status="merged", merged_into="h-lamp", wave=2),
]

CORPUS: list[CorpusTicket] = _HAND + _bulk(172)
BY_KEY = {t.key: t for t in CORPUS}
assert len(BY_KEY) == len(CORPUS) >= 200
