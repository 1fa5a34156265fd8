"""The lint's messages in both languages: each English message starts with its subject ("condition",
"timeLimit"), said here in Chinese first."""
from __future__ import annotations

from app.errors import Bilingual

# The subjects of the lint's checks (app.engine.lint) in Chinese.
_SUBJECTS = (
    ("user task has neither a lane nor a candidateGroups property",
     "用户任务既不在泳道中，也没有 candidateGroups 属性"),
    ("month limits count calendar months", "以月计的时限按自然月计算，须将 timeLimitCalendar 设为 \"calendar\""),
    ("condition", "顺序流条件"), ("script", "脚本"), ("preScript", "前置脚本"), ("postScript", "后置脚本"),
    ("event condition", "事件条件"), ("loop cardinality", "循环次数"), ("completion condition", "完成条件"),
    ("loop condition", "循环条件"), ("correlation expression", "消息关联表达式"), ("message payload", "消息内容"),
    ("parameter", "参数"), ("timer expression", "定时器表达式"), ("timer value", "定时器取值"),
    ("onComplete", "完成后动作 onComplete"), ("timeLimit", "办理时限 timeLimit"), ("caseStatus", "案件状态 caseStatus"),
    ("candidateGroups", "候选组 candidateGroups"), ("procedure", "程序 procedure"),
    ("timeLimitCalendar", "时限日历 timeLimitCalendar"), ("input expression", "DMN 输入表达式"),
    ("input entry", "DMN 输入条目"), ("output entry", "DMN 输出条目"),
)


def bilingual(message: str) -> Bilingual:
    """The message with its subject said in Chinese first (the detail, from the sandbox or the parser, is
    the English one)."""
    if isinstance(message, Bilingual):
        return message
    for subject, zh in sorted(_SUBJECTS, key=lambda pair: -len(pair[0])):
        if message == subject or message.startswith(f"{subject} ") or message.startswith(f"{subject}:"):
            return Bilingual(zh if message.startswith(subject) and len(subject) > 30 else f"{zh}有误：{message}",
                             message)
    return Bilingual(f"有误：{message}", message)
