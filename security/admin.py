from typing import Any, cast

from django import forms
from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import UserChangeForm, UserCreationForm
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest

from security import services
from security.models import BlockedIP, BlockRule, SecurityEvent, User


class UserCreateForm(UserCreationForm):
    class Meta:
        model = User
        fields = ("email", "name")


class UserEditForm(UserChangeForm):
    class Meta:
        model = User
        fields = "__all__"


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    form = UserEditForm
    add_form = UserCreateForm
    ordering = ("email",)
    list_display = ("email", "name", "is_staff", "is_active", "date_joined", "last_login")
    list_filter = ("is_staff", "is_superuser", "is_active")
    search_fields = ("email", "name")
    readonly_fields = ("date_joined", "last_login")
    fieldsets = (
        (None, {"fields": ("email", "password")}),
        ("Profile", {"fields": ("name",)}),
        ("Permissions", {"fields": ("is_active", "is_staff", "is_superuser", "groups", "user_permissions")}),
        ("Dates", {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = ((None, {"classes": ("wide",), "fields": ("email", "name", "password1", "password2")}),)

    def save_model(self, request: HttpRequest, obj: User, form: Any, change: bool) -> None:
        if not change:
            super().save_model(request, obj, form, change)
            return
        # The token version read with this request is never written back: a logout or reset
        # committed meanwhile would be undone, reviving the tokens it had ended. Deactivating goes
        # through `user_deactivate` (row lock, version moved on from the stored one), so
        # reactivating later does not bring the sessions and tokens back. A password set on the
        # admin's password page ends them through `User.set_password`.
        fields = [f.attname for f in obj._meta.concrete_fields if not f.primary_key and f.attname != "token_version"]
        obj.save(update_fields=fields)
        if "is_active" in form.changed_data and not obj.is_active:
            obj.token_version = services.user_deactivate(user=obj).token_version


class BlockForm(forms.ModelForm):
    """Block an address or a network by hand, under the rules of the staff API."""

    minutes = forms.IntegerField(min_value=1, max_value=60 * 24 * 365, required=False,
                                 help_text="Default: BLOCK_DURATION_MINUTES.")  # fmt: skip

    class Meta:
        model = BlockedIP
        fields = ("ip", "reason")

    def clean_ip(self) -> str:
        try:
            target = services.block_target(self.cleaned_data["ip"])
            services.manual_block_check(target)
        except ValidationError as exc:  # the service's errors are keyed by field
            raise ValidationError(exc.messages) from None
        return target


@admin.register(BlockedIP)
class BlockedIPAdmin(admin.ModelAdmin):
    list_display = ("ip", "rule", "reason", "created_at", "expires_at", "unblocked_at", "created_by_label")
    list_filter = ("rule",)
    search_fields = ("ip", "reason")
    readonly_fields = [f.name for f in BlockedIP._meta.fields]
    actions = ["unblock"]

    # `change` is passed on in kwargs.
    def get_form(self, request: HttpRequest, obj: BlockedIP | None = None, **kwargs: Any) -> type[forms.ModelForm]:  # type: ignore[override]
        if obj is None:
            kwargs["form"] = BlockForm
            kwargs["fields"] = ("ip", "reason", "minutes")
        return super().get_form(request, obj, **kwargs)

    def get_readonly_fields(self, request: HttpRequest, obj: BlockedIP | None = None) -> list[str]:
        return self.readonly_fields if obj is not None else []

    def get_fieldsets(self, request: HttpRequest, obj: BlockedIP | None = None) -> list[Any] | tuple[Any, ...]:
        if obj is None:
            return [(None, {"fields": ("ip", "reason", "minutes")})]
        return super().get_fieldsets(request, obj)

    def save_model(self, request: HttpRequest, obj: BlockedIP, form: forms.ModelForm, change: bool) -> None:
        # Through the service, as the API: the row, the shared block list, the event and the alert.
        block = services.ip_block(
            ip=form.cleaned_data["ip"], rule=BlockRule.MANUAL, reason=form.cleaned_data["reason"],
            minutes=form.cleaned_data.get("minutes"), by=cast(User, request.user), request=request,
        )  # fmt: skip
        block = cast(BlockedIP, block)  # a manual block is made or refused, never skipped
        obj.pk, obj.expires_at = block.pk, block.expires_at

    @admin.display(description="created by")
    def created_by_label(self, obj: BlockedIP) -> str:
        return obj.created_by.email if obj.created_by else obj.created_by_system

    @admin.action(description="Unblock the selected addresses")
    def unblock(self, request: HttpRequest, queryset: QuerySet[BlockedIP]) -> None:
        lifted = sum(
            services.ip_unblock(ip=ip, by=cast(User, request.user)) for ip in set(queryset.values_list("ip", flat=True))
        )
        self.message_user(request, f"Lifted {lifted} block(s).")


@admin.register(SecurityEvent)
class SecurityEventAdmin(admin.ModelAdmin):
    list_display = ("created_at", "kind", "severity", "ip", "user", "identifier", "path", "request_id")
    list_filter = ("kind", "severity")
    search_fields = ("ip", "identifier", "path", "request_id")
    date_hierarchy = "created_at"
    list_select_related = ("user",)
    show_full_result_count = False  # an audit trail grows: no COUNT(*) over all of it per page

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: SecurityEvent | None = None) -> bool:
        return False
