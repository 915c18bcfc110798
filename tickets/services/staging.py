"""
Files chosen in a portal form that was refused: kept (`StagedUpload`) for the same person, so that
they need not choose them again, until the form is accepted or a day has passed.
"""

from contextlib import contextmanager
from datetime import timedelta

from django.core.files import File
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from ..filters import whole_number
from ..models import Attachment, StagedUpload
from ..uploads import UploadRefused, check_upload, safe_name
from .core import TicketError
from .messages import MAX_FILES

# How long a kept file waits for its form to be sent again.
STAGED_LIFETIME = timedelta(days=1)


def kept_for(owner, ids) -> list[StagedUpload]:
    """The kept files a form names, of `owner` only: another person's ids are ignored."""
    numbers = kept_ids(ids)
    if not numbers:
        return []
    return list(StagedUpload.objects.filter(owner=owner, pk__in=numbers).order_by("created_at", "pk"))


@transaction.atomic
def stage(owner, files, *, kept: list[StagedUpload]) -> tuple[list[StagedUpload], list[str]]:
    """
    Keep the files of a refused form for `owner`, checked as attachments are: returns every file
    now kept (`kept` first) and why any file was not kept. A person has one refused form at a
    time: their kept files that the form no longer names (removed, or of an abandoned form) go.
    """
    _delete(StagedUpload.objects.filter(owner=owner).exclude(pk__in=[row.pk for row in kept]))
    rows, refusals = list(kept), []
    for upload in files:
        if len(rows) >= MAX_FILES:
            refusals.append(_("Attach at most %(count)s files at a time.") % {"count": MAX_FILES})
            break
        try:
            sniffed = check_upload(upload)
        except UploadRefused as refused:
            refusals.append(refused.message)
            continue
        name = safe_name(upload.name)
        row = StagedUpload(
            owner=owner,
            original_name=name,
            content_type=sniffed.content_type,
            size=upload.size,
            sha256=Attachment.digest(upload.chunks()),
        )
        upload.seek(0)
        row.file.save(name, upload, save=False)
        row.save()
        rows.append(row)
    return rows, refusals


def discard(owner, ids) -> int:
    """The person removes kept files of theirs; returns how many went."""
    return _delete(StagedUpload.objects.filter(owner=owner, pk__in=kept_ids(ids))) if ids else 0


def kept_ids(values) -> list[int]:
    """The ids a form sent; anything not a number is ignored."""
    return [number for number in map(whole_number, values) if number is not None]


@contextmanager
def unstage(staged: list[StagedUpload]):
    """
    The kept files as uploads to attach, open for the block; when it ends without error their rows
    go, and their files once the transaction commits (a rollback keeps both).
    """
    opened = []
    # Locked for the transaction: two requests sent at once never attach the same kept file twice
    # (the second finds it gone and says so).
    still_kept = set(
        StagedUpload.objects.select_for_update()
        .filter(pk__in=[row.pk for row in staged])
        .values_list("pk", flat=True)
    )
    try:
        for row in staged:
            if row.pk not in still_kept:
                raise TicketError(
                    _("%(name)s is no longer kept: choose it again.") % {"name": row.original_name}
                )
            try:
                handle = row.file.storage.open(row.file.name, "rb")
            except FileNotFoundError:
                raise TicketError(
                    _("%(name)s is no longer kept: choose it again.") % {"name": row.original_name}
                ) from None
            opened.append(File(handle, name=row.original_name))
        yield opened
    finally:
        for upload in opened:
            upload.close()
    _delete(StagedUpload.objects.filter(pk__in=[row.pk for row in staged]))


def delete_old(now=None) -> int:
    """Kept files older than a day, whose forms were never sent again: rows and files go."""
    now = now or timezone.now()
    return _delete(StagedUpload.objects.filter(created_at__lt=now - STAGED_LIFETIME))


def _delete(rows) -> int:
    rows = list(rows)
    if not rows:
        return 0
    files = [(row.file.storage, row.file.name) for row in rows]
    StagedUpload.objects.filter(pk__in=[row.pk for row in rows]).delete()

    def remove_files():
        for storage, name in files:
            storage.delete(name)

    transaction.on_commit(remove_files)
    return len(rows)
