"""Reports as downloadable tables: CSV (UTF-8 with a byte-order mark, so that Excel shows the Chinese) and
Excel .xlsx (openpyxl; one sheet per table, rates as percentages)."""
from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from typing import Any

from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Font

from app.services.kernel import case_types, directory, present

CATEGORY_NAMES = {
    "family": "婚姻家事", "neighbor": "邻里纠纷", "property_mgmt": "物业纠纷", "labor": "劳动人事争议",
    "gig_labor": "新业态劳资纠纷", "consumer": "消费纠纷", "auto_consumer": "汽车消费纠纷",
    "contract": "合同纠纷", "damages": "损害赔偿", "housing_land": "房屋宅基地", "land": "山林土地/土地承包",
    "expropriation": "征地拆迁", "medical": "医疗纠纷", "traffic": "道路交通", "environment": "环境污染",
    "other": "其他"}
SOURCE_NAMES = {"walk_in": "窗口来访", "hotline_12345": "12345热线", "police_110": "110非警务警情",
                "petition": "信访转办", "grid": "网格员上报", "online": "网上受理", "centre": "综治中心研判",
                "superior": "上级交办"}
STATUS_NAMES = {"registered": "已登记", "dispatched": "已交办", "handling": "办理中", "in_channel": "法定途径中",
                "feedback": "反馈回访", "closed": "已办结", "cancelled": "已撤销", "suspended": "已中止"}
LEVEL_NAMES = {0: "正常", 1: "预警", 2: "超期", 3: "挂牌督办"}
DIMENSION_NAMES = {"category": "类别", "group": "承办部门", "source": "来源", "grid": "网格", "case_type": "案件类型"}
FIGURE_COLUMNS = [
    ("received", "受理量"), ("closed", "办结量"), ("open", "未办结"), ("overdue_open", "超期未办结"),
    ("closed_on_time", "按期办结"), ("resolved", "化解"), ("mediated", "进入调解"), ("agreements", "调解成功"),
    ("feedback_visits", "回访"), ("satisfied", "满意"), ("closure_rate", "办结率"), ("on_time_rate", "按期办结率"),
    ("resolution_rate", "化解率"), ("mediation_success_rate", "调处成功率"), ("satisfaction_rate", "回访满意率")]
TASK_COLUMNS = [("case_no", "案件编号"), ("title", "环节"), ("group", "承办组"), ("assignee", "承办人"),
                ("due_at", "办理时限"), ("escalation_level", "督办等级")]


@dataclass
class Table:
    title: str
    columns: list[tuple[str, str]]  # (field, header)
    rows: list[dict[str, Any]]


def label(dimension: str | None, key: Any) -> str:
    """A group key as people read it: Chinese name and code (grids are names already)."""
    if key is None:
        return "（未填写）" if dimension in ("category", "grid") else "（未分派）"
    if dimension == "group":  # the names the administrators gave the groups
        name = directory.current().label(key)
        return f"{name} ({key})" if name != key else str(key)
    if dimension == "case_type":  # the names of the processes
        name = case_types.name_of(key)
        return f"{name} ({key})" if name != key else str(key)
    names = {"category": CATEGORY_NAMES, "source": SOURCE_NAMES}.get(dimension or "", {})
    return f"{names[key]} ({key})" if key in names else str(key)


def summary_tables(result: dict[str, Any]) -> list[Table]:
    dimension = result.get("group_by")
    heading = DIMENSION_NAMES.get(dimension or "", "")
    rows = [{"name": label(dimension, item["key"]), **item} for item in result["items"]]
    rows.append({"name": "合计", **result["total"]})
    return [Table(f"研判汇总 {result['from']}—{result['to']}", [("name", heading or "范围"), *FIGURE_COLUMNS], rows)]


def weekly_tables(result: dict[str, Any]) -> list[Table]:
    trend = [("previous_received", "上期受理量"), ("received_change", "受理量增减"),
             ("closure_change", "办结率变化"), ("on_time_change", "按期办结率变化")]
    tables = []
    for dimension, items in result["dimensions"].items():
        rows = [{"name": label(dimension, item["key"]), **item, "previous_received": item["previous"]["received"],
                 "received_change": item["change"]["received"], "closure_change": item["change"]["closure_rate"],
                 "on_time_change": item["change"]["on_time_rate"]} for item in items]
        tables.append(Table(f"按{DIMENSION_NAMES[dimension]}", [("name", DIMENSION_NAMES[dimension]),
                                                                 *FIGURE_COLUMNS, *trend], rows))
    tables.append(Table("每日受理", [("date", "日期"), ("received", "本期受理"), ("previous_received", "上期同日")],
                        result["daily"]))
    return tables


def ranking_tables(result: dict[str, Any]) -> list[Table]:
    rows = [{"name": label("group", item["key"]), **item} for item in result["items"]]
    return [Table(f"{result['month']} 承办部门排名", [("rank", "名次"), ("name", "承办部门"), *FIGURE_COLUMNS], rows)]


def daily_tables(result: dict[str, Any]) -> list[Table]:
    new = [("case_no", "案件编号"), ("case_type", "案件类型"), ("title", "标题"), ("source", "来源"),
           ("category", "类别"), ("status", "状态"), ("received_at", "受理时间"), ("created_at", "登记时间")]
    names = case_types.names()
    named = [{**case, "case_type": names.get(case["case_type"], case["case_type"]),
              "source": SOURCE_NAMES.get(case["source"], case["source"]),
              "category": CATEGORY_NAMES.get(case["category"], case["category"] or "（未分类）"),
              "status": STATUS_NAMES.get(case["status"], case["status"])} for case in result["new"]["items"]]
    return [Table(f"{result['date']} 新受理", new, named),
            Table("今日到期", TASK_COLUMNS, _named_groups(result["due_today"]["items"])),
            Table("超期未办", TASK_COLUMNS, _named_groups(result["overdue"]["items"]))]


def _named_groups(tasks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Groups by name, due instants as the centre counts them (24:00), escalation levels by name."""
    labels = directory.current()
    return [{**task, "group": labels.label(task["group"]), "due_at": present.due_text(task["due_at"]),
             "escalation_level": LEVEL_NAMES.get(task["escalation_level"], task["escalation_level"])}
            for task in tasks]


_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _cell(value: Any) -> Any:
    """A value safe to hand to a spreadsheet: text that would start a formula (a case title such as
    =HYPERLINK(...)) is quoted, and control characters Excel refuses are dropped."""
    if value is None:
        return ""
    if isinstance(value, str):
        value = ILLEGAL_CHARACTERS_RE.sub("", value)
        if value.startswith(_FORMULA_START):
            return "'" + value
    return value


def to_csv(tables: list[Table]) -> bytes:
    """Tables one after another, each under its title, separated by a blank line."""
    out = io.StringIO()
    writer = csv.writer(out)
    for n, table in enumerate(tables):
        if n:
            writer.writerow([])
        if len(tables) > 1:
            writer.writerow([table.title])
        writer.writerow([header for _, header in table.columns])
        writer.writerows([_cell(row.get(field)) for field, _ in table.columns] for row in table.rows)
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def to_xlsx(tables: list[Table]) -> bytes:
    workbook = Workbook()
    workbook.remove(workbook.worksheets[0])  # create_sheet below makes every sheet
    for n, table in enumerate(tables, start=1):
        # Sheet names: at most 31 characters, none of []:*?/\ .
        sheet = workbook.create_sheet(f"{n} " + "".join(c for c in table.title if c not in "[]:*?/\\")[:28])
        sheet.append([header for _, header in table.columns])
        for cell in sheet[1]:
            cell.font = Font(bold=True)
        for row in table.rows:
            sheet.append([_cell(row.get(field)) for field, _ in table.columns])
        for index, (field, header) in enumerate(table.columns, start=1):
            letter = sheet.cell(row=1, column=index).column_letter
            sheet.column_dimensions[letter].width = max(10, len(header) * 2 + 2)
            if field.endswith(("_rate", "_change")) and field != "received_change":
                for (cell,) in sheet.iter_rows(min_row=2, min_col=index, max_col=index):
                    cell.number_format = "0.0%"
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()

