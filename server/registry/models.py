"""The registry: who may do field work (agencies, their staff and certificates) and where it is done
(enterprises, their outlets and instruments, contracts).

Models store; the rules that change them are in ``server/registry/services.py``.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.gis.db import models
from django.db.models import Q

from server.geo import CoordinateSystem
from server.privacy.fields import BlindIndexField, EncryptedCharField

REGION_CODE_HELP = "6 位行政区划代码（GB/T 2260），如 310104 表示上海市徐汇区。"


class AgencyNature(models.TextChoices):
    """机构性质 (seed 001 §3.1.1.1 基本信息; the manual's form shows 私营, the rest is the national
    system's drop-down as agencies fill it)."""

    PUBLIC_INSTITUTION = "public_institution", "事业单位"
    STATE_OWNED = "state_owned", "国有企业"
    PRIVATE = "private", "私营"
    COLLECTIVE = "collective", "集体企业"
    FOREIGN = "foreign", "外资或合资"
    OTHER = "other", "其他"


class MonitoringCategory(models.TextChoices):
    """监测类别（可多选）: the fixed catalogue of seed 001 §3.1.1.1 (图 3-1), in its order."""

    WATER = "water", "水（含大气降水）和废水"
    AIR = "air", "环境空气和废气"
    SOIL = "soil", "土壤和水系沉积物"
    SOLID_WASTE = "solid_waste", "固体废物"
    SEAWATER = "seawater", "海水"
    MARINE_SEDIMENT = "marine_sediment", "海洋沉积物"
    BIOLOGY = "biology", "生物"
    BIO_RESIDUE = "bio_residue", "生物体残留"
    NOISE = "noise", "噪声"
    VIBRATION = "vibration", "振动"
    ELECTROMAGNETIC = "electromagnetic", "电磁辐射"
    IONIZING = "ionizing", "电离辐射"
    VAPOUR_RECOVERY = "vapour_recovery", "油气回收"


class OmCategory(models.TextChoices):
    """运维类别 (seed 001 §3.3 图 3-20: 运维类别 and 其他运维类别; §3.1.2.3 names 污染源废气自动监测;
    seed 003 operates wastewater and waste-gas automatic monitoring)."""

    WASTEWATER = "wastewater", "污染源废水自动监测"
    WASTE_GAS = "waste_gas", "污染源废气自动监测"
    AMBIENT_AIR = "ambient_air", "环境空气自动监测"
    SURFACE_WATER = "surface_water", "地表水水质自动监测"
    OTHER = "other", "其他运维类别"


class Agency(models.Model):
    """A monitoring or O&M service agency (生态环境监测技术服务机构), identified by its credit code."""

    class Kind(models.TextChoices):
        MONITORING = "monitoring", "监测机构"
        OM = "om", "运维机构"
        BOTH = "both", "检测运维机构"

    class FilingStatus(models.TextChoices):
        DRAFT = "draft", "草稿"
        SUBMITTED = "submitted", "已提交"
        APPROVED = "approved", "审查通过"
        RETURNED = "returned", "已退回"
        CHANGED = "changed", "变更待审"
        CANCELLED = "cancelled", "已注销"

    # Django's implicit key, declared for its label only: auto_created as Django makes it, the column
    # stays as it is (the migration only relabels it).
    id = models.BigAutoField("编号", primary_key=True, auto_created=True)
    credit_code = models.CharField("统一社会信用代码", max_length=18, unique=True)
    name = models.CharField("机构名称", max_length=200)
    kind = models.CharField("机构类别", max_length=16, choices=Kind.choices)
    legal_representative = models.CharField("法定代表人", max_length=50)
    legal_representative_phone = models.CharField("法定代表人电话", max_length=30, blank=True)
    contact_name = models.CharField("联系人", max_length=50, blank=True)
    contact_phone = models.CharField("联系电话", max_length=30, blank=True)
    address = models.CharField("注册地址", max_length=300)
    region_code = models.CharField("注册地行政区划", max_length=6, help_text=REGION_CODE_HELP)
    filing_status = models.CharField(
        "备案状态", max_length=16, choices=FilingStatus.choices, default=FilingStatus.DRAFT, editable=False
    )
    return_reason = models.TextField("退回原因", blank=True, editable=False)
    nature = models.CharField("机构性质", max_length=24, choices=AgencyNature.choices, blank=True)
    # Codes of MonitoringCategory / OmCategory, in catalogue order (services.dossier normalises).
    monitoring_categories = models.JSONField("监测类别", default=list, blank=True)
    om_categories = models.JSONField("运维类别", default=list, blank=True)
    # A filed agency's change of a reviewed field waits here until a regulator approves it: until then
    # the approved values stay what the public and regulators read (seed 001 §3.3 变更).
    pending_changes = models.JSONField("待审变更", default=dict, blank=True, editable=False)
    created_at = models.DateTimeField("创建时间", auto_now_add=True)
    updated_at = models.DateTimeField("更新时间", auto_now=True)

    class Meta:
        verbose_name = "机构"
        verbose_name_plural = "机构"
        ordering = ["name", "id"]
        indexes = [models.Index(fields=["region_code"], name="agency_region_idx")]

    def __str__(self) -> str:
        return self.name

    @property
    def does_monitoring(self) -> bool:
        return self.kind in (self.Kind.MONITORING, self.Kind.BOTH)

    @property
    def does_om(self) -> bool:
        return self.kind in (self.Kind.OM, self.Kind.BOTH)


class AgencyFilingEvent(models.Model):
    """One row per filing status change: the history a regulator reads."""

    id = models.BigAutoField("编号", primary_key=True, auto_created=True)
    agency = models.ForeignKey(
        Agency, on_delete=models.CASCADE, related_name="filing_events", verbose_name="机构"
    )
    from_status = models.CharField("原状态", max_length=16, choices=Agency.FilingStatus.choices)
    to_status = models.CharField("新状态", max_length=16, choices=Agency.FilingStatus.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name="操作人",
    )
    reason = models.TextField("原因", blank=True)
    at = models.DateTimeField("时间")

    class Meta:
        verbose_name = "备案记录"
        verbose_name_plural = "备案记录"
        ordering = ["at", "id"]


class Post(models.Model):
    """A post (岗位) staff can hold. Data, not code: whether it needs a competency certificate
    is set per post by the administrators (seed 000: certificates per post category)."""

    id = models.BigAutoField("编号", primary_key=True, auto_created=True)
    code = models.SlugField("代码", max_length=32, unique=True)
    name = models.CharField("岗位", max_length=50)
    requires_certificate = models.BooleanField("需持证上岗", default=False)
    field_work = models.BooleanField("现场岗位", default=False, help_text="在手机上操作任务的岗位。")

    class Meta:
        verbose_name = "岗位"
        verbose_name_plural = "岗位"
        ordering = ["id"]

    def __str__(self) -> str:
        return self.name


class Person(models.Model):
    """A natural person, identified by the resident ID number (GB 11643-1999).

    The number is encrypted at rest and found by its blind index (``server.privacy.fields``):
    ``Person.objects.filter(id_number=n)`` compares ``id_index``, which is unique, so that staff can be
    looked up and the one-person-one-agency rule checked across agencies. Every output masks it
    (``identifiers.mask_resident_id``).
    """

    class Gender(models.TextChoices):
        MALE = "male", "男"
        FEMALE = "female", "女"

    id = models.BigAutoField("编号", primary_key=True, auto_created=True)
    id_number = EncryptedCharField(
        "身份证号", purpose="registry.Person.id_number", index_field="id_index", plain_max_length=18
    )
    id_index = BlindIndexField("身份证号索引", source="id_number", unique=True)
    name = models.CharField("姓名", max_length=50)
    gender = models.CharField("性别", max_length=8, choices=Gender.choices)
    birth_date = models.DateField("出生日期")
    phone = models.CharField("手机号", max_length=30, blank=True)

    class Meta:
        verbose_name = "人员"
        verbose_name_plural = "人员"
        ordering = ["name", "id"]

    def __str__(self) -> str:
        return self.name


class Employment(models.Model):
    """A person's staff record at one agency (技术人员). One person is active in at most one agency."""

    class Status(models.TextChoices):
        ACTIVE = "active", "在职"
        DEPARTED = "departed", "离职"
        NON_TECHNICAL = "non_technical", "转非技术人员"

    class Education(models.TextChoices):
        DOCTORATE = "doctorate", "博士研究生"
        POSTGRADUATE = "postgraduate", "硕士研究生"
        BACHELOR = "bachelor", "本科"
        COLLEGE = "college", "大专"
        SECONDARY = "secondary", "中专及以下"

    class Title(models.TextChoices):
        # Seed 004 (Zhejiang title review): 初级 / 中级 / 副高级 / 正高级.
        NONE = "none", "无"
        JUNIOR = "junior", "初级"
        INTERMEDIATE = "intermediate", "中级"
        SENIOR = "senior", "副高级"
        PROFESSOR = "professor", "正高级"

    class Relation(models.TextChoices):
        EMPLOYEE = "employee", "正式员工"
        DISPATCHED = "dispatched", "劳务派遣"
        REHIRED = "rehired", "退休返聘"

    id = models.BigAutoField("编号", primary_key=True, auto_created=True)
    person = models.ForeignKey(
        Person, on_delete=models.PROTECT, related_name="employments", verbose_name="人员"
    )
    agency = models.ForeignKey(
        Agency, on_delete=models.PROTECT, related_name="employments", verbose_name="机构"
    )
    status = models.CharField("人员状态", max_length=16, choices=Status.choices, default=Status.ACTIVE)
    education = models.CharField("学历", max_length=16, choices=Education.choices)
    major = models.CharField("所学专业", max_length=100, blank=True)
    title = models.CharField("职称", max_length=16, choices=Title.choices, default=Title.NONE)
    position = models.CharField("职务", max_length=50, blank=True)
    relation = models.CharField(
        "劳动关系", max_length=16, choices=Relation.choices, default=Relation.EMPLOYEE
    )
    posts = models.ManyToManyField(Post, related_name="employments", blank=True, verbose_name="岗位")
    hired_on = models.DateField("入职时间")
    departed_on = models.DateField("离职时间", null=True, blank=True)
    created_at = models.DateTimeField("创建时间", auto_now_add=True)

    class Meta:
        verbose_name = "技术人员"
        verbose_name_plural = "技术人员"
        ordering = ["agency_id", "person__name", "id"]
        constraints = [
            # One person, one agency (seed 001 一人一机构): the database refuses a second active record.
            models.UniqueConstraint(
                fields=["person"], condition=Q(status="active"), name="employment_one_active_per_person"
            ),
            models.CheckConstraint(
                condition=Q(status="active") | Q(departed_on__isnull=False) | Q(status="non_technical"),
                name="employment_departed_has_date",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.person.name} @ {self.agency.name}"


class TransferFiling(models.Model):
    """重复人员报备 (seed 001 §3.1.1.2): a new agency asks to take on a person still active at another
    agency, with the departure date and the signed departure proof. Nothing changes until the old
    agency's main account or a regulator of its region confirms; confirmation ends the old record and
    starts the new one (issue F9 item 6: a filing alone once ended the other agency's record).

    ``hire`` keeps the new staff record as the requester gave it (``services.staff_hire``'s
    arguments, dates as ISO text), to be created on confirmation. The status moves only through
    ``server.registry.transfers.TRANSFER``."""

    class Status(models.TextChoices):
        PENDING = "pending", "待确认"
        CONFIRMED = "confirmed", "已确认"
        REFUSED = "refused", "已拒绝"

    id = models.BigAutoField("编号", primary_key=True, auto_created=True)
    person = models.ForeignKey(
        Person, on_delete=models.PROTECT, related_name="transfer_filings", verbose_name="人员"
    )
    from_agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="+", verbose_name="原机构")
    to_agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="+", verbose_name="新机构")
    departed_on = models.DateField("原单位离职时间")
    proof = models.FileField("离职证明", upload_to="transfer-proofs/", max_length=300)
    proof_name = models.CharField("离职证明文件名", max_length=200, blank=True)
    hire = models.JSONField("新单位入职信息", default=dict, blank=True)
    status = models.CharField(
        "状态", max_length=16, choices=Status.choices, default=Status.PENDING, editable=False
    )
    decision_reason = models.TextField("拒绝原因", blank=True, editable=False)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name="确认人",
    )
    decided_at = models.DateTimeField("确认时间", null=True, blank=True)
    new_employment = models.ForeignKey(
        "Employment",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name="新单位任职记录",
    )
    filed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name="报备人",
    )
    filed_at = models.DateTimeField("报备时间")

    class Meta:
        verbose_name = "重复人员报备"
        verbose_name_plural = "重复人员报备"
        ordering = ["-filed_at", "id"]
        constraints = [
            # One open request per person and requesting agency: a retried upload is refused, not doubled.
            models.UniqueConstraint(
                fields=["person", "to_agency"],
                condition=Q(status="pending"),
                name="transfer_filing_one_pending",
            ),
            models.CheckConstraint(
                condition=Q(status__in=["pending", "confirmed", "refused"]),
                name="transfer_filing_status_known",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.person.name}: {self.from_agency.name} → {self.to_agency.name}"


class TransferFilingEvent(models.Model):
    """One row per decision on a transfer filing: who confirmed or refused it, when, and why."""

    id = models.BigAutoField("编号", primary_key=True, auto_created=True)
    filing = models.ForeignKey(
        TransferFiling, on_delete=models.CASCADE, related_name="events", verbose_name="重复人员报备"
    )
    from_status = models.CharField("原状态", max_length=16, choices=TransferFiling.Status.choices)
    to_status = models.CharField("新状态", max_length=16, choices=TransferFiling.Status.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name="操作人",
    )
    reason = models.TextField("原因", blank=True)
    at = models.DateTimeField("时间")

    class Meta:
        verbose_name = "重复人员报备记录"
        verbose_name_plural = "重复人员报备记录"
        ordering = ["at", "id"]


class Certificate(models.Model):
    """A competency certificate (能力确认证书) for a post category; it follows the person."""

    id = models.BigAutoField("编号", primary_key=True, auto_created=True)
    person = models.ForeignKey(
        Person, on_delete=models.CASCADE, related_name="certificates", verbose_name="持证人员"
    )
    post = models.ForeignKey(
        Post, on_delete=models.PROTECT, related_name="certificates", verbose_name="岗位类别"
    )
    number = models.CharField("证书编号", max_length=64)
    issuer = models.CharField("发证单位", max_length=100, blank=True)
    valid_from = models.DateField("有效期起")
    valid_until = models.DateField("有效期至")

    class Meta:
        verbose_name = "能力证书"
        verbose_name_plural = "能力证书"
        ordering = ["person_id", "post_id", "-valid_until"]
        constraints = [
            models.UniqueConstraint(fields=["post", "number"], name="certificate_number_unique_per_post"),
            models.CheckConstraint(
                condition=Q(valid_until__gte=models.F("valid_from")), name="certificate_period"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.post.name} {self.number}"


class Enterprise(models.Model):
    """A polluting enterprise (排污企业), client of monitoring and O&M contracts."""

    id = models.BigAutoField("编号", primary_key=True, auto_created=True)
    credit_code = models.CharField("统一社会信用代码", max_length=18, unique=True)
    name = models.CharField("企业名称", max_length=200)
    address = models.CharField("地址", max_length=300)
    # Jurisdiction follows this code (issue F9.5): it is set when the enterprise is registered and
    # changes only when a regulator of its region approves the enterprise's request, kept meanwhile in
    # ``pending_region_code`` (services.enterprise_region_request / enterprise_region_decide).
    region_code = models.CharField("所在行政区划", max_length=6, help_text=REGION_CODE_HELP)
    pending_region_code = models.CharField(
        "申请变更的行政区划", max_length=6, blank=True, editable=False, help_text="待监管方审核的变更。"
    )
    contact_name = models.CharField("联系人", max_length=50, blank=True)
    contact_phone = models.CharField("联系电话", max_length=30, blank=True)
    created_at = models.DateTimeField("创建时间", auto_now_add=True)

    class Meta:
        verbose_name = "排污企业"
        verbose_name_plural = "排污企业"
        ordering = ["name", "id"]
        indexes = [models.Index(fields=["region_code"], name="enterprise_region_idx")]

    def __str__(self) -> str:
        return self.name


class OutletKind(models.TextChoices):
    WASTEWATER = "wastewater", "废水"
    WASTE_GAS = "waste_gas", "废气"


class Outlet(models.Model):
    """An outlet or monitoring point (排口 / 点位) with its geofence.

    ``location`` is WGS-84; what the client sent (numbers and coordinate system) is kept for audit.
    """

    id = models.BigAutoField("编号", primary_key=True, auto_created=True)
    enterprise = models.ForeignKey(
        Enterprise, on_delete=models.PROTECT, related_name="outlets", verbose_name="排污企业"
    )
    kind = models.CharField("类型", max_length=16, choices=OutletKind.choices)
    name = models.CharField("名称", max_length=100)
    code = models.CharField("排口编号", max_length=50, blank=True)
    location = models.PointField("位置 (WGS-84)", srid=4326)
    given_longitude = models.FloatField("录入经度")
    given_latitude = models.FloatField("录入纬度")
    given_system = models.CharField("录入坐标系", max_length=8, choices=CoordinateSystem.choices())
    geofence_radius_m = models.PositiveIntegerField("电子围栏半径（米）", default=200)
    photo_thresholds = models.JSONField(
        "照片规则阈值覆盖",
        default=dict,
        blank=True,
        help_text="Overrides of media_rules.rules.Thresholds for photos at this site, "
        'e.g. {"geofence_m": 500}.',
    )

    class Meta:
        verbose_name = "排口/点位"
        verbose_name_plural = "排口/点位"
        ordering = ["enterprise_id", "name", "id"]
        constraints = [
            models.UniqueConstraint(fields=["enterprise", "name"], name="outlet_name_unique_per_enterprise"),
            models.CheckConstraint(
                condition=Q(geofence_radius_m__gte=10) & Q(geofence_radius_m__lte=5000),
                name="outlet_geofence_range",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.enterprise.name} {self.name}"


class Analyte(models.TextChoices):
    COD = "cod", "化学需氧量 (COD)"
    NH3N = "nh3n", "氨氮 (NH3-N)"
    TOC = "toc", "总有机碳 (TOC)"
    TP = "tp", "总磷 (TP)"
    TN = "tn", "总氮 (TN)"
    PH = "ph", "pH"
    WATER_FLOW = "water_flow", "流量（废水）"
    SO2 = "so2", "二氧化硫 (SO2)"
    NOX = "nox", "氮氧化物 (NOx)"
    O2 = "o2", "氧气 (O2)"
    PARTICULATES = "particulates", "颗粒物"
    GAS_FLOW = "gas_flow", "流速/流量（废气）"
    NMHC = "nmhc", "非甲烷总烃 (NMHC)"


WATER_ANALYTES = {
    Analyte.COD,
    Analyte.NH3N,
    Analyte.TOC,
    Analyte.TP,
    Analyte.TN,
    Analyte.PH,
    Analyte.WATER_FLOW,
}
GAS_ANALYTES = {Analyte.SO2, Analyte.NOX, Analyte.O2, Analyte.PARTICULATES, Analyte.GAS_FLOW, Analyte.NMHC}


class Instrument(models.Model):
    """An automatic monitoring instrument (自动监控设备) installed at an outlet."""

    class Kind(models.TextChoices):
        WATER_ANALYZER = "water_analyzer", "水质在线分析仪"
        FLOW_METER = "flow_meter", "流量计"
        CEMS = "cems", "烟气排放连续监测系统 (CEMS)"
        NMHC_ANALYZER = "nmhc_analyzer", "非甲烷总烃在线监测仪"
        SAMPLER = "sampler", "自动采样器"

    id = models.BigAutoField("编号", primary_key=True, auto_created=True)
    outlet = models.ForeignKey(
        Outlet, on_delete=models.PROTECT, related_name="instruments", verbose_name="排口/点位"
    )
    kind = models.CharField("设备类型", max_length=16, choices=Kind.choices)
    analytes = models.JSONField("监测因子", default=list)
    maker = models.CharField("生产厂家", max_length=100)
    model = models.CharField("规格型号", max_length=100)
    serial_number = models.CharField("出厂编号", max_length=100)
    range_low = models.DecimalField("量程下限", max_digits=12, decimal_places=4, null=True, blank=True)
    range_high = models.DecimalField("量程上限", max_digits=12, decimal_places=4, null=True, blank=True)
    unit = models.CharField("计量单位", max_length=20, blank=True)

    class Meta:
        verbose_name = "自动监控设备"
        verbose_name_plural = "自动监控设备"
        ordering = ["outlet_id", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["maker", "serial_number"], name="instrument_serial_unique_per_maker"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.model} ({self.serial_number})"

    @property
    def display_name(self) -> str:
        """设备名称 as forms and phones show it: 水质在线分析仪（氨氮 (NH3-N)）."""
        names = "、".join(_analyte_label(a) for a in self.analytes or [])
        kind = str(self.get_kind_display())
        return f"{kind}（{names}）" if names else kind


def _analyte_label(code: str) -> str:
    try:
        return str(Analyte(code).label)
    except ValueError:
        return code


class Contract(models.Model):
    """A service contract between an agency and an enterprise (合同)."""

    class Nature(models.TextChoices):
        MONITORING = "monitoring", "监测"
        OM = "om", "运维"

    class Status(models.TextChoices):
        ACTIVE = "active", "履行中"
        ENDED = "ended", "已到期"
        TERMINATED = "terminated", "已终止"

    class Acceptance(models.TextChoices):
        """An agency proposes; the enterprise or a regulator of its region accepts or refuses. Only an
        accepted contract gives the agency any right over the enterprise (issue F9.2)."""

        PROPOSED = "proposed", "待企业确认"
        ACCEPTED = "accepted", "已确认"
        REFUSED = "refused", "已拒绝"

    id = models.BigAutoField("编号", primary_key=True, auto_created=True)
    agency = models.ForeignKey(
        Agency, on_delete=models.PROTECT, related_name="contracts", verbose_name="机构"
    )
    enterprise = models.ForeignKey(
        Enterprise, on_delete=models.PROTECT, related_name="contracts", verbose_name="排污企业"
    )
    nature = models.CharField("合同性质", max_length=16, choices=Nature.choices)
    number = models.CharField("合同编号", max_length=64)
    title = models.CharField("合同标题", max_length=200)
    amount = models.DecimalField("合同金额（元）", max_digits=14, decimal_places=2)
    starts_on = models.DateField("履行开始")
    ends_on = models.DateField("履行结束")
    status = models.CharField("状态", max_length=16, choices=Status.choices, default=Status.ACTIVE)
    acceptance = models.CharField(
        "确认状态", max_length=16, choices=Acceptance.choices, default=Acceptance.PROPOSED, editable=False
    )
    refusal_reason = models.TextField("拒绝原因", blank=True, editable=False)
    created_at = models.DateTimeField("创建时间", auto_now_add=True)

    class Meta:
        verbose_name = "合同"
        verbose_name_plural = "合同"
        ordering = ["-starts_on", "id"]
        constraints = [
            models.UniqueConstraint(fields=["agency", "number"], name="contract_number_unique_per_agency"),
            models.CheckConstraint(
                condition=Q(acceptance__in=["proposed", "accepted", "refused"]),
                name="contract_acceptance_known",
            ),
            models.CheckConstraint(condition=Q(ends_on__gte=models.F("starts_on")), name="contract_period"),
            models.CheckConstraint(condition=Q(amount__gte=0), name="contract_amount_not_negative"),
        ]

    def __str__(self) -> str:
        return self.title


class ContractAcceptanceEvent(models.Model):
    """One row per acceptance move of a contract (proposed, accepted, refused): who agreed, and when."""

    id = models.BigAutoField("编号", primary_key=True, auto_created=True)
    contract = models.ForeignKey(
        Contract, on_delete=models.CASCADE, related_name="acceptance_events", verbose_name="合同"
    )
    from_status = models.CharField("原状态", max_length=16, choices=Contract.Acceptance.choices)
    to_status = models.CharField("新状态", max_length=16, choices=Contract.Acceptance.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name="操作人",
    )
    reason = models.TextField("原因", blank=True)
    at = models.DateTimeField("时间")

    class Meta:
        verbose_name = "合同确认记录"
        verbose_name_plural = "合同确认记录"
        ordering = ["at", "id"]


# --- The filing dossier (seed 001 基本信息/技术能力/设施设备/管理能力; seed 002 机构信息 附件) ----------


class StoredFile(models.Model):
    """A file kept through the default storage, content-addressed like ProjectAttachment: never served
    from a public URL, only through a view that checks the reader's scope (server/registry/dossier.py)."""

    file = models.FileField("文件", max_length=300, blank=True)
    file_name = models.CharField("原文件名", max_length=200, blank=True)
    sha256 = models.CharField("文件摘要（SHA-256）", max_length=64, blank=True)
    size = models.PositiveBigIntegerField("文件大小（字节）", default=0)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name="上传人",
    )
    uploaded_at = models.DateTimeField("上传时间")

    class Meta:
        abstract = True


class AgencyDocument(StoredFile):
    """One of the filing's documents: 营业执照, 质量手册 (seed 001 §3.1.1.5 / §3.1.2.5), 承诺书 …"""

    class Kind(models.TextChoices):
        BUSINESS_LICENCE = "business_licence", "营业执照"
        QUALITY_MANUAL = "quality_manual", "质量手册"
        COMMITMENT = "commitment", "承诺书"
        OTHER = "other", "其他材料"

    id = models.BigAutoField("编号", primary_key=True, auto_created=True)
    agency = models.ForeignKey(
        Agency, on_delete=models.CASCADE, related_name="documents", verbose_name="机构"
    )
    kind = models.CharField("材料类型", max_length=24, choices=Kind.choices)
    note = models.CharField("说明", max_length=200, blank=True)

    class Meta:
        verbose_name = "备案材料"
        verbose_name_plural = "备案材料"
        ordering = ["agency_id", "kind", "uploaded_at", "id"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.file_name}"


class AgencyQualification(StoredFile):
    """A qualification certificate of the agency (资质证书), one row per certificate: CMA with its number,
    scope and the date first granted (seed 001 §3.1.1.3), CNAS, O&M capability certificates
    (§3.1.2.3), management-system certificates (§3.1.2.5) and other accreditations."""

    class Kind(models.TextChoices):
        CMA = "cma", "资质认定证书（CMA）"
        CNAS = "cnas", "实验室认可证书（CNAS）"
        OM_CAPABILITY = "om_capability", "运维能力证书"
        MANAGEMENT_SYSTEM = "management_system", "管理体系认证证书"
        OTHER = "other", "其他认证认可资质"

    id = models.BigAutoField("编号", primary_key=True, auto_created=True)
    agency = models.ForeignKey(
        Agency, on_delete=models.CASCADE, related_name="qualifications", verbose_name="机构"
    )
    kind = models.CharField("证书类型", max_length=24, choices=Kind.choices)
    number = models.CharField("证书编号", max_length=64)
    scope = models.TextField("能力范围", blank=True)
    issuer = models.CharField("发证单位", max_length=100, blank=True)
    first_granted_on = models.DateField("首次获得时间", null=True, blank=True)
    valid_until = models.DateField("有效期至", null=True, blank=True)

    class Meta:
        verbose_name = "资质证书"
        verbose_name_plural = "资质证书"
        ordering = ["agency_id", "kind", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["agency", "kind", "number"], name="qualification_number_once_per_agency"
            ),
            models.CheckConstraint(
                condition=Q(valid_until__isnull=True)
                | Q(first_granted_on__isnull=True)
                | Q(valid_until__gte=models.F("first_granted_on")),
                name="qualification_period",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.number}"


class AgencySite(models.Model):
    """A branch site (分支机构/分场所, seed 001 §3.1.1.1: 省份、城市、详细地址、面积)."""

    id = models.BigAutoField("编号", primary_key=True, auto_created=True)
    agency = models.ForeignKey(Agency, on_delete=models.CASCADE, related_name="sites", verbose_name="机构")
    name = models.CharField("场所名称", max_length=200)
    address = models.CharField("详细地址", max_length=300)
    region_code = models.CharField("所在行政区划", max_length=6, help_text=REGION_CODE_HELP)
    area_m2 = models.DecimalField("面积（平方米）", max_digits=10, decimal_places=2, null=True, blank=True)

    class Meta:
        verbose_name = "分支场所"
        verbose_name_plural = "分支场所"
        ordering = ["agency_id", "id"]

    def __str__(self) -> str:
        return self.name


class AgencyFacility(models.Model):
    """The agency's own equipment or facility (设施设备, seed 001 §3.1.1.4: 设备名称、型号/规格 …; a
    facility such as a laboratory is given by its area)."""

    id = models.BigAutoField("编号", primary_key=True, auto_created=True)
    agency = models.ForeignKey(
        Agency, on_delete=models.CASCADE, related_name="facilities", verbose_name="机构"
    )
    name = models.CharField("设备或设施名称", max_length=200)
    model = models.CharField("型号/规格", max_length=100, blank=True)
    quantity = models.PositiveIntegerField("数量（台/套）", null=True, blank=True)
    area_m2 = models.DecimalField("面积（平方米）", max_digits=10, decimal_places=2, null=True, blank=True)

    class Meta:
        verbose_name = "设施设备"
        verbose_name_plural = "设施设备"
        ordering = ["agency_id", "id"]

    def __str__(self) -> str:
        return self.name


class PersonDocument(StoredFile):
    """A file attached to a person (证书扫描件, 学历证书, 职称证书 …, seed 001 图 3-3). Sensitive personal
    information: seen by the agency currently employing the person and the regulators of its region,
    never by another agency (server/registry/dossier.py person_documents_for)."""

    class Kind(models.TextChoices):
        CERTIFICATE_SCAN = "certificate_scan", "证书扫描件"
        DIPLOMA = "diploma", "学历证书"
        DEGREE = "degree", "学位证书"
        TITLE = "title", "职称证书"
        TRAINING = "training", "培训证书"
        OTHER = "other", "其他"

    id = models.BigAutoField("编号", primary_key=True, auto_created=True)
    person = models.ForeignKey(
        Person, on_delete=models.CASCADE, related_name="documents", verbose_name="人员"
    )
    agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="+", verbose_name="上传机构")
    kind = models.CharField("材料类型", max_length=24, choices=Kind.choices)
    note = models.CharField("备注", max_length=200, blank=True)

    class Meta:
        verbose_name = "人员材料"
        verbose_name_plural = "人员材料"
        ordering = ["person_id", "kind", "uploaded_at", "id"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.file_name}"
