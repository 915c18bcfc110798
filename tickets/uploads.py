"""
Checks on uploaded files: size, and the type read from the content, not the name.

Allowed: images (PNG, JPEG, GIF, WebP), PDF, plain text and logs, Office documents (the zip-based
formats, checked for a zip bomb) and zip archives of logs. Everything else, SVG included (it can
carry scripts), is refused.
"""

import base64
import binascii
import codecs
import re
import struct
import unicodedata
import zipfile
from dataclasses import dataclass
from pathlib import PurePath

from django.conf import settings
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _

HEAD_BYTES = 256 * 1024  # enough for the frame header of a JPEG behind large EXIF segments
MAX_PIXELS = 60_000_000  # larger images are refused: they are decompression bombs or useless
MAX_UNZIPPED = 200 * 1024 * 1024
MAX_RATIO = 100


class UploadRefused(Exception):
    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class Sniffed:
    content_type: str
    extensions: tuple[str, ...]


OFFICE = {
    "word/": Sniffed("application/vnd.openxmlformats-officedocument.wordprocessingml.document", (".docx",)),
    "xl/": Sniffed("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", (".xlsx",)),
    "ppt/": Sniffed("application/vnd.openxmlformats-officedocument.presentationml.presentation", (".pptx",)),
}
ZIP = Sniffed("application/zip", (".zip",))
TEXT = Sniffed("text/plain", (".txt", ".log", ".csv", ".cfg", ".conf", ".ini", ".json", ".xml"))


def sniff(head: bytes) -> Sniffed | None:
    """The type the first bytes show, or None when the content is not one we accept."""
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return Sniffed("image/png", (".png",))
    if head.startswith(b"\xff\xd8\xff"):
        return Sniffed("image/jpeg", (".jpg", ".jpeg"))
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return Sniffed("image/gif", (".gif",))
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return Sniffed("image/webp", (".webp",))
    if head.startswith(b"%PDF-"):
        return Sniffed("application/pdf", (".pdf",))
    if head.startswith(b"PK\x03\x04"):
        return ZIP
    if _is_text(head):
        return TEXT
    return None


# Markup a browser would run, or that only makes sense in a page: never a text attachment.
MARKUP = re.compile(
    r"<\s*/?\s*(?:script|svg|html|body|iframe|frame|img|image|object|embed|link|style|meta|base|form|"
    r"input|math|a|video|audio|source|details|marquee|!doctype|\?xml-stylesheet)\b"
    r"|\bon[a-z]+\s*=|javascript\s*:|vbscript\s*:",
    re.IGNORECASE,
)


def _text_encoding(head: bytes) -> str | None:
    """The encoding the head decodes in (UTF-8 or GB18030), or None when it is not text."""
    if b"\x00" in head:
        return None
    for encoding in ("utf-8", "gb18030"):
        # The head is cut at 4 KB, maybe inside a character: decode as a stream that may go on.
        try:
            codecs.getincrementaldecoder(encoding)().decode(head, final=False)
        except UnicodeDecodeError:
            continue
        return encoding
    return None


def _is_text(head: bytes) -> bool:
    return _text_encoding(head) is not None


def _text_is_clean(upload, head: bytes) -> bool:
    """The whole file is text without markup, not only its first kilobytes."""
    decoder = codecs.getincrementaldecoder(_text_encoding(head))()
    upload.seek(0)
    tail = ""
    try:
        for chunk in upload.chunks(64 * 1024):
            text = tail + decoder.decode(chunk)
            if "\x00" in text or MARKUP.search(text):
                return False
            tail = text[-64:]
    except UnicodeDecodeError:
        return False
    finally:
        upload.seek(0)
    return True


def safe_name(name: str) -> str:
    """A file name with no path, no control characters and no quotes, kept short."""
    name = PurePath(name.replace("\\", "/")).name
    name = unicodedata.normalize("NFC", name)
    name = "".join(ch for ch in name if unicodedata.category(ch)[0] != "C" and ch not in '"<>|:*?')
    name = name.strip(" .") or "file"
    stem, suffix = PurePath(name).stem, PurePath(name).suffix
    return f"{stem[: 200 - len(suffix)]}{suffix}"


def check_upload(upload) -> Sniffed:
    """Refuse a file that is too big, whose content is not allowed or does not match its name."""
    limit = settings.ATTACHMENT_MAX_BYTES
    if upload.size > limit:
        raise UploadRefused(
            _("%(name)s is %(size)s; the limit is %(limit)s.")
            % {
                "name": upload.name,
                "size": filesizeformat(upload.size),
                "limit": filesizeformat(limit),
            }
        )
    if upload.size == 0:
        raise UploadRefused(_("%(name)s is empty.") % {"name": upload.name})
    upload.seek(0)
    head = upload.read(HEAD_BYTES)
    upload.seek(0)
    sniffed = sniff(head[:4096])
    if sniffed is ZIP:
        sniffed = _check_zip(upload)
    if sniffed is TEXT and not _text_is_clean(upload, head[:4096]):
        sniffed = None
    if sniffed and sniffed.content_type.startswith("image/"):
        _check_image(head, sniffed)
    extension = PurePath(upload.name).suffix.lower()
    if sniffed is None or extension not in sniffed.extensions:
        raise UploadRefused(
            _(
                "%(name)s is not an allowed file, or its content does not match its name. "
                "Allowed: images, PDF, text and logs, Word/Excel/PowerPoint, zip."
            )
            % {"name": upload.name}
        )
    return sniffed


def _check_zip(upload) -> Sniffed:
    try:
        with zipfile.ZipFile(upload) as archive:
            members = archive.infolist()
    except (zipfile.BadZipFile, OSError):
        raise UploadRefused(_("%(name)s is a damaged archive.") % {"name": upload.name}) from None
    finally:
        upload.seek(0)
    unzipped = sum(member.file_size for member in members)
    packed = sum(member.compress_size for member in members) or 1
    if unzipped > MAX_UNZIPPED or unzipped / packed > MAX_RATIO:
        raise UploadRefused(_("%(name)s unpacks to far more than its size: refused.") % {"name": upload.name})
    names = [member.filename for member in members]
    for prefix, office in OFFICE.items():
        if "[Content_Types].xml" in names and any(name.startswith(prefix) for name in names):
            return office
    return ZIP


def _check_image(head: bytes, sniffed: Sniffed) -> None:
    width = height = 0
    if sniffed.content_type == "image/png" and len(head) >= 24:
        width, height = struct.unpack(">II", head[16:24])
    elif sniffed.content_type == "image/gif" and len(head) >= 10:
        width, height = struct.unpack("<HH", head[6:10])
    elif sniffed.content_type == "image/jpeg":
        width, height = _jpeg_size(head)
    elif sniffed.content_type == "image/webp" and head[12:16] == b"VP8X" and len(head) >= 30:
        width = 1 + int.from_bytes(head[24:27], "little")
        height = 1 + int.from_bytes(head[27:30], "little")
    if width * height > MAX_PIXELS:
        raise UploadRefused(
            _("The image is %(width)s × %(height)s pixels: too large.") % {"width": width, "height": height}
        )


def _jpeg_size(head: bytes) -> tuple[int, int]:
    """Width and height from the first start-of-frame marker within the head, else (0, 0)."""
    index = 2
    while index + 9 < len(head):
        if head[index] != 0xFF:
            return 0, 0
        marker = head[index + 1]
        length = struct.unpack(">H", head[index + 2 : index + 4])[0]
        if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):
            height, width = struct.unpack(">HH", head[index + 5 : index + 9])
            return width, height
        index += 2 + length
    return 0, 0


# Previews: the few types a browser shows by itself without running anything in them. SVG and HTML
# are never among them (they carry scripts); everything else leaves as a download.
PREVIEWABLE = ("image/png", "image/jpeg", "image/gif", "image/webp", "application/pdf")


def is_previewable(content_type: str, head: bytes) -> bool:
    """
    Whether a stored file may be shown inline: its recorded type is one a browser previews and
    its first bytes say the same (a file altered on disk, or recorded wrongly, is downloaded).
    """
    sniffed = sniff(head[:4096])
    return content_type in PREVIEWABLE and sniffed is not None and sniffed.content_type == content_type


# The customer's signature drawn at departure: a PNG sent as a data URL.
SIGNATURE_MAX_BYTES = 300 * 1024
SIGNATURE_MAX_SIDE = 4096
SIGNATURE_PREFIX = "data:image/png;base64,"
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
# The longest data URL a form or the API reads, far above the PNG's limit (which `signature_png`
# checks with a clearer message) and bounded all the same.
SIGNATURE_FIELD_MAX = 4 * SIGNATURE_MAX_BYTES


def signature_png(data_url: str) -> bytes:
    """
    The PNG a drawn signature's data URL holds (empty when nothing was drawn); refuses anything
    that is not a PNG of reasonable size, with a message that says what to do.
    """
    data_url = (data_url or "").strip()
    if not data_url:
        return b""
    if not data_url.startswith(SIGNATURE_PREFIX):
        raise UploadRefused(
            _("The signature must be a PNG picture drawn on the page. Clear it and sign again.")
        )
    encoded = data_url.removeprefix(SIGNATURE_PREFIX)
    # Checked before decoding: base64 takes 4 characters for every 3 bytes.
    if len(encoded) > (SIGNATURE_MAX_BYTES + 2) // 3 * 4:
        raise _signature_too_big()
    try:
        data = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError):
        raise UploadRefused(_("The signature could not be read. Clear it and sign again.")) from None
    check_signature(data)
    return data


def check_signature(data: bytes) -> None:
    """A signature's bytes are a PNG, within the size limit and of a sensible width and height."""
    if len(data) > SIGNATURE_MAX_BYTES:
        raise _signature_too_big()
    width, height = struct.unpack(">II", data[16:24]) if len(data) >= 24 else (0, 0)
    if not data.startswith(PNG_MAGIC) or data[12:16] != b"IHDR" or not (width and height):
        raise UploadRefused(_("The signature is not a PNG picture. Clear it and sign again."))
    if width > SIGNATURE_MAX_SIDE or height > SIGNATURE_MAX_SIDE:
        raise UploadRefused(
            _("The signature is %(width)s × %(height)s pixels: too large.")
            % {"width": width, "height": height}
        )


def _signature_too_big() -> UploadRefused:
    return UploadRefused(
        _("The signature is larger than %(limit)s. Clear it and sign again with simpler strokes.")
        % {"limit": filesizeformat(SIGNATURE_MAX_BYTES)}
    )


# What the file inputs offer to choose: the kinds `check_upload` accepts ("image/*" makes a phone
# offer its camera and gallery; an image of another type is refused with a message).
ACCEPTED_FILES = ",".join(
    ["image/*", "application/pdf", ".pdf", *TEXT.extensions, ".docx", ".xlsx", ".pptx", ".zip"]
)
