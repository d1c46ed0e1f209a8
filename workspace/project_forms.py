"""The forms of the projects pages (项目登记): they parse what was typed and chosen, and the view
hands it to the same services as ``/api/v1/projects``. A service that says no (``DomainError``) is
shown beside the field it is about (``show_domain_error``), in the user's language."""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.db.models import QuerySet

from mobile_api.common import ATTACHMENT_TOO_LARGE
from server import access
from server.accounts.models import User
from server.fieldwork.models import MonitoringProject, ProjectAttachment
from server.fieldwork.services import FIELD_POSTS
from server.regions import region_name
from server.registry.models import Contract, Employment, Enterprise, Post
from workspace.i18n import message_language, t

STATUS_EN = {
    MonitoringProject.Status.UNFINISHED: "Unfinished",
    MonitoringProject.Status.SUBMITTED: "Submitted",
    MonitoringProject.Status.RETURNED: "Returned",
    MonitoringProject.Status.DONE: "Done",
}
MONITORING_TYPE_EN = {
    "water": "Water and wastewater",
    "air": "Ambient air and waste gas",
    "soil": "Soil and sediment",
    "solid_waste": "Solid waste",
    "hazardous_waste": "Hazardous waste identification",
    "noise": "Noise",
    "vibration": "Vibration",
    "seawater": "Seawater",
    "radiation": "Ionising radiation",
    "electromagnetic": "Electromagnetic radiation",
}
ATTACHMENT_KIND_EN = {
    "contract": "Contract",
    "plan": "Monitoring plan",
    "report": "Monitoring report",
    "other": "Other",
}


def _choices(choices, english: dict) -> list[tuple[str, str]]:
    return [(value, t(label, english.get(value, label))) for value, label in choices]


def registrable_contracts(user: User) -> QuerySet[Contract]:
    """The contracts a project may be registered under: the agency's monitoring contracts that the
    enterprise side accepted and that are in force (``project_create`` refuses any other)."""
    return (
        access.contracts_for(user)
        .filter(
            agency_id=user.agency_id,
            nature=Contract.Nature.MONITORING,
            acceptance=Contract.Acceptance.ACCEPTED,
            status=Contract.Status.ACTIVE,
        )
        .select_related("enterprise")
        .order_by("-starts_on", "-id")
    )


class ContractChoice(forms.ModelChoiceField):
    def label_from_instance(self, contract: Contract) -> str:
        enterprise = contract.enterprise
        return t(
            f"{contract.number} {contract.title} · {enterprise.name}（{region_name(enterprise.region_code)}，"
            f"{contract.starts_on:%Y-%m-%d} 至 {contract.ends_on:%Y-%m-%d}）",
            f"{contract.number} {contract.title} · {enterprise.name} ({region_name(enterprise.region_code)}, "
            f"{contract.starts_on:%Y-%m-%d} to {contract.ends_on:%Y-%m-%d})",
        )


class ProjectForm(forms.Form):
    """What ``project_create`` takes. The enterprise and the region follow from the contract (a
    project's region is its enterprise's: the service refuses another), so neither is asked."""

    contract = ContractChoice(queryset=Contract.objects.none())
    number = forms.CharField(max_length=64)
    name = forms.CharField(max_length=200)
    monitoring_type = forms.ChoiceField()

    # The service's codes, and the field each one is about.
    ERROR_FIELDS = {
        "project_number_taken": "number",
        "project_contract_mismatch": "contract",
        "project_contract_not_active": "contract",
        "contract_not_accepted": "contract",
    }

    def __init__(self, *args, user: User, **kwargs):
        super().__init__(*args, **kwargs)
        fields = self.fields
        fields["contract"].queryset = registrable_contracts(user)
        fields["contract"].label = t("监测合同", "Monitoring contract")
        fields["contract"].empty_label = t("请选择已确认的监测合同", "Choose an accepted monitoring contract")
        fields["contract"].help_text = t(
            "只列出委托企业已确认、履行中的本机构监测合同；委托企业和项目区域随合同确定。",
            "Only the agency's monitoring contracts the enterprise accepted and still in force; the client "
            "enterprise and the project's region follow from the contract.",
        )
        fields["contract"].error_messages["invalid_choice"] = t(
            "请选择列表中的合同。", "Choose a contract from the list."
        )
        fields["number"].label = t("项目编号", "Project number")
        fields["name"].label = t("项目名称", "Project name")
        fields["monitoring_type"].label = t("监测类型", "Monitoring type")
        fields["monitoring_type"].choices = [
            ("", t("请选择", "Choose")),
            *_choices(MonitoringProject.MonitoringType.choices, MONITORING_TYPE_EN),
        ]

    def clean_number(self) -> str:
        return self.cleaned_data["number"].strip()

    def clean_name(self) -> str:
        return self.cleaned_data["name"].strip()


class AttachmentForm(forms.Form):
    """What ``project_attach`` takes, with the API's size limit (``ATTACHMENT_MAX_BYTES``)."""

    kind = forms.ChoiceField()
    file = forms.FileField(max_length=200)
    number = forms.CharField(max_length=64, required=False)
    issued_on = forms.DateField(
        required=False, input_formats=["%Y-%m-%d"], widget=forms.DateInput(attrs={"type": "date"})
    )

    ERROR_FIELDS = {
        "report_number_taken": "number",
        "report_number_not_a_report": "number",
        "project_locked": None,
    }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        fields = self.fields
        fields["kind"].label = t("附件类型", "Kind")
        fields["kind"].choices = _choices(ProjectAttachment.Kind.choices, ATTACHMENT_KIND_EN)
        fields["file"].label = t("文件", "File")
        megabytes = settings.ATTACHMENT_MAX_BYTES // (1024 * 1024)
        fields["file"].help_text = t(
            f"单个文件不超过 {megabytes} MB；提交项目须有合同附件。",
            f"At most {megabytes} MB a file; submitting needs the contract.",
        )
        fields["number"].label = t("报告编号（仅监测报告）", "Report number (reports only)")
        fields["issued_on"].label = t("签发日期（仅监测报告）", "Issued on (reports only)")
        fields["issued_on"].error_messages["invalid"] = t(
            "请输入日期，如 2026-05-04。", "Enter a date, e.g. 2026-05-04."
        )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > settings.ATTACHMENT_MAX_BYTES:
            raise forms.ValidationError(
                ATTACHMENT_TOO_LARGE.message(message_language(), max_bytes=settings.ATTACHMENT_MAX_BYTES)
            )
        return upload


class StaffChoice(forms.ModelChoiceField):
    def label_from_instance(self, employment: Employment) -> str:
        posts = "、".join(post.name for post in employment.posts.all())
        return f"{employment.person.name}（{posts}）" if posts else employment.person.name


class AssignmentForm(forms.Form):
    """What ``project_assign`` takes: an active member of the agency's staff and a field post."""

    employment = StaffChoice(queryset=Employment.objects.none())
    post = forms.ModelChoiceField(queryset=Post.objects.none(), to_field_name="code")

    ERROR_FIELDS = {
        "assignee_not_on_staff": "employment",
        "assignee_lacks_post": "post",
        "certificate_required": "post",
        "certificate_not_valid": "post",
        "project_locked": None,
    }

    def __init__(self, *args, user: User, project: MonitoringProject, **kwargs):
        super().__init__(*args, **kwargs)
        fields = self.fields
        fields["employment"].queryset = (
            access.employments_for(user)
            .filter(agency_id=project.agency_id, status=Employment.Status.ACTIVE)
            .select_related("person")
            .prefetch_related("posts")
            .order_by("person__name", "id")
        )
        fields["employment"].label = t("人员", "Staff member")
        fields["employment"].empty_label = t("请选择人员", "Choose a person")
        fields["post"].queryset = Post.objects.filter(code__in=FIELD_POSTS).order_by("id")
        fields["post"].label = t("岗位", "Post")
        fields["post"].empty_label = t("请选择岗位", "Choose a post")


class ProjectFilterForm(forms.Form):
    """The list's filters (seed 002 查询统计: 项目名称 fuzzy, 项目编号, 项目状态; the enterprise)."""

    q = forms.CharField(required=False, max_length=200)
    status = forms.ChoiceField(required=False)
    enterprise = forms.ModelChoiceField(queryset=Enterprise.objects.none(), required=False)

    def __init__(self, *args, enterprises: QuerySet[Enterprise], **kwargs):
        super().__init__(*args, **kwargs)
        fields = self.fields
        fields["q"].label = t("项目名称或编号", "Name or number")
        fields["q"].widget.attrs.update({"type": "search", "placeholder": t("模糊查询", "Search")})
        fields["status"].label = t("监测状态", "Status")
        fields["status"].choices = [
            ("", t("全部", "All")),
            *_choices(MonitoringProject.Status.choices, STATUS_EN),
        ]
        fields["enterprise"].label = t("委托企业", "Client enterprise")
        fields["enterprise"].queryset = enterprises
        fields["enterprise"].empty_label = t("全部", "All")
        fields["enterprise"].error_messages["invalid_choice"] = t(
            "请选择列表中的企业。", "Choose an enterprise from the list."
        )


class TaskFilterForm(forms.Form):
    """The monitoring tasks' filters (seed 002 在行项目 / 完成项目, 搜索): the names of the API's
    ``GET /tasks`` filters, so that the export link passes them on as they are."""

    state = forms.ChoiceField(required=False)
    search = forms.CharField(required=False, max_length=200)
    project = forms.ModelChoiceField(queryset=MonitoringProject.objects.none(), required=False)
    since = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
    until = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, *args, projects: QuerySet[MonitoringProject] | None, **kwargs):
        super().__init__(*args, **kwargs)
        fields = self.fields
        if projects is None:
            # A regulator's region holds too many projects for one list: it searches by name.
            del fields["project"]
        fields["state"].label = t("任务状态", "State")
        fields["state"].choices = [
            ("", t("全部", "All")),
            ("running", t("在行", "Running")),
            ("finished", t("已结束", "Finished")),
        ]
        fields["search"].label = t("任务或项目名称", "Task or project name")
        fields["search"].widget.attrs.update({"type": "search", "placeholder": t("模糊查询", "Search")})
        if projects is not None:
            fields["project"].label = t("监测项目", "Project")
            fields["project"].queryset = projects
            fields["project"].empty_label = t("全部", "All")
            fields["project"].error_messages["invalid_choice"] = t(
                "请选择列表中的项目。", "Choose a project from the list."
            )
        fields["since"].label = t("创建日期自", "Created from")
        fields["until"].label = t("创建日期至", "Created until")

    def clean(self):
        data = super().clean()
        since, until = data.get("since"), data.get("until")
        if since and until and until < since:
            self.add_error("until", t("结束日期早于开始日期。", "The end is before the start."))
        return data
