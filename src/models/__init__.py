"""The shared model package: imported by both doors, free of any web framework."""

from src.models.base import Base, new_id, utcnow
from src.models.infrastructure import (
    DeploymentPhase,
    JobDeletion,
    LoginFailure,
    RevokedToken,
    SchedulerLease,
    TrustedLoginClient,
)
from src.models.job import Job
from src.models.job_category import JobCategory
from src.models.job_execution import JobExecution
from src.models.notification import Notification
from src.models.pic_team import PicTeam
from src.models.shadow_parity import ParityCount, ParityDifference
from src.models.slack_settings import SlackSettings
from src.models.user import User
from src.models.user_preferences import UserNotificationPreferences, UserUiPreferences

__all__ = [
    "Base",
    "DeploymentPhase",
    "Job",
    "JobCategory",
    "JobDeletion",
    "LoginFailure",
    "TrustedLoginClient",
    "JobExecution",
    "Notification",
    "ParityCount",
    "ParityDifference",
    "PicTeam",
    "RevokedToken",
    "SchedulerLease",
    "SlackSettings",
    "User",
    "UserNotificationPreferences",
    "UserUiPreferences",
    "new_id",
    "utcnow",
]
