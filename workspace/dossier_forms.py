"""The forms of the filing dossier (备案材料: 营业执照、质量手册, 资质证书, 分支场所, 设施设备) and of a
person's documents (人员材料). They parse; the services in ``server/registry/dossier.py`` decide, and
what they refuse is shown beside the field (``show_domain_error`` with ``ERROR_FIELDS``)."""

from __future__ import annotations

from django import forms

from server.registry.models import AgencyDocument, AgencyQualification, PersonDocument
from workspace.i18n import t

DATE_INVALID = ("请输入日期，如 2026-05-04。", "Enter a date, e.g. 2026-05-04.")
FILE_HELP = ("PDF、JPG 或 PNG，不超过 20 MB。", "PDF, JPG or PNG, up to 20 MB.")
FILE_ERRORS = {
    "file_required": "file",
    "file_too_large": "file",
    "file_type_not_allowed": "file",
    "dossier_locked": None,
    "employment_not_active": None,
}

DOCUMENT_EN = {
    "business_licence": "Business licence",
    "quality_manual": "Quality manual",
    "commitment": "Letter of commitment",
    "other": "Other",
}
QUALIFICATION_EN = {
    "cma": "CMA certificate",
    "cnas": "CNAS accreditation",
    "om_capability": "O&M capability certificate",
    "management_system": "Management-system certificate",
    "other": "Other accreditation",
}
PERSON_DOCUMENT_EN = {
    "certificate_scan": "Certificate scan",
    "diploma": "Diploma",
    "degree": "Degree certificate",
    "title": "Title certificate",
    "training": "Training certificate",
    "other": "Other",
}


def labelled(choices, english: dict) -> list[tuple[str, str]]:
    return [(value, t(label, english.get(value, label))) for value, label in choices]


def _file(field: forms.Field) -> None:
    field.label = t("文件", "File")
    field.help_text = t(*FILE_HELP)
    field.widget.attrs["accept"] = ".pdf,.jpg,.jpeg,.png,application/pdf,image/jpeg,image/png"
    field.error_messages["required"] = t("请选择要上传的文件。", "Choose a file to upload.")


class DocumentForm(forms.Form):
    kind = forms.ChoiceField()
    file = forms.FileField()
    note = forms.CharField(max_length=200, required=False)

    ERROR_FIELDS = FILE_ERRORS

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["kind"].label = t("材料类型", "Document")
        self.fields["kind"].choices = labelled(AgencyDocument.Kind.choices, DOCUMENT_EN)
        _file(self.fields["file"])
        self.fields["note"].label = t("说明", "Note")


class QualificationForm(forms.Form):
    kind = forms.ChoiceField()
    number = forms.CharField(max_length=64)
    scope = forms.CharField(required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 2}))
    issuer = forms.CharField(max_length=100, required=False)
    first_granted_on = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
    valid_until = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
    file = forms.FileField(required=False)

    ERROR_FIELDS = {**FILE_ERRORS, "qualification_number_taken": "number", "cma_scan_required": "file"}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        fields = self.fields
        fields["kind"].label = t("证书类型", "Certificate")
        fields["kind"].choices = labelled(AgencyQualification.Kind.choices, QUALIFICATION_EN)
        fields["number"].label = t("证书编号", "Number")
        fields["number"].error_messages["required"] = t("请填写证书编号。", "Enter the number.")
        fields["scope"].label = t("能力范围", "Scope")
        fields["issuer"].label = t("发证单位", "Issued by")
        fields["first_granted_on"].label = t("首次获得时间", "First granted on")
        fields["valid_until"].label = t("有效期至", "Valid until")
        for name in ("first_granted_on", "valid_until"):
            fields[name].error_messages["invalid"] = t(*DATE_INVALID)
        _file(fields["file"])
        fields["file"].label = t("证书扫描件", "Scan")
        fields["file"].help_text = t(
            "资质认定证书（CMA）须上传扫描件；其他证书可不上传。PDF、JPG 或 PNG。",
            "A CMA certificate needs its scan; the others may come without. PDF, JPG or PNG.",
        )


class SiteForm(forms.Form):
    name = forms.CharField(max_length=200)
    address = forms.CharField(max_length=300)
    region_code = forms.CharField(max_length=6)
    area_m2 = forms.DecimalField(required=False, max_digits=10, decimal_places=2, min_value=0)

    ERROR_FIELDS = {"invalid_region_code": "region_code", "dossier_locked": None}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        fields = self.fields
        fields["name"].label = t("场所名称", "Name")
        fields["name"].error_messages["required"] = t("请填写场所名称。", "Enter the name.")
        fields["address"].label = t("详细地址", "Address")
        fields["address"].error_messages["required"] = t("请填写详细地址。", "Enter the address.")
        fields["region_code"].label = t("所在行政区划", "Region code")
        fields["region_code"].help_text = t("6 位行政区划代码，如 310117。", "6-digit code, e.g. 310117.")
        fields["region_code"].error_messages["required"] = t("请填写行政区划代码。", "Enter the code.")
        fields["area_m2"].label = t("面积（平方米）", "Area (m²)")
        fields["area_m2"].error_messages["invalid"] = t("请输入数字，如 120.5。", "Enter a number: 120.5.")


class FacilityForm(forms.Form):
    name = forms.CharField(max_length=200)
    model = forms.CharField(max_length=100, required=False)
    quantity = forms.IntegerField(required=False, min_value=1)
    area_m2 = forms.DecimalField(required=False, max_digits=10, decimal_places=2, min_value=0)

    ERROR_FIELDS = {"dossier_locked": None}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        fields = self.fields
        fields["name"].label = t("设备或设施名称", "Equipment or facility")
        fields["name"].error_messages["required"] = t("请填写名称。", "Enter the name.")
        fields["model"].label = t("型号/规格", "Model")
        fields["quantity"].label = t("数量（台/套）", "Count")
        fields["quantity"].help_text = t(
            "设备填数量，设施（如实验室）填面积。", "Count equipment; measure facilities."
        )
        fields["quantity"].error_messages["invalid"] = t("请输入整数。", "Enter a whole number.")
        fields["quantity"].error_messages["min_value"] = t("数量须至少为 1。", "At least 1.")
        fields["area_m2"].label = t("面积（平方米）", "Area (m²)")
        fields["area_m2"].error_messages["invalid"] = t("请输入数字，如 120.5。", "Enter a number: 120.5.")


class PersonDocumentForm(forms.Form):
    kind = forms.ChoiceField()
    file = forms.FileField()
    note = forms.CharField(max_length=200, required=False)

    ERROR_FIELDS = FILE_ERRORS

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["kind"].label = t("材料类型", "Document")
        self.fields["kind"].choices = labelled(PersonDocument.Kind.choices, PERSON_DOCUMENT_EN)
        _file(self.fields["file"])
        self.fields["note"].label = t("备注", "Note")
