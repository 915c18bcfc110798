"""Comments and attachments on a ticket."""

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils.translation import gettext as _

from .. import notify
from ..choices import Event
from ..models import Attachment, Comment, Ticket
from ..uploads import UploadRefused, check_upload, safe_name
from .core import TicketError, begin, finish, require

MAX_FILES = 10


def _check_files(files) -> list:
    if len(files) > MAX_FILES:
        raise TicketError(_("Attach at most %(count)s files at a time.") % {"count": MAX_FILES})
    checked = []
    for upload in files:
        try:
            checked.append((upload, check_upload(upload)))
        except UploadRefused as refused:
            raise TicketError(refused.message) from None
    return checked


def _store(
    ticket: Ticket, by, checked, *, comment: Comment | None, is_internal: bool, emergency_plan=None
) -> list[Attachment]:
    stored = []
    for upload, sniffed in checked:
        name = safe_name(upload.name)
        attachment = Attachment(
            ticket=ticket,
            comment=comment,
            emergency_plan=emergency_plan,
            uploaded_by=by,
            original_name=name,
            content_type=sniffed.content_type,
            size=upload.size,
            sha256=Attachment.digest(upload.chunks()),
            is_internal=is_internal,
        )
        upload.seek(0)
        # Written before the commit: if the transaction rolls back the file stays on disk under a
        # random name with no row pointing at it, so it can never be served.
        attachment.file.save(name, upload, save=False)
        attachment.save()
        stored.append(attachment)
    return stored


@transaction.atomic
def add_comment(ticket: Ticket, *, by, body: str, is_internal: bool = False, files=(), expected_version=None):
    """A message on the ticket, with files; customers' comments are never internal."""
    ticket = begin(ticket, "comment", by, expected_version=expected_version)
    if by.is_customer and is_internal:
        raise PermissionDenied(_("Customers cannot write internal notes."))
    text = require(body, _("Write a comment."))
    checked = _check_files(list(files))
    comment = Comment.objects.create(ticket=ticket, author=by, body=text, is_internal=is_internal)
    attachments = _store(ticket, by, checked, comment=comment, is_internal=is_internal)
    note = text if not attachments else f"{text}\n" + "、".join(a.original_name for a in attachments)
    finish(ticket, Event.COMMENTED, by, changes={}, note=note, is_internal=is_internal)
    if by.is_customer:
        notify.customer_commented(ticket, by, text)
    elif not is_internal:
        notify.staff_commented(ticket, by, text)
    return comment


@transaction.atomic
def attach(
    ticket: Ticket, *, by, files, is_internal: bool = False, expected_version=None
) -> list[Attachment]:
    """Files on the ticket itself (photos of the fault, logs, reports)."""
    ticket = begin(ticket, "comment", by, expected_version=expected_version)
    if by.is_customer and is_internal:
        raise PermissionDenied(_("Customers cannot add internal files."))
    files = list(files)
    if not files:
        raise TicketError(_("Choose a file to attach."))
    stored = _store(ticket, by, _check_files(files), comment=None, is_internal=is_internal)
    note = "、".join(a.original_name for a in stored)
    finish(ticket, Event.ATTACHED, by, changes={}, note=note, is_internal=is_internal)
    return stored
