"""The read API of responses: published ones for everyone; every state, never the memo,
for holders of ``opinions.view_draft_response`` (as unpublished remarks are for staff)."""

from django.db.models import Prefetch
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import serializers, viewsets

from ..api import ErrorSerializer, OpinionPagination
from ..models import Opinion
from .models import Response, ResponseReference


class ReferenceSerializer(serializers.ModelSerializer):
    document = serializers.CharField(source="document.title")

    class Meta:
        model = ResponseReference
        fields = ["document", "section", "page", "url"]


class ResponseSerializer(serializers.ModelSerializer):
    category = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    category_name = serializers.CharField(source="category.name", default="", read_only=True)
    remarks = serializers.SerializerMethodField(help_text=_("この対応が答える意見の ID"))
    references = ReferenceSerializer(many=True, read_only=True)

    class Meta:
        model = Response
        # Never the memo: it is internal even for staff clients of the API.
        fields = [
            "id",
            "category",
            "category_name",
            "reasoning",
            "references",
            "remarks",
            "state",
            "published_at",
            "updated_at",
        ]

    def get_remarks(self, response) -> list[int]:
        return [opinion.pk for opinion in response.visible_remarks]


@extend_schema_view(
    list=extend_schema(
        summary=_("事務局の対応の一覧"),
        description=_("公開された事務局の対応（考え方・対応区分・反映先）を返します。"),
        responses={
            200: ResponseSerializer,
            400: OpenApiResponse(
                OpenApiTypes.OBJECT, description=_("ページの指定が正しくない（項目名ごとの理由）")
            ),
            404: OpenApiResponse(ErrorSerializer, description=_("そのページはない")),
        },
    ),
    retrieve=extend_schema(
        summary=_("事務局の対応"),
        responses={
            200: ResponseSerializer,
            404: OpenApiResponse(ErrorSerializer, description=_("ないか、見る権限がない")),
        },
    ),
)
class ResponseViewSet(viewsets.ReadOnlyModelViewSet):
    """Responses with the remarks they answer (those the client may see), 50 a page."""

    serializer_class = ResponseSerializer
    pagination_class = OpinionPagination

    def get_queryset(self):
        user = self.request.user
        return (
            Response.objects.visible_to(user)
            .select_related("category")
            .prefetch_related(
                Prefetch(
                    "references", queryset=ResponseReference.objects.select_related("document")
                ),
                Prefetch(
                    "remarks",
                    queryset=Opinion.objects.visible_to(user).order_by("pk").only("pk"),
                    to_attr="visible_remarks",
                ),
            )
            .order_by("pk")
        )
