"""
Field work on the phone: photos previewed inline, the map link to the site, the customer's signature
at departure, and the printed fault handling report with the promised and actual times.
"""

import base64
import re
import struct
import zlib
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework.test import APIClient

from tickets import services
from tickets.choices import Status
from tickets.models import Attachment, Ticket

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]

SHANGHAI = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 11, 23, 9, 0, tzinfo=SHANGHAI)  # a Monday
INLINE_POLICY = (
    "default-src 'none'; img-src 'self'; object-src 'self'; style-src 'unsafe-inline'; "
    "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


@pytest.fixture
def clock(time_machine):
    time_machine.move_to(NOW, tick=False)
    return time_machine


def chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png(width: int = 2, height: int = 2, padding: int = 0) -> bytes:
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    extra = chunk(b"tEXt", b"c\x00" + b"x" * padding) if padding else b""
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + extra
        + chunk(b"IDAT", zlib.compress(b"\x00" * 7))
        + chunk(b"IEND", b"")
    )


JPEG = (
    b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"
    b"\xff\xc0\x00\x11\x08\x00\x02\x00\x02\x03\x01\x22\x00\x02\x11\x01\x03\x11\x01\xff\xd9"
)
GIF = b"GIF89a\x02\x00\x02\x00\x80\x00\x00\x00\x00\x00\xff\xff\xff!\xf9\x04\x00\x00\x00\x00\x00,"
PDF = b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n"
LOG = b"2026-11-23 09:00:01 ERROR link down on port 24\n"


def data_url(content: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(content).decode()


def attach(ticket, by, name: str, content: bytes, **kwargs) -> Attachment:
    [attachment] = services.attach(ticket, by=by, files=[SimpleUploadedFile(name, content)], **kwargs)
    return attachment


def state(ticket: Ticket) -> tuple:
    ticket = Ticket.objects.get(pk=ticket.pk)
    visit = ticket.visits.last()
    return ticket.status, ticket.version, ticket.events.count(), visit.departed_at, visit.signature.name


@pytest.fixture
def on_site(ticket, engineer):
    ticket = services.accept(ticket, by=engineer)
    ticket = services.start_travel(ticket, by=engineer)
    return services.record_arrival(ticket, by=engineer)


# Previews: images and PDFs inline, the rest as downloads


@pytest.mark.parametrize(
    ("name", "content", "content_type"),
    [
        ("机柜照片.png", png(), "image/png"),
        ("面板.jpg", JPEG, "image/jpeg"),
        ("指示灯.gif", GIF, "image/gif"),
        ("巡检报告.pdf", PDF, "application/pdf"),
    ],
)
def test_preview_shows_images_and_pdfs_inline(client, ticket, engineer, name, content, content_type):
    # given
    attachment = attach(ticket, engineer, name, content)
    client.force_login(engineer)
    # when
    response = client.get(f"/attachments/{attachment.pk}/preview/")
    # then
    assert response.status_code == 200
    assert response["Content-Type"] == content_type
    assert response["Content-Disposition"].startswith("inline;")
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Security-Policy"] == INLINE_POLICY
    assert b"".join(response.streaming_content) == content


def test_preview_of_a_log_sends_it_to_the_download(client, ticket, engineer):
    # given: a text file, which a browser would render as a page
    attachment = attach(ticket, engineer, "设备日志.log", LOG)
    client.force_login(engineer)
    # when
    response = client.get(f"/attachments/{attachment.pk}/preview/")
    # then: it goes to the download, which sends it as an attachment
    assert response.status_code == 302
    assert response["Location"] == f"/attachments/{attachment.pk}/"
    download = client.get(response["Location"])
    assert download["Content-Disposition"].startswith("attachment;")


def test_preview_refuses_a_file_whose_bytes_do_not_match_its_type(client, ticket, engineer, media):
    # given: a photo whose stored bytes were later replaced by markup
    attachment = attach(ticket, engineer, "机柜照片.png", png())
    (media / attachment.file.name).write_bytes(b"<svg onload=alert(1)></svg>")
    client.force_login(engineer)
    # when
    response = client.get(f"/attachments/{attachment.pk}/preview/")
    # then: never shown inline
    assert response.status_code == 302
    assert response["Location"] == f"/attachments/{attachment.pk}/"


def test_preview_refuses_a_type_a_browser_would_run(client, ticket, engineer):
    # given: a row that says SVG (no upload is ever recorded so; the view does not trust the row alone)
    attachment = attach(ticket, engineer, "机柜照片.png", png())
    Attachment.objects.filter(pk=attachment.pk).update(content_type="image/svg+xml")
    client.force_login(engineer)
    # when
    response = client.get(f"/attachments/{attachment.pk}/preview/")
    # then
    assert response.status_code == 302
    assert response["Location"] == f"/attachments/{attachment.pk}/"


@pytest.mark.parametrize("persona", ["bob", "other_engineer"])
def test_preview_of_another_organisations_file_is_404(client, request, ticket, alice, persona):
    attachment = attach(ticket, alice, "机柜照片.png", png())
    client.force_login(request.getfixturevalue(persona))
    assert client.get(f"/attachments/{attachment.pk}/preview/").status_code == 404


def test_preview_of_an_internal_file_is_404_for_the_customer(client, ticket, engineer, alice):
    # given
    attachment = attach(ticket, engineer, "内部照片.png", png(), is_internal=True)
    # when / then: the customer is told nothing exists; staff see it
    client.force_login(alice)
    assert client.get(f"/attachments/{attachment.pk}/preview/").status_code == 404
    client.force_login(engineer)
    assert client.get(f"/attachments/{attachment.pk}/preview/").status_code == 200


def test_preview_asks_an_anonymous_visitor_to_sign_in(client, ticket, engineer):
    attachment = attach(ticket, engineer, "机柜照片.png", png())
    response = client.get(f"/attachments/{attachment.pk}/preview/")
    assert response.status_code == 302
    assert response["Location"].startswith("/login/")


def test_ticket_page_shows_thumbnails_and_file_links(client, ticket, engineer, alice):
    # given
    photo = attach(ticket, engineer, "机柜照片.png", png())
    pdf = attach(ticket, engineer, "巡检报告.pdf", PDF)
    log = attach(ticket, engineer, "设备日志.log", LOG)
    client.force_login(alice)
    # when
    page = client.get(f"/tickets/{ticket.number}/").content.decode()
    # then: the photo is a thumbnail opening its preview, the PDF an icon, the log a download
    assert (
        f'<a class="file-thumb" href="/attachments/{photo.pk}/preview/" target="_blank" rel="noopener">'
        f'<img src="/attachments/{photo.pk}/preview/"'
    ) in page
    assert (
        f'href="/attachments/{pdf.pk}/preview/" target="_blank" rel="noopener">'
        '<span class="file-icon file-icon-pdf"' in page
    )
    assert (
        f'<a class="file-thumb" href="/attachments/{log.pk}/">'
        '<span class="file-icon" aria-hidden="true">LOG</span>' in page
    )


def test_comment_form_offers_the_camera_and_several_files(client, ticket, engineer):
    client.force_login(engineer)
    page = client.get(f"/tickets/{ticket.number}/").content.decode()
    form = page[page.index('action="/tickets/' + ticket.number + '/comment/"') :]
    assert re.search(
        r'<input type="file" name="files" accept="image/\*,application/pdf,[^"]*" multiple', form
    )
    assert (
        '<input type="file" name="files" id="id_files-camera" accept="image/*" capture="environment"' in form
    )
    assert '<label for="id_files-camera" class="camera-button"><svg aria-hidden="true"' in form


def test_comment_with_a_photo_from_the_camera_and_a_file_keeps_both(client, ticket, engineer):
    # given: the two inputs of the comment form, each with a file
    client.force_login(engineer)
    photo = SimpleUploadedFile("image.jpg", JPEG)
    log = SimpleUploadedFile("设备日志.log", LOG)
    # when
    response = client.post(
        f"/tickets/{ticket.number}/comment/",
        {"body": "现场照片", "version": ticket.version, "files": [log, photo]},
    )
    # then
    assert response.status_code == 302
    comment = ticket.comments.get()
    assert sorted(comment.attachments.values_list("original_name", "content_type")) == [
        ("image.jpg", "image/jpeg"),
        ("设备日志.log", "text/plain"),
    ]


# The map link


@pytest.mark.parametrize("persona", ["engineer", "alice"])
def test_site_has_a_map_link_that_opens_the_phone_map(client, request, ticket, persona):
    client.force_login(request.getfixturevalue(persona))
    page = client.get(f"/tickets/{ticket.number}/").content.decode()
    # 南京 + 中山路1号, encoded
    url = (
        "https://uri.amap.com/search?keyword=%E5%8D%97%E4%BA%AC%E4%B8%AD%E5%B1%B1%E8%B7%AF1%E5%8F%B7"
        "&amp;src=servicedesk&amp;callnative=1"
    )
    assert f'<a class="map-link nowrap" href="{url}" target="_blank" rel="noopener">' in page
    assert '</svg> Map<span class="visually-hidden"> 中山路1号</span></a>' in page


def test_map_link_keeps_an_address_that_names_its_city(client, ticket, engineer):
    ticket.site.address = "南京市鼓楼区中山路1号 A&B 座"
    ticket.site.save(update_fields=["address"])
    client.force_login(engineer)
    page = client.get(f"/tickets/{ticket.number}/").content.decode()
    assert (
        "https://uri.amap.com/search?keyword="
        "%E5%8D%97%E4%BA%AC%E5%B8%82%E9%BC%93%E6%A5%BC%E5%8C%BA%E4%B8%AD%E5%B1%B1%E8%B7%AF1%E5%8F%B7+A%26B+%E5%BA%A7"
        "&amp;src=servicedesk&amp;callnative=1"
    ) in page


# The signature at departure


def test_depart_form_has_the_signature_pad_and_the_typed_name(client, on_site, engineer):
    client.force_login(engineer)
    page = client.get(f"/tickets/{on_site.number}/").content.decode()
    form = page[page.index(f'action="/tickets/{on_site.number}/act/depart/"') :]
    assert '<input type="text" name="signed_off_by"' in form
    assert "<legend>Customer&#x27;s signature</legend>" in form
    assert (
        '<input type="hidden" name="signature" id="depart-signature" value="" data-signature-value>' in form
    )
    assert '<div class="signature-pad" data-signature-pad hidden>' in form
    assert "Clear the signature</button>" in form


def test_signature_drawn_at_departure_is_kept_with_the_visit(client, on_site, engineer, media):
    # given
    signature = png(320, 120)
    client.force_login(engineer)
    # when
    response = client.post(
        f"/tickets/{on_site.number}/act/depart/",
        {"version": on_site.version, "signed_off_by": "王主任", "signature": data_url(signature), "note": ""},
    )
    # then
    assert response.status_code == 302
    on_site.refresh_from_db()
    assert on_site.status == Status.IN_PROGRESS
    visit = on_site.visits.get()
    assert visit.signed_off_by == "王主任"
    assert re.fullmatch(r"signatures/\d{4}/\d{2}/[0-9a-f]{32}\.png", visit.signature.name)
    assert (media / visit.signature.name).read_bytes() == signature


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (
            "data:image/png;base64,iVBORw0KGgo!!!",
            "The signature could not be read. Clear it and sign again.",
        ),
        (data_url(JPEG), "The signature is not a PNG picture. Clear it and sign again."),
        (
            "data:image/svg+xml;base64," + base64.b64encode(b"<svg/>").decode(),
            "The signature must be a PNG picture drawn on the page. Clear it and sign again.",
        ),
        (
            data_url(png(padding=300 * 1024)),
            "The signature is larger than 300.0\xa0KB. Clear it and sign again with simpler strokes.",
        ),
        (data_url(png(5000, 200)), "The signature is 5000 × 200 pixels: too large."),
    ],
    ids=["bad-base64", "not-png", "svg", "too-big", "too-wide"],
)
def test_bad_signature_is_refused_and_nothing_changes(client, on_site, engineer, media, value, message):
    # given
    before = state(on_site)
    client.force_login(engineer)
    # when
    response = client.post(
        f"/tickets/{on_site.number}/act/depart/",
        {"version": on_site.version, "signed_off_by": "王主任", "signature": value},
    )
    # then: the form comes back with the message, the engineer is still on site, no file is written
    assert response.status_code == 400
    assert message in response.content.decode()
    assert state(on_site) == before
    assert before[0] == Status.ON_SITE
    assert not list(media.rglob("*.png"))


def test_departure_without_a_drawing_keeps_the_typed_name(client, on_site, engineer):
    client.force_login(engineer)
    client.post(
        f"/tickets/{on_site.number}/act/depart/",
        {"version": on_site.version, "signed_off_by": "王主任", "signature": ""},
    )
    visit = on_site.visits.get()
    assert (visit.signed_off_by, visit.signature.name, visit.departed_at is not None) == ("王主任", "", True)


@pytest.fixture
def signed_visit(on_site, engineer):
    services.record_departure(on_site, by=engineer, signed_off_by="王主任", signature=png(320, 120))
    return on_site.visits.get()


@pytest.mark.parametrize("persona", ["engineer", "agent", "manager", "alice"])
def test_signature_is_shown_to_everyone_on_the_ticket(client, request, signed_visit, persona):
    # given
    client.force_login(request.getfixturevalue(persona))
    # when
    page = client.get(f"/tickets/{signed_visit.ticket.number}/").content.decode()
    image = client.get(f"/visits/{signed_visit.pk}/signature/")
    # then
    assert (
        f'<img class="signature-image" src="/visits/{signed_visit.pk}/signature/" alt="Signature of 王主任">'
    ) in page
    assert "<dt>Signed off by</dt><dd>王主任</dd>" in page
    assert image.status_code == 200
    assert image["Content-Type"] == "image/png"
    assert image["Content-Security-Policy"] == INLINE_POLICY
    assert image["X-Content-Type-Options"] == "nosniff"
    assert b"".join(image.streaming_content) == png(320, 120)


@pytest.mark.parametrize("persona", ["bob", "other_engineer"])
def test_signature_of_another_organisations_visit_is_404(client, request, signed_visit, persona):
    client.force_login(request.getfixturevalue(persona))
    assert client.get(f"/visits/{signed_visit.pk}/signature/").status_code == 404


def test_visit_without_a_signature_has_no_signature_image(client, on_site, engineer):
    client.force_login(engineer)
    assert client.get(f"/visits/{on_site.visits.get().pk}/signature/").status_code == 404


def test_service_refuses_bytes_that_are_not_a_png(on_site, engineer, media):
    before = state(on_site)
    with pytest.raises(services.TicketError, match="The signature is not a PNG picture"):
        services.record_departure(on_site, by=engineer, signature=JPEG)
    assert state(on_site) == before
    assert not list(media.rglob("*"))


# The API


def test_api_depart_with_a_signature(on_site, engineer, media):
    # given
    api = APIClient()
    api.force_authenticate(engineer)
    # when
    response = api.post(
        f"/api/tickets/{on_site.number}/depart/",
        {"version": on_site.version, "signed_off_by": "王主任", "signature": data_url(png(320, 120))},
        format="json",
    )
    # then
    assert response.status_code == 200
    assert response.json()["status"] == Status.IN_PROGRESS
    visit = on_site.visits.get()
    [listed] = api.get(f"/api/tickets/{on_site.number}/visits/").json()
    assert listed["signed_off_by"] == "王主任"
    assert listed["signature_url"] == f"/visits/{visit.pk}/signature/"
    assert (media / visit.signature.name).read_bytes() == png(320, 120)


def test_api_depart_with_a_bad_signature_is_refused(on_site, engineer, media):
    api = APIClient()
    api.cookies["django_language"] = "en"
    api.force_authenticate(engineer)
    before = state(on_site)
    response = api.post(
        f"/api/tickets/{on_site.number}/depart/",
        {"version": on_site.version, "signature": "data:image/png;base64,%%%"},
        format="json",
    )
    assert response.status_code == 400
    assert response.json() == {
        "detail": "signature: The signature could not be read. Clear it and sign again.",
        "errors": {"signature": ["The signature could not be read. Clear it and sign again."]},
    }
    assert state(on_site) == before
    assert not list(media.rglob("*.png"))


# The printed fault handling report


@pytest.fixture
def reported(clock, make_ticket, team, engineer, centre):
    """
    A Level II fault on a 7x24 contract, on site: logged Monday 09:00, accepted 09:20, travel
    09:30, arrival 11:40, departure 12:00 (signed), a fan awaited 13:00, resumed 15:00, resolved
    16:00, the report written 16:30.
    """
    centre.hotline = "025-8888 6666"
    centre.save(update_fields=["hotline"])
    ticket = make_ticket(team=team, assignee=engineer, on_site_required=True)

    def at(hour, minute):
        clock.move_to(NOW.replace(hour=hour, minute=minute), tick=False)

    at(9, 20)
    ticket = services.accept(ticket, by=engineer)
    at(9, 30)
    ticket = services.start_travel(ticket, by=engineer)
    at(11, 40)
    ticket = services.record_arrival(ticket, by=engineer)
    at(12, 0)
    ticket = services.record_departure(ticket, by=engineer, signed_off_by="王主任", signature=png(320, 120))
    at(13, 0)
    ticket = services.wait_for_parts(ticket, by=engineer, note="风扇模块 FAN-02")
    at(15, 0)
    ticket = services.resume(ticket, by=engineer, note="备件已到")
    at(16, 0)
    ticket = services.resolve(ticket, by=engineer, resolution="更换风扇模块后恢复", root_cause="风扇老化")
    at(16, 30)
    services.write_fault_report(
        ticket,
        by=engineer,
        fault_class="硬件故障",
        cause="风扇老化导致过热",
        method="更换风扇模块",
        loss="业务中断",
    )
    return ticket


def test_report_shows_promised_and_actual_times(client, reported, engineer):
    # given: 7x24 Level II promises: respond in 30 min, arrive in 120, workaround in 1440, resolve in 480
    client.force_login(engineer)
    # when
    page = client.get(f"/tickets/{reported.number}/report/").content.decode()
    # then
    moment = r'<td><span class="nowrap">(.*?)</span> <span class="nowrap">(.*?)</span></td>'
    rows = re.findall(rf'<tr><th scope="row">(.*?)</th>{moment}{moment}<td>(.*?)</td></tr>', page)
    assert rows == [
        ("First response", "2026-11-23", "09:30", "2026-11-23", "09:20", "Met in time"),
        ("On-site arrival", "2026-11-23", "11:00", "2026-11-23", "11:40", "Met late"),
        # the resolution answers the workaround promise too
        ("Workaround", "2026-11-24", "09:00", "2026-11-23", "16:00", "Met in time"),
        ("Resolution", "2026-11-23", "17:00", "2026-11-23", "16:00", "Met in time"),
    ]


def test_report_has_the_header_cause_measures_parts_and_signatures(
    client, reported, engineer, centre, settings
):
    client.force_login(engineer)
    page = client.get(f"/tickets/{reported.number}/report/").content.decode()
    visit = reported.visits.get()
    assert f'<p class="report-company"><strong>{settings.SITE_NAME}</strong> · 南京技术支持中心</p>' in page
    assert 'Service hotline: <a href="tel:025-8888 6666" class="nowrap">025-8888 6666</a>' in page
    assert '<dt>Cause</dt><dd class="pre">风扇老化导致过热</dd>' in page
    assert '<dt>Measures taken</dt><dd class="pre">更换风扇模块</dd>' in page
    assert '<dt>Resolution</dt><dd class="pre">更换风扇模块后恢复</dd>' in page
    assert (
        '<span class="pre">风扇模块 FAN-02</span> <span class="muted small nowrap">2026-11-23 13:00</span>'
        in page
    )
    assert "<dt>Engineer</dt><dd>" + str(engineer) + "</dd>" in page
    assert (
        f'<img class="signature-image" src="/visits/{visit.pk}/signature/" alt="Signature of 王主任">' in page
    )
    assert "<p>Name: 王主任</p>" in page
    assert "<p>Date: 2026-11-23</p>" in page
