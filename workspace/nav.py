"""What the top bar says about the user and which pages the left navigation lists for each role.
Only pages that exist are listed; later steps of F11 add theirs here."""

from __future__ import annotations

from dataclasses import dataclass

from django.urls import reverse

from server.access import AGENCY_ADMINS
from server.accounts.models import AGENCY_ROLES, Role, User
from server.regions import region_name
from workspace.i18n import t

# The map page (server/maps) scopes by role itself; enterprises have no map there.
MAP_ROLES = {Role.PLATFORM, Role.REGULATOR, *AGENCY_ROLES}
# The O&M review queue (workspace/views/om.py): whoever may be a task's O&M reviewer; the service
# decides, record by record (a main or manager account reviews when its person is on the task as one).
REVIEW_ROLES = {Role.AGENCY_REVIEWER, Role.AGENCY_MAIN, Role.AGENCY_MANAGER}
# The projects pages (workspace/views/projects.py): the agency's accounts, regulators, the platform.
PROJECT_ROLES = {Role.PLATFORM, Role.REGULATOR, *AGENCY_ROLES}


@dataclass(frozen=True)
class Link:
    key: str
    label: str
    url: str


def home_url(user: User) -> str:
    if user.role in AGENCY_ROLES:
        return reverse("workspace:agency-home")
    if user.role == Role.ENTERPRISE:
        return reverse("workspace:enterprise-home")
    if user.role == Role.REGULATOR:
        return reverse("workspace:regulator-home")
    return reverse("workspace:platform-home")


def display_name(user: User) -> str:
    if user.person_id:
        return user.person.name
    return user.get_full_name() or user.username


def organisation(user: User) -> str:
    if user.agency_id:
        return user.agency.name
    if user.enterprise_id:
        return user.enterprise.name
    if user.role == Role.REGULATOR:
        return region_name(user.region_code) or t("辖区", "Region")
    return t("平台", "Platform")


def phones_label(user: User) -> str:
    """The phones page lists what ``devices_for`` gives: an agency's admins see its staff's phones."""
    if user.role == Role.PLATFORM:
        return t("所有手机", "All phones")
    if user.role in AGENCY_ADMINS:
        return t("本机构手机", "Agency phones")
    return t("我的手机", "My phones")


def navigation(user: User) -> list[Link]:
    links = [Link("home", t("首页", "Home"), home_url(user))]
    # A regulator's list of its region's projects is 项目审核 (below); each of its projects links to
    # the project's own page (attachments, staff, tasks).
    if user.role in PROJECT_ROLES and user.role != Role.REGULATOR:
        links.append(Link("projects", t("监测项目", "Projects"), reverse("workspace:projects")))
    if user.role in PROJECT_ROLES:
        links.append(Link("tasks", t("监测任务", "Monitoring tasks"), reverse("workspace:tasks")))
    if user.role in MAP_ROLES:
        links.append(Link("map", t("地图", "Map"), reverse("maps:map")))
    if user.role == Role.REGULATOR:
        links += [
            Link("filings", t("备案审查", "Filings"), reverse("workspace:regulator-filings")),
            Link("review", t("项目审核", "Project review"), reverse("workspace:regulator-projects")),
            Link("violations", t("违规整改", "Violations"), reverse("workspace:regulator-violations")),
            Link("evidence", t("证据队列", "Evidence queue"), reverse("workspace:evidence")),
        ]
    # -- agency office (filing, sub-accounts, contracts) --
    # workspace/views/agency.py: the main and manager accounts keep the filing, accounts and
    # contracts; the enterprise accepts the contracts proposed to it; the regulator reads (合同查看).
    if user.role in AGENCY_ADMINS:
        links += [
            Link("filing", t("机构备案", "Filing"), reverse("workspace:agency-filing")),
            Link("accounts", t("账号管理", "Accounts"), reverse("workspace:agency-accounts")),
            Link("contracts", t("合同管理", "Contracts"), reverse("workspace:contracts")),
        ]
    elif user.role == Role.ENTERPRISE:
        links.append(Link("contracts", t("委托合同", "Contracts"), reverse("workspace:contracts")))
    elif user.role == Role.REGULATOR:
        links.append(Link("contracts", t("合同查看", "Contracts"), reverse("workspace:contracts")))
    # 信息变更申请 (seed 003 合同管理 / 运维任务管理; workspace/views/om_manage.py): the agency asks, the
    # enterprise or its region's regulator decides.
    if user.role in (*AGENCY_ADMINS, Role.ENTERPRISE, Role.REGULATOR):
        links.append(
            Link("om-changes", t("信息变更申请", "Change requests"), reverse("workspace:om-changes"))
        )
    # -- end agency office --
    # -- staff --
    # 监测人员 (workspace/views/staff.py): the agency's administrators keep it; regulators read their
    # region's agencies' staff.
    if user.role in (*AGENCY_ADMINS, Role.REGULATOR):
        links.append(Link("staff", t("监测人员", "Staff"), reverse("workspace:staff")))
        # 持证查询 (seed 000; workspace/views/certificates.py): the same readers as the staff pages.
        links.append(
            Link("certificates", t("持证查询", "Certificate holders"), reverse("workspace:certificates"))
        )
    # -- end staff --
    # -- O&M management (O&M tasks, 运维管理, reports, violations) --
    # workspace/views/om_manage.py and agency_violations.py: the agency's accounts (a field or
    # reviewer account sees the tasks it is on, server.access).
    if user.role in AGENCY_ROLES:
        links += [
            Link("om-tasks", t("运维任务", "O&M tasks"), reverse("workspace:om-tasks")),
            Link("om-manage", t("运维管理", "O&M management"), reverse("workspace:om-manage")),
            Link("agency-violations", t("违规待整改", "Violations"), reverse("workspace:agency-violations")),
        ]
    # -- end O&M management --
    if user.role in REVIEW_ROLES:
        links.append(Link("reviews", t("运维记录审核", "O&M review"), reverse("workspace:review-queue")))
    if user.role == Role.ENTERPRISE:
        url = reverse("workspace:enterprise-confirmations")
        links.append(Link("confirmations", t("确认记录", "Confirmations"), url))
    if user.role == Role.PLATFORM:
        again = t("重新判定照片", "Judge photos again")
        links.append(Link("reevaluate", again, reverse("workspace:platform-reevaluate")))
        links.append(Link("admin", t("管理后台", "Admin"), reverse("admin:index")))
    links += [
        Link("phones", phones_label(user), reverse("workspace:phones")),
        Link("password", t("账号设置", "Account settings"), reverse("workspace:password")),
    ]
    return links


ROLE_EN = {
    Role.PLATFORM: "Platform administrator",
    Role.REGULATOR: "Regulator",
    Role.AGENCY_MAIN: "Agency main account",
    Role.AGENCY_MANAGER: "Agency manager",
    Role.AGENCY_REVIEWER: "O&M reviewer",
    Role.AGENCY_FIELD: "Field staff",
    Role.ENTERPRISE: "Enterprise confirmer",
}


def role_label(user: User) -> str:
    return t(user.get_role_display(), ROLE_EN.get(user.role, user.role))
