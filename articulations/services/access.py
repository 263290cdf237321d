"""Who may act on an agreement: the capability, held in the scope it needs here (the
agreement's consortium, or its college for approvers)."""

from django.core.exceptions import PermissionDenied

from accounts.models import Role, RoleMembership
from accounts.permissions import Capability, access_for

from ..models import Articulation

MANAGE = Capability.MANAGE_ARTICULATIONS
APPROVE = Capability.APPROVE_ARTICULATIONS


def approver_college_ids(*, user) -> frozenset[int]:
    """Colleges where the user is faculty/dean. Registrars of a college do not approve."""
    if user is None or not user.is_authenticated:
        return frozenset()
    cached = getattr(user, "_sers_approver_college_ids", None)
    if cached is None:
        cached = frozenset(
            RoleMembership.objects.filter(user_id=user.pk, role=Role.COLLEGE_APPROVER).values_list(
                "college_id", flat=True
            )
        )
        user._sers_approver_college_ids = cached
    return cached


def actor_may(*, actor, capability: Capability, articulation: Articulation) -> bool:
    """Whether the actor holds `capability` in the scope that capability needs here."""
    access = access_for(actor)
    if not access.can(capability):
        return False
    if capability == APPROVE:
        return articulation.college_id in approver_college_ids(user=actor)
    if capability in (MANAGE, Capability.MANAGE_TEACHERS):
        return articulation.consortium_id in access.consortium_ids
    return False


def require_manager(actor, consortium_id: int, capability: Capability = MANAGE) -> None:
    """PermissionDenied unless the actor holds `capability` for this consortium."""
    access = access_for(actor)
    if not access.can(capability) or consortium_id not in access.consortium_ids:
        raise PermissionDenied
