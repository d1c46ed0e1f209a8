"""The filing dossier (备案材料: seed 001 §3.1 基本信息/技术能力/设施设备/管理能力, seed 002 机构信息 附件)
and the documents attached to a person (人员材料: 学历证书、职称证书 …, seed 001 图 3-3).

Who sees a file: its agency, the regulators of the agency's region and platform staff; a person's
files, the agency currently employing the person and the regulators of that agency's region, never
another agency (sensitive personal information: no public URL, every download goes through a view
that reads through the scopes of ``server/access.py``: ``dossier_agencies_for``,
``agency_documents_for``, ``qualifications_for``, ``person_documents_for``). Writes are the
agency's main and manager accounts', while its filing is open to change (``agency_update``'s rule:
not while submitted or cancelled).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.utils import timezone

from server.access import person_documents_for
from server.accounts.models import Role, User
from server.audit import services as audit
from server.errors import VALIDATION_FAILED, DomainError
from server.registry import errors
from server.registry.models import (
    Agency,
    AgencyDocument,
    AgencyFacility,
    AgencyQualification,
    AgencySite,
    Employment,
    MonitoringCategory,
    OmCategory,
    Person,
    PersonDocument,
)

logger = logging.getLogger(__name__)

F = Agency.FilingStatus
D = AgencyDocument.Kind
Q_ = AgencyQualification.Kind
# The dossier is frozen while a regulator reads it and after cancellation (as agency_update).
FROZEN = (F.SUBMITTED, F.CANCELLED)
# A filing a regulator has approved once: its required documents must stay complete.
FILED = (F.APPROVED, F.CHANGED)

# --- Files ----------------------------------------------------------------------------------------
# PDF, JPEG, PNG by their first bytes: what the seeds' systems take (seed 002: 按附件要求的类型上传).
CONTENT_TYPES = {
    b"%PDF-": "application/pdf",
    b"\xff\xd8\xff": "image/jpeg",
    b"\x89PNG\r\n\x1a\n": "image/png",
}


def open_stored(row):
    """The stored file opened for reading and the type its content was recognised as at upload. A
    file the storage cannot give (gone from disk, S3 unreachable) is document_unavailable (503),
    logged for an administrator, never a 500 (as the O&M reports' and photos' files)."""
    try:
        handle = row.file.open("rb")
    except Exception as exc:  # FileNotFoundError on disk, botocore's ClientError on S3, network errors
        logger.error("registry: stored file %s cannot be read: %r", row.file.name, exc)
        raise DomainError(errors.DOCUMENT_UNAVAILABLE) from exc
    head = handle.read(16)
    handle.seek(0)
    kind = next((t for sig, t in CONTENT_TYPES.items() if head.startswith(sig)), "application/octet-stream")
    return handle, kind


def _checked(upload) -> str:
    """The upload's SHA-256 after checking its size and kind; the file is read once, in chunks."""
    if upload is None or not getattr(upload, "size", 0):
        raise DomainError(errors.FILE_REQUIRED, details={"file": ["请选择要上传的文件。"]})
    limit = settings.ATTACHMENT_MAX_BYTES
    if upload.size > limit:
        raise DomainError(
            errors.FILE_TOO_LARGE, details={"max_bytes": limit}, limit_mb=limit // (1024 * 1024)
        )
    upload.seek(0)
    head = upload.read(16)
    if not head.startswith(tuple(CONTENT_TYPES)):
        raise DomainError(errors.FILE_TYPE_NOT_ALLOWED)
    upload.seek(0)
    digest = hashlib.sha256()
    for chunk in upload.chunks():
        digest.update(chunk)
    upload.seek(0)
    return digest.hexdigest()


def _store(row, upload, *, folder: str, actor: User | None) -> None:
    """Fill a StoredFile row and write the file (before the row is saved: a crash leaves an orphan
    file, never a row without its file)."""
    sha256 = _checked(upload)
    name = (upload.name or "file").rsplit("/", 1)[-1][-120:]
    row.file_name, row.sha256, row.size = name[:200], sha256, upload.size
    row.uploaded_by, row.uploaded_at = actor, timezone.now()
    row.file.save(f"{folder}/{sha256[:16]}-{name[-80:]}", upload, save=False)


def _locked_agency(agency: Agency) -> Agency:
    agency = Agency.objects.select_for_update().get(pk=agency.pk)
    if agency.filing_status in FROZEN:
        raise DomainError(errors.DOSSIER_LOCKED, state=F(agency.filing_status).label)
    return agency


def _record(action: str, agency: Agency, actor: User | None, summary: str) -> None:
    audit.record(action, subject=agency, actor=actor, summary=summary)


# --- Completeness ---------------------------------------------------------------------------------
# What a filing must carry when it is submitted, with the reason from the seeds:
# - 营业执照: seed 002 机构信息 (所有附件均为必传项, 上传后才能提交), every agency;
# - 质量手册: seed 001 §3.1.1.5 (监测机构上传《质量手册》) and §3.1.2.5 (运维机构《质量管理制度手册》
#   为必须上传材料), every agency;
# - a CMA certificate with its scan: seed 001 §3.1.1.3 marks 资质认定证书编号、有效期、证书 required
#   (*), monitoring agencies only;
# - monitoring categories (§3.1.1.1 * 监测类别) for a monitoring agency, O&M categories for an O&M one.
# An O&M capability certificate is NOT required: §3.1.2.3 says 若有证书编号则录入…；若无证书编号则无需
# 填写 — an O&M agency without an external certificate still files.
MISSING_LABELS = {
    "business_licence": ("营业执照", "business licence"),
    "quality_manual": ("质量手册", "quality manual"),
    "cma_certificate": ("资质认定证书（CMA）及其扫描件", "CMA certificate with its scan"),
    "monitoring_categories": ("监测类别", "monitoring categories"),
    "om_categories": ("运维类别", "O&M categories"),
}


def missing_for_submission(agency: Agency) -> list[str]:
    """What the filing lacks for submission, as codes of MISSING_LABELS (empty: complete). The kind
    judged is the one a regulator would approve: a pending change of kind counts."""
    kind = (agency.pending_changes or {}).get("kind", agency.kind)
    monitoring = kind in (Agency.Kind.MONITORING, Agency.Kind.BOTH)
    om = kind in (Agency.Kind.OM, Agency.Kind.BOTH)
    kinds = set(AgencyDocument.objects.filter(agency=agency).values_list("kind", flat=True))
    missing = [k for k in (D.BUSINESS_LICENCE, D.QUALITY_MANUAL) if k not in kinds]
    if monitoring and not (
        AgencyQualification.objects.filter(agency=agency, kind=Q_.CMA).exclude(file="").exists()
    ):
        missing.append("cma_certificate")
    categories = {
        **{"monitoring_categories": agency.monitoring_categories, "om_categories": agency.om_categories}
    }
    categories.update({k: v for k, v in (agency.pending_changes or {}).items() if k in categories})
    if monitoring and not categories["monitoring_categories"]:
        missing.append("monitoring_categories")
    if om and not categories["om_categories"]:
        missing.append("om_categories")
    return [str(m) for m in missing]


def ensure_complete(agency: Agency) -> None:
    missing = missing_for_submission(agency)
    if missing:
        raise DomainError(
            errors.FILING_INCOMPLETE,
            details={"missing": missing},
            missing="、".join(MISSING_LABELS[m][0] for m in missing),
            missing_en=", ".join(MISSING_LABELS[m][1] for m in missing),
        )


# --- Categories -----------------------------------------------------------------------------------
def normalise_categories(values: Any, catalogue: type, field: str) -> list[str]:
    """Codes of the catalogue, each once, in the catalogue's order (so that an unchanged choice in
    another order is no change awaiting review)."""
    chosen = set(values or [])
    unknown = sorted(str(v) for v in chosen - set(catalogue.values))
    if unknown:
        raise DomainError(errors.UNKNOWN_CATEGORY, details={field: unknown}, categories="、".join(unknown))
    return [code for code in catalogue.values if code in chosen]


def normalise_fields(fields: dict) -> dict:
    if "monitoring_categories" in fields:
        fields["monitoring_categories"] = normalise_categories(
            fields["monitoring_categories"], MonitoringCategory, "monitoring_categories"
        )
    if "om_categories" in fields:
        fields["om_categories"] = normalise_categories(fields["om_categories"], OmCategory, "om_categories")
    return fields


# --- Documents ------------------------------------------------------------------------------------
@transaction.atomic
def document_add(*, agency: Agency, kind: str, upload, actor: User, note: str = "") -> AgencyDocument:
    if kind not in D.values:
        raise DomainError(VALIDATION_FAILED, details={"kind": ["没有这个材料类型。"]})
    agency = _locked_agency(agency)
    document = AgencyDocument(agency=agency, kind=kind, note=note.strip()[:200])
    _store(document, upload, folder=f"dossier/{agency.pk}", actor=actor)
    document.save()
    _record("agency.document_added", agency, actor, f"上传备案材料：{D(kind).label} {document.file_name}")
    return document


def _ensure_not_last(agency: Agency, kind: str, label: str, remaining: QuerySet) -> None:
    if agency.filing_status in FILED and not remaining.exists():
        raise DomainError(errors.DOCUMENT_STILL_REQUIRED, details={"kind": kind}, kind=label)


@transaction.atomic
def document_delete(*, document: AgencyDocument, actor: User) -> None:
    agency = _locked_agency(document.agency)
    if document.kind in (D.BUSINESS_LICENCE, D.QUALITY_MANUAL):
        others = AgencyDocument.objects.filter(agency=agency, kind=document.kind).exclude(pk=document.pk)
        _ensure_not_last(agency, document.kind, D(document.kind).label, others)
    document.delete()
    _record(
        "agency.document_deleted",
        agency,
        actor,
        f"删除备案材料：{D(document.kind).label} {document.file_name}",
    )


# --- Qualification certificates -------------------------------------------------------------------
@transaction.atomic
def qualification_add(
    *,
    agency: Agency,
    kind: str,
    number: str,
    actor: User,
    upload=None,
    scope: str = "",
    issuer: str = "",
    first_granted_on: dt.date | None = None,
    valid_until: dt.date | None = None,
) -> AgencyQualification:
    """One certificate. A CMA certificate's scan is what the filing is judged on (§3.1.1.3 *资质认定证书):
    it is required for that kind; the others may come without one (§3.1.1.3 其他认证认可资质 无需上传
    佐证材料)."""
    if kind not in Q_.values:
        raise DomainError(VALIDATION_FAILED, details={"kind": ["没有这个证书类型。"]})
    number = (number or "").strip()
    if not number:
        raise DomainError(VALIDATION_FAILED, details={"number": ["请填写证书编号。"]})
    if first_granted_on and valid_until and valid_until < first_granted_on:
        raise DomainError(VALIDATION_FAILED, details={"valid_until": ["有效期至不能早于首次获得时间。"]})
    if kind == Q_.CMA and upload is None:
        raise DomainError(errors.CMA_SCAN_REQUIRED, details={"file": ["请上传资质认定证书（CMA）扫描件。"]})
    agency = _locked_agency(agency)
    if AgencyQualification.objects.filter(agency=agency, kind=kind, number=number).exists():
        raise DomainError(errors.QUALIFICATION_NUMBER_TAKEN, details={"number": number}, number=number)
    row = AgencyQualification(
        agency=agency,
        kind=kind,
        number=number,
        scope=scope.strip(),
        issuer=issuer.strip()[:100],
        first_granted_on=first_granted_on,
        valid_until=valid_until,
        uploaded_at=timezone.now(),
    )
    if upload is not None:
        _store(row, upload, folder=f"dossier/{agency.pk}", actor=actor)
    try:
        with transaction.atomic():
            row.save()
    except IntegrityError:
        raise DomainError(
            errors.QUALIFICATION_NUMBER_TAKEN, details={"number": number}, number=number
        ) from None
    _record("agency.qualification_added", agency, actor, f"登记资质证书：{Q_(kind).label} {number}")
    return row


@transaction.atomic
def qualification_delete(*, qualification: AgencyQualification, actor: User) -> None:
    agency = _locked_agency(qualification.agency)
    if qualification.kind == Q_.CMA and agency.does_monitoring:
        others = (
            AgencyQualification.objects.filter(agency=agency, kind=Q_.CMA)
            .exclude(pk=qualification.pk)
            .exclude(file="")
        )
        _ensure_not_last(agency, Q_.CMA, Q_.CMA.label, others)
    qualification.delete()
    _record(
        "agency.qualification_deleted",
        agency,
        actor,
        f"删除资质证书：{Q_(qualification.kind).label} {qualification.number}",
    )


# --- Sites and facilities -------------------------------------------------------------------------
def _area(value) -> Decimal | None:
    if value in (None, ""):
        return None
    area = Decimal(value)
    if area <= 0:
        raise DomainError(VALIDATION_FAILED, details={"area_m2": ["面积须大于 0。"]})
    return area


@transaction.atomic
def site_add(
    *, agency: Agency, name: str, address: str, region_code: str, actor: User, area_m2=None
) -> AgencySite:
    from server.registry.services import validate_region_code

    agency = _locked_agency(agency)
    name, address = name.strip(), address.strip()
    if not name or not address:
        raise DomainError(VALIDATION_FAILED, details={"name" if not name else "address": ["请填写此项。"]})
    site = AgencySite.objects.create(
        agency=agency,
        name=name,
        address=address,
        region_code=validate_region_code(region_code),
        area_m2=_area(area_m2),
    )
    _record("agency.site_added", agency, actor, f"新增分支场所：{site.name}")
    return site


@transaction.atomic
def site_delete(*, site: AgencySite, actor: User) -> None:
    agency = _locked_agency(site.agency)
    site.delete()
    _record("agency.site_deleted", agency, actor, f"删除分支场所：{site.name}")


@transaction.atomic
def facility_add(
    *, agency: Agency, name: str, actor: User, model: str = "", quantity: int | None = None, area_m2=None
) -> AgencyFacility:
    """Equipment is counted (台/套), a facility measured (平方米): one of the two is given."""
    agency = _locked_agency(agency)
    name = name.strip()
    if not name:
        raise DomainError(VALIDATION_FAILED, details={"name": ["请填写设备或设施名称。"]})
    area = _area(area_m2)
    if quantity is not None and quantity < 1:
        raise DomainError(VALIDATION_FAILED, details={"quantity": ["数量须至少为 1。"]})
    if quantity is None and area is None:
        raise DomainError(VALIDATION_FAILED, details={"quantity": ["请填写数量（设备）或面积（设施）。"]})
    facility = AgencyFacility.objects.create(
        agency=agency, name=name, model=model.strip(), quantity=quantity, area_m2=area
    )
    _record("agency.facility_added", agency, actor, f"新增设施设备：{facility.name}")
    return facility


@transaction.atomic
def facility_delete(*, facility: AgencyFacility, actor: User) -> None:
    agency = _locked_agency(facility.agency)
    facility.delete()
    _record("agency.facility_deleted", agency, actor, f"删除设施设备：{facility.name}")


# --- Staff documents ------------------------------------------------------------------------------
def _employer(person: Person, actor: User) -> Agency:
    """Only the agency employing the person now adds or removes the person's files."""
    if actor.role == Role.PLATFORM:
        employment = Employment.objects.filter(person=person, status=Employment.Status.ACTIVE).first()
        if employment is None:
            raise DomainError(errors.EMPLOYMENT_NOT_ACTIVE)
        return employment.agency
    from server.access import require_agency_admin

    agency = require_agency_admin(actor)
    if not Employment.objects.filter(person=person, agency=agency, status=Employment.Status.ACTIVE).exists():
        raise DomainError(errors.EMPLOYMENT_NOT_ACTIVE)
    return agency


@transaction.atomic
def person_document_add(*, person: Person, kind: str, upload, actor: User, note: str = "") -> PersonDocument:
    if kind not in PersonDocument.Kind.values:
        raise DomainError(VALIDATION_FAILED, details={"kind": ["没有这个材料类型。"]})
    agency = _employer(person, actor)
    document = PersonDocument(person=person, agency=agency, kind=kind, note=note.strip()[:200])
    _store(document, upload, folder=f"people/{person.pk}", actor=actor)
    document.save()
    audit.record(
        "staff.document_added",
        subject=person,
        actor=actor,
        summary=f"上传人员材料：{person.name} {PersonDocument.Kind(kind).label}",
        agency_id=agency.pk,
        region_code=agency.region_code,
    )
    return document


@transaction.atomic
def person_document_delete(*, document: PersonDocument, actor: User) -> None:
    agency = _employer(document.person, actor)
    document.delete()
    audit.record(
        "staff.document_deleted",
        subject=document.person,
        actor=actor,
        summary=f"删除人员材料：{document.person.name} {document.get_kind_display()}",
        agency_id=agency.pk,
        region_code=agency.region_code,
    )


def visible_person_documents(user: User, person: Person) -> QuerySet[PersonDocument]:
    return (
        person_documents_for(user)
        .filter(person=person)
        .select_related("uploaded_by")
        .order_by("kind", "uploaded_at", "id")
    )
