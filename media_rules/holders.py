"""Who may use a stored file (F9 item 1): storage is shared by content, access is earned by sending
the bytes. Knowing a file's SHA-256 (it shows in photo records, audit entries, ZIP manifests, pulls)
is not having the file.

A *tenant* is an agency, or an enterprise (its confirmers take work photos). Sending a file's bytes
makes the sender's tenant one of its holders (``BlobHolder``, written by ``intake.ingest``). Then:

- a photo links to its file only when one of the photo's tenants holds it (``photo_tenants``: its
  agency, and the enterprise of a confirmer who took it); otherwise it awaits its own upload, and
  links when its tenant sends the same bytes;
- "does the server have this file?" (``GET /media/{sha256}``, ``POST /media/uploads``, reconcile) is
  answered for the asker's tenant: a file another tenant holds is "missing" to them.

``held_by`` is the one answer every path asks. Platform administrators and regulators hold nothing:
they take no photos.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef, Q

from media_rules.models import Blob, BlobHolder
from server.accounts.models import Role, User
from server.lookups import unique_or_none


@dataclass(frozen=True)
class Tenant:
    """An agency or an enterprise: exactly one of the two is set."""

    agency_id: int | None = None
    enterprise_id: int | None = None


def tenant_of(user) -> Tenant | None:
    """The tenant a user's uploads hold files for: their agency, or their enterprise (a confirmer)."""
    if user is None or not user.is_authenticated:
        return None
    if user.agency_id is not None:
        return Tenant(agency_id=user.agency_id)
    if user.role == Role.ENTERPRISE and user.enterprise_id is not None:
        return Tenant(enterprise_id=user.enterprise_id)
    return None


def photo_tenants(*, agency_id: int, taker) -> tuple[Tenant, ...]:
    """Whose bytes a photo may link to: its agency's, and for an enterprise confirmer's work photo
    (its agency is the O&M agency, services._photo_agency) the confirmer's enterprise's too."""
    taker_tenant = tenant_of(taker)
    extra = (taker_tenant,) if taker_tenant is not None and taker_tenant.enterprise_id else ()
    return (Tenant(agency_id=agency_id), *extra)


def _holder_q(tenants: Iterable[Tenant | None]) -> Q | None:
    who = None
    for tenant in tenants:
        if tenant is None:
            continue
        one = Q(agency_id=tenant.agency_id) if tenant.agency_id else Q(enterprise_id=tenant.enterprise_id)
        who = one if who is None else who | one
    return who


def held_by(tenants: Iterable[Tenant | None]) -> Exists | None:
    """A condition on ``Blob``: one of these tenants holds the file. None when there is no tenant
    (nothing is held)."""
    who = _holder_q(tenants)
    return None if who is None else Exists(BlobHolder.objects.filter(who, blob=OuterRef("pk")))


def linkable(sha256: str, tenants: Iterable[Tenant | None]) -> Blob | None:
    """The stored file with this hash, if one of these tenants holds it; else None (it is missing
    to them, whoever else holds it)."""
    condition = held_by(tenants)
    return None if condition is None else unique_or_none(Blob.objects.filter(condition), pk=sha256)


def held(hashes: Iterable[str], tenant: Tenant | None) -> set[str]:
    """Which of these files the tenant holds."""
    condition = held_by([tenant])
    if condition is None:
        return set()
    return set(Blob.objects.filter(condition, pk__in=list(hashes)).values_list("pk", flat=True))


def hold(blob: Blob, tenant: Tenant, *, first: bool = False) -> bool:
    """Record that the tenant sent these bytes. Whether it is new (False: it held them already).
    ``first``: the file was stored in this transaction, so no one holds it yet (no savepoint: the
    upload every photo makes pays one INSERT for this, bench/photo_http.py)."""
    row = BlobHolder(blob=blob, agency_id=tenant.agency_id, enterprise_id=tenant.enterprise_id)
    if first:
        row.save(force_insert=True)
        return True
    try:
        with transaction.atomic():
            row.save(force_insert=True)
    except IntegrityError:  # the same tenant sending the same file twice at once
        return False
    return True


def photos_of(tenant: Tenant) -> Q:
    """A condition on ``Photo``: the tenant is one of the photo's tenants (as ``photo_tenants``)."""
    if tenant.agency_id:
        return Q(agency_id=tenant.agency_id)
    confirmers = User.objects.filter(
        role=Role.ENTERPRISE, enterprise_id=tenant.enterprise_id, agency__isnull=True
    )
    return Q(taken_by__in=confirmers.values("pk"))
