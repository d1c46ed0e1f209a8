"""The forms of the agency office pages (机构备案, 账号, 合同): they parse what was typed and chosen,
and the view hands it to the service the API calls (``PATCH /agencies/{id}``, ``POST /accounts``,
``POST /contracts``, a contract's accept/refuse). What a service refuses (``DomainError``) is shown
beside the field it is about (``show_domain_error``), in the user's language."""

from __future__ import annotations

from django import forms
from django.db.models import QuerySet

from server.accounts.models import Role, User
from server.accounts.services import SUB_ACCOUNT_ROLES
from server.registry.models import (
    Agency,
    AgencyNature,
    Contract,
    Employment,
    Enterprise,
    MonitoringCategory,
    OmCategory,
)
from workspace import agency_selectors as reads
from workspace.i18n import t

DATE_INVALID = ("请输入日期，如 2026-05-04。", "Enter a date, e.g. 2026-05-04.")


def _required(field: forms.Field, zh: str, en: str) -> None:
    field.error_messages["required"] = t(zh, en)


class AgencyForm(forms.Form):
    """What ``agency_update`` takes (AgencyUpdateIn). On a filed agency the name, kind and legal
    representative wait for the regulator (pending_changes); the service decides that."""

    name = forms.CharField(max_length=200)
    kind = forms.ChoiceField()
    nature = forms.ChoiceField(required=False)
    monitoring_categories = forms.MultipleChoiceField(required=False, widget=forms.CheckboxSelectMultiple)
    om_categories = forms.MultipleChoiceField(required=False, widget=forms.CheckboxSelectMultiple)
    legal_representative = forms.CharField(max_length=50)
    legal_representative_phone = forms.CharField(max_length=30, required=False)
    contact_name = forms.CharField(max_length=50, required=False)
    contact_phone = forms.CharField(max_length=30, required=False)
    address = forms.CharField(max_length=300)
    region_code = forms.CharField(max_length=6)

    ERROR_FIELDS = {"invalid_region_code": "region_code", "agency_locked": None, "unknown_category": None}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        labels = {name: t(zh, en) for name, zh, en in reads.FILING_FIELDS}
        for name, field in self.fields.items():
            field.label = labels[name]
        self.fields["kind"].choices = [(value, reads.kind_label(value)) for value, _ in Agency.Kind.choices]
        self.fields["nature"].choices = [("", "—"), *AgencyNature.choices]
        self.fields["monitoring_categories"].choices = MonitoringCategory.choices
        self.fields["monitoring_categories"].help_text = t(
            "监测机构必选，可多选（备案后变更须经监管方审查）。",
            "Required of a monitoring agency; several may be chosen (a change after filing is reviewed).",
        )
        self.fields["om_categories"].choices = OmCategory.choices
        self.fields["om_categories"].help_text = t(
            "运维机构必选，可多选（备案后变更须经监管方审查）。",
            "Required of an O&M agency; several may be chosen (a change after filing is reviewed).",
        )
        for name in ("nature", "monitoring_categories", "om_categories"):
            self.fields[name].error_messages["invalid_choice"] = t("没有这个选项。", "No such choice.")
        self.fields["region_code"].help_text = t(
            "6 位行政区划代码（GB/T 2260），如 310104。", "6-digit division code (GB/T 2260), e.g. 310104."
        )
        _required(self.fields["name"], "请填写机构名称。", "Enter the agency's name.")
        _required(self.fields["legal_representative"], "请填写法定代表人。", "Enter the representative.")
        _required(self.fields["address"], "请填写注册地址。", "Enter the registered address.")
        _required(self.fields["region_code"], "请填写行政区划代码。", "Enter the region code.")

    @staticmethod
    def initial_for(agency: Agency) -> dict:
        """The values to edit: a change waiting for review is what the agency last asked for."""
        values = {name: getattr(agency, name) for name, *_ in reads.FILING_FIELDS if name != "credit_code"}
        return values | dict(agency.pending_changes or {})

    def clean(self):
        data = super().clean()
        return {name: value.strip() if isinstance(value, str) else value for name, value in data.items()}


class StaffChoice(forms.ModelChoiceField):
    def label_from_instance(self, employment: Employment) -> str:
        posts = "、".join(post.name for post in employment.posts.all())
        return f"{employment.person.name}（{posts}）" if posts else employment.person.name


class AccountForm(forms.Form):
    """What ``sub_account_create`` takes (AccountIn): a reviewer's or field account belongs to a
    person on the agency's active staff; the service says so when none is chosen."""

    username = forms.CharField(max_length=150)
    password = forms.CharField(max_length=128, strip=False, widget=forms.PasswordInput)
    role = forms.ChoiceField()
    employment = StaffChoice(queryset=Employment.objects.none(), required=False)
    phone = forms.CharField(max_length=30, required=False)

    ERROR_FIELDS = {
        "username_taken": "username",
        "weak_password": "password",
        "role_not_allowed": "role",
        "person_has_account": "employment",
        "staff_account_needs_person": "employment",
    }
    ROLES = [Role.AGENCY_MANAGER, Role.AGENCY_REVIEWER, Role.AGENCY_FIELD]

    def __init__(self, *args, user: User, **kwargs):
        super().__init__(*args, **kwargs)
        fields = self.fields
        fields["username"].label = t("用户名", "Username")
        fields["username"].widget.attrs["autocomplete"] = "off"
        fields["password"].label = t("初始密码", "Initial password")
        fields["password"].widget.attrs["autocomplete"] = "new-password"
        fields["role"].label = t("角色", "Role")
        fields["role"].choices = [
            (role, reads.role_label(role)) for role in self.ROLES if role in SUB_ACCOUNT_ROLES
        ]
        fields["employment"].label = t("对应人员", "Staff member")
        fields["employment"].queryset = (
            Employment.objects.filter(agency_id=user.agency_id, status=Employment.Status.ACTIVE)
            .select_related("person")
            .prefetch_related("posts")
            .order_by("person__name", "id")
        )
        fields["employment"].empty_label = t("不关联人员", "No staff member")
        fields["employment"].help_text = t(
            "运维审核和现场人员的账号须关联本机构在职人员；管理子账号不关联人员。",
            "Reviewer and field accounts belong to active staff; a manager account to no one.",
        )
        fields["employment"].error_messages["invalid_choice"] = t(
            "请选择列表中的人员。", "Choose a person from the list."
        )
        fields["phone"].label = t("手机号", "Phone")
        _required(fields["username"], "请填写用户名。", "Enter a username.")
        _required(fields["password"], "请填写初始密码。", "Enter an initial password.")
        fields["role"].error_messages["invalid_choice"] = t("请选择列表中的角色。", "Choose a listed role.")

    def clean(self):
        data = super().clean()
        # account_create keeps a person only on a staff role's account: say so rather than drop it.
        if data.get("role") == Role.AGENCY_MANAGER and data.get("employment") is not None:
            self.add_error(
                "employment",
                t("管理子账号不关联人员，请选择“不关联人员”。", "A manager account has no staff member."),
            )
        return data


class ContractForm(forms.Form):
    """What ``contract_create`` takes (ContractIn). The enterprise is named by its unified social
    credit code: any registered enterprise may be contracted, and the agency sees none of them before
    a contract is accepted, so no list of enterprises is offered."""

    credit_code = forms.CharField(max_length=18)
    nature = forms.ChoiceField()
    number = forms.CharField(max_length=64)
    title = forms.CharField(max_length=200)
    amount = forms.DecimalField(max_digits=14, decimal_places=2, min_value=0)
    starts_on = forms.DateField(input_formats=["%Y-%m-%d"], widget=forms.DateInput(attrs={"type": "date"}))
    ends_on = forms.DateField(input_formats=["%Y-%m-%d"], widget=forms.DateInput(attrs={"type": "date"}))

    ERROR_FIELDS = {
        "contract_number_taken": "number",
        "contract_nature_not_for_agency": "nature",
        "agency_not_approved": None,
    }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        fields = self.fields
        fields["credit_code"].label = t("委托企业统一社会信用代码", "Enterprise's credit code")
        fields["credit_code"].help_text = t(
            "企业确认合同后，本机构才能看到企业的排口并在其下登记工作。",
            "Only once the enterprise accepts does the agency see its outlets and work for it.",
        )
        fields["nature"].label = t("合同性质", "Nature")
        fields["nature"].choices = [(v, reads.nature_label(v)) for v, _ in Contract.Nature.choices]
        fields["number"].label = t("合同编号", "Contract number")
        fields["title"].label = t("合同标题", "Title")
        fields["amount"].label = t("合同金额（元）", "Amount (yuan)")
        fields["starts_on"].label = t("履行开始", "Starts on")
        fields["ends_on"].label = t("履行结束", "Ends on")
        for name in ("starts_on", "ends_on"):
            fields[name].error_messages["invalid"] = t(*DATE_INVALID)
            _required(fields[name], "请填写日期。", "Enter a date.")
        fields["amount"].error_messages["invalid"] = t("请输入金额，如 15000。", "Enter an amount: 15000.")
        _required(fields["credit_code"], "请填写企业的统一社会信用代码。", "Enter the credit code.")
        _required(fields["number"], "请填写合同编号。", "Enter the contract number.")
        _required(fields["title"], "请填写合同标题。", "Enter a title.")
        _required(fields["amount"], "请填写合同金额。", "Enter the amount.")

    def clean_credit_code(self) -> Enterprise:
        code = self.cleaned_data["credit_code"].strip().upper()
        enterprise = Enterprise.objects.filter(credit_code=code).first()
        if enterprise is None:
            raise forms.ValidationError(
                t("没有以此统一社会信用代码登记的企业。", "No enterprise has this credit code.")
            )
        return enterprise

    def clean_number(self) -> str:
        return self.cleaned_data["number"].strip()

    def clean_title(self) -> str:
        return self.cleaned_data["title"].strip()


class RefuseForm(forms.Form):
    """拒绝合同: the reason is required by the service (contract_refusal_reason_required)."""

    reason = forms.CharField(required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 3}))

    ERROR_FIELDS = {"contract_refusal_reason_required": "reason"}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["reason"].label = t("拒绝原因", "Reason for refusing")
        self.fields["reason"].help_text = t("拒绝时必须填写。", "Required when refusing.")


def _choices(pairs, label) -> list[tuple[str, str]]:
    return [("", t("全部", "All")), *((value, label(value)) for value, _ in pairs)]


class ContractFilterForm(forms.Form):
    """The list's filters (seed 003 合同信息查看: 甲方筛选; the status; part of the number or title)."""

    q = forms.CharField(required=False, max_length=200)
    acceptance = forms.ChoiceField(required=False)
    status = forms.ChoiceField(required=False)
    nature = forms.ChoiceField(required=False)
    enterprise = forms.ModelChoiceField(queryset=Enterprise.objects.none(), required=False)

    def __init__(self, *args, enterprises: QuerySet[Enterprise], **kwargs):
        super().__init__(*args, **kwargs)
        fields = self.fields
        fields["q"].label = t("合同编号、标题或单位", "Number, title or party")
        fields["q"].widget.attrs.update({"type": "search", "placeholder": t("模糊查询", "Search")})
        fields["acceptance"].label = t("确认状态", "Acceptance")
        fields["acceptance"].choices = _choices(Contract.Acceptance.choices, reads.acceptance_label)
        fields["status"].label = t("履行状态", "Performance")
        fields["status"].choices = _choices(Contract.Status.choices, reads.contract_status_label)
        fields["nature"].label = t("合同性质", "Nature")
        fields["nature"].choices = _choices(Contract.Nature.choices, reads.nature_label)
        fields["enterprise"].label = t("委托企业（甲方）", "Client enterprise")
        fields["enterprise"].queryset = enterprises
        fields["enterprise"].empty_label = t("全部", "All")
        fields["enterprise"].error_messages["invalid_choice"] = t(
            "请选择列表中的企业。", "Choose an enterprise from the list."
        )
        for name in ("acceptance", "status", "nature"):
            fields[name].error_messages["invalid_choice"] = t("没有这个选项。", "No such choice.")


class AccountFilterForm(forms.Form):
    q = forms.CharField(required=False, max_length=150)
    role = forms.ChoiceField(required=False)
    active = forms.ChoiceField(required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        fields = self.fields
        fields["q"].label = t("用户名、姓名或手机号", "Username, name or phone")
        fields["q"].widget.attrs.update({"type": "search", "placeholder": t("模糊查询", "Search")})
        fields["role"].label = t("角色", "Role")
        roles = [Role.AGENCY_MAIN, *AccountForm.ROLES]
        fields["role"].choices = [("", t("全部", "All")), *((r, reads.role_label(r)) for r in roles)]
        fields["active"].label = t("状态", "State")
        fields["active"].choices = [
            ("", t("全部", "All")),
            ("yes", t("启用", "Active")),
            ("no", t("已停用", "Closed")),
        ]
        for name in ("role", "active"):
            fields[name].error_messages["invalid_choice"] = t("没有这个选项。", "No such choice.")
