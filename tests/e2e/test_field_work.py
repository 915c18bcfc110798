"""
A photo taken and a signature drawn: on a phone, the engineer attaches a photo of the fault from
the camera input and sees its thumbnail, then leaves the site with the customer's signature drawn on
the screen; the signature shows on the ticket and on the printed fault handling report.
"""

import re
import struct
import zlib

import pytest
from playwright.sync_api import expect

from tickets import services
from tickets.choices import Event, Status

from .harness import LANGUAGES, act_form, act_selector


def photo(width: int = 96, height: int = 72) -> bytes:
    """A real, decodable PNG: a blue-to-orange gradient, as a photo of a cabinet stands in for."""
    rows = b"".join(
        b"\x00" + b"".join(bytes((x * 255 // width, 90, 255 - x * 255 // width)) for x in range(width))
        for _y in range(height)
    )

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


def decoded(locator) -> bool:
    """The image (brought into view: thumbnails load lazily) is decoded, not a broken-image icon."""
    locator.scroll_into_view_if_needed()
    locator.page.wait_for_function("img => img.complete", arg=locator.element_handle())
    return locator.evaluate("img => img.naturalWidth > 0")


def open_step(page, act: str):
    """The form of a step: the likely next one stands open, any other is folded under a summary."""
    for folded in page.locator("main details", has=page.locator(act_selector(act))).all():
        if folded.get_attribute("open") is None:
            folded.locator("> summary").click()
    return act_form(page, act)


def submit(page, act: str) -> None:
    """Send a step's form (in place, or by a new page) and wait for the ticket as it is after it."""
    act_form(page, act).locator("button[type=submit]").click()
    expect(act_form(page, act)).to_have_count(0)
    page.reload()


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_photo_taken_and_a_signature_drawn(page_as, world, shot, assert_accessible, language):
    # given: a Level II fault whose engineer is on site
    world.centre.hotline = "025-8888 6666"
    world.centre.save(update_fields=["hotline"])
    ticket = world.log_call(on_site_required=True)
    ticket = services.accept(ticket, by=world.engineer)
    ticket = services.start_travel(ticket, by=world.engineer)
    ticket = services.record_arrival(ticket, by=world.engineer)
    page = page_as("engineer", viewport="phone", language=language)
    page.goto(f"/tickets/{ticket.number}/")

    # then: the site's address has a map link for the phone's map app
    expect(page.locator("main a.map-link")).to_have_attribute(
        "href", re.compile(r"^https://uri\.amap\.com/search\?keyword=%E5%8D%97%E4%BA%AC")
    )
    expect(page.locator("main a.map-link")).to_have_attribute("rel", "noopener")

    # when: a photo is taken with the camera button and sent with a comment
    comment = page.locator(f"main form[action$='/tickets/{ticket.number}/comment/']")
    expect(comment.locator("label.camera-button")).to_be_visible()
    comment.locator("textarea[name=body]").fill("机柜现场照片 / photo of the cabinet")
    comment.locator("input[capture=environment]").set_input_files(
        {"name": "image.png", "mimeType": "image/png", "buffer": photo()}
    )
    shot(page, "photo-chosen")
    comment.locator("button[type=submit]").click()

    # then: the photo shows as a thumbnail in the comment, and among the attachments
    in_comment = page.locator("main article.comment img.thumb")
    expect(in_comment).to_be_visible()
    assert decoded(in_comment)
    page.reload()
    thumbnails = page.locator("main img.thumb")
    expect(thumbnails).to_have_count(2)
    for index in range(2):
        assert decoded(thumbnails.nth(index))
    page.locator("main aside img.thumb").scroll_into_view_if_needed()
    assert_accessible(page)
    shot(page, "thumbnail")

    # and: a tap on it opens the preview, the picture itself, in a tab of its own
    with page.context.expect_page() as opened:
        page.locator("main aside a.file-thumb").first.click()
    preview = opened.value
    preview.wait_for_load_state()
    assert preview.url.endswith("/preview/")
    assert preview.evaluate("document.contentType") == "image/png"
    preview.close()

    # when: the engineer leaves the site, the customer signing on the screen with the finger
    depart = open_step(page, "depart")
    depart.locator("[name=signed_off_by]").fill("王主任")
    canvas = depart.locator("canvas.signature-canvas")
    expect(canvas).to_be_visible()
    canvas.scroll_into_view_if_needed()
    box = canvas.bounding_box()
    assert box["width"] <= 360 - 2 * 16  # the pad fits the phone's screen
    page.mouse.move(box["x"] + 20, box["y"] + box["height"] * 0.7)
    page.mouse.down()
    for step in range(1, 13):
        page.mouse.move(
            box["x"] + 20 + step * 18, box["y"] + box["height"] * (0.7 - 0.4 * (step % 2)), steps=3
        )
    page.mouse.up()
    assert depart.locator("[name=signature]").input_value().startswith("data:image/png;base64,")
    assert_accessible(page)
    shot(page, "signature-drawn")
    submit(page, "depart")

    # then: the visit shows who signed and the signature itself
    visit = page.locator("main aside .visits .visit")
    expect(visit).to_contain_text("王主任")
    signature = visit.locator("img.signature-image")
    expect(signature).to_be_visible()
    assert decoded(signature)
    assert_accessible(page)
    shot(page, "signed")

    # when: the fault is resolved and its report written
    resolve = open_step(page, "resolve")
    resolve.locator("[name=resolution]").fill("更换风扇模块后恢复 / fan replaced")
    resolve.locator("[name=root_cause]").fill("风扇老化 / worn fan")
    submit(page, "resolve")
    with page.expect_navigation():
        page.locator(f"main a[href$='/tickets/{ticket.number}/report/']").click()
    page.fill("#id_fault_class", "硬件故障 / hardware")
    page.fill("#id_cause", "风扇老化导致过热 / overheating")
    page.fill("#id_method", "更换风扇模块 / replaced the fan")
    page.fill("#id_loss", "业务中断两小时 / two hours down")
    with page.expect_navigation():
        page.locator("main form button[type=submit]").click()

    # then: the report has the company header, the times, the parts and both signature blocks
    report = page.locator("main article.report")
    expect(report.locator(".report-header")).to_contain_text(world.centre.name)
    expect(report.locator(".report-header")).to_contain_text("025-8888 6666")
    expect(report.locator(".report-times tbody tr")).to_have_count(4)
    printed = report.locator(".report-signatures img.signature-image")
    expect(printed).to_be_visible()
    assert decoded(printed)
    expect(report.locator(".report-signatures")).to_contain_text("王主任")
    assert_accessible(page)
    shot(page, "report")

    # and: printed, it shows neither the flash message, the app bar, nor the buttons
    expect(page.locator("main .flash")).to_be_visible()
    page.emulate_media(media="print")
    expect(page.locator("main .flash")).to_be_hidden()
    expect(page.locator(".app-bar")).to_be_hidden()
    expect(page.locator("main button").first).to_be_hidden()
    expect(printed).to_be_visible()
    shot(page, "report-print")
    page.emulate_media(media="screen")

    ticket.refresh_from_db()
    assert ticket.status == Status.RESOLVED
    [visit_row] = ticket.visits.all()
    assert visit_row.signed_off_by == "王主任"
    assert visit_row.signature.name.endswith(".png")
    assert ticket.attachments.get().content_type == "image/png"
    assert Event.DEPARTED in ticket.events.values_list("kind", flat=True)
