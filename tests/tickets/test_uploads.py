"""Uploaded files: the type is read from the content, the name is never trusted."""

import hashlib
import io
import re
import struct
import zipfile
import zlib
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import PermissionDenied
from django.core.files.uploadedfile import SimpleUploadedFile

from tickets import services
from tickets.choices import Event
from tickets.models import Attachment, Comment, Ticket
from tickets.uploads import UploadRefused, check_upload, safe_name

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
NOT_ALLOWED = (
    "{name} is not an allowed file, or its content does not match its name. "
    "Allowed: images, PDF, text and logs, Word/Excel/PowerPoint, zip."
)
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


@pytest.fixture(autouse=True)
def clock(time_machine):
    time_machine.move_to(NOW, tick=False)


def chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png(width: int = 2, height: int = 2) -> bytes:
    """A PNG signature and header declaring `width` × `height` pixels, then empty data."""
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\x00" * 7))
        + chunk(b"IEND", b"")
    )


def jpeg(width: int = 2, height: int = 2) -> bytes:
    """A JPEG start, JFIF header and a baseline frame header declaring the size."""
    jfif = b"\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"
    frame = b"\xff\xc0\x00\x11\x08" + struct.pack(">HH", height, width)
    frame += b"\x03\x01\x22\x00\x02\x11\x01\x03\x11\x01"
    return b"\xff\xd8" + jfif + frame + b"\xff\xd9"


PDF = b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n"
GIF = b"GIF89a\x02\x00\x02\x00\x80\x00\x00\x00\x00\x00\xff\xff\xff!\xf9\x04\x00\x00\x00\x00\x00,"
TEXT = "2026-11-23 09:00:01 ERROR link down on port 24\n设备日志：端口24链路中断\n".encode()
EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + bytes(64) + b"PE\x00\x00"


def docx() -> bytes:
    """The smallest zip a Word document needs: the content types and the document part."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(
            "[Content_Types].xml",
            '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/'
            'content-types"><Override PartName="/word/document.xml" ContentType="application/'
            'vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>',
        )
        archive.writestr(
            "word/document.xml",
            '<?xml version="1.0"?><w:document xmlns:w="http://schemas.openxmlformats.org/'
            'wordprocessingml/2006/main"><w:body><w:p><w:r><w:t>故障处理报告</w:t></w:r></w:p>'
            "</w:body></w:document>",
        )
    return buffer.getvalue()


@pytest.fixture(scope="module")
def zip_bomb() -> bytes:
    """50 MB of zeros, deflated to about 50 KB."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("logs/zeros.log", bytes(50 * 1024 * 1024))
    return buffer.getvalue()


def upload(name: str, content: bytes) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content)


# What is accepted


@pytest.mark.parametrize(
    "name, content, content_type",
    [
        pytest.param("故障照片.png", png(), "image/png", id="png"),
        pytest.param("PHOTO.JPG", jpeg(), "image/jpeg", id="jpeg, upper-case name"),
        pytest.param("photo.jpeg", jpeg(), "image/jpeg", id="jpeg"),
        pytest.param("anim.gif", GIF, "image/gif", id="gif"),
        pytest.param("报告.pdf", PDF, "application/pdf", id="pdf"),
        pytest.param("syslog.log", TEXT, "text/plain", id="log"),
        pytest.param("说明.txt", "请检查电源".encode("gb18030"), "text/plain", id="gbk text"),
        pytest.param("config.json", b'{"port": 24}', "text/plain", id="json"),
        pytest.param("故障处理报告.docx", docx(), DOCX, id="docx"),
    ],
)
def test_allowed_file_is_accepted_with_the_type_of_its_content(name, content, content_type):
    assert check_upload(upload(name, content)).content_type == content_type


def test_plain_zip_of_logs_is_accepted():
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("syslog.log", TEXT)
    assert check_upload(upload("logs.zip", buffer.getvalue())).content_type == "application/zip"


def test_chinese_log_longer_than_the_sniffed_head_is_accepted():
    # given: 5,700 bytes; byte 4,096 falls inside a Chinese character
    content = ("2026-11-23 09:00:01 数据库连接超时，正在重试\n" * 100).encode()
    # when
    sniffed = check_upload(upload("数据库.log", content))
    # then
    assert sniffed.content_type == "text/plain"


# What is refused


@pytest.mark.parametrize(
    "name, content",
    [
        pytest.param("photo.png", EXE, id="program named .png"),
        pytest.param("photo.png", PDF, id="pdf named .png"),
        pytest.param("evil.PNG.exe", png(), id="png named .exe"),
        pytest.param("photo.php.png", b"<?php system($_GET['c']); ?>\n", id="php text named .png"),
        pytest.param(
            "logo.svg",
            b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>',
            id="svg with script",
        ),
        pytest.param(
            "logo.txt",
            b'<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>',
            id="svg named .txt",
        ),
        pytest.param(
            "page.txt",
            b"<!DOCTYPE html><html><body><script>alert(1)</script></body></html>",
            id="html named .txt",
        ),
        pytest.param("page.txt", b"<HTML><BODY>hi</BODY></HTML>", id="upper-case html named .txt"),
        pytest.param("run.sh", b"#!/bin/sh\nrm -rf /\n", id="shell script"),
        pytest.param("report.docx", PDF, id="pdf named .docx"),
    ],
)
def test_file_whose_content_is_not_allowed_or_does_not_match_is_refused(name, content):
    with pytest.raises(UploadRefused) as refused:
        check_upload(upload(name, content))
    assert refused.value.message == NOT_ALLOWED.format(name=name)


def test_damaged_archive_is_refused():
    with pytest.raises(UploadRefused) as refused:
        check_upload(upload("report.docx", b"PK\x03\x04 not really a zip"))
    assert refused.value.message == "report.docx is a damaged archive."


def test_zip_named_as_a_word_document_is_refused():
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("syslog.log", TEXT)
    with pytest.raises(UploadRefused) as refused:
        check_upload(upload("report.docx", buffer.getvalue()))
    assert refused.value.message == NOT_ALLOWED.format(name="report.docx")


def test_empty_file_is_refused():
    with pytest.raises(UploadRefused) as refused:
        check_upload(upload("empty.txt", b""))
    assert refused.value.message == "empty.txt is empty."


def test_file_over_the_limit_is_refused(settings):
    # given
    settings.ATTACHMENT_MAX_BYTES = 1000
    # when
    with pytest.raises(UploadRefused) as refused:
        check_upload(upload("big.log", b"x" * 1001))
    # then
    assert refused.value.message == "big.log is 1001\xa0bytes; the limit is 1000\xa0bytes."


def test_file_at_the_limit_is_accepted(settings):
    settings.ATTACHMENT_MAX_BYTES = 1000
    assert check_upload(upload("big.log", b"x" * 1000)).content_type == "text/plain"


@pytest.mark.parametrize("name", ["logs.zip", "report.docx"])
def test_zip_bomb_is_refused(zip_bomb, name):
    # given
    assert len(zip_bomb) < 100 * 1024
    # when
    with pytest.raises(UploadRefused) as refused:
        check_upload(upload(name, zip_bomb))
    # then
    assert refused.value.message == f"{name} unpacks to far more than its size: refused."


def test_png_declaring_a_huge_size_is_refused():
    with pytest.raises(UploadRefused) as refused:
        check_upload(upload("huge.png", png(100_000, 100_000)))
    assert refused.value.message == "The image is 100000 × 100000 pixels: too large."


def test_jpeg_declaring_a_huge_size_is_refused():
    with pytest.raises(UploadRefused) as refused:
        check_upload(upload("huge.jpg", jpeg(60_000, 60_000)))
    assert refused.value.message == "The image is 60000 × 60000 pixels: too large."


# Safe names


@pytest.mark.parametrize(
    "name, safe",
    [
        pytest.param("../../etc/passwd", "passwd", id="relative path"),
        pytest.param("/etc/passwd", "passwd", id="absolute path"),
        pytest.param("C:\\x\\a.txt", "a.txt", id="windows path"),
        pytest.param('say "hi".txt', "say hi.txt", id="double quotes"),
        pytest.param("a\x00b\r\n\tc.txt", "abc.txt", id="control characters"),
        pytest.param("\u202egnp.exe", "gnp.exe", id="right-to-left override"),
        pytest.param("<script>|*?.txt", "script.txt", id="markup and wildcards"),
        pytest.param("故障照片.png", "故障照片.png", id="chinese"),
        pytest.param("cafe\u0301.txt", "café.txt", id="normalised"),
        pytest.param("..", "file", id="dots only"),
        pytest.param("", "file", id="empty"),
        pytest.param(" report.pdf. ", "report.pdf", id="dots and spaces around"),
    ],
)
def test_safe_name(name, safe):
    assert safe_name(name) == safe


def test_safe_name_is_kept_short_with_its_extension():
    assert safe_name("日" * 300 + ".log") == "日" * 196 + ".log"


# Through the services


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


def state(ticket: Ticket) -> tuple:
    ticket = Ticket.objects.get(pk=ticket.pk)
    return ticket.status, ticket.version, ticket.events.count()


def test_attach_stores_the_file_under_a_random_name(ticket, engineer, media):
    # given
    content = png()
    # when
    [attachment] = services.attach(ticket, by=engineer, files=[upload("故障照片.png", content)])
    # then
    attachment.refresh_from_db()
    assert re.fullmatch(r"attachments/2026/11/[0-9a-f]{32}\.png", attachment.file.name)
    assert (media / attachment.file.name).read_bytes() == content
    assert [path.name for path in media.rglob("*.png")] == [attachment.file.name.split("/")[-1]]
    assert attachment.original_name == "故障照片.png"
    assert attachment.content_type == "image/png"
    assert attachment.size == len(content)
    assert attachment.sha256 == hashlib.sha256(content).hexdigest()
    assert (attachment.uploaded_by, attachment.comment, attachment.is_internal) == (
        engineer,
        None,
        False,
    )
    event = ticket.events.last()
    assert (event.kind, event.note) == (Event.ATTACHED, "故障照片.png")


def test_attach_keeps_a_safe_original_name(ticket, alice, media):
    [attachment] = services.attach(ticket, by=alice, files=[upload("../../a\x00b.log", TEXT)])
    assert attachment.original_name == "ab.log"
    assert re.fullmatch(r"attachments/2026/11/[0-9a-f]{32}\.log", attachment.file.name)


def test_comment_with_files(ticket, alice, media):
    # when
    comment = services.add_comment(
        ticket,
        by=alice,
        body="照片和日志见附件",
        files=[upload("故障照片.png", png()), upload("syslog.log", TEXT)],
    )
    # then
    assert [a.original_name for a in comment.attachments.all()] == ["故障照片.png", "syslog.log"]
    assert ticket.events.last().note == "照片和日志见附件\n故障照片.png、syslog.log"


def test_comment_with_a_refused_file_stores_nothing(ticket, alice, media):
    # given
    before = state(ticket)
    files = [upload("故障照片.png", png()), upload("photo.png", EXE)]
    # when
    with pytest.raises(services.TicketError) as refused:
        services.add_comment(ticket, by=alice, body="见附件", files=files)
    # then
    assert str(refused.value) == NOT_ALLOWED.format(name="photo.png")
    assert Comment.objects.count() == 0
    assert Attachment.objects.count() == 0
    assert state(ticket) == before
    assert list(media.iterdir()) == []


def test_attach_with_a_refused_file_stores_nothing(ticket, engineer, media):
    before = state(ticket)
    with pytest.raises(services.TicketError) as refused:
        services.attach(ticket, by=engineer, files=[upload("empty.log", b"")])
    assert str(refused.value) == "empty.log is empty."
    assert Attachment.objects.count() == 0
    assert state(ticket) == before
    assert list(media.iterdir()) == []


def test_attach_needs_a_file(ticket, engineer, media):
    before = state(ticket)
    with pytest.raises(services.TicketError) as refused:
        services.attach(ticket, by=engineer, files=[])
    assert str(refused.value) == "Choose a file to attach."
    assert state(ticket) == before


def test_at_most_ten_files_at_a_time(ticket, engineer, media):
    before = state(ticket)
    files = [upload(f"log{n}.log", TEXT) for n in range(11)]
    with pytest.raises(services.TicketError) as refused:
        services.attach(ticket, by=engineer, files=files)
    assert str(refused.value) == "Attach at most 10 files at a time."
    assert Attachment.objects.count() == 0
    assert state(ticket) == before


def test_customer_cannot_add_internal_files(ticket, alice, media):
    before = state(ticket)
    with pytest.raises(PermissionDenied) as refused:
        services.attach(ticket, by=alice, files=[upload("syslog.log", TEXT)], is_internal=True)
    assert str(refused.value) == "Customers cannot add internal files."
    assert Attachment.objects.count() == 0
    assert state(ticket) == before
    assert list(media.iterdir()) == []
