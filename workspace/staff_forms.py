"""The forms of the staff pages (监测人员, seed 002; 运维人员, seed 003): they parse what was typed and
chosen, and the views hand it to the services ``/api/v1/staff`` calls (``server.registry.services``,
``server.registry.excel``). A service's refusal is shown beside the field it is about
(``show_domain_error``), in the user's language; what was typed is kept."""

from __future__ import annotations

import datetime as dt

from django import forms
from django.conf import settings
from django.db.models import QuerySet

from mobile_api.common import ATTACHMENT_TOO_LARGE
from server.fields import EARLIEST_DAY, LATEST_DAY
from server.registry.models import Agency, Employment, Person, Post
from workspace.i18n import message_language, t

STATUS_EN = {"active": "Active", "departed": "Departed", "non_technical": "Non-technical"}
EDUCATION_EN = {
    "doctorate": "Doctorate",
    "postgraduate": "Master's degree",
    "bachelor": "Bachelor's degree",
    "college": "College",
    "secondary": "Secondary or below",
}
TITLE_EN = {
    "none": "None",
    "junior": "Junior",
    "intermediate": "Intermediate",
    "senior": "Associate senior",
    "professor": "Senior",
}
RELATION_EN = {"employee": "Employee", "dispatched": "Agency worker", "rehired": "Rehired retiree"}
GENDER_EN = {"male": "Male", "female": "Female"}
POST_EN = {
    "sampler": "Sampler",
    "courier": "Sample courier",
    "lab_analyst": "Lab analyst",
    "om_technician": "O&M technician",
    "om_reviewer": "O&M reviewer",
    "quality_manager": "Quality manager",
    "technical_manager": "Technical manager",
    "signatory": "Authorised signatory",
    "registrar": "Registrar",
}
# The certificate filter (seed 000 持证查询): how a person's certificates stand today.
CERTIFICATE_STATES = {
    "valid": ("持有效证书", "Holds a valid certificate"),
    "expiring": ("证书 90 天内到期", "A certificate expires within 90 days"),
    "expired": ("证书均已过期", "All certificates expired"),
    "none": ("无证书", "No certificate"),
}
EXPIRING_DAYS = 90


def label(choices, english: dict, value: str) -> str:
    name = dict(choices).get(value)
    return t(name, english.get(value, name)) if name else value


def post_name(post: Post) -> str:
    return t(post.name, POST_EN.get(post.code, post.name))


def _choices(choices, english: dict) -> list[tuple[str, str]]:
    return [(value, t(name, english.get(value, name))) for value, name in choices]


def _all(choices) -> list[tuple[str, str]]:
    return [("", t("全部", "All")), *choices]


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, **kwargs):
        super().__init__(format="%Y-%m-%d", **kwargs)


def day_field(*, required: bool = True) -> forms.DateField:
    field = forms.DateField(required=required, input_formats=["%Y-%m-%d"], widget=DateInput())
    field.error_messages["invalid"] = t("请输入日期，如 2026-05-04。", "Enter a date, e.g. 2026-05-04.")
    return field


def _check_day(day: dt.date | None) -> dt.date | None:
    """The API's DayField bounds (server.fields)."""
    if day is not None and not EARLIEST_DAY <= day <= LATEST_DAY:
        raise forms.ValidationError(t("日期超出范围。", "The date is out of range."))
    return day


class PostChoice(forms.ModelMultipleChoiceField):
    def label_from_instance(self, post: Post) -> str:
        if post.requires_certificate:
            return post_name(post) + t("（须持证）", " (certificate needed)")
        return post_name(post)


def _posts_field(required: bool = False) -> PostChoice:
    field = PostChoice(
        queryset=Post.objects.order_by("id"),
        to_field_name="code",
        required=required,
        widget=forms.CheckboxSelectMultiple,
    )
    field.label = t("岗位", "Posts")
    field.error_messages["invalid_choice"] = t("请选择列表中的岗位。", "Choose posts from the list.")
    return field


# --- The list's filters ---------------------------------------------------------------------------
class StaffFilterForm(forms.Form):
    """Seed 002 查询 (职称, 性别, 姓名 fuzzy), seed 003's columns (学历, 岗位, 是否离职) and seed 000's
    持证查询. The ID number is not here: a query string is logged whole (F9 item 11), so it is
    searched with ``IdSearchForm``, posted."""

    q = forms.CharField(required=False, max_length=64)
    status = forms.ChoiceField(required=False)
    post = forms.ModelChoiceField(queryset=Post.objects.order_by("id"), to_field_name="code", required=False)
    certificate = forms.ChoiceField(required=False)
    title = forms.ChoiceField(required=False)
    education = forms.ChoiceField(required=False)
    gender = forms.ChoiceField(required=False)
    agency = forms.ModelChoiceField(queryset=Agency.objects.none(), required=False)

    def __init__(self, *args, agencies: QuerySet[Agency] | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        fields = self.fields
        fields["q"].label = t("姓名或证书编号", "Name or certificate number")
        fields["q"].widget.attrs.update({"type": "search", "placeholder": t("模糊查询", "Search")})
        fields["status"].label = t("人员状态", "Status")
        fields["status"].choices = _all(_choices(Employment.Status.choices, STATUS_EN))
        fields["post"].label = t("岗位", "Post")
        fields["post"].empty_label = t("全部", "All")
        fields["post"].label_from_instance = post_name
        fields["post"].error_messages["invalid_choice"] = t(
            "请选择列表中的岗位。", "Choose a post from the list."
        )
        fields["certificate"].label = t("能力证书", "Certificates")
        fields["certificate"].choices = _all([(k, t(*v)) for k, v in CERTIFICATE_STATES.items()])
        fields["title"].label = t("职称", "Title")
        fields["title"].choices = _all(_choices(Employment.Title.choices, TITLE_EN))
        fields["education"].label = t("学历", "Education")
        fields["education"].choices = _all(_choices(Employment.Education.choices, EDUCATION_EN))
        fields["gender"].label = t("性别", "Gender")
        fields["gender"].choices = _all(_choices(Person.Gender.choices, GENDER_EN))
        if agencies is None:
            del fields["agency"]  # an agency's own accounts see their own staff only
        else:
            fields["agency"].queryset = agencies
            fields["agency"].label = t("监测机构", "Agency")
            fields["agency"].empty_label = t("全部", "All")
            fields["agency"].error_messages["invalid_choice"] = t(
                "请选择列表中的机构。", "Choose an agency from the list."
            )
        for name in ("status", "title", "education", "gender", "certificate"):
            fields[name].error_messages["invalid_choice"] = t(
                "请选择列表中的选项。", "Choose an option from the list."
            )


class IdSearchForm(forms.Form):
    """A whole ID number, posted (never in a URL): the API's POST /staff/search."""

    id_number = forms.CharField(max_length=32)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        field = self.fields["id_number"]
        field.label = t("身份证号", "ID number")
        field.widget.attrs.update(
            {"autocomplete": "off", "placeholder": t("完整的 18 位身份证号", "The whole 18-character number")}
        )
        field.error_messages["required"] = t("请输入身份证号。", "Enter an ID number.")


# --- Adding and editing ---------------------------------------------------------------------------
STAFF_ERROR_FIELDS = {
    "invalid_resident_id": "id_number",
    "person_already_on_staff": "id_number",
    "person_active_elsewhere": "id_number",
    "person_name_mismatch": "name",
    "unknown_post": "posts",
    "certificate_required": "posts",
    "certificate_not_valid": "posts",
    "certificate_number_taken": "number",
    "employment_not_active": None,
}


class _EmploymentFields(forms.Form):
    education = forms.ChoiceField()
    major = forms.CharField(max_length=100, required=False)
    title = forms.ChoiceField()
    position = forms.CharField(max_length=50, required=False)
    relation = forms.ChoiceField()

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        fields = self.fields
        fields["education"].label = t("学历", "Education")
        fields["education"].choices = [
            ("", t("请选择", "Choose")),
            *_choices(Employment.Education.choices, EDUCATION_EN),
        ]
        fields["major"].label = t("所学专业", "Major")
        fields["title"].label = t("职称", "Title")
        fields["title"].choices = _choices(Employment.Title.choices, TITLE_EN)
        fields["position"].label = t("职务", "Position")
        fields["relation"].label = t("劳动关系", "Employment relation")
        fields["relation"].choices = _choices(Employment.Relation.choices, RELATION_EN)
        fields["posts"] = _posts_field()
        fields["posts"].help_text = t(
            "须持证的岗位，该人员须有在有效期内的能力证书。",
            "A post marked as needing a certificate needs one valid today.",
        )


class CertificateFields(forms.Form):
    """What ``certificate_add`` takes."""

    cert_post = forms.ModelChoiceField(queryset=Post.objects.order_by("id"), to_field_name="code")
    number = forms.CharField(max_length=64)
    issuer = forms.CharField(max_length=100, required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        fields = self.fields
        fields["cert_post"].label = t("岗位类别", "Post category")
        fields["cert_post"].empty_label = t("请选择", "Choose")
        fields["cert_post"].label_from_instance = post_name
        fields["number"].label = t("证书编号", "Certificate number")
        fields["issuer"].label = t("发证单位", "Issued by")
        fields["valid_from"] = day_field()
        fields["valid_from"].label = t("有效期起", "Valid from")
        fields["valid_until"] = day_field()
        fields["valid_until"].label = t("有效期至", "Valid until")

    def clean_valid_from(self):
        return _check_day(self.cleaned_data["valid_from"])

    def clean_valid_until(self):
        return _check_day(self.cleaned_data["valid_until"])

    def clean_number(self) -> str:
        return self.cleaned_data["number"].strip()

    def certificate(self) -> dict:
        data = self.cleaned_data
        return {
            "post_code": data["cert_post"].code,
            "number": data["number"],
            "issuer": data["issuer"].strip(),
            "valid_from": data["valid_from"],
            "valid_until": data["valid_until"],
        }


class CertificateForm(CertificateFields):
    ERROR_FIELDS = {"certificate_number_taken": "number", "unknown_post": "cert_post"}


class StaffForm(_EmploymentFields):
    """What ``staff_hire`` takes (the API's StaffIn), with one certificate, optional: a post that
    needs a certificate is taken only with one (the seed's 添加 form: 附件可以选择性上传)."""

    ERROR_FIELDS = STAFF_ERROR_FIELDS
    CERTIFICATE = ("cert_post", "number", "issuer", "valid_from", "valid_until")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        fields = self.fields
        fields["name"] = forms.CharField(max_length=50, label=t("姓名", "Name"))
        fields["id_number"] = forms.CharField(max_length=32, label=t("身份证号", "ID number"))
        fields["id_number"].widget.attrs["autocomplete"] = "off"
        fields["id_number"].help_text = t(
            "18 位居民身份证号，须与本人证件一致：人员在手机上实名认证后才能看到分配给他的项目。",
            "The 18-character resident ID number as on the card: the person's phone sign-in checks it.",
        )
        fields["phone"] = forms.CharField(max_length=30, required=False, label=t("手机号", "Mobile"))
        fields["hired_on"] = day_field()
        fields["hired_on"].label = t("入职时间", "Hired on")
        certificate = CertificateFields()
        for name in self.CERTIFICATE:
            fields[name] = certificate.fields[name]
            fields[name].required = False
        order = ["name", "id_number", "phone", "education", "major", "title", "position", "relation"]
        self.order_fields([*order, "hired_on", "posts", *self.CERTIFICATE])

    def main_fields(self):
        return [self[name] for name in self.fields if name not in self.CERTIFICATE]

    def certificate_fields(self):
        return [self[name] for name in self.CERTIFICATE]

    def clean_name(self) -> str:
        return self.cleaned_data["name"].strip()

    def clean_hired_on(self):
        return _check_day(self.cleaned_data["hired_on"])

    clean_valid_from = CertificateFields.clean_valid_from
    clean_valid_until = CertificateFields.clean_valid_until

    def clean(self):
        data = super().clean()
        given = [name for name in self.CERTIFICATE if data.get(name) not in (None, "")]
        if given:
            for name in ("cert_post", "number", "valid_from", "valid_until"):
                if data.get(name) in (None, "") and name not in self.errors:
                    self.add_error(name, t("填写证书时此项必填。", "Required with a certificate."))
        return data

    def hire(self) -> dict:
        """The keyword arguments of ``staff_hire``."""
        data = self.cleaned_data
        hire = {
            name: data[name]
            for name in ("id_number", "name", "phone", "education", "major", "title", "position", "relation")
        }
        hire["id_number"] = hire["id_number"].strip()
        hire["hired_on"] = data["hired_on"]
        hire["posts"] = [post.code for post in data["posts"]]
        hire["certificates"] = []
        if data.get("cert_post"):
            hire["certificates"] = [
                {
                    "post_code": data["cert_post"].code,
                    "number": data["number"].strip(),
                    "issuer": data["issuer"].strip(),
                    "valid_from": data["valid_from"],
                    "valid_until": data["valid_until"],
                }
            ]
        return hire


class StaffEditForm(_EmploymentFields):
    """What ``staff_update`` takes (the API's StaffUpdateIn)."""

    ERROR_FIELDS = STAFF_ERROR_FIELDS

    @classmethod
    def of(cls, employment: Employment) -> StaffEditForm:
        return cls(
            initial={
                "education": employment.education,
                "major": employment.major,
                "title": employment.title,
                "position": employment.position,
                "relation": employment.relation,
                "posts": [post.code for post in employment.posts.all()],
            }
        )

    def changes(self) -> dict:
        data = self.cleaned_data
        changes = {name: data[name] for name in ("education", "major", "title", "position", "relation")}
        changes["major"], changes["position"] = changes["major"].strip(), changes["position"].strip()
        changes["posts"] = [post.code for post in data["posts"]]
        return changes


class DepartForm(forms.Form):
    """What ``staff_depart`` takes (离职)."""

    ERROR_FIELDS = {"employment_not_active": None}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["departed_on"] = day_field()
        self.fields["departed_on"].label = t("离职时间", "Departed on")
        self.fields["departed_on"].help_text = t(
            "离职后，该人员在本机构的账号立即在所有手机上退出，不能再登录。",
            "Once departed, the person's accounts at this agency are signed out everywhere and cannot "
            "sign in.",
        )

    def clean_departed_on(self):
        return _check_day(self.cleaned_data["departed_on"])


# --- Excel import ---------------------------------------------------------------------------------
class ImportForm(forms.Form):
    """The API's ImportIn: a workbook filled from the template, at most ATTACHMENT_MAX_BYTES."""

    file = forms.FileField(max_length=200)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        field = self.fields["file"]
        field.label = t("Excel 文件", "Excel file")
        field.widget.attrs["accept"] = (
            ".xlsx,application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        )
        field.error_messages["required"] = t("请选择要导入的文件。", "Choose the file to import.")
        megabytes = settings.ATTACHMENT_MAX_BYTES // (1024 * 1024)
        field.help_text = t(
            f"用模板填写的 .xlsx 文件，不超过 {megabytes} MB。",
            f"An .xlsx file filled in from the template, at most {megabytes} MB.",
        )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > settings.ATTACHMENT_MAX_BYTES:
            raise forms.ValidationError(
                ATTACHMENT_TOO_LARGE.message(message_language(), max_bytes=settings.ATTACHMENT_MAX_BYTES)
            )
        return upload
