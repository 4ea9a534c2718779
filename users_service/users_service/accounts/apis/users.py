"""``users/``: the caller's own account, and the staff's view of every account."""

from django.contrib.auth.password_validation import password_validators_help_texts
from drf_spectacular.utils import OpenApiParameter, extend_schema
from drf_standardized_errors.openapi_validation_errors import extend_validation_errors
from rest_framework import permissions, serializers, status
from rest_framework.exceptions import NotFound
from rest_framework.filters import BaseFilterBackend
from rest_framework.generics import GenericAPIView
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from common.json_fields import JsonBooleanField
from users_service.accounts import selectors, services
from users_service.accounts.authentication import AuthenticatedRequest
from users_service.accounts.models import User


class UserOutputSerializer(serializers.ModelSerializer[User]):
    roles = serializers.SerializerMethodField()

    class Meta:
        model = User
        fields = [
            "id",
            "username",
            "email",
            "first_name",
            "last_name",
            "is_active",
            "is_staff",
            "is_superuser",
            "roles",
            "date_joined",
            "last_login",
        ]
        read_only_fields = fields

    def get_roles(self, user: User) -> list[str]:
        return sorted(group.name for group in user.groups.all())


class ProfileInputSerializer(serializers.Serializer[None]):
    email = serializers.EmailField(max_length=254, required=False)
    first_name = serializers.CharField(max_length=150, required=False, allow_blank=True)
    last_name = serializers.CharField(max_length=150, required=False, allow_blank=True)


class MeApi(APIView):
    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(operation_id="users_me_retrieve", responses={200: UserOutputSerializer})
    def get(self, request: AuthenticatedRequest) -> Response:
        user = selectors.user_get(user_id=request.user.id)
        return Response(UserOutputSerializer(user).data)

    @extend_schema(
        operation_id="users_me_update", request=ProfileInputSerializer, responses={200: UserOutputSerializer}
    )
    def patch(self, request: AuthenticatedRequest) -> Response:
        serializer = ProfileInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.user_profile_update(user=request.user, **serializer.validated_data)
        return Response(UserOutputSerializer(selectors.user_get(user_id=request.user.id)).data)


class PasswordChangeApi(APIView):
    permission_classes = [permissions.IsAuthenticated]

    class PasswordChangeInputSerializer(serializers.Serializer[None]):
        old_password = serializers.CharField(max_length=128, trim_whitespace=False)
        new_password = serializers.CharField(
            max_length=128, trim_whitespace=False, help_text=" ".join(password_validators_help_texts())
        )

    @extend_schema(operation_id="users_me_password", request=PasswordChangeInputSerializer, responses={204: None})
    def post(self, request: AuthenticatedRequest) -> Response:
        serializer = self.PasswordChangeInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.user_password_change(user=request.user, **serializer.validated_data)
        return Response(status=status.HTTP_204_NO_CONTENT)


# A text filter as the FilterSerializer takes it: at most 150 characters, no NUL (DRF refuses those with a 400).
TEXT_FILTER = {"type": "string", "maxLength": 150, "pattern": "^[^\\u0000]*$"}


class BooleanFilterField(serializers.BooleanField):
    """Not given (or empty): no filter. "null" is no boolean, as the schema says: a 400 like any other."""

    NULL_VALUES: set[str | None] = set()


@extend_validation_errors(["invalid"], field_name="is_active", methods=["get"])
@extend_validation_errors(["invalid"], field_name="is_staff", methods=["get"])
@extend_validation_errors(["max_length", "null_characters_not_allowed"], field_name="search", methods=["get"])
@extend_validation_errors(["max_length", "null_characters_not_allowed"], field_name="role", methods=["get"])
class UserListApi(GenericAPIView[User]):
    permission_classes = [permissions.IsAdminUser]
    serializer_class = UserOutputSerializer
    filter_backends: list[type[BaseFilterBackend]] = []  # the filters are the explicit query parameters below

    class FilterSerializer(serializers.Serializer[None]):
        search = serializers.CharField(max_length=150, required=False, allow_blank=True)
        is_active = BooleanFilterField(required=False, allow_null=True, default=None)
        is_staff = BooleanFilterField(required=False, allow_null=True, default=None)
        role = serializers.CharField(max_length=150, required=False, allow_blank=True)

    @extend_schema(
        operation_id="users_list",
        parameters=[
            OpenApiParameter("search", TEXT_FILTER, description="Part of the username or email."),
            OpenApiParameter("is_active", bool),
            OpenApiParameter("is_staff", bool),
            OpenApiParameter("role", TEXT_FILTER, description="A role (group) name."),
        ],
        responses={200: UserOutputSerializer(many=True)},
    )
    def get(self, request: Request) -> Response:
        filters = self.FilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        users = selectors.user_list(**filters.validated_data)
        page = self.paginate_queryset(users)
        return self.get_paginated_response(UserOutputSerializer(page, many=True).data)


@extend_validation_errors(["invalid"], field_name="roles", methods=["patch"])  # an unknown role
class UserDetailApi(APIView):
    permission_classes = [permissions.IsAdminUser]

    class UserUpdateInputSerializer(ProfileInputSerializer):
        is_active = JsonBooleanField(
            required=False, help_text="false locks the account out of every service within seconds."
        )
        roles = serializers.ListField(
            child=serializers.CharField(max_length=150), required=False, max_length=20, help_text="Replaces the roles."
        )

    def _user(self, user_id: int) -> User:
        user = selectors.user_get(user_id=user_id)
        if user is None:
            raise NotFound("No such user.")
        return user

    @extend_schema(operation_id="users_retrieve", responses={200: UserOutputSerializer})
    def get(self, request: Request, user_id: int) -> Response:
        return Response(UserOutputSerializer(self._user(user_id)).data)

    @extend_schema(
        operation_id="users_update", request=UserUpdateInputSerializer, responses={200: UserOutputSerializer}
    )
    def patch(self, request: AuthenticatedRequest, user_id: int) -> Response:
        user = self._user(user_id)
        serializer = self.UserUpdateInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.user_update_by_staff(user=user, actor=request.user, **serializer.validated_data)
        return Response(UserOutputSerializer(self._user(user_id)).data)
