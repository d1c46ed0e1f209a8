"""Test data built through the domain services, so that tests start from states the rules allow.

``World`` is two agencies in two regions (Shanghai Xuhui and Jiangsu Nanjing), each with accounts
in every role, an enterprise with outlets and instruments, contracts, a project and an O&M task;
regulators for Shanghai and for Jiangsu; a platform administrator.
"""

from __future__ import annotations

import datetime as dt
import itertools
from dataclasses import dataclass, field

from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from server.accounts.models import Role, User
from server.accounts.services import account_create, sub_account_create
from server.fieldwork.models import MonitoringProject
from server.fieldwork.services import project_assign, project_create
from server.om.models import OmTask
from server.om.services import om_task_create
from server.registry.identifiers import credit_code_check_char, resident_id_check_char
from server.registry.models import Agency, Contract, Employment, Enterprise, Instrument, Outlet
from server.registry.services import (
    agency_register,
    agency_transition,
    contract_create,
    contract_transition,
    enterprise_create,
    instrument_create,
    outlet_create,
    staff_hire,
)

PASSWORD = "Field-trace-2026!"
_serial = itertools.count(1)


def credit_code(prefix: str = "91310104MA") -> str:
    body = f"{prefix}{next(_serial):07d}"[:17]
    return body + credit_code_check_char(body)


def resident_id(region: str = "310104", born: str = "19900101") -> str:
    body = f"{region}{born}{next(_serial) % 1000:03d}"
    return body + resident_id_check_char(body)


def certificate(
    post_code: str, *, valid_until: dt.date | None = None, valid_from: dt.date | None = None
) -> dict:
    today = timezone.localdate()
    return {
        "post_code": post_code,
        "number": f"CERT-{post_code}-{next(_serial)}",
        "valid_from": valid_from or today - dt.timedelta(days=365),
        "valid_until": valid_until or today + dt.timedelta(days=365),
        "issuer": "上海市环境科学学会",
    }


def approved_agency(
    *, kind: str = Agency.Kind.BOTH, region_code: str = "310104", name: str = ""
) -> tuple[Agency, User]:
    regulator = regulator_user(region_code[:2] + "0000")
    n = next(_serial)
    agency, main = agency_register(
        credit_code=credit_code(f"91{region_code}MA"),
        name=name or f"测试监测有限公司{n}",
        kind=kind,
        legal_representative="王强",
        address="测试路 1 号",
        region_code=region_code,
        username=f"main{n}",
        password=PASSWORD,
    )
    complete_dossier(agency, main)
    agency_transition(agency=agency, to=Agency.FilingStatus.SUBMITTED, actor=main)
    agency_transition(agency=agency, to=Agency.FilingStatus.APPROVED, actor=regulator)
    agency.refresh_from_db()
    return agency, main


def pdf_upload(name: str = "材料.pdf", body: bytes = b"") -> SimpleUploadedFile:
    """A small PDF as a browser would send it (the dossier takes PDF, JPG and PNG by their first bytes)."""
    content = b"%PDF-1.4\n" + (body or name.encode()) + b"\n%%EOF\n"
    return SimpleUploadedFile(name, content, content_type="application/pdf")


def _diploma(employment: Employment, actor: User) -> None:
    """A person's file (人员材料), so that the world holds one of everything."""
    from server.registry import dossier

    dossier.person_document_add(
        person=employment.person, kind="diploma", upload=pdf_upload("学历证书.pdf"), actor=actor
    )


def complete_dossier(agency: Agency, actor: User) -> Agency:
    """What a filing needs before it can be submitted (server/registry/dossier.py missing_for_submission):
    the business licence, the quality manual, a CMA certificate for monitoring, the categories."""
    from server.registry import dossier
    from server.registry.services import agency_update

    fields = {}
    if agency.does_monitoring:
        fields["monitoring_categories"] = ["water", "air"]
    if agency.does_om:
        fields["om_categories"] = ["wastewater", "waste_gas"]
    agency = agency_update(agency=agency, actor=actor, **fields)
    for kind, name in (("business_licence", "营业执照"), ("quality_manual", "质量手册")):
        dossier.document_add(agency=agency, kind=kind, upload=pdf_upload(f"{name}.pdf"), actor=actor)
    if agency.does_monitoring:
        dossier.qualification_add(
            agency=agency,
            kind="cma",
            number=f"CMA{agency.pk:08d}",
            scope="水和废水、环境空气和废气",
            first_granted_on=dt.date(2020, 1, 1),
            valid_until=dt.date(2032, 1, 1),
            upload=pdf_upload("资质认定证书.pdf"),
            actor=actor,
        )
    # Not required for submission, but a filing carries them (seed 001 §3.1.1.1 分场所, §3.1.1.4).
    dossier.site_add(
        agency=agency, name="实验室", address=agency.address, region_code=agency.region_code, actor=actor
    )
    dossier.facility_add(
        agency=agency, name="便携式多参数水质分析仪", model="proQuattro", quantity=2, actor=actor
    )
    return agency


def regulator_user(region_code: str) -> User:
    existing = User.objects.filter(role=Role.REGULATOR, region_code=region_code).first()
    return existing or account_create(
        username=f"reg{region_code}-{next(_serial)}",
        password=PASSWORD,
        role=Role.REGULATOR,
        region_code=region_code,
        created_by=None,
    )


def accepted_contract(**fields) -> Contract:
    """A contract proposed by its agency and accepted by a regulator of the enterprise's province, as
    work needs (issue F9.2: a proposed contract grants nothing). Takes contract_create's arguments."""
    contract = contract_create(**fields)
    enterprise = fields["enterprise"]
    regulator = regulator_user(enterprise.region_code[:2] + "0000")
    return contract_transition(contract=contract, to=Contract.Acceptance.ACCEPTED, actor=regulator)


def hire(agency: Agency, posts: list[str], *, name: str = "", region: str = "310104") -> Employment:
    certs = [certificate(p) for p in posts if p in {"sampler", "lab_analyst", "om_technician"}]
    return staff_hire(
        agency=agency,
        id_number=resident_id(region),
        name=name or f"员工{next(_serial)}",
        education=Employment.Education.BACHELOR,
        hired_on=timezone.localdate() - dt.timedelta(days=30),
        posts=posts,
        certificates=certs,
    )


def staff_account(main: User, employment: Employment, role: str = Role.AGENCY_FIELD) -> User:
    return sub_account_create(
        main=main, username=f"u{next(_serial)}", password=PASSWORD, role=role, person=employment.person
    )


@dataclass
class Side:
    """One agency's side of the world, with everything it owns."""

    agency: Agency
    main: User
    manager: User
    field_user: User
    reviewer: User
    enterprise: Enterprise
    enterprise_user: User
    regulator: User
    sampler: Employment
    technician: Employment
    reviewer_staff: Employment
    wastewater: Outlet
    gas: Outlet
    instrument: Instrument
    monitoring_contract: Contract
    om_contract: Contract
    project: MonitoringProject
    om_task: OmTask
    users: dict[str, User] = field(default_factory=dict)
    # The O&M technician's own account (现场运维 fills records; the reviewer reviews them).
    technician_user: User | None = None


def build_side(region_code: str, lon: float, lat: float) -> Side:
    agency, main = approved_agency(region_code=region_code)
    province = region_code[:2] + "0000"
    regulator = regulator_user(province)
    manager = sub_account_create(
        main=main, username=f"m{next(_serial)}", password=PASSWORD, role=Role.AGENCY_MANAGER
    )
    sampler = hire(agency, ["sampler", "courier"])
    _diploma(sampler, main)
    lab = hire(agency, ["lab_analyst"])
    technician = hire(agency, ["om_technician"])
    reviewer_staff = hire(agency, ["om_reviewer"])
    field_user = staff_account(main, sampler)
    reviewer = staff_account(main, reviewer_staff, Role.AGENCY_REVIEWER)
    enterprise = enterprise_create(
        credit_code=credit_code(f"91{region_code}MA"),
        name=f"测试污水处理厂{next(_serial)}",
        address="厂区路 8 号",
        region_code=region_code,
    )
    enterprise_user = account_create(
        username=f"e{next(_serial)}",
        password=PASSWORD,
        role=Role.ENTERPRISE,
        enterprise=enterprise,
        created_by=None,
    )
    wastewater = outlet_create(
        enterprise=enterprise,
        kind="wastewater",
        name="DW001 废水总排口",
        longitude=lon,
        latitude=lat,
        coordinate_system="gcj02",
        geofence_radius_m=150,
    )
    gas = outlet_create(
        enterprise=enterprise,
        kind="waste_gas",
        name="DA001 焚烧炉排气筒",
        longitude=lon + 0.002,
        latitude=lat + 0.001,
        coordinate_system="wgs84",
    )
    instrument = instrument_create(
        outlet=wastewater,
        kind=Instrument.Kind.WATER_ANALYZER,
        analytes=["cod"],
        maker="哈希",
        model="CODmax plus sc",
        serial_number=f"SN{next(_serial)}",
        range_low=0,
        range_high=1000,
        unit="mg/L",
    )
    today = timezone.localdate()
    monitoring_contract = accepted_contract(
        agency=agency,
        enterprise=enterprise,
        nature=Contract.Nature.MONITORING,
        number=f"JC-{next(_serial)}",
        title="委托监测协议",
        amount=15000,
        starts_on=today - dt.timedelta(days=60),
        ends_on=today + dt.timedelta(days=300),
    )
    om_contract = accepted_contract(
        agency=agency,
        enterprise=enterprise,
        nature=Contract.Nature.OM,
        number=f"YW-{next(_serial)}",
        title="自动监控设施运维合同",
        amount=120000,
        starts_on=today - dt.timedelta(days=60),
        ends_on=today + dt.timedelta(days=300),
    )
    project = project_create(
        agency=agency,
        actor=main,
        number=f"P-{next(_serial)}",
        name="季度废水监测",
        monitoring_type=MonitoringProject.MonitoringType.WATER,
        enterprise=enterprise,
        contract=monitoring_contract,
        region_code=region_code,
    )
    project_assign(project=project, employment=sampler, post_code="sampler")
    project_assign(project=project, employment=lab, post_code="lab_analyst")
    om_task = om_task_create(
        agency=agency,
        contract=om_contract,
        number=f"T-{next(_serial)}",
        name="废水自动监测运维",
        kind="wastewater",
        starts_on=today - dt.timedelta(days=10),
        ends_on=today + dt.timedelta(days=80),
        points=[wastewater],
        instruments=[instrument],
        staff=[(technician, "technician"), (reviewer_staff, "reviewer")],
        plans=[
            {
                "title": "日常巡检",
                "frequency": "daily",
                "template_codes": ["ww_daily_inspection"],
                "window_start": today - dt.timedelta(days=10),
                "window_end": today + dt.timedelta(days=80),
            }
        ],
    )
    side = Side(
        agency=agency,
        main=main,
        manager=manager,
        field_user=field_user,
        reviewer=reviewer,
        enterprise=enterprise,
        enterprise_user=enterprise_user,
        regulator=regulator,
        sampler=sampler,
        technician=technician,
        reviewer_staff=reviewer_staff,
        wastewater=wastewater,
        gas=gas,
        instrument=instrument,
        monitoring_contract=monitoring_contract,
        om_contract=om_contract,
        project=project,
        om_task=om_task,
    )
    side.technician_user = staff_account(main, technician)
    side.users = {
        "agency_main": main,
        "agency_manager": manager,
        "agency_field": field_user,
        "agency_reviewer": reviewer,
        "enterprise": enterprise_user,
        "regulator": regulator,
    }
    return side


@dataclass
class World:
    shanghai: Side
    jiangsu: Side
    platform: User


def build_world() -> World:
    shanghai = build_side("310104", 121.4365, 31.1880)  # Xuhui, Shanghai
    jiangsu = build_side("320102", 118.7969, 32.0603)  # Xuanwu, Nanjing
    platform = User.objects.create_superuser(username=f"admin{next(_serial)}", password=PASSWORD)
    return World(shanghai=shanghai, jiangsu=jiangsu, platform=platform)
