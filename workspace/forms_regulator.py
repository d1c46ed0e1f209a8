"""The regulator's forms: they parse what was typed; whether a reason is needed, whether a deadline
may be in the past and who may move what stay in the services (a ``DomainError`` from them is shown
beside the field ERROR_FIELDS names, by ``workspace.forms.submit``)."""

from __future__ import annotations

from django import forms

from server.fieldwork.models import MonitoringProject
from server.registry.models import Agency
from server.violations.models import Violation
from workspace.i18n import t

# Which field a service's error is about, by its code (the rest go above the form).
ERROR_FIELDS = {
    "reason_required": "reason",
    "project_reason_required": "reason",
    "rectification_reject_reason_required": "reason",
    "violation_deadline_past": "deadline",
}


class ListFilter(forms.Form):
    """A list's filters: a status (the model's labels) and part of a name."""

    status = forms.ChoiceField(required=False)
    keyword = forms.CharField(required=False, max_length=100)

    def __init__(self, *args, statuses, any_label: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["status"].choices = [("", any_label), *statuses]
        self.fields["status"].label = t("状态", "Status")
        self.fields["keyword"].label = t("名称", "Name")
        self.fields["status"].error_messages["invalid_choice"] = t("没有这个状态。", "No such status.")


def filing_filter(data) -> ListFilter:
    statuses = [(v, label) for v, label in Agency.FilingStatus.choices if v != Agency.FilingStatus.DRAFT]
    return ListFilter(data, statuses=statuses, any_label=t("待审查", "Awaiting review"))


def project_filter(data) -> ListFilter:
    return ListFilter(data, statuses=MonitoringProject.Status.choices, any_label=t("全部", "All"))


def violation_filter(data) -> ListFilter:
    form = ListFilter(data, statuses=Violation.Status.choices, any_label=t("全部", "All"))
    del form.fields["keyword"]
    return form


class DecisionForm(forms.Form):
    """Approve (accept) or return (reject), with a reason. The button pressed is the decision."""

    decision = forms.ChoiceField(choices=[("approve", "approve"), ("return", "return")])
    reason = forms.CharField(required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(self, *args, reason_label: str = "", **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["reason"].label = reason_label or t("原因", "Reason")
        self.fields["reason"].help_text = t("退回时必须填写。", "Required when returning.")
        self.fields["decision"].error_messages["required"] = t(
            "请选择通过或退回。", "Choose approve or return."
        )

    @property
    def approves(self) -> bool:
        return self.cleaned_data["decision"] == "approve"


class ViolationForm(forms.Form):
    description = forms.CharField(max_length=4000, widget=forms.Textarea(attrs={"rows": 4}))
    deadline = forms.DateField(input_formats=["%Y-%m-%d"], widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["description"].label = t("违规情况", "What is wrong")
        self.fields["deadline"].label = t("整改期限", "Deadline to rectify")
        self.fields["description"].error_messages["required"] = t(
            "请填写违规情况。", "Describe the violation."
        )
        self.fields["deadline"].error_messages["required"] = t("请填写整改期限。", "Enter a deadline.")
        self.fields["deadline"].error_messages["invalid"] = t(
            "请输入日期，如 2026-05-04。", "Enter a date, e.g. 2026-05-04."
        )
