"""Demo users (route.md) and a handful of demo cases at different stages, for `make run`."""
from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import select

from app import clock
from app.database import db
from app.models import User
from app.services.accounts import organisation, users
from app.services.inbox import tasks
from app.services.intake import cases
from app.services.kernel import principals

# A county centre with two townships, so that a township supervisor's narrower view can be seen.
DEMO_CENTRES: tuple[tuple[str, str, str | None], ...] = (
    ("county", "示范县综治中心", None),
    ("chengguan", "城关镇综治中心", "county"),
    ("hexi", "河西镇综治中心", "county"),
)
DEMO_GROUPS: tuple[tuple[str, str, str, str, str], ...] = (
    ("intake", "受理窗口", "Intake window", "window", "county"),
    ("dispatch", "分流调度", "Dispatch desk", "dispatch", "county"),
    ("supervisor", "督办", "Supervision", "supervision", "county"),
    ("labor", "劳动争议调解室", "Labour dispute mediation room", "mediation", "county"),
    ("mediation", "人民调解室", "People's mediation room", "mediation", "chengguan"),
    ("family", "婚姻家事调解室", "Family mediation room", "mediation", "chengguan"),
    ("supervisor_chengguan", "城关镇督办", "Chengguan supervision", "supervision", "chengguan"),
    ("property", "物业纠纷调解室", "Property mediation room", "mediation", "hexi"),
    ("consumer", "消费纠纷调解室", "Consumer mediation room", "mediation", "hexi"),
    # police_referral (110 非警务警情联调联处): the police station's first handling, the centre's joint handling.
    ("police", "公安派出所", "Police station", "department", "county"),
    ("joint", "联调联处中心", "Joint handling desk", "mediation", "county"),
)

DEMO_USERS: tuple[tuple[str, str, list[str], list[str]], ...] = (
    ("intake1", "窗口受理员", ["intake"], ["intake"]),
    ("dispatch1", "分流调度员", ["handler"], ["dispatch"]),
    ("mediator1", "人民调解员", ["handler"], ["mediation"]),
    ("family1", "婚姻家事调解员", ["handler"], ["family"]),
    ("labor1", "劳动争议调解员", ["handler"], ["labor"]),
    ("property1", "物业纠纷调解员", ["handler"], ["property"]),
    ("consumer1", "消费纠纷调解员", ["handler"], ["consumer"]),
    ("police1", "派出所民警", ["handler"], ["police"]),
    ("joint1", "联调联处专员", ["handler"], ["joint"]),
    ("supervisor1", "督办专员", ["supervisor"], ["supervisor"]),
    ("supervisor2", "城关镇督办员", ["supervisor"], ["supervisor_chengguan"]),
    ("designer1", "流程设计员", ["designer"], []),
    ("admin1", "系统管理员", ["admin"], []),
)

DEMO_CASES: tuple[dict[str, Any], ...] = (
    {"title": "楼上漏水引发邻里纠纷", "description": "楼上住户卫生间漏水，多次协商未果。", "source": "walk_in",
     "category": "neighbor", "parties": [{"name": "张三", "role": "applicant", "phone": "13800138000"},
                                         {"name": "李四", "role": "respondent"}],
     "location": {"grid": "城关街道-03网格", "address": "幸福小区5栋"}, "willing_to_mediate": True},
    {"title": "外卖骑手工资拖欠", "description": "平台合作商拖欠两个月工资。", "source": "hotline_12345",
     "external_id": "12345-DEMO-0001", "category": "gig_labor", "amount": 8600,
     "parties": [{"name": "王五", "role": "applicant", "phone": "13900139000"},
                 {"name": "某配送服务公司", "role": "respondent"}]},
    {"title": "物业费争议", "description": "业主以服务不达标为由拒交物业费。", "source": "grid",
     "parties": [{"name": "赵六", "role": "applicant"}, {"name": "某物业公司", "role": "respondent"}]},
    # The other shipped case types (docs/routes.md): a 110 referral with a high 民转刑 risk, which opens a
    # supervision task at once, and an instruction to two departments (its deadline is set when seeded).
    {"case_type": "police_referral", "title": "停车位纠纷双方推搡", "source": "police_110",
     "external_id": "110-DEMO-0001", "police_station": "城关派出所",
     "description": "双方因停车位多次争执，今晚发生推搡，一方扬言报复。",
     "category": "neighbor", "risk_level": "high", "risk_factors": ["threats", "violence", "repeat_calls"],
     "parties": [{"name": "孙七", "role": "applicant", "phone": "13700137000"}, {"name": "周八", "role": "respondent"}],
     "location": {"grid": "城关街道-05网格", "address": "和平小区东门"}},
    {"case_type": "instruction", "title": "岁末年初欠薪隐患专项排查", "source": "superior",
     "description": "请排查辖区在建工地和物业服务企业欠薪隐患，逐项建立台账，按期反馈。",
     "departments": ["labor", "property"]},
)
# How far ahead of the seeding day the demo instruction is due.
DEMO_INSTRUCTION_DAYS = 14


def seed_directory() -> None:
    """The demo centres and groups (created, or put back to their demo names and places)."""
    organisation.seed(DEMO_CENTRES, DEMO_GROUPS, actor="demo-seed")


def seed_users(password: str) -> list[str]:
    seed_directory()
    for username, display, roles, groups in DEMO_USERS:
        users.upsert_user(username, password, display_name=display, roles=roles, groups=groups, actor="demo-seed")
    return [u[0] for u in DEMO_USERS]


def demo_users_exist() -> bool:
    with db.transaction() as session:
        return session.scalar(select(User.id).where(User.username == "intake1")) is not None


def seed_cases() -> int:
    """Register the demo cases once and move the first one to the mediator's desk."""
    if cases.case_count():
        return 0
    intake = principals.find_principal("intake1")
    dispatcher = principals.find_principal("dispatch1")
    assert intake is not None and dispatcher is not None, "seed the demo users first"
    first, _ = cases.register(intake, DEMO_CASES[0])
    for case in DEMO_CASES[1:]:
        if case.get("case_type") == "instruction":
            case = {**case, "deadline": (clock.today() + timedelta(days=DEMO_INSTRUCTION_DAYS)).isoformat()}
        cases.register(intake, case)
    dispatch = next(t for t in first["active_tasks"] if t["name"] == "dispatch")
    tasks.claim(dispatcher, dispatch["id"])
    tasks.complete(dispatcher, dispatch["id"], {"handling_group": "mediation", "complexity": "simple"})
    return len(DEMO_CASES)
