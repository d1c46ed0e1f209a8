"""持证查询 (seed 000; issue 23): certificate holders by person and post category, with export.
``GET /certificates`` (filters in the query), ``POST /certificates/search`` (a whole ID number in
the body: a URL is logged, F9 item 11), ``GET /certificates/export`` (CSV or XLSX of what the list's
filters select). The scope and the rows are ``server.registry.certificate_search``."""

from __future__ import annotations

from django.http import HttpResponse
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from mobile_api.common import Pagination, parse, parse_query
from mobile_api.exports import FORMAT_PARAMETER, TABLE_RESPONSES, FileFormatNegotiation, table_response
from server import access
from server.errors import VALIDATION_FAILED, DomainError
from server.fields import IdField
from server.registry import certificate_search as selectors
from server.registry.identifiers import validate_resident_id
from server.registry.models import Post

ID_IN_QUERY = (
    "身份证号不能放在网址中（网址会被记录），"
    "请用 POST /api/v1/certificates/search 在请求正文中提交 id_number。"
)


class CertificateQuery(serializers.Serializer):
    name = serializers.CharField(
        required=False, default="", allow_blank=True, max_length=50, help_text="姓名包含"
    )
    post = serializers.SlugField(
        required=False, default="", allow_blank=True, help_text="岗位类别代码（GET /posts）"
    )
    state = serializers.ChoiceField(
        choices=selectors.STATES,
        required=False,
        default="",
        allow_blank=True,
        help_text=f"valid 有效, expiring 即将到期（{selectors.EXPIRING_DAYS} 天内）, "
        "expired 已过期, pending 未生效",
    )
    agency = IdField(
        required=False, allow_null=True, default=None, help_text="持证人当前所在机构（监管方、平台）"
    )
    number = serializers.CharField(
        required=False, default="", allow_blank=True, max_length=64, help_text="证书编号包含"
    )


class CertificateExportQuery(CertificateQuery):
    format = serializers.ChoiceField(choices=["xlsx", "csv"], default="xlsx")


class CertificateSearchIn(serializers.Serializer):
    id_number = serializers.CharField(max_length=32, help_text="完整的 18 位身份证号。")


class HolderOut(serializers.Serializer):
    name = serializers.CharField()
    id_number = serializers.CharField(help_text="Masked: 3101**********0012.")


class PostRefOut(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField()


class AgencyNowOut(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    region_code = serializers.CharField()
    region_name = serializers.CharField(help_text="e.g. 上海市徐汇区")


class CertificateHitOut(serializers.Serializer):
    id = serializers.IntegerField(source="certificate.id")
    number = serializers.CharField(source="certificate.number")
    issuer = serializers.CharField(source="certificate.issuer")
    valid_from = serializers.DateField(source="certificate.valid_from")
    valid_until = serializers.DateField(source="certificate.valid_until")
    state = serializers.ChoiceField(choices=selectors.STATES)
    state_label = serializers.SerializerMethodField()
    post = serializers.SerializerMethodField()
    holder = serializers.SerializerMethodField()
    agency = serializers.SerializerMethodField(help_text="The holder's current agency; null when none.")

    def get_state_label(self, row: selectors.Hit) -> str:
        return selectors.STATE_LABELS[row.state]

    @extend_schema_field(PostRefOut)
    def get_post(self, row: selectors.Hit) -> dict:
        return {"code": row.certificate.post.code, "name": row.certificate.post.name}

    @extend_schema_field(HolderOut)
    def get_holder(self, row: selectors.Hit) -> dict:
        return {"name": row.certificate.person.name, "id_number": row.masked_id}

    @extend_schema_field(AgencyNowOut(allow_null=True))
    def get_agency(self, row: selectors.Hit) -> dict | None:
        if row.agency_id is None:
            return None
        return {
            "id": row.agency_id,
            "name": row.agency_name,
            "region_code": row.certificate.agency_now_region or "",
            "region_name": row.agency_region,
        }


def _filters(request: Request, serializer=CertificateQuery) -> dict:
    if "id_number" in request.query_params:
        raise DomainError(VALIDATION_FAILED, details={"id_number": [ID_IN_QUERY]})
    params = dict(parse_query(serializer, request.query_params))
    user = request.user
    access.require_role(user, selectors.SEARCH_ROLES)
    code = params.pop("post")
    params["post"] = None
    if code:
        params["post"] = Post.objects.filter(code=code).first()
        if params["post"] is None:
            raise DomainError(VALIDATION_FAILED, details={"post": [f"没有代码为 {code} 的岗位类别。"]})
    agency_id = params.pop("agency")
    params["agency"] = None
    if agency_id is not None:
        choices = selectors.agencies_to_filter(user)
        if choices is None:
            raise DomainError(
                VALIDATION_FAILED, details={"agency": ["本账号只查询本机构人员的证书，不能按机构筛选。"]}
            )
        params["agency"] = access.get_visible(choices, agency_id, field="agency")
    params.pop("format", None)
    return params


class CertificatePageOut(serializers.Serializer):
    """A page of hits, as every list of the API pages (``count``, ``next``, ``previous``, ``results``);
    written out because the search is a POST, which the schema generator does not page by itself."""

    count = serializers.IntegerField()
    next = serializers.URLField(allow_null=True)
    previous = serializers.URLField(allow_null=True)
    results = CertificateHitOut(many=True)


class _Listing(APIView):
    def _page(self, request: Request, queryset) -> Response:
        paginator = Pagination()
        page = paginator.paginate_queryset(queryset, request, view=self)
        return paginator.get_paginated_response(CertificateHitOut(selectors.hits(page), many=True).data)


class CertificateListView(_Listing):
    """持证查询: regulators their region's agencies' current staff, an agency's main and manager
    accounts their own staff, the platform everyone; ID numbers masked. Two queries a page."""

    @extend_schema(parameters=[CertificateQuery], responses=CertificatePageOut)
    def get(self, request: Request) -> Response:
        return self._page(request, selectors.search(request.user, **_filters(request)))


class CertificateSearchView(_Listing):
    """持证查询 by a whole resident ID number in the body (never in a URL); the list's filters still
    apply from the query string. The number is compared through its blind index and never echoed."""

    @extend_schema(parameters=[CertificateQuery], request=CertificateSearchIn, responses=CertificatePageOut)
    def post(self, request: Request) -> Response:
        filters = _filters(request)
        number = validate_resident_id(parse(CertificateSearchIn, request.data)["id_number"])
        return self._page(request, selectors.search(request.user, id_number=number, **filters))


class CertificateExportView(APIView):
    """证书的导出: what the list's filters select, as XLSX (default) or CSV; ID numbers masked."""

    content_negotiation_class = FileFormatNegotiation

    @extend_schema(parameters=[CertificateQuery, FORMAT_PARAMETER], responses=TABLE_RESPONSES)
    def get(self, request: Request) -> HttpResponse:
        file_format = parse_query(CertificateExportQuery, request.query_params)["format"]
        queryset = selectors.search(request.user, **_filters(request, CertificateExportQuery))
        return table_response(
            file_format,
            title="持证查询",
            headers=selectors.EXPORT_HEADERS,
            rows=selectors.export_rows(queryset),
        )
