"""SQLAlchemy 2 typed models only; no business rules here."""
from app.models.attachments import Attachment
from app.models.audit import SYSTEM_CHAIN, AuditEntry, AuditHead
from app.models.base import Base, table_of
from app.models.calendars import CalendarYear
from app.models.cases import Case, Counter, Party
from app.models.definitions import Deployment, DesignerDraft, ProcessDefinition
from app.models.directory import Centre, Group, IntegrationKey, LoginFailure
from app.models.duplicates import PossibleDuplicate
from app.models.incidents import Incident
from app.models.instances import ProcessInstance, Timer, timer_state_is
from app.models.messages import ReceivedMessage
from app.models.notifications import Notification, NotificationRead
from app.models.tasks import TaskDraft, TaskRow
from app.models.users import LoginSession, User

__all__ = ["SYSTEM_CHAIN", "Attachment", "AuditEntry", "AuditHead", "Base", "CalendarYear", "Case", "Centre", "Counter",
           "Deployment",
           "DesignerDraft", "Group", "Incident", "IntegrationKey", "LoginFailure", "LoginSession", "Notification",
           "NotificationRead", "Party",
           "PossibleDuplicate", "ProcessDefinition", "ReceivedMessage",
           "ProcessInstance", "TaskDraft", "TaskRow", "Timer", "User", "table_of", "timer_state_is"]
