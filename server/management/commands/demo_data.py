"""Build the demo world that ``make run`` shows: a small, believable piece of Shanghai field work.

A Shanghai regulator; a monitoring agency (徐汇) and an O&M agency (浦东), both filed and approved,
with staff in every post (certificates where the post needs one) and phone accounts; a wastewater
treatment plant (浦东) and a waste incineration plant (嘉定) with outlets, geofences and instruments;
contracts, a monitoring project with its field staff, and a wastewater and a waste-gas O&M task with
technicians, a reviewer and maintenance plans.

Everything is built through the domain services, so the demo obeys the same rules as real data.
Identifiers are computed, not copied: the credit codes and resident ID numbers are well formed and
fictitious. Dates follow today, so that certificates, contracts and plans are current whenever the
command runs. Safe to run again: once the monitoring agency exists, nothing is created or changed.
"""

from __future__ import annotations

import base64
import datetime as dt
import io
import random
import uuid
from dataclasses import dataclass
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.core.files.base import ContentFile
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone
from PIL import Image, ImageDraw

from media_rules.background import process_blob
from media_rules.holders import tenant_of
from media_rules.intake import ingest
from media_rules.models import Photo, PhotoType
from media_rules.services import Manifest, photo_record
from server.accounts.models import Role, User
from server.accounts.services import account_create, sub_account_create
from server.errors import DomainError
from server.fieldwork.models import MonitoringProject
from server.fieldwork.services import project_assign, project_create, task_create
from server.geo import CoordinateSystem, from_wgs84
from server.om.models import FormTemplate, OmPlan, OmRecord, OmTaskStaff
from server.om.records import record_save
from server.om.services import om_task_create
from server.registry.identifiers import credit_code_check_char, resident_id_check_char
from server.registry.models import Agency, Contract, Employment, Instrument, OutletKind, Post
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
from server.violations.services import violation_open

DEMO_ADMIN = "demo"
DEMO_PASSWORD = "fieldtrace-demo"  # noqa: S105 (published demo accounts for local runs, never production)
PREFIX = "demo data: "


# --- Identifiers ----------------------------------------------------------------------------------
def organisation_code(first8: str) -> str:
    """A 9-character organisation code (GB 11714-1997): 8 digits and their MOD 11 check character."""
    weights = (3, 7, 9, 10, 5, 8, 4, 2)
    check = 11 - sum(int(d) * w for d, w in zip(first8, weights, strict=True)) % 11
    return first8 + {10: "X", 11: "0"}.get(check, str(check))


def credit_code(region_code: str, first8: str) -> str:
    """A unified social credit code of a company (91 = market regulator, enterprise) in a region."""
    first17 = "91" + region_code + organisation_code(first8)
    return first17 + credit_code_check_char(first17)


def resident_id(region_code: str, born: dt.date, sequence: int, *, male: bool) -> str:
    """A resident ID number; the sequence code's parity carries the gender (odd for men)."""
    if sequence % 2 != int(male):
        sequence += 1
    first17 = f"{region_code}{born:%Y%m%d}{sequence:03d}"
    return first17 + resident_id_check_char(first17)


MONITORING_AGENCY_CODE = credit_code("310104", "32418769")  # the marker: present means "already built"
OM_AGENCY_CODE = credit_code("310115", "35092471")
WWTP_CODE = credit_code("310115", "13375290")
INCINERATOR_CODE = credit_code("310114", "30162548")

# --- Agencies and accounts that are not agency staff ----------------------------------------------
REGULATOR = {"username": "jianguan", "first_name": "上海市生态环境局", "region_code": "310000"}

AGENCIES = {
    "monitoring": {
        "credit_code": MONITORING_AGENCY_CODE,
        "name": "上海申衡环境检测技术有限公司",
        "kind": Agency.Kind.MONITORING,
        "legal_representative": "周建国",
        "legal_representative_phone": "13901762358",
        "contact_name": "沈慧敏",
        "contact_phone": "021-64187325",
        "address": "上海市徐汇区宜山路 889 号 3 号楼 5 层",
        "region_code": "310104",
        "username": "jiance",
        "phone": "13901762358",
    },
    "om": {
        "credit_code": OM_AGENCY_CODE,
        "name": "上海浦清环境运维服务有限公司",
        "kind": Agency.Kind.OM,
        "legal_representative": "黄志强",
        "legal_representative_phone": "13816425907",
        "contact_name": "刘芳",
        "contact_phone": "021-58936140",
        "address": "上海市浦东新区张江路 1238 号 2 幢 4 层",
        "region_code": "310115",
        "username": "yunwei",
        "phone": "13816425907",
    },
}
MANAGER_ACCOUNTS = {"monitoring": "jiance-manager", "om": "yunwei-manager"}


# --- Staff ----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Staff:
    agency: str  # key of AGENCIES
    name: str
    male: bool
    birth_region: str  # the Shanghai district of the ID number's address code
    born: dt.date
    phone: str
    education: str
    major: str
    title: str
    position: str
    hired_on: dt.date
    posts: tuple[str, ...]
    username: str = ""  # a phone account, for staff who act on tasks
    account_role: str = Role.AGENCY_FIELD


E, T = Employment.Education, Employment.Title
STAFF = (
    # 监测机构: management, quality and signing; sampling, sample transport and the laboratory.
    Staff("monitoring", "周建国", True, "310104", dt.date(1975, 4, 18), "13901762358", E.POSTGRADUATE,
          "环境工程", T.SENIOR, "技术负责人", dt.date(2011, 3, 1), ("technical_manager", "signatory")),
    Staff("monitoring", "沈慧敏", False, "310105", dt.date(1979, 11, 2), "13661853049", E.BACHELOR,
          "分析化学", T.INTERMEDIATE, "质量负责人", dt.date(2012, 7, 16), ("quality_manager", "signatory")),
    Staff("monitoring", "钱丽萍", False, "310110", dt.date(1984, 6, 27), "13764219385", E.COLLEGE,
          "文秘", T.NONE, "业务登记", dt.date(2015, 9, 1), ("registrar",)),
    Staff("monitoring", "陆海峰", True, "310112", dt.date(1988, 1, 9), "13917634820", E.BACHELOR,
          "环境科学", T.INTERMEDIATE, "采样组组长", dt.date(2013, 7, 1), ("sampler", "courier"), "luhaifeng"),
    Staff("monitoring", "张磊", True, "310113", dt.date(1993, 8, 21), "18621075436", E.BACHELOR,
          "环境工程", T.JUNIOR, "采样员", dt.date(2017, 7, 10), ("sampler",), "zhanglei"),
    Staff("monitoring", "王雪", False, "310107", dt.date(1997, 3, 14), "15821936704", E.COLLEGE,
          "环境监测与治理技术", T.NONE, "送样员", dt.date(2019, 8, 5), ("courier",), "wangxue"),
    Staff("monitoring", "顾佳怡", False, "310106", dt.date(1991, 12, 3), "13585710296", E.POSTGRADUATE,
          "分析化学", T.INTERMEDIATE, "实验室分析员", dt.date(2016, 7, 4), ("lab_analyst",), "gujiayi"),
    Staff("monitoring", "徐晨", True, "310109", dt.date(1995, 5, 30), "18817342659", E.BACHELOR,
          "应用化学", T.JUNIOR, "实验室分析员", dt.date(2018, 7, 2), ("lab_analyst",), "xuchen"),
    # 运维机构: a technical manager, a reviewer and the technicians who keep the analyzers running.
    Staff("om", "黄志强", True, "310115", dt.date(1976, 9, 12), "13816425907", E.BACHELOR,
          "自动化", T.SENIOR, "技术负责人", dt.date(2010, 5, 4), ("technical_manager", "quality_manager")),
    Staff("om", "刘芳", False, "310115", dt.date(1987, 2, 25), "13917065381", E.COLLEGE,
          "工商管理", T.NONE, "调度登记", dt.date(2014, 3, 17), ("registrar",)),
    Staff("om", "孙立新", True, "310101", dt.date(1982, 10, 7), "13764598012", E.BACHELOR,
          "测控技术与仪器", T.INTERMEDIATE, "运维审核", dt.date(2012, 4, 9), ("om_reviewer",), "sunlixin",
          Role.AGENCY_REVIEWER),
    Staff("om", "李俊", True, "310115", dt.date(1990, 7, 19), "15900837264", E.BACHELOR,
          "给排水科学与工程", T.JUNIOR, "运维工程师", dt.date(2014, 7, 1), ("om_technician",), "lijun"),
    Staff("om", "吴婷", False, "310104", dt.date(1996, 4, 6), "18516029473", E.COLLEGE,
          "工业分析技术", T.NONE, "运维工程师", dt.date(2018, 9, 3), ("om_technician",), "wuting"),
    Staff("om", "陈浩", True, "310114", dt.date(1994, 11, 28), "13621984750", E.BACHELOR,
          "热能与动力工程", T.JUNIOR, "运维工程师", dt.date(2017, 3, 6), ("om_technician",), "chenhao"),
    Staff("om", "杨帆", True, "310113", dt.date(1999, 1, 15), "17721460935", E.COLLEGE,
          "环境监测与治理技术", T.NONE, "运维工程师", dt.date(2021, 7, 12), ("om_technician",), "yangfan"),
)  # fmt: skip

# Who issues the competency certificate of a post, and its number prefix.
CERTIFICATE_ISSUERS = {
    "sampler": ("上海申衡环境检测技术有限公司", "SH-CY"),
    "lab_analyst": ("上海申衡环境检测技术有限公司", "SH-FX"),
    "om_technician": ("上海市环境保护产业协会", "HBCY-YW"),
}

# --- Enterprises, outlets, instruments ------------------------------------------------------------
ENTERPRISES = {
    "wwtp": {
        "credit_code": WWTP_CODE,
        "name": "上海川南水质净化有限公司",
        "address": "上海市浦东新区川沙新镇川南奉公路 6828 号",
        "region_code": "310115",
        "contact_name": "周敏",
        "contact_phone": "021-58971036",
    },
    "incinerator": {
        "credit_code": INCINERATOR_CODE,
        "name": "上海嘉北再生能源有限公司",
        "address": "上海市嘉定区外冈镇恒永路 1555 号",
        "region_code": "310114",
        "contact_name": "马骏",
        "contact_phone": "021-59571248",
    },
}
ENTERPRISE_ACCOUNTS = {
    "wwtp": {"username": "wushuichang", "first_name": "周敏", "phone": "13918524067"},
    "incinerator": {"username": "fenshaochang", "first_name": "马骏", "phone": "13601759824"},
}

# Positions as a phone's map gives them (GCJ-02, e.g. picked in AMap); outlet_create stores WGS-84.
OUTLETS = (
    # enterprise, code, name, kind, GCJ-02 longitude, latitude, geofence radius (m)
    ("wwtp", "DW001", "出水总排口", OutletKind.WASTEWATER, 121.72436, 31.17452, 150),
    ("wwtp", "DA001", "除臭系统排气筒", OutletKind.WASTE_GAS, 121.72311, 31.17538, 100),
    ("incinerator", "DA001", "1#焚烧线烟囱", OutletKind.WASTE_GAS, 121.16237, 31.37985, 200),
    ("incinerator", "DA002", "2#焚烧线烟囱", OutletKind.WASTE_GAS, 121.16262, 31.37991, 200),
    ("incinerator", "DW001", "渗滤液处理站排口", OutletKind.WASTEWATER, 121.16105, 31.37862, 150),
)

K = Instrument.Kind
# A CEMS measures several analytes, each on its own range; the one range field is left empty for it.
INSTRUMENTS = (
    # (enterprise, outlet code), kind, analytes, maker, model, serial, range low, high, unit
    (("wwtp", "DW001"), K.WATER_ANALYZER, ["cod"], "哈希水质分析仪器（上海）有限公司", "CODmax plus sc",
     "CMX2103-0417", "0", "200", "mg/L"),
    (("wwtp", "DW001"), K.WATER_ANALYZER, ["nh3n"], "哈希水质分析仪器（上海）有限公司", "AMTAX sc",
     "AMX2011-1186", "0", "20", "mg/L"),
    (("wwtp", "DW001"), K.WATER_ANALYZER, ["toc"], "岛津企业管理（中国）有限公司", "TOC-4200",
     "O39852300471", "0", "100", "mg/L"),
    (("wwtp", "DW001"), K.FLOW_METER, ["water_flow"], "恩德斯豪斯（中国）自动化有限公司",
     "Proline Promag W 400 DN1200", "R8063A02000", "0", "6000", "m3/h"),
    (("incinerator", "DA001"), K.CEMS, ["so2", "nox", "o2", "particulates", "gas_flow"],
     "北京雪迪龙科技股份有限公司", "SCS-900", "SCS9-2205-0318", None, None, ""),
    (("incinerator", "DA001"), K.NMHC_ANALYZER, ["nmhc"], "聚光科技（杭州）股份有限公司", "NMHC-1000",
     "NMH22090157", "0", "100", "mg/m3"),
    (("incinerator", "DA002"), K.CEMS, ["so2", "nox", "o2", "particulates", "gas_flow"],
     "北京雪迪龙科技股份有限公司", "SCS-900", "SCS9-2205-0319", None, None, ""),
)  # fmt: skip

RoleOm = OmTaskStaff.Role
Freq = OmPlan.Frequency


def _months_before(day: dt.date, months: int) -> dt.date:
    """The first day of the month ``months`` before ``day``'s."""
    index = day.year * 12 + day.month - 1 - months
    return dt.date(index // 12, index % 12 + 1, 1)


def _dms(value: float) -> tuple[float, float, float]:
    degrees = int(value)
    minutes = int((value - degrees) * 60)
    return float(degrees), float(minutes), round((value - degrees - minutes / 60) * 3600, 4)


def demo_jpeg(
    seed: int, when: dt.datetime, lon: float, lat: float, *, software: str = "", mirror: bool = False
) -> bytes:
    """A drawn 1600x1200 scene (the seed decides it) with a phone's EXIF: local capture time with
    its offset, GPS in WGS-84, and Software when given."""
    rng = random.Random(seed)  # noqa: S311 (pictures, not secrets)
    image = Image.new("RGB", (1600, 1200), (rng.randrange(256), rng.randrange(256), rng.randrange(256)))
    draw = ImageDraw.Draw(image)
    for _ in range(40):
        x, y = rng.randrange(1600), rng.randrange(1200)
        colour = (rng.randrange(256), rng.randrange(256), rng.randrange(256))
        draw.rectangle((x, y, x + rng.randrange(60, 500), y + rng.randrange(60, 400)), fill=colour)
    if mirror:
        image = image.transpose(Image.Transpose.FLIP_LEFT_RIGHT)
    out = io.BytesIO()
    image.save(out, "JPEG", quality=85, exif=phone_exif(when, (lon, lat), software=software))
    return out.getvalue()


def phone_exif(
    when: dt.datetime, gps: tuple[float, float] | None = None, *, software: str = ""
) -> Image.Exif:
    """The EXIF a phone's camera writes: Make and Model, the local capture time with its offset, GPS
    in WGS-84 when given, and Software when given. Without it a photo warns exif_missing (F10 item 8)."""
    local = timezone.localtime(when)
    exif = Image.Exif()
    exif[0x010F], exif[0x0110] = "HUAWEI", "ELS-AN00"
    if software:
        exif[0x0131] = software
    details = exif.get_ifd(0x8769)
    details[0x9003] = local.strftime("%Y:%m:%d %H:%M:%S")
    details[0x9011] = local.strftime("%z")[:3] + ":" + local.strftime("%z")[3:]
    if gps is not None:
        exif.get_ifd(0x8825).update({1: "N", 2: _dms(gps[1]), 3: "E", 4: _dms(gps[0])})
    return exif


class Command(BaseCommand):
    help = "Create the demo data set: a small Shanghai world of field work (idempotent)."

    def handle(self, *args, **options) -> None:
        # Written after the commit: a failed build rolls back and reports only the failure.
        self.lines: list[str] = []
        try:
            with transaction.atomic():
                self._handle()
        except DomainError as exc:
            raise CommandError(f"demo data not loaded: {exc}") from exc
        for line in self.lines:
            self.stdout.write(line)

    def _say(self, line: str) -> None:
        self.lines.append(PREFIX + line)

    def _handle(self) -> None:
        user_model = get_user_model()
        admin, created = user_model.objects.get_or_create(
            username=DEMO_ADMIN,
            defaults={"is_staff": True, "is_superuser": True, "first_name": "演示管理员", "role": "platform"},
        )
        if created:
            admin.set_password(DEMO_PASSWORD)
            admin.save(update_fields=["password"])
            self._say(f"administrator {DEMO_ADMIN} / {DEMO_PASSWORD} created")
        if Agency.objects.filter(credit_code=MONITORING_AGENCY_CODE).exists():
            self._say("already present")
            return
        self.accounts: list[tuple[User, str]] = [(admin, "平台管理员")] if created else []
        self.today = timezone.localdate()
        self._build(admin)

    # --- The build, in the order the real world would do it -----------------------------------------------
    def _account(self, user: User, what: str) -> User:
        self.accounts.append((user, what))
        return user

    def _build(self, admin: User) -> None:
        regulator = self._account(
            account_create(**REGULATOR, password=DEMO_PASSWORD, role=Role.REGULATOR, created_by=admin),
            "监管方（上海市）",
        )
        agencies, mains = self._agencies(regulator)
        employments = self._staff(agencies, mains)
        enterprises, outlets, instruments = self._enterprises(admin)
        contracts = self._contracts(agencies, enterprises)
        project = self._project(
            agencies["monitoring"], mains["monitoring"], contracts, enterprises, employments
        )
        tasks = self._om_tasks(agencies["om"], contracts, outlets, instruments, employments)
        om_record = self._om_day(tasks[0], employments["李俊"])
        photos = self._photos(project, employments["陆海峰"])
        far = next(photo for note, photo in photos if note == "6 公里外")
        violation = violation_open(
            project=project,
            actor=regulator,
            description="采样作业照片拍摄位置距排口约 6 公里，不在电子围栏内，请说明并补充现场证据。",
            deadline=timezone.localdate() + dt.timedelta(days=7),
            photo=far,
        )

        certificates = sum(e.person.certificates.count() for e in employments.values())
        self._say(
            f"{len(agencies)} agencies filed and approved by {REGULATOR['username']}: "
            + "; ".join(f"{a.name} ({a.credit_code})" for a in agencies.values())
        )
        self._say(f"{len(employments)} staff in {Post.objects.count()} posts, {certificates} certificates")
        self._say(
            f"{len(enterprises)} enterprises, {len(outlets)} outlets (GCJ-02 in, WGS-84 stored), "
            f"{len(instruments)} instruments"
        )
        self._say(
            f"{len(contracts)} contracts; monitoring project {project.number} with "
            f"{project.assignments.count()} assignments"
        )
        self._say(
            f"{len(tasks)} O&M tasks: "
            + "; ".join(f"{t.number} {t.get_kind_display()} ({t.plans.count()} plans)" for t in tasks)
        )
        self._say(
            f"a sampling task with {len(photos)} photos: "
            + ", ".join(f"{note} → {photo.verdict}" for note, photo in photos)
        )
        self._say(f"a violation to rectify by {violation.deadline}, opened from the 6 km photo")
        self._say(
            f"yesterday's {om_record.template.name} at {om_record.outlet.name}, submitted by the technician, "
            f"awaits the enterprise's confirmation ({om_record.om_date})"
        )
        self._say(f"{len(self.accounts)} accounts, all with password {DEMO_PASSWORD}:")
        for user, what in self.accounts:
            self.lines.append(f"  {user.username:<16} {user.get_role_display()}  {what}")

    def _agencies(self, regulator: User) -> tuple[dict[str, Agency], dict[str, User]]:
        agencies, mains = {}, {}
        for key, spec in AGENCIES.items():
            agency, main = agency_register(**spec, password=DEMO_PASSWORD)
            _dossier(agency, main)
            agency = agency_transition(agency=agency, to=Agency.FilingStatus.SUBMITTED, actor=main)
            agency = agency_transition(agency=agency, to=Agency.FilingStatus.APPROVED, actor=regulator)
            agencies[key], mains[key] = agency, self._account(main, agency.name)
        return agencies, mains

    def _certificates(self, staff: Staff, index: int) -> list[dict]:
        """A current certificate for each of the staff member's posts that needs one."""
        certificates = []
        for post in Post.objects.filter(code__in=staff.posts, requires_certificate=True).order_by("id"):
            issuer, prefix = CERTIFICATE_ISSUERS.get(post.code, (AGENCIES[staff.agency]["name"], "SH-GW"))
            # Issued a while ago (staggered per person), valid five years: current whenever this runs.
            valid_from = self.today - dt.timedelta(days=200 + 53 * index)
            certificates.append(
                {
                    "post_code": post.code,
                    "number": f"{prefix}-{valid_from.year}-{307 + 11 * index:04d}",
                    "issuer": issuer,
                    "valid_from": valid_from,
                    "valid_until": valid_from + dt.timedelta(days=5 * 365),
                }
            )
        return certificates

    def _staff(self, agencies: dict[str, Agency], mains: dict[str, User]) -> dict[str, Employment]:
        for key, username in MANAGER_ACCOUNTS.items():
            manager = sub_account_create(
                main=mains[key], username=username, password=DEMO_PASSWORD, role=Role.AGENCY_MANAGER
            )
            self._account(manager, agencies[key].name)
        employments = {}
        for index, staff in enumerate(STAFF):
            employment = staff_hire(
                agency=agencies[staff.agency],
                id_number=resident_id(staff.birth_region, staff.born, 100 + 7 * index, male=staff.male),
                name=staff.name,
                phone=staff.phone,
                education=staff.education,
                major=staff.major,
                title=staff.title,
                position=staff.position,
                hired_on=staff.hired_on,
                posts=staff.posts,
                certificates=self._certificates(staff, index),
            )
            employments[staff.name] = employment
            if staff.username:
                account = sub_account_create(
                    main=mains[staff.agency],
                    username=staff.username,
                    password=DEMO_PASSWORD,
                    role=staff.account_role,
                    person=employment.person,
                    phone=staff.phone,
                )
                posts = "、".join(p.name for p in employment.posts.order_by("id"))
                self._account(account, f"{staff.name}，{posts}")
        return employments

    def _enterprises(self, admin: User) -> tuple[dict, dict, dict]:
        enterprises = {key: enterprise_create(**spec) for key, spec in ENTERPRISES.items()}
        for key, spec in ENTERPRISE_ACCOUNTS.items():
            confirmer = account_create(
                **spec,
                password=DEMO_PASSWORD,
                role=Role.ENTERPRISE,
                enterprise=enterprises[key],
                created_by=admin,
            )
            self._account(confirmer, enterprises[key].name)
        outlets = {}
        for enterprise, code, name, kind, lon, lat, radius in OUTLETS:
            outlets[enterprise, code] = outlet_create(
                enterprise=enterprises[enterprise],
                kind=kind,
                name=name,
                code=code,
                longitude=lon,
                latitude=lat,
                coordinate_system=CoordinateSystem.GCJ02.value,
                geofence_radius_m=radius,
            )
        instruments = {}
        for outlet, kind, analytes, maker, model, serial, low, high, unit in INSTRUMENTS:
            instruments[serial] = instrument_create(
                outlet=outlets[outlet],
                kind=kind,
                analytes=analytes,
                maker=maker,
                model=model,
                serial_number=serial,
                range_low=None if low is None else Decimal(low),
                range_high=None if high is None else Decimal(high),
                unit=unit,
            )
        return enterprises, outlets, instruments

    def _contracts(self, agencies: dict[str, Agency], enterprises: dict) -> dict[str, Contract]:
        # A one-year term that started at the beginning of the month two months ago.
        starts_on = _months_before(self.today, 2)
        ends_on = starts_on.replace(year=starts_on.year + 1) - dt.timedelta(days=1)
        year = starts_on.year
        specs = {
            "monitoring": (
                agencies["monitoring"], enterprises["incinerator"], Contract.Nature.MONITORING,
                f"SHJC-HT-{year}-017", f"上海嘉北再生能源有限公司 {year} 年度废气委托监测服务合同",
                "186000.00",
            ),
            "om_wwtp": (
                agencies["om"], enterprises["wwtp"], Contract.Nature.OM,
                f"PQYW-HT-{year}-008", f"上海川南水质净化有限公司出水在线监测设备 {year} 年度运维服务合同",
                "240000.00",
            ),
            "om_incinerator": (
                agencies["om"], enterprises["incinerator"], Contract.Nature.OM,
                f"PQYW-HT-{year}-011", f"上海嘉北再生能源有限公司烟气在线监测系统 {year} 年度运维服务合同",
                "396000.00",
            ),
        }  # fmt: skip
        contracts = {}
        for key, (agency, enterprise, nature, number, title, amount) in specs.items():
            proposed = contract_create(
                agency=agency,
                enterprise=enterprise,
                nature=nature,
                number=number,
                title=title,
                amount=Decimal(amount),
                starts_on=starts_on,
                ends_on=ends_on,
            )
            # The enterprise's confirmer accepts it: only then may the agency work under it (F9.2).
            contracts[key] = contract_transition(
                contract=proposed,
                to=Contract.Acceptance.ACCEPTED,
                actor=enterprise.confirmers.order_by("id").first(),
            )
        return contracts

    def _project(self, agency, main, contracts, enterprises, employments) -> MonitoringProject:
        contract = contracts["monitoring"]
        project = project_create(
            agency=agency,
            actor=main,
            number=f"SHJC-XM-{contract.starts_on.year}-031",
            name=f"上海嘉北再生能源有限公司焚烧线烟气 {contract.starts_on.year} 年第一次委托监测",
            monitoring_type=MonitoringProject.MonitoringType.AIR,
            enterprise=enterprises["incinerator"],
            contract=contract,
            # Seed 002 项目登记's 监测信息, 委托信息 and 培训信息, as a clerk fills them.
            monitoring_items=["颗粒物", "二氧化硫", "氮氧化物", "氯化氢", "一氧化碳"],
            commission_category=MonitoringProject.CommissionCategory.SELF_MONITORING,
            client_contact="周建国",
            client_phone="021-66781234",
            training_on=contract.starts_on,
            training_content="焚烧炉烟气采样安全与 HJ 836 低浓度颗粒物采样培训",
        )
        for name, post in (
            ("陆海峰", "sampler"),
            ("张磊", "sampler"),
            ("陆海峰", "courier"),
            ("王雪", "courier"),
            ("顾佳怡", "lab_analyst"),
            ("徐晨", "lab_analyst"),
        ):
            project_assign(project=project, employment=employments[name], post_code=post)
        return project

    def _photos(self, project: MonitoringProject, sampler: Employment) -> list[tuple[str, Photo]]:
        """This morning's sampling at the incinerator's stack, as four phones' photos would judge:
        an honest one, one taken 6 km away, the same scene mirrored on another day's task, and one
        retouched in Photoshop. Pictures are drawn here (no files shipped); judged by the real rules."""
        user = User.objects.get(person=sampler.person, agency=project.agency)
        outlet = project.enterprise.outlets.order_by("pk").first()
        morning = timezone.now().replace(microsecond=0) - dt.timedelta(minutes=10)
        task, _ = task_create(
            actor=user, task_id=uuid.UUID(int=20261123), project=project, name="焚烧线烟气采样（上午）"
        )
        earlier, _ = task_create(
            actor=user, task_id=uuid.UUID(int=20261122), project=project, name="焚烧线烟气采样（前日）"
        )
        lon, lat = outlet.location.x, outlet.location.y
        far = (lon + 0.06, lat + 0.01)
        shots = [
            ("现场照片", task, demo_jpeg(1, morning, lon, lat), (lon, lat), "sampling_site"),
            ("6 公里外", task, demo_jpeg(2, morning, *far), far, "sampling_operation"),
            ("前日照片镜像复用", earlier, demo_jpeg(3, morning, lon, lat), (lon, lat), "sampling_site"),
            ("镜像", task, demo_jpeg(3, morning, lon, lat, mirror=True), (lon, lat), "sampling_operation"),
            (
                "经 Photoshop 处理",
                task,
                demo_jpeg(4, morning, lon, lat, software="Adobe Photoshop 25.0"),
                (lon, lat),
                "sampling_operation",
            ),
        ]
        made = []
        for n, (note, on_task, data, (fix_lon, fix_lat), photo_type) in enumerate(shots):
            blob, _ = ingest(data, holder=tenant_of(user))
            process_blob(blob.sha256)  # now, not after the commit: the mirrored copy must be found
            gcj = from_wgs84(fix_lon, fix_lat, "gcj02")
            recorded = photo_record(
                actor=user,
                photo_id=uuid.UUID(int=202611230 + n),
                sha256=blob.sha256,
                photo_type=PhotoType.objects.get(pk=photo_type),
                task=on_task,
                outlet=outlet,
                manifest=Manifest(
                    lon=gcj[0],
                    lat=gcj[1],
                    system="gcj02",
                    accuracy_m=6.0,
                    fix_time=morning,
                    device_time=morning,
                ),
            )
            made.append((note, recorded.photo))
        return made

    def _om_day(self, task, technician: Employment) -> OmRecord:
        """Yesterday at the water plant's outlet: the technician checked in, filled the daily and
        weekly inspection of the COD analyzer with a work photo and a signature, checked out and
        submitted. The enterprise's confirmer has the day on the list of days to confirm."""
        from skimage.data import astronaut

        from media_rules.signatures import store_signature
        from server.tracks.checkins import Position, checkin_record
        from server.tracks.models import CheckIn

        user = User.objects.get(person=technician.person, agency=task.agency)
        outlet = task.points.order_by("pk").first()
        analyzer = task.instruments.filter(outlet=outlet).order_by("pk").first()
        start = timezone.localtime().replace(hour=9, minute=12, second=0, microsecond=0) - dt.timedelta(
            days=1
        )
        gcj = from_wgs84(outlet.location.x, outlet.location.y + 0.0002, "gcj02")
        here = Position(lon=gcj[0], lat=gcj[1], system="gcj02", accuracy_m=8.0)
        checkins = [
            checkin_record(
                actor=user,
                checkin_id=uuid.UUID(int=202611220 + n),
                position=here,
                at=at,
                kind=kind,
                om_task=task,
                outlet=outlet,
            )[0]
            for n, (kind, at) in enumerate(
                [(CheckIn.Kind.START, start), (CheckIn.Kind.END, start + dt.timedelta(minutes=48))]
            )
        ]
        face = io.BytesIO()
        Image.fromarray(astronaut()).save(face, "JPEG", quality=90, exif=phone_exif(start))
        blob, _ = ingest(face.getvalue(), holder=tenant_of(user))
        process_blob(blob.sha256)
        work_photo = photo_record(
            actor=user,
            photo_id=uuid.UUID(int=202611229),
            sha256=blob.sha256,
            photo_type=PhotoType.objects.get(pk="work_photo"),
            outlet=outlet,
            manifest=Manifest(
                lon=gcj[0], lat=gcj[1], system="gcj02", accuracy_m=8.0, fix_time=start, device_time=start
            ),
        ).photo
        pad = Image.new("RGBA", (600, 240), (0, 0, 0, 0))
        ImageDraw.Draw(pad).line(
            [(40, 150), (110, 80), (170, 170), (250, 70), (330, 160), (420, 90), (540, 140)],
            fill="black",
            width=5,
        )
        png = io.BytesIO()
        pad.save(png, "PNG")
        signature = store_signature(base64.b64encode(png.getvalue()).decode())
        ok = {"status": "normal", "note": ""}
        block = {str(analyzer.pk): {"pump_tube_heater": ok, "reagents": ok, "waste_liquid": ok}}
        answers = {
            "basic": {"om_time": start.isoformat()},
            "station_daily": {"remote_status": ok, "station_environment": ok, "data_consistency": ok},
            "sampling_weekly": {"sampling_unit": ok, "auto_sampler": ok},
            "instrument_weekly": block,
            "closing": {"remark": "试剂余量约 60%，下周更换。"},
        }
        return record_save(
            actor=user,
            record_id=uuid.UUID(int=202611221),
            task=task,
            outlet=outlet,
            template=FormTemplate.objects.filter(code="ww_daily_inspection").order_by("-version").first(),
            instruments=[analyzer],
            groups=["daily", "weekly"],
            answers=answers,
            start_checkin=checkins[0],
            end_checkin=checkins[1],
            work_photo=work_photo,
            signature=signature,
            submit=True,
        ).record

    def _om_tasks(self, agency, contracts, outlets, instruments, employments) -> list:
        def staff(*technicians: str) -> list[tuple[Employment, str]]:
            team = [(employments[name], RoleOm.TECHNICIAN) for name in technicians]
            return [*team, (employments["孙立新"], RoleOm.REVIEWER)]

        def instruments_at(*points) -> list[Instrument]:
            ids = {outlets[p].pk for p in points}
            return [i for i in instruments.values() if i.outlet_id in ids]

        # The forms that fulfil each plan (issue F13): the daily and weekly inspections are filled
        # on any of the CEMS daily forms, whichever the outlet's system is.
        GAS_DAILY = [  # noqa: N806
            "gas_cems_extractive_daily",
            "gas_cems_dilution_daily",
            "gas_cems_in_situ_daily",
            "gas_cems_nmhc_daily",
        ]
        tasks = []
        for contract, number, name, kind, points, technicians, plans in (
            (
                contracts["om_wwtp"],
                "001",
                "川南水质净化厂出水在线监测设备运维",
                OutletKind.WASTEWATER,
                [("wwtp", "DW001")],
                ("李俊", "吴婷"),
                [
                    (
                        "每日巡检：查看仪器运行状态、试剂余量和数据传输",
                        Freq.DAILY,
                        None,
                        ["ww_daily_inspection"],
                    ),
                    (
                        "每周维护：清洗采样管路、过滤器和测量池",
                        Freq.WEEKLY,
                        None,
                        ["ww_daily_inspection", "ww_maintenance_repair"],
                    ),
                    (
                        "每月标准样品核查，更换试剂",
                        Freq.MONTHLY,
                        ("wwtp", "DW001"),
                        ["ww_standard_check_calibration", "ww_consumables"],
                    ),
                    (
                        "每季度校准及实际水样比对",
                        Freq.QUARTERLY,
                        ("wwtp", "DW001"),
                        ["ww_real_sample_comparison"],
                    ),
                ],
            ),
            (
                contracts["om_incinerator"],
                "002",
                "嘉北再生能源焚烧线烟气在线监测系统运维",
                OutletKind.WASTE_GAS,
                [("incinerator", "DA001"), ("incinerator", "DA002")],
                ("陈浩", "杨帆"),
                [
                    (
                        "每日巡检：检查 CEMS 运行状态、伴热管线温度和数据传输",
                        Freq.DAILY,
                        None,
                        GAS_DAILY,
                    ),
                    ("每周检查零点、量程漂移，反吹采样探头", Freq.WEEKLY, None, GAS_DAILY),
                    (
                        "每月标准气体校准",
                        Freq.MONTHLY,
                        None,
                        ["gas_calibration", "gas_standard_gas_replacement"],
                    ),
                    (
                        "每季度校验：1#线参比方法比对",
                        Freq.QUARTERLY,
                        ("incinerator", "DA001"),
                        ["gas_periodic_verification"],
                    ),
                    (
                        "每季度校验：2#线参比方法比对",
                        Freq.QUARTERLY,
                        ("incinerator", "DA002"),
                        ["gas_periodic_verification"],
                    ),
                ],
            ),
        ):
            tasks.append(
                om_task_create(
                    agency=agency,
                    contract=contract,
                    number=f"PQYW-RW-{contract.starts_on.year}-{number}",
                    name=name,
                    kind=kind,
                    starts_on=contract.starts_on,
                    ends_on=contract.ends_on,
                    points=[outlets[p] for p in points],
                    instruments=instruments_at(*points),
                    staff=staff(*technicians),
                    plans=[
                        {
                            "title": title,
                            "frequency": frequency,
                            "window_start": contract.starts_on,
                            "window_end": contract.ends_on,
                            "outlet": outlets[point] if point else None,
                            "template_codes": forms,
                        }
                        for title, frequency, point, forms in plans
                    ],
                )
            )
        return tasks


def _pdf(title: str) -> ContentFile:
    """A one-page stand-in for a scanned document (the dossier takes PDF, JPG or PNG)."""
    return ContentFile(b"%PDF-1.4\n% " + title.encode() + b"\n%%EOF\n", name=f"{title}.pdf")


def _dossier(agency: Agency, main: User) -> None:
    """What a filing carries before it can be submitted (server/registry/dossier.py)."""
    from server.registry import dossier
    from server.registry.services import agency_update

    fields: dict = {"nature": "private"}
    if agency.does_monitoring:
        fields["monitoring_categories"] = ["water", "air", "soil", "noise"]
    if agency.does_om:
        fields["om_categories"] = ["wastewater", "waste_gas"]
    agency_update(agency=agency, actor=main, **fields)
    dossier.document_add(agency=agency, kind="business_licence", upload=_pdf("营业执照"), actor=main)
    dossier.document_add(agency=agency, kind="quality_manual", upload=_pdf("质量手册"), actor=main)
    if agency.does_monitoring:
        dossier.qualification_add(
            agency=agency,
            kind="cma",
            number=f"2309{agency.pk:08d}",
            scope="水和废水、环境空气和废气、土壤、噪声",
            first_granted_on=dt.date(2019, 6, 1),
            valid_until=dt.date(2031, 5, 31),
            upload=_pdf("资质认定证书"),
            actor=main,
        )
    dossier.site_add(
        agency=agency, name="实验室", address=agency.address, region_code=agency.region_code, actor=main
    )
    dossier.facility_add(
        agency=agency, name="便携式多参数水质分析仪", model="proQuattro", quantity=2, actor=main
    )
