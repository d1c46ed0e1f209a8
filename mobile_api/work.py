"""O&M tasks (运维任务): what field staff are assigned to. Monitoring projects: mobile_api/projects.py."""

from __future__ import annotations

from django.db.models import Prefetch
from django_filters import rest_framework as filters
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from mobile_api.common import FilterSet, IdFilter, parse
from server import access
from server.fields import DayField, IdField
from server.om import services as om_services
from server.om.models import OmPlan, OmTask, OmTaskStaff
from server.registry.models import Outlet

# --- O&M tasks ------------------------------------------------------------------------------------


class PlanOut(serializers.ModelSerializer):
    class Meta:
        model = OmPlan
        fields = [
            "id",
            "title",
            "frequency",
            "interval_days",
            "window_start",
            "window_end",
            "outlet",
            "template_codes",
        ]


class TaskStaffOut(serializers.ModelSerializer):
    employment = serializers.IntegerField(source="employment_id")
    name = serializers.CharField(source="employment.person.name")

    class Meta:
        model = OmTaskStaff
        fields = ["employment", "name", "role"]


class OmTaskOut(serializers.ModelSerializer):
    agency_name = serializers.CharField(source="agency.name", read_only=True)
    enterprise = serializers.IntegerField(source="contract.enterprise_id", read_only=True)
    points = serializers.PrimaryKeyRelatedField(many=True, read_only=True)
    instruments = serializers.PrimaryKeyRelatedField(many=True, read_only=True)
    staff = TaskStaffOut(many=True, read_only=True)
    plans = PlanOut(many=True, read_only=True)

    class Meta:
        model = OmTask
        fields = [
            "id",
            "agency",
            "agency_name",
            "contract",
            "enterprise",
            "number",
            "name",
            "kind",
            "starts_on",
            "ends_on",
            "status",
            "points",
            "instruments",
            "staff",
            "plans",
        ]


class PlanIn(serializers.Serializer):
    title = serializers.CharField(max_length=200)
    frequency = serializers.ChoiceField(choices=OmPlan.Frequency.choices)
    interval_days = serializers.IntegerField(required=False, allow_null=True, min_value=1, default=None)
    window_start = DayField()
    window_end = DayField()
    outlet = IdField(required=False, allow_null=True, default=None)
    template_codes = serializers.ListField(
        child=serializers.SlugField(max_length=64),
        min_length=1,
        max_length=30,
        help_text="运维内容：完成此计划的表单编码，一个或多个（GET /om/templates）。",
    )


class StaffRoleIn(serializers.Serializer):
    employment = IdField()
    role = serializers.ChoiceField(choices=OmTaskStaff.Role.choices)


class OmTaskIn(serializers.Serializer):
    contract = serializers.IntegerField()
    number = serializers.CharField(max_length=64)
    name = serializers.CharField(max_length=200)
    kind = serializers.ChoiceField(choices=OmTask._meta.get_field("kind").choices)
    starts_on = DayField()
    ends_on = DayField()
    points = serializers.ListField(child=serializers.IntegerField(), min_length=1, max_length=200)
    instruments = serializers.ListField(child=serializers.IntegerField(), required=False, default=list)
    staff = StaffRoleIn(many=True, required=False, default=list)
    plans = PlanIn(many=True, required=False, default=list)


class OmTaskFilter(FilterSet):
    name = filters.CharFilter(lookup_expr="icontains")
    enterprise = IdFilter(field_name="contract__enterprise_id")
    # The task's period (任务开始/结束日期) overlaps [since, until].
    since = filters.DateFilter(field_name="ends_on", lookup_expr="gte", help_text="Running on or after.")
    until = filters.DateFilter(field_name="starts_on", lookup_expr="lte", help_text="Running on or before.")

    class Meta:
        model = OmTask
        fields = ["status", "kind", "contract", "number", "agency", "enterprise", "since", "until"]


class OmTaskViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    queryset = OmTask.objects.none()  # for the schema; requests use get_queryset
    serializer_class = OmTaskOut
    filterset_class = OmTaskFilter

    def get_queryset(self):
        return (
            access.om_tasks_for(self.request.user)
            .select_related("agency", "contract")
            .prefetch_related(
                "points",
                "instruments",
                Prefetch(
                    "staff", queryset=OmTaskStaff.objects.select_related("employment__person").order_by("id")
                ),
                Prefetch("plans", queryset=OmPlan.objects.order_by("window_start", "id")),
            )
            .order_by("-starts_on", "id")
        )

    def get_object(self):
        return access.get_visible(self.get_queryset(), self.kwargs["pk"])

    def _render(self, task: OmTask, code: int = status.HTTP_200_OK) -> Response:
        return Response(OmTaskOut(access.get_visible(self.get_queryset(), task.pk)).data, status=code)

    def _plan_args(self, plan: dict, visible_outlets) -> dict:
        outlet_id = plan.pop("outlet")
        plan["outlet"] = access.get_visible(visible_outlets, outlet_id) if outlet_id else None
        return plan

    @extend_schema(request=OmTaskIn, responses={201: OmTaskOut})
    def create(self, request: Request) -> Response:
        agency = access.require_agency_admin(request.user)
        data = parse(OmTaskIn, request.data)
        user = request.user
        outlets = access.outlets_for(user)
        task = om_services.om_task_create(
            agency=agency,
            contract=access.access_contract(user, data["contract"], field="contract"),
            number=data["number"],
            name=data["name"],
            kind=data["kind"],
            starts_on=data["starts_on"],
            ends_on=data["ends_on"],
            points=[access.get_visible(outlets, pk, field="points") for pk in dict.fromkeys(data["points"])],
            instruments=[
                access.access_instrument(user, pk, field="instruments")
                for pk in dict.fromkeys(data["instruments"])
            ],
            staff=[
                (access.access_employment(user, s["employment"], field="staff"), s["role"])
                for s in data["staff"]
            ],
            plans=[
                self._plan_args(plan, Outlet.objects.filter(pk__in=data["points"])) for plan in data["plans"]
            ],
        )
        return self._render(task, status.HTTP_201_CREATED)

    @extend_schema(request=PlanIn, responses={201: OmTaskOut})
    @action(detail=True, methods=["post"])
    def plans(self, request: Request, pk=None) -> Response:
        task = self.get_object()
        access.require_agency_admin(request.user, task.agency)
        plan = self._plan_args(dict(parse(PlanIn, request.data)), task.points.all())
        om_services.om_plan_add(task=task, **plan)
        return self._render(task, status.HTTP_201_CREATED)

    @extend_schema(request=StaffRoleIn, responses={201: OmTaskOut})
    @action(detail=True, methods=["post"])
    def staff(self, request: Request, pk=None) -> Response:
        task = self.get_object()
        access.require_agency_admin(request.user, task.agency)
        data = parse(StaffRoleIn, request.data)
        employment = access.access_employment(request.user, data["employment"], field="employment")
        om_services.om_task_add_staff(task=task, employment=employment, role=data["role"])
        return self._render(task, status.HTTP_201_CREATED)
