"""The workspace's access matrix: each role x each page and form x its own side's objects and the
other side's. One table names every page of the workspace (a page added without a row fails the
first test), the roles that open it on their own side's objects, and the object it is about.

What the matrix holds, whatever the page:
- a role the page is not for is told the page does not exist (404), as the API answers outside a
  scope, never 403 and never a 500;
- another side's object (another agency's, enterprise's or region's) is not found (404), read or
  written, and a write to it changes nothing;
- the platform's staff reach both sides' objects through the pages made for them.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

import pytest
from django.urls import get_resolver, reverse

from media_rules.signatures import store_signature
from server.accounts.models import DeviceToken, User
from server.fieldwork.models import MonitoringProject, ProjectAttachment
from server.fieldwork.services import project_attach
from server.om import changes, records
from server.om.models import DayConfirmation, OmRecord, OmReport, Review
from server.om.reports import report_upload
from server.registry import dossier
from server.registry.models import Agency, Contract, Employment
from server.violations.models import Violation
from server.violations.services import rectification_submit
from tests.om.helpers import signature_b64
from tests.support.side_objects import violation_of
from tests.workspace.conftest import signed_in
from tests.workspace.om_manage_scene import om_order, pdf_file
from tests.workspace.om_scene import confirmed_by_enterprise, om_day, work_photo
from tests.workspace.test_pages import a_phone

MAIN, MANAGER, REVIEWER, FIELD = "agency_main", "agency_manager", "agency_reviewer", "agency_field"
ENTERPRISE, REGULATOR = "enterprise", "regulator"
ROLES = (MAIN, MANAGER, REVIEWER, FIELD, ENTERPRISE, REGULATOR)
AGENCY = {MAIN, MANAGER, REVIEWER, FIELD}
ADMINS = {MAIN, MANAGER}
EVERYONE = set(ROLES)


@dataclass(frozen=True)
class Row:
    """A page: the object its address names (a key of ``objects``; "" for none), whether it is a
    form that only takes POST, and the roles that reach it on their own side (200, or a form's
    answer: a redirect, its errors in place or a rule's refusal (409))."""

    obj: str
    roles: set[str]
    post: bool = False
    # The object named in the query (``?project=12``) rather than in the path.
    in_query: bool = False
    # What the page's roles get when it is not a page: the index sends each role to its home.
    ok: tuple[int, ...] = ()
    # Roles that see the object but may not do this to it: the service says no (403), as in the API.
    refused: frozenset[str] = frozenset()


# Pages that are not about a tenant's objects: signing in and out, the language switch.
OUTSIDE = {"sign-in", "sign-out", "set_language"}

MATRIX: dict[str, Row] = {
    "index": Row("", EVERYONE, ok=(302,)),
    "password": Row("", EVERYONE),
    "account-phone": Row("", EVERYONE, post=True),  # 账号设置: the bound phone (a form)
    "phones": Row("", EVERYONE),
    "phone-revoke": Row("phone", ADMINS | {FIELD}, post=True),  # the phone is the field user's
    "agency-home": Row("", AGENCY),
    "enterprise-home": Row("", {ENTERPRISE}),
    "regulator-home": Row("", {REGULATOR}),
    "platform-home": Row("", set()),
    "platform-reevaluate": Row("", set()),
    "platform-reevaluate-job": Row("job", set()),
    # The regulator's decisions (workspace/views/regulator.py).
    "regulator-filings": Row("", {REGULATOR}),
    "regulator-filing": Row("agency", {REGULATOR}),
    "regulator-projects": Row("", {REGULATOR}),
    "regulator-project": Row("project", {REGULATOR}),
    "regulator-violations": Row("", {REGULATOR}),
    "regulator-violation-new": Row("project", {REGULATOR}, in_query=True),
    "regulator-violation": Row("violation", {REGULATOR}),
    # Evidence and the monitoring work.
    "photo": Row("photo", AGENCY | {ENTERPRISE, REGULATOR}),  # the enterprise's own project
    "task": Row("task", AGENCY | {REGULATOR}),
    "tasks": Row("", AGENCY | {REGULATOR}),
    "projects": Row("", AGENCY | {REGULATOR}),
    "project-new": Row("", ADMINS),
    "project": Row("project", AGENCY | {REGULATOR}),
    "project-attach": Row("project", ADMINS, post=True),
    "project-attachment-file": Row("attachment", AGENCY | {REGULATOR}),
    "project-assign": Row("project", ADMINS, post=True),
    "project-submit": Row("project", ADMINS, post=True),
    "project-edit": Row("project", ADMINS),
    # The side's project has field work: its deletion is refused (409), the project stays.
    "project-delete": Row("project", ADMINS, post=True),
    # Last of the project's rows: the attachment is gone for the rows after it.
    "project-attachment-delete": Row("attachment", ADMINS, post=True),
    # O&M records, confirmation and review.
    "om-record": Row("om_record", ADMINS | {REVIEWER, ENTERPRISE, REGULATOR}),
    "om-record-review": Row("om_record", ADMINS | {REVIEWER}, post=True),
    "om-record-pdf": Row("om_record", ADMINS | {REVIEWER, ENTERPRISE, REGULATOR}),
    "evidence": Row("", ADMINS | {REGULATOR}),  # 证据队列: the region's, the agency's
    "om-confirmation-signature": Row("confirmation", ADMINS | {REVIEWER, ENTERPRISE, REGULATOR}),
    "om-review-signature": Row("review", ADMINS | {REVIEWER, ENTERPRISE, REGULATOR}),
    "enterprise-day": Row("day", {ENTERPRISE}),
    "enterprise-confirmations": Row("", {ENTERPRISE}),
    "review-queue": Row("", ADMINS | {REVIEWER}),
    # The agency's office: filing, accounts, contracts.
    "agency-filing": Row("", ADMINS),
    "agency-filing-edit": Row("", ADMINS),
    # The filing is approved: a submission is refused by the state (409) before the role is asked.
    "agency-filing-submit": Row("", ADMINS, post=True),
    # The filing dossier: its files read by the agency and its region's regulators; its forms the
    # agency's. A filed agency's business licence and CMA are refused deletion (said, redirected).
    "dossier-document-add": Row("", ADMINS, post=True),
    "dossier-document-file": Row("dossier_document", ADMINS | {REGULATOR}),
    "dossier-document-delete": Row("dossier_document", ADMINS, post=True),
    "dossier-qualification-add": Row("", ADMINS, post=True),
    "dossier-qualification-file": Row("qualification", ADMINS | {REGULATOR}),
    "dossier-qualification-delete": Row("qualification", ADMINS, post=True),
    "dossier-site-add": Row("", ADMINS, post=True),
    "dossier-site-delete": Row("site", ADMINS, post=True),
    "dossier-facility-add": Row("", ADMINS, post=True),
    "dossier-facility-delete": Row("facility", ADMINS, post=True),
    "agency-accounts": Row("", ADMINS),
    "agency-account-close": Row("account", {MAIN}, post=True, refused=frozenset({MANAGER})),
    "contracts": Row("", ADMINS | {ENTERPRISE, REGULATOR}),
    "contracts-export": Row("", ADMINS | {ENTERPRISE, REGULATOR}),
    "contract-new": Row("", ADMINS),
    "contract": Row("contract", ADMINS | {ENTERPRISE, REGULATOR}),
    "contract-accept": Row("contract", {ENTERPRISE}, post=True),
    "contract-refuse": Row("contract", {ENTERPRISE}, post=True),
    "contract-propose": Row("contract", ADMINS, post=True),
    # Staff.
    "staff": Row("", ADMINS | {REGULATOR}),
    "staff-export": Row("", ADMINS | {REGULATOR}),
    "staff-new": Row("", ADMINS),
    "staff-import": Row("", ADMINS),
    "staff-template": Row("", ADMINS),
    "staff-person": Row("staff", ADMINS | {REGULATOR}),
    "staff-edit": Row("staff", ADMINS, post=True),
    "staff-certificate": Row("staff", ADMINS, post=True),
    "staff-depart": Row("staff", ADMINS, post=True),
    # A person's files: the employing agency and its region's regulators, never another agency.
    "staff-document-add": Row("staff", ADMINS, post=True),
    "staff-document-file": Row("person_document", ADMINS | {REGULATOR}),
    "staff-document-delete": Row("person_document", ADMINS, post=True),
    # 持证查询 (seed 000): the region's or the agency's own certificate holders, and the export.
    "certificates": Row("", ADMINS | {REGULATOR}),
    "certificates-export": Row("", ADMINS | {REGULATOR}),
    # O&M management, reports and the agency's violations.
    # The sampler is not on the O&M task's staff: the task is not theirs to see (server.access).
    "om-tasks": Row("", AGENCY),
    "om-tasks-export": Row("", AGENCY),
    "om-task": Row("om_task", ADMINS | {REVIEWER}),
    "om-task-staff": Row("om_task", ADMINS, post=True),
    "om-task-plan": Row("om_task", ADMINS, post=True),
    "om-task-report": Row("om_task", ADMINS | {REVIEWER}, post=True),  # the task's staff upload
    "om-report-file": Row("report", ADMINS | {REVIEWER}),
    "om-manage": Row("", AGENCY),
    # Issue F13: a task edited and finished (the finish comes before the reopen, which then needs a
    # reason: 400), a plan edited or deleted (records count towards the side's plan: refused, said),
    # a contract edited, 信息变更申请 asked by the agency and decided by the enterprise or regulator.
    "om-task-edit": Row("om_task", ADMINS),
    "om-task-finish": Row("om_task", ADMINS, post=True),
    "om-task-reopen": Row("om_task", ADMINS, post=True),
    "om-plan-edit": Row("om_plan", ADMINS),
    "om-plan-delete": Row("om_plan", ADMINS, post=True),
    "om-contract-edit": Row("contract", ADMINS),
    "om-changes": Row("", ADMINS | {ENTERPRISE, REGULATOR}),
    "om-change": Row("change_request", ADMINS | {ENTERPRISE, REGULATOR}),
    "om-change-accept": Row("change_request", {ENTERPRISE, REGULATOR}, post=True),
    "om-change-refuse": Row("change_request", {ENTERPRISE, REGULATOR}, post=True),
    "om-change-withdraw": Row("change_request", ADMINS, post=True),
    "agency-violations": Row("", AGENCY),
    "agency-violations-export": Row("", AGENCY),
    "agency-violation": Row("violation", AGENCY),
    "agency-rectifications": Row("", AGENCY),
    # The rectification answers an order on the O&M task, which the sampler does not see.
    "agency-rectification-file": Row("rectification", ADMINS | {REVIEWER}),
}


def workspace_names() -> set[str]:
    """Every URL name of the workspace's namespace, its areas' modules included."""
    resolver = get_resolver()
    _, inner = resolver.namespace_dict["workspace"]
    return {name for name in inner.reverse_dict if isinstance(name, str)}


def test_every_page_of_the_workspace_is_in_the_matrix():
    names = workspace_names()
    missing = names - set(MATRIX) - OUTSIDE
    assert not missing, f"pages with no row in the access matrix: {sorted(missing)}"
    gone = set(MATRIX) - names
    assert not gone, f"rows for pages that no longer exist: {sorted(gone)}"


# --- The objects each side holds ------------------------------------------------------------------
def objects_of(side, scene) -> dict[str, dict]:
    """The URL arguments naming each of the side's objects, made by the services."""
    violation = violation_of(side)
    order = om_order(side)
    rectification = rectification_submit(
        violation=order, actor=side.main, text="已补做比对", upload=pdf_file("整改报告.pdf")
    )
    day = om_day(side, days_ago=3, seed=7)
    confirmed_by_enterprise(side, day)
    record = day.inspection
    review, _ = records.records_review(
        actor=side.reviewer,
        review_id=uuid.uuid4(),
        records=[day.calibration],
        decision=Review.Decision.APPROVE,
        work_photo=work_photo(side.reviewer, side.wastewater, 9),
        signature=store_signature(signature_b64(9)),
    )
    attachment = project_attach(
        project=side.project, kind="contract", upload=pdf_file("委托合同.pdf"), actor=side.main
    )
    report = report_upload(
        task=side.om_task, actor=side.main, name="11月运维月报", category="monthly", file=pdf_file()
    )
    change_request = changes.contract_update(contract=side.om_contract, actor=side.main, title="合同标题变更")
    site = dossier.site_add(
        agency=side.agency,
        name="二号实验室",
        address="测试路 3 号",
        region_code=side.agency.region_code,
        actor=side.main,
    )
    facility = dossier.facility_add(agency=side.agency, name="气相色谱仪", quantity=1, actor=side.main)
    person_document = dossier.person_document_add(
        person=side.sampler.person, kind="diploma", upload=pdf_file("学历证书.pdf"), actor=side.main
    )
    return {
        "": {},
        "dossier_document": {"pk": side.agency.documents.get(kind="business_licence").pk},
        "qualification": {"pk": side.agency.qualifications.get(kind="cma").pk},
        "site": {"pk": site.pk},
        "facility": {"pk": facility.pk},
        "person_document": {"pk": side.sampler.pk, "document_id": person_document.pk},
        "phone": {"device_id": a_phone(side.field_user)},
        "agency": {"pk": side.agency.pk},
        "project": {"pk": side.project.pk},
        "attachment": {"pk": side.project.pk, "attachment_id": attachment.pk},
        "violation": {"pk": violation.pk},
        "rectification": {"pk": rectification.pk},
        "photo": {"photo_id": scene.photo.pk},
        "task": {"task_id": scene.task.pk},
        "om_record": {"record_id": record.pk},
        "confirmation": {"act_id": DayConfirmation.objects.filter(items__record=record).get().pk},
        "review": {"act_id": review.pk},
        "day": {"day": day.day.isoformat()},
        "account": {"pk": side.field_user.pk},
        "contract": {"pk": side.om_contract.pk},
        "staff": {"pk": side.sampler.pk},
        "om_task": {"pk": side.om_task.pk},
        "om_plan": {"plan_id": side.om_task.plans.order_by("pk").first().pk},
        "change_request": {"pk": change_request.pk},
        "report": {"report_id": report.pk},
        "job": {"job_id": uuid.uuid4()},  # platform staff's: no other role reaches any
    }


@pytest.fixture
def sides(busy):
    """Each side's objects, by key."""
    world = busy.world
    return {
        "own": objects_of(world.shanghai, busy.scenes["shanghai"]),
        "other": objects_of(world.jiangsu, busy.scenes["jiangsu"]),
    }


def state() -> tuple:
    """What a write could change: each stateful table's rows and states."""
    return (
        sorted(MonitoringProject.objects.values_list("pk", "status", "name")),
        sorted(Contract.objects.values_list("pk", "status")),
        sorted(Employment.objects.values_list("pk", "status", "title")),
        sorted(OmRecord.objects.values_list("pk", "status", "version")),
        sorted(Violation.objects.values_list("pk", "status")),
        sorted(DeviceToken.objects.values_list("pk", "revoked_at")),
        sorted(User.objects.values_list("pk", "is_active")),
        Agency.objects.values_list("pk", "filing_status", "name").order_by("pk").count(),
        ProjectAttachment.objects.count(),
        OmReport.objects.count(),
    )


def url(name: str, kwargs: dict) -> str:
    return reverse(f"workspace:{name}", kwargs=kwargs)


def address(name: str, kwargs: dict) -> str:
    row = MATRIX[name]
    if row.in_query:
        return f"{url(name, {})}?{row.obj}={kwargs['pk']}"
    return url(name, kwargs)


def answer(client, name: str, kwargs: dict):
    row = MATRIX[name]
    return client.post(address(name, kwargs)) if row.post else client.get(address(name, kwargs))


@pytest.mark.parametrize("role", ROLES)
def test_each_role_reaches_its_pages_and_is_told_the_others_do_not_exist(busy, sides, role):
    """Own side: the page's roles get it (a form's answer: its redirect or its errors in place), any
    other role 404 with the not-found page; never 403 or 500."""
    client = signed_in(busy.world.shanghai.users[role])
    wrong = []
    for name, row in MATRIX.items():
        response = answer(client, name, sides["own"][row.obj])
        if role in row.roles:
            ok = response.status_code in (row.ok or ((200, 302, 400, 409) if row.post else (200,)))
        elif role in row.refused:
            ok = response.status_code == 403
        else:
            ok = response.status_code == 404
        if not ok:
            wrong.append((name, response.status_code))
    assert not wrong, f"{role}: pages answering otherwise than the matrix says: {wrong}"


@pytest.mark.parametrize("role", ROLES)
def test_another_sides_objects_are_not_found_and_stay_untouched(busy, sides, role):
    client = signed_in(busy.world.shanghai.users[role])
    before = state()
    wrong = []
    for name, row in MATRIX.items():
        if not row.obj or row.obj == "day":
            continue  # no object of a side in the address (a day is the enterprise's own)
        response = answer(client, name, sides["other"][row.obj])
        if response.status_code != 404:
            wrong.append((name, response.status_code))
        # The same, written as a form would be, for the pages that are read and posted.
        if not row.post and client.post(address(name, sides["other"][row.obj])).status_code not in (404, 405):
            wrong.append((f"{name} (POST)", "not 404/405"))
    assert not wrong, f"{role}: another side's objects answered: {wrong}"
    assert state() == before


def test_the_platform_opens_both_sides_evidence(busy, sides):
    client = signed_in(busy.world.platform)
    for key in ("own", "other"):
        for name in ("photo", "task", "project", "om-record"):
            response = answer(client, name, sides[key][MATRIX[name].obj])
            assert response.status_code == 200, (key, name)
