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
from server.fieldwork.services import DETAIL_FIELDS, FIELD_POSTS, split_items
from server.regions import region_name
from server.registry.models import Contract, Employment, Enterprise, Post
from workspace.i18n import message_language, t

STATUS_EN = {
    MonitoringProject.Status.UNFINISHED: "Unfinished",
    MonitoringProject.Status.SUBMITTED: "Submitted",
    MonitoringProject.Status.RETURNED: "Returned",
    MonitoringProject.Status.DONE: "Done",
    MonitoringProject.Status.DELETED: "Deleted",
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
    "identification_plan": "Hazardous-waste identification plan",
    "identification_report": "Hazardous-waste identification report",
    "subcontractor_qualification": "Subcontractor's qualification",
    "other": "Other",
}
COMMISSION_CATEGORY_EN = {
    "self_monitoring": "Enterprise self-monitoring",
    "eia": "Environmental impact assessment monitoring",
    "acceptance": "Completion acceptance monitoring",
    "hazardous_identification": "Hazardous-waste identification",
    "soil_survey": "Soil contamination survey",
    "other": "Other commission",
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


class ProjectDetailsForm(forms.Form):
    """The registration's fields that ``project_create`` and ``project_update`` both take (seed 002
    项目登记: 项目信息, 监测信息, 委托信息 with 是否分包, 培训信息); the service checks them."""

    number = forms.CharField(max_length=64)
    name = forms.CharField(max_length=200)
    monitoring_type = forms.ChoiceField()
    monitoring_items = forms.CharField(
        required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 2})
    )
    commission_category = forms.ChoiceField(required=False)
    client_contact = forms.CharField(required=False, max_length=50)
    client_phone = forms.CharField(required=False, max_length=20)
    subcontracted = forms.TypedChoiceField(
        coerce=lambda value: value == "yes", empty_value=False, required=False
    )
    subcontractor_name = forms.CharField(required=False, max_length=200)
    subcontractor_credit_code = forms.CharField(required=False, max_length=18)
    training_on = forms.DateField(
        required=False, input_formats=["%Y-%m-%d"], widget=forms.DateInput(attrs={"type": "date"})
    )
    training_content = forms.CharField(
        required=False, max_length=5000, widget=forms.Textarea(attrs={"rows": 2})
    )

    # The service's codes, and the field each one is about.
    ERROR_FIELDS = {
        "project_number_taken": "number",
        "project_contract_mismatch": "contract",
        "project_contract_not_active": "contract",
        "contract_not_accepted": "contract",
        "project_type_has_tasks": "monitoring_type",
        "client_phone_invalid": "client_phone",
        "subcontractor_required": "subcontractor_name",
        "invalid_credit_code": "subcontractor_credit_code",
        "project_locked": None,
    }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        fields = self.fields
        fields["number"].label = t("项目编号", "Project number")
        fields["name"].label = t("项目名称", "Project name")
        fields["monitoring_type"].label = t("监测类型", "Monitoring type")
        fields["monitoring_type"].choices = [
            ("", t("请选择", "Choose")),
            *_choices(MonitoringProject.MonitoringType.choices, MONITORING_TYPE_EN),
        ]
        fields["monitoring_type"].help_text = t(
            "危险废物鉴别项目选择“危险废物鉴别”：提交时须有鉴别方案和鉴别报告。",
            "A hazardous-waste identification project: its identification plan and report are required.",
        )
        fields["monitoring_items"].label = t("监测项目", "Monitoring items")
        fields["monitoring_items"].help_text = t(
            "多个项目用顿号、逗号或换行分隔，如：pH、化学需氧量、氨氮。",
            "Separate several with commas or new lines, e.g. pH, COD, ammonia nitrogen.",
        )
        fields["commission_category"].label = t("委托类别", "Commission category")
        fields["commission_category"].choices = [
            ("", t("请选择", "Choose")),
            *_choices(MonitoringProject.CommissionCategory.choices, COMMISSION_CATEGORY_EN),
        ]
        fields["client_contact"].label = t("委托企业联系人", "Client contact")
        fields["client_phone"].label = t("联系电话", "Contact phone")
        fields["client_phone"].help_text = t(
            "手机号或带区号的固定电话，如 028-86123456。", "A mobile number or a landline with its area code."
        )
        fields["subcontracted"].label = t("是否分包", "Subcontracted")
        fields["subcontracted"].choices = [("no", t("否", "No")), ("yes", t("是", "Yes"))]
        fields["subcontractor_name"].label = t("分包单位名称", "Subcontractor")
        fields["subcontractor_name"].help_text = t(
            "分包时必填，并须上传分包单位资质附件。",
            "Required when subcontracted, with the subcontractor's qualification attached.",
        )
        fields["subcontractor_credit_code"].label = t(
            "分包单位统一社会信用代码", "Subcontractor's credit code"
        )
        fields["training_on"].label = t("培训日期", "Training date")
        fields["training_on"].error_messages["invalid"] = t(
            "请输入日期，如 2026-05-04。", "Enter a date, e.g. 2026-05-04."
        )
        fields["training_content"].label = t("培训内容", "Training")

    @classmethod
    def initial_of(cls, project: MonitoringProject) -> dict:
        """A project's stored values, as the form shows them."""
        initial = {
            name: getattr(project, name) for name in ("number", "name", "monitoring_type", *DETAIL_FIELDS)
        }
        initial["monitoring_items"] = "、".join(project.monitoring_items)
        initial["subcontracted"] = "yes" if project.subcontracted else "no"
        return initial

    def clean_number(self) -> str:
        return self.cleaned_data["number"].strip()

    def clean_name(self) -> str:
        return self.cleaned_data["name"].strip()

    def clean_monitoring_items(self) -> list[str]:
        return split_items(self.cleaned_data["monitoring_items"])

    def details(self) -> dict:
        """What the service takes: the cleaned fields without the contract."""
        return {name: value for name, value in self.cleaned_data.items() if name != "contract"}


class ProjectForm(ProjectDetailsForm):
    """What ``project_create`` takes. The enterprise and the region follow from the contract (a
    project's region is its enterprise's: the service refuses another), so neither is asked."""

    contract = ContractChoice(queryset=Contract.objects.none())
    field_order = ["contract"]

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
            f"单个文件不超过 {megabytes} MB；提交项目须有的附件见“必传附件”。",
            f"At most {megabytes} MB a file; what submitting needs is listed under required attachments.",
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
        # A deleted project is in no list (server.access.projects_for): not a filter either.
        listed = [c for c in MonitoringProject.Status.choices if c[0] != MonitoringProject.Status.DELETED]
        fields["status"].choices = [("", t("全部", "All")), *_choices(listed, STATUS_EN)]
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
