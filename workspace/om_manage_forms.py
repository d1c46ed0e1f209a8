"""The forms of the O&M management pages (运维任务, 运维管理, 上传报告, 违规待整改): they parse what was
typed and chosen; the views hand it to the services the API calls (``om_task_add_staff``,
``om_plan_add``, ``report_upload``, ``rectification_submit``). A service's refusal is shown beside the
field it is about (``show_domain_error``), in the user's language. The English names of the codes
these pages show are here too."""

from __future__ import annotations

import datetime as dt

from django import forms
from django.conf import settings
from django.db.models import QuerySet

from mobile_api.common import ATTACHMENT_TOO_LARGE
from server import access
from server.accounts.models import User
from server.om import plans
from server.om.models import FormTemplate, OmPlan, OmRecord, OmReport, OmTask, OmTaskStaff
from server.om.services import ROLE_POSTS
from server.registry.models import Employment, Enterprise, Outlet, OutletKind
from server.violations.models import Rectification, Violation
from workspace.i18n import message_language, t

TASK_STATUS_EN = {OmTask.Status.ACTIVE: "In progress", OmTask.Status.FINISHED: "Finished"}
KIND_EN = {OutletKind.WASTEWATER: "Wastewater", OutletKind.WASTE_GAS: "Waste gas"}
STAFF_ROLE_EN = {OmTaskStaff.Role.TECHNICIAN: "Field O&M", OmTaskStaff.Role.REVIEWER: "O&M reviewer"}
FREQUENCY_EN = {
    OmPlan.Frequency.DAILY: "Daily",
    OmPlan.Frequency.WEEKLY: "Weekly",
    OmPlan.Frequency.MONTHLY: "Monthly",
    OmPlan.Frequency.QUARTERLY: "Quarterly",
    OmPlan.Frequency.CUSTOM: "Custom",
}
CATEGORY_EN = {
    OmReport.Category.MONTHLY: "Monthly O&M report",
    OmReport.Category.QUARTERLY: "Quarterly O&M report",
    OmReport.Category.ANNUAL: "Annual O&M report",
    OmReport.Category.COMPARISON: "Comparison monitoring report",
    OmReport.Category.REPAIR: "Repair report",
    OmReport.Category.OTHER: "Other",
}
STATE_EN = {
    plans.State.DONE: "Done",
    plans.State.OPEN: "In progress",
    plans.State.OVERDUE: "Overdue",
    plans.State.UPCOMING: "Not started",
}
VIOLATION_STATUS_EN = {
    Violation.Status.OPEN: "To rectify",
    Violation.Status.RECTIFIED: "Rectified, awaiting review",
    Violation.Status.CLOSED: "Closed",
}
OUTCOME_EN = {
    Rectification.Outcome.PENDING: "Awaiting review",
    Rectification.Outcome.ACCEPTED: "Accepted",
    Rectification.Outcome.REJECTED: "Rejected",
}
# 本周 / 本月 / 全部 / 超期 (seed 003 §2.4), in the tabs' order.
VIEWS = [
    (plans.View.WEEK, "本周", "This week"),
    (plans.View.MONTH, "本月", "This month"),
    (plans.View.ALL, "全部", "All"),
    (plans.View.OVERDUE, "超期", "Overdue"),
]


def named(choices, english: dict, value: str) -> str:
    label = dict(choices).get(value)
    return t(label, english.get(value, label)) if label else value


def _choices(choices, english: dict) -> list[tuple[str, str]]:
    return [(value, t(label, english.get(value, label))) for value, label in choices]


def _date_field(label: str, *, required: bool = False) -> forms.DateField:
    field = forms.DateField(
        required=required,
        input_formats=["%Y-%m-%d"],
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        label=label,
    )
    field.error_messages["invalid"] = t("请输入日期，如 2026-05-04。", "Enter a date, e.g. 2026-05-04.")
    field.error_messages["required"] = t("请填写日期。", "Enter a date.")
    return field


def _in_range(day: dt.date | None) -> dt.date | None:
    if day is not None and not dt.date(2000, 1, 1) <= day <= dt.date(2100, 12, 31):
        raise forms.ValidationError(t("日期超出范围。", "The date is out of range."))
    return day


def _required(field: forms.Field) -> None:
    field.error_messages["required"] = t("该字段不能为空。", "This field is required.")


# --- The task list --------------------------------------------------------------------------------
class TaskFilterForm(forms.Form):
    """运维任务 (进行中的任务, seed 003): 关键字 (name or number), 任务状态, the client enterprise."""

    q = forms.CharField(required=False, max_length=200)
    status = forms.ChoiceField(required=False)
    enterprise = forms.ModelChoiceField(queryset=Enterprise.objects.none(), required=False)

    def __init__(self, *args, enterprises: QuerySet[Enterprise], **kwargs):
        super().__init__(*args, **kwargs)
        fields = self.fields
        fields["q"].label = t("任务名称或编号", "Name or number")
        fields["q"].widget.attrs.update({"type": "search", "placeholder": t("模糊查询", "Search")})
        fields["status"].label = t("任务状态", "Status")
        fields["status"].choices = [("", t("全部", "All")), *_choices(OmTask.Status.choices, TASK_STATUS_EN)]
        fields["enterprise"].label = t("委托企业", "Client enterprise")
        fields["enterprise"].queryset = enterprises
        fields["enterprise"].empty_label = t("全部", "All")
        fields["enterprise"].error_messages["invalid_choice"] = t(
            "请选择列表中的企业。", "Choose an enterprise from the list."
        )


# --- A task's staff and plans ---------------------------------------------------------------------
class StaffChoice(forms.ModelChoiceField):
    def label_from_instance(self, employment: Employment) -> str:
        posts = "、".join(post.name for post in employment.posts.all())
        return f"{employment.person.name}（{posts}）" if posts else employment.person.name


class StaffForm(forms.Form):
    """What ``om_task_add_staff`` takes (``POST /om-tasks/{id}/staff``): an active member of the
    agency's staff and a role; the service checks the post and the certificate the role needs."""

    employment = StaffChoice(queryset=Employment.objects.none())
    role = forms.ChoiceField()

    ERROR_FIELDS = {"om_staff_not_eligible": "employment"}

    def __init__(self, *args, user: User, task: OmTask, **kwargs):
        super().__init__(*args, **kwargs)
        fields = self.fields
        fields["employment"].queryset = (
            access.employments_for(user)
            .filter(
                agency_id=task.agency_id,
                status=Employment.Status.ACTIVE,
                posts__code__in=ROLE_POSTS.values(),
            )
            .distinct()
            .select_related("person")
            .prefetch_related("posts")
            .order_by("person__name", "id")
        )
        fields["employment"].label = t("人员", "Staff member")
        fields["employment"].empty_label = t("请选择人员", "Choose a person")
        fields["employment"].error_messages["invalid_choice"] = t(
            "请选择列表中的人员。", "Choose a person from the list."
        )
        _required(fields["employment"])
        fields["role"].label = t("角色", "Role")
        fields["role"].choices = _choices(OmTaskStaff.Role.choices, STAFF_ROLE_EN)


class OutletChoice(forms.ModelChoiceField):
    def label_from_instance(self, outlet: Outlet) -> str:
        return outlet.name


class PlanForm(forms.Form):
    """What ``om_plan_add`` takes (``POST /om-tasks/{id}/plans``): the service checks the window
    against the task's period, the interval of a custom frequency, the outlet and the form."""

    title = forms.CharField(max_length=200)
    frequency = forms.ChoiceField()
    interval_days = forms.IntegerField(required=False, min_value=1, max_value=3660)
    window_start = forms.DateField()
    window_end = forms.DateField()
    outlet = OutletChoice(queryset=Outlet.objects.none(), required=False)
    template_codes = forms.MultipleChoiceField(widget=forms.CheckboxSelectMultiple)

    ERROR_FIELDS = {
        "om_plan_outside_task": "window_start",
        "om_point_not_in_contract": "outlet",
        "om_template_unknown": "template_codes",
        "om_template_not_for_outlet": "template_codes",
        "om_plan_needs_template": "template_codes",
    }

    def __init__(self, *args, task: OmTask, plan: OmPlan | None = None, **kwargs):
        if plan is not None and (not args or args[0] is None) and "initial" not in kwargs:
            kwargs["initial"] = {
                "title": plan.title,
                "frequency": plan.frequency,
                "interval_days": plan.interval_days,
                "window_start": plan.window_start,
                "window_end": plan.window_end,
                "outlet": plan.outlet_id,
                "template_codes": plan.template_codes,
            }
        super().__init__(*args, **kwargs)
        fields = self.fields
        fields["window_start"] = _date_field(t("执行开始", "From"), required=True)
        fields["window_end"] = _date_field(t("执行结束", "To"), required=True)
        fields["title"].label = t("计划标题", "Title")
        _required(fields["title"])
        fields["frequency"].label = t("执行频次", "Frequency")
        fields["frequency"].choices = _choices(OmPlan.Frequency.choices, FREQUENCY_EN)
        fields["interval_days"].label = t("间隔天数（自定义频次）", "Every how many days (custom)")
        fields["interval_days"].error_messages["invalid"] = t("请输入整数。", "Enter a whole number.")
        fields["outlet"].label = t("点位", "Outlet")
        fields["outlet"].queryset = task.points.order_by("name", "id")
        fields["outlet"].empty_label = t("任务的所有点位", "Any of the task's outlets")
        fields["outlet"].error_messages["invalid_choice"] = t(
            "请选择任务的点位。", "Choose one of the task's outlets."
        )
        fields["template_codes"].label = t("运维内容（完成此计划的表单）", "Forms that fulfil the plan")
        templates = (
            FormTemplate.objects.filter(outlet_kind=task.kind)
            .order_by("code", "-version")
            .values("code", "name")
        )
        newest: dict[str, str] = {}
        for row in templates:
            newest.setdefault(row["code"], row["name"])
        fields["template_codes"].choices = sorted(newest.items(), key=lambda c: c[1])
        fields["template_codes"].error_messages["invalid_choice"] = t(
            "请选择列表中的表单。", "Choose a form from the list."
        )
        fields["template_codes"].error_messages["required"] = t(
            "至少选择一个运维内容。", "Choose at least one form."
        )

    def clean_window_start(self):
        return _in_range(self.cleaned_data["window_start"])

    def clean_window_end(self):
        return _in_range(self.cleaned_data["window_end"])


# --- Editing a task or a contract, 信息变更申请, finishing (issue F13) --------------------------------
GEOFENCE_EN = {"flag": "Flagged, may be submitted", "block": "The record cannot be submitted"}


def _explanation() -> forms.CharField:
    return forms.CharField(
        required=False,
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 2}),
        label=t("变更说明", "Why"),
        help_text=t(
            "已确认的信息改为信息变更申请，由委托企业确认后生效。",
            "Confirmed terms change only when the enterprise accepts the request.",
        ),
    )


class TaskEditForm(forms.Form):
    """What ``changes.om_task_update`` takes: applied at once while the task has no records, a
    信息变更申请 once it has."""

    name = forms.CharField(max_length=200)
    starts_on = forms.DateField()
    ends_on = forms.DateField()
    geofence_policy = forms.ChoiceField()
    explanation = forms.CharField(required=False)

    ERROR_FIELDS = {"om_task_period_excludes_plans": "ends_on", "om_change_pending": None}

    def __init__(self, *args, task: OmTask, **kwargs):
        if not args or args[0] is None:  # not posted: the values in force
            kwargs.setdefault(
                "initial",
                {
                    "name": task.name,
                    "starts_on": task.starts_on,
                    "ends_on": task.ends_on,
                    "geofence_policy": task.geofence_policy,
                },
            )
        super().__init__(*args, **kwargs)
        fields = self.fields
        fields["name"].label = t("任务名称", "Name")
        _required(fields["name"])
        fields["starts_on"] = _date_field(t("任务开始日期", "Starts on"), required=True)
        fields["ends_on"] = _date_field(t("任务结束日期", "Ends on"), required=True)
        fields["geofence_policy"].label = t("签到超出围栏时", "Check-in outside the geofence")
        fields["geofence_policy"].choices = _choices(
            OmTask._meta.get_field("geofence_policy").choices, GEOFENCE_EN
        )
        fields["explanation"] = _explanation()

    def clean_starts_on(self):
        return _in_range(self.cleaned_data["starts_on"])

    def clean_ends_on(self):
        return _in_range(self.cleaned_data["ends_on"])


class ContractEditForm(forms.Form):
    """What ``changes.contract_update`` takes: applied at once while the contract is not accepted,
    a 信息变更申请 once it is."""

    number = forms.CharField(max_length=64)
    title = forms.CharField(max_length=200)
    amount = forms.DecimalField(max_digits=14, decimal_places=2, min_value=0)
    starts_on = forms.DateField()
    ends_on = forms.DateField()
    explanation = forms.CharField(required=False)

    ERROR_FIELDS = {"contract_number_taken": "number", "om_change_pending": None}

    def __init__(self, *args, contract, **kwargs):
        if not args or args[0] is None:  # not posted: the values in force
            kwargs.setdefault(
                "initial",
                {
                    "number": contract.number,
                    "title": contract.title,
                    "amount": contract.amount,
                    "starts_on": contract.starts_on,
                    "ends_on": contract.ends_on,
                },
            )
        super().__init__(*args, **kwargs)
        fields = self.fields
        for name, zh, en in (
            ("number", "合同编号", "Number"),
            ("title", "合同标题", "Title"),
            ("amount", "合同金额（元）", "Amount (yuan)"),
        ):
            fields[name].label = t(zh, en)
            _required(fields[name])
        fields["amount"].error_messages["invalid"] = t("请输入金额，如 12000.00。", "Enter an amount.")
        fields["amount"].error_messages["min_value"] = t("金额不能为负数。", "The amount cannot be negative.")
        fields["starts_on"] = _date_field(t("履行开始", "Starts on"), required=True)
        fields["ends_on"] = _date_field(t("履行结束", "Ends on"), required=True)
        fields["explanation"] = _explanation()

    def clean_starts_on(self):
        return _in_range(self.cleaned_data["starts_on"])

    def clean_ends_on(self):
        return _in_range(self.cleaned_data["ends_on"])


class ReasonForm(forms.Form):
    """A reason: refusing a change request, reopening a finished task."""

    reason = forms.CharField(required=False, max_length=500, widget=forms.Textarea(attrs={"rows": 2}))

    ERROR_FIELDS = {"om_change_refusal_reason_required": "reason", "om_task_reopen_reason_required": "reason"}

    def __init__(self, *args, label: tuple[str, str] = ("原因", "Reason"), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["reason"].label = t(*label)


# --- Reports --------------------------------------------------------------------------------------
class RecordChoice(forms.ModelMultipleChoiceField):
    def label_from_instance(self, record: OmRecord) -> str:
        filler = record.filled_by.person.name if record.filled_by.person_id else record.filled_by.username
        return f"{record.om_date:%Y-%m-%d} {record.outlet.name} · {record.template.name} · {filler}"


class ReportForm(forms.Form):
    """What ``report_upload`` takes (``POST /om-tasks/{id}/reports``): the service sniffs the file's
    type from its content and checks its size (``OM_REPORT_MAX_BYTES``) and the linked records."""

    name = forms.CharField(max_length=200)
    category = forms.ChoiceField()
    file = forms.FileField(max_length=200)
    description = forms.CharField(max_length=4000, required=False, widget=forms.Textarea(attrs={"rows": 3}))
    records = RecordChoice(
        queryset=OmRecord.objects.none(), required=False, widget=forms.CheckboxSelectMultiple
    )

    ERROR_FIELDS = {
        "om_report_not_allowed": None,
        "om_report_record_foreign": "records",
        "om_report_record_not_submitted": "records",
        "om_report_too_large": "file",
        "om_report_type_not_allowed": "file",
        "om_report_empty": "file",
        "om_report_duplicate": "file",
    }

    def __init__(self, *args, records: QuerySet[OmRecord], **kwargs):
        super().__init__(*args, **kwargs)
        fields = self.fields
        fields["name"].label = t("上传报告名称", "Report name")
        _required(fields["name"])
        fields["category"].label = t("报告类别", "Category")
        fields["category"].choices = _choices(OmReport.Category.choices, CATEGORY_EN)
        fields["file"].label = t("附件", "File")
        fields["file"].error_messages["required"] = t("请选择报告文件。", "Choose the report's file.")
        megabytes = settings.OM_REPORT_MAX_BYTES // (1024 * 1024)
        fields["file"].help_text = t(
            f"PDF、Word、Excel 或 JPG/PNG 图片，不超过 {megabytes} MB。",
            f"PDF, Word, Excel or a JPG/PNG image, at most {megabytes} MB.",
        )
        fields["description"].label = t("描述", "Description")
        fields["records"].label = t("关联表单", "Linked records")
        fields["records"].queryset = records
        fields["records"].help_text = t(
            "可选：已提交的运维记录。", "Optional: submitted O&M records of the task."
        )
        fields["records"].error_messages["invalid_choice"] = t(
            "请选择列表中的运维记录。", "Choose records from the list."
        )


# --- 运维管理 ---------------------------------------------------------------------------------------
class TaskChoice(forms.ModelChoiceField):
    def label_from_instance(self, task: OmTask) -> str:
        return f"{task.number} {task.name}"


class PlanChoice(forms.ModelChoiceField):
    def label_from_instance(self, plan: OmPlan) -> str:
        return plan.title


class ManageFilterForm(forms.Form):
    """运维管理's 运维任务, 运维计划, 开始时间 and 结束时间; the tab (本周 / 本月 / 全部 / 超期) is
    ``view``."""

    view = forms.CharField(required=False, max_length=16, widget=forms.HiddenInput)
    task = TaskChoice(queryset=OmTask.objects.none(), required=False)
    plan = PlanChoice(queryset=OmPlan.objects.none(), required=False)
    start = forms.DateField(required=False)
    end = forms.DateField(required=False)

    def __init__(self, *args, user: User, **kwargs):
        super().__init__(*args, **kwargs)
        fields = self.fields
        fields["task"].label = t("运维任务", "O&M task")
        fields["task"].queryset = access.om_tasks_for(user).order_by("-starts_on", "-id")
        fields["task"].empty_label = t("本机构的全部任务", "All the agency's tasks")
        fields["task"].error_messages["invalid_choice"] = t(
            "请选择列表中的运维任务。", "Choose an O&M task from the list."
        )
        task = self._chosen_task()
        fields["plan"].label = t("运维计划", "Plan")
        fields["plan"].queryset = (
            OmPlan.objects.filter(task=task).order_by("window_start", "id") if task else OmPlan.objects.none()
        )
        fields["plan"].empty_label = t("全部", "All")
        fields["plan"].error_messages["invalid_choice"] = t(
            "请选择该任务的运维计划。", "Choose one of the task's plans."
        )
        fields["start"] = _date_field(t("开始时间", "From"))
        fields["end"] = _date_field(t("结束时间", "To"))

    def _chosen_task(self) -> OmTask | None:
        value = self.data.get("task") if self.is_bound else None
        if not value:
            return None
        try:
            return self.fields["task"].queryset.get(pk=int(value))
        except (ValueError, TypeError, OmTask.DoesNotExist):
            return None

    @property
    def has_plans(self) -> bool:
        return self.fields["plan"].queryset.exists()

    def clean_view(self) -> str:
        return self.cleaned_data["view"] or plans.View.WEEK

    def clean_start(self):
        return _in_range(self.cleaned_data["start"])

    def clean_end(self):
        return _in_range(self.cleaned_data["end"])

    def clean(self):
        data = super().clean()
        if data.get("view") not in {value for value, _, _ in VIEWS}:
            # The tab is not a field a person fills: its error is said above the form.
            self.add_error(
                None, t("请选择本周、本月、全部或超期。", "Choose this week, this month, all or overdue.")
            )
        start, end = data.get("start"), data.get("end")
        if start and end and end < start:
            self.add_error("end", t("结束时间不能早于开始时间。", "The end is before the start."))
        return data


# --- Violations -----------------------------------------------------------------------------------
class ViolationFilterForm(forms.Form):
    """违规待整改 (seed 002): 项目名称 (fuzzy; the O&M task's too), 整改状态, 整改期限."""

    q = forms.CharField(required=False, max_length=200)
    status = forms.ChoiceField(required=False)
    deadline_after = forms.DateField(required=False)
    deadline_before = forms.DateField(required=False)
    overdue = forms.BooleanField(required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        fields = self.fields
        fields["q"].label = t("项目或任务名称", "Project or task")
        fields["q"].widget.attrs.update({"type": "search", "placeholder": t("模糊查询", "Search")})
        fields["status"].label = t("整改状态", "Status")
        fields["status"].choices = [
            ("", t("全部", "All")),
            *_choices(Violation.Status.choices, VIOLATION_STATUS_EN),
        ]
        fields["deadline_after"] = _date_field(t("整改期限从", "Deadline from"))
        fields["deadline_before"] = _date_field(t("整改期限至", "Deadline to"))
        fields["overdue"].label = t("只看已逾期", "Overdue only")

    def clean_deadline_after(self):
        return _in_range(self.cleaned_data["deadline_after"])

    def clean_deadline_before(self):
        return _in_range(self.cleaned_data["deadline_before"])


class RectificationFilterForm(forms.Form):
    """历史整改记录 (seed 002): 项目名称 (fuzzy; the O&M task's too), 审核结果, 整改期限."""

    q = forms.CharField(required=False, max_length=200)
    outcome = forms.ChoiceField(required=False)
    deadline_after = forms.DateField(required=False)
    deadline_before = forms.DateField(required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        fields = self.fields
        fields["q"].label = t("项目或任务名称", "Project or task")
        fields["q"].widget.attrs.update({"type": "search", "placeholder": t("模糊查询", "Search")})
        fields["outcome"].label = t("审核结果", "Outcome")
        fields["outcome"].choices = [
            ("", t("全部", "All")),
            *_choices(Rectification.Outcome.choices, OUTCOME_EN),
        ]
        fields["deadline_after"] = _date_field(t("整改期限从", "Deadline from"))
        fields["deadline_before"] = _date_field(t("整改期限至", "Deadline to"))

    def clean_deadline_after(self):
        return _in_range(self.cleaned_data["deadline_after"])

    def clean_deadline_before(self):
        return _in_range(self.cleaned_data["deadline_before"])


class RectifyForm(forms.Form):
    """What ``rectification_submit`` takes (``POST /violations/{id}/rectify``): the rectification's
    text and an optional file, at most ``ATTACHMENT_MAX_BYTES`` as the API's ``AttachmentField``."""

    text = forms.CharField(max_length=4000, widget=forms.Textarea(attrs={"rows": 4}))
    file = forms.FileField(max_length=200, required=False)

    ERROR_FIELDS = {
        "rectification_file_too_large": "file",
        "violation_closed": None,
        "rectification_pending": None,
        "violation_actor_not_allowed": None,
    }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        fields = self.fields
        fields["text"].label = t("整改情况", "What was done")
        _required(fields["text"])
        fields["file"].label = t("整改附件（可选）", "Attachment (optional)")
        megabytes = settings.ATTACHMENT_MAX_BYTES // (1024 * 1024)
        fields["file"].help_text = t(f"不超过 {megabytes} MB。", f"At most {megabytes} MB.")

    def clean_text(self) -> str:
        text = self.cleaned_data["text"].strip()
        if not text:
            raise forms.ValidationError(t("该字段不能为空。", "This field is required."))
        return text

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload and upload.size > settings.ATTACHMENT_MAX_BYTES:
            raise forms.ValidationError(
                ATTACHMENT_TOO_LARGE.message(message_language(), max_bytes=settings.ATTACHMENT_MAX_BYTES)
            )
        return upload
