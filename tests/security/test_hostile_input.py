"""
Hostile input: what users type and upload is inert wherever it shows, and what the lists are
asked for stays inside their allow-lists.

- Scripts and event handlers in every text field a user fills (and in the names an administrator
  gives) render as text on every page, in the admin, in the API (JSON, and its browsable HTML)
  and in e-mails; reflected query strings and re-rendered forms too.
- Group robot messages (Markdown) carry no link, image or tag built from user text.
- Uploads are judged by their content: disguised, scripted, oversized and bomb files are
  refused with a clear message and leave no row and no file behind.
- Filter, search and ordering parameters outside the allow-list answer 400.
- Every page carries a Content Security Policy that forbids inline and evaluated scripts, and a
  download is an attachment in a sandbox.
"""

import html
import io
import json
import re
import struct
import zipfile
import zlib
from email.message import EmailMessage
from html.parser import HTMLParser
from urllib.parse import quote

import pytest
from django.conf import settings
from django.contrib import admin
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from accounts.models import Team, User
from customers.models import Contact, Equipment, Organisation, Site
from notifications.choices import Channel as NotificationChannel
from notifications.choices import RobotKind
from notifications.models import Notification, Robot
from notifications.services import escape_markdown, robot_payload
from sla.choices import State
from sla.models import Deadline
from tickets import services
from tickets.choices import Kind, Level, ProblemType, Risk, WorkMethod
from tickets.models import Attachment, Ticket

from .conftest import World, client_for, snapshot, text_upload
from .test_matrix import EXPECTED

XSS = '<script>alert(1)</script><img src=x onerror=alert(1)>"><svg onload=alert(1)>javascript:alert(1)'
SHORT = '"><svg onload=alert(1)>'
RAW = ("<script>alert(1)", "<img src=x onerror", "<svg onload", "onerror=alert(1)>")
DANGEROUS_SCHEME = re.compile(r"^\s*(javascript|vbscript|data\s*:\s*text/html|livescript)\s*:?", re.I)
DATA_BLOCKS = {"application/json", "application/ld+json"}
URL_ATTRIBUTES = {
    "href",
    "src",
    "action",
    "formaction",
    "data",
    "xlink:href",
    "poster",
    "background",
    "hx-get",
    "hx-post",
    "hx-put",
    "hx-delete",
    "hx-patch",
}


def hostile(label: str) -> str:
    return f"{label}{XSS}"


# Inspecting HTML.


class _Inspector(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.problems: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag, attrs):
        for name, value in attrs:
            if name.startswith(("on", "hx-on")):
                self.problems.append(f"<{tag} {name}={value!r}>: an event handler")
            control_free = re.sub(r"[\x00-\x20]", "", html.unescape(value or ""))
            if name in URL_ATTRIBUTES and DANGEROUS_SCHEME.match(control_free):
                self.problems.append(f"<{tag} {name}={value!r}>: a script address")
        if tag == "script":
            attributes = dict(attrs)
            src, kind = attributes.get("src") or "", (attributes.get("type") or "").lower()
            if kind in DATA_BLOCKS:
                return  # JSON a page carries for its scripts: never run (it cannot close the tag early)
            if not src.startswith("/") or src.startswith("//"):
                self.problems.append(f"<script src={src!r}>: a script not served by us")
            self._in_script = True

    def handle_endtag(self, tag):
        if tag == "script":
            self._in_script = False

    def handle_data(self, data):
        if self._in_script and data.strip():
            self.problems.append(f"an inline script: {data[:80]!r}")


def assert_inert(body: str, where: str) -> None:
    """No script, event handler or script address from anyone's text: only escaped text."""
    raw = [marker for marker in RAW if marker in body]
    assert not raw, f"{where}: unescaped {raw}"
    inspector = _Inspector()
    inspector.feed(body)
    inspector.close()
    assert not inspector.problems, f"{where}: {inspector.problems}"


# The hostile records: every text field a user fills, on two tickets of organisation A.


@pytest.fixture(scope="module")
def bad(world: World, django_db_blocker) -> dict:
    """Hostile names and two tickets full of hostile text: H1 resolved with a report, H2 open."""
    with django_db_blocker.unblock():
        return _build_bad(world)


def _build_bad(w: World) -> dict:
    Organisation.objects.filter(pk=w.org_a.pk).update(name=hostile("组织"), short_name=SHORT, address=SHORT)
    Site.objects.filter(pk=w.site_a.pk).update(name=hostile("机房"), address=SHORT, city=SHORT)
    Contact.objects.filter(pk=w.contact_a.pk).update(name=hostile("联系人"), title=SHORT)
    Equipment.objects.filter(pk=w.equipment_a.pk).update(model_name=hostile("型号"), software_version=SHORT)
    Team.objects.filter(pk=w.team.pk).update(name=hostile("服务组"))
    User.objects.filter(pk=w.user("engineer").pk).update(display_name=hostile("工程师"))
    engineer, agent, alice = (User.objects.get(pk=w.user(r).pk) for r in ("engineer", "agent", "alice"))
    supervisor = w.supervisor
    team = Team.objects.get(pk=w.team.pk)
    equipment = Equipment.objects.select_related("site__organisation", "contract").get(pk=w.equipment_a.pk)

    def log(label):
        details = services.CallDetails(
            organisation=equipment.site.organisation,
            title=hostile(label),
            description=hostile("描述"),
            kind=Kind.FAULT,
            level=Level.II,
            site=equipment.site,
            equipment=equipment,
            contract=equipment.contract,
            contact=Contact.objects.get(pk=w.contact_a.pk),
        )
        return services.log_call(details, by=agent, team=team, assignee=engineer)

    h1 = services.accept(log("H1"), by=engineer)
    services.respond(h1, by=engineer, note=hostile("回复"))
    services.start_travel(h1, by=engineer)
    services.record_arrival(h1, by=engineer)
    services.log_work(h1, by=engineer, minutes=30, method=WorkMethod.ON_SITE, note=hostile("工作"))
    services.record_departure(h1, by=engineer, signed_off_by=SHORT, note=hostile("离场"))
    services.analyse(h1, by=engineer, problem_type=ProblemType.TECHNICAL, note=hostile("分析"))
    services.give_workaround(h1, by=engineer, workaround=hostile("临时方案"))
    approval = services.request_approval(h1, by=engineer, risk=Risk.REINSTALL, plan=hostile("计划"))
    services.decide_risk(approval, by=supervisor, approve=True, reason=hostile("理由"))
    services.record_consent(approval, by=engineer, given_by=SHORT, note=hostile("同意"))
    services.add_comment(h1, by=alice, body=hostile("客户评论"), files=[text_upload(f"{SHORT}.log")])
    services.add_comment(h1, by=engineer, body=hostile("工程师回复"))
    services.add_comment(h1, by=engineer, body=hostile("内部"), is_internal=True)
    services.attach(h1, by=alice, files=[text_upload("'\"><img src=x onerror=alert(1)>.txt")])
    services.pause(h1, by=engineer, reason=hostile("等待"))
    services.resume(h1, by=engineer, note=hostile("继续"))
    services.resolve(h1, by=engineer, resolution=hostile("解决"), root_cause=hostile("根因"))
    services.write_fault_report(
        h1,
        by=engineer,
        fault_class=SHORT,
        cause=hostile("原因"),
        method=hostile("方法"),
        loss=hostile("损失"),
    )
    h2 = log("H2")
    Deadline.objects.filter(object_id=h2.pk).update(state=State.WARNED)
    Notification.objects.create(
        recipient=alice,
        channel=NotificationChannel.IN_APP,
        kind="test",
        subject=hostile("主题"),
        body=hostile("正文"),
        url="javascript:alert(1)",
    )
    return {"h1": h1.number, "h2": h2.number, "approval": approval.pk}


# Pages that show the hostile text, by the role that sees it.
PAGES = [
    ("alice", lambda b, w: f"/tickets/{b['h1']}/"),
    ("engineer", lambda b, w: f"/tickets/{b['h1']}/"),
    ("agent", lambda b, w: f"/tickets/{b['h2']}/"),
    ("manager", lambda b, w: f"/tickets/{b['h1']}/"),
    ("engineer", lambda b, w: f"/tickets/{b['h1']}/report/"),
    ("agent", lambda b, w: "/tickets/"),
    ("agent", lambda b, w: f"/tickets/?q={quote(XSS)}"),
    ("agent", lambda b, w: f"/tickets/?status={quote(XSS)}"),
    ("agent", lambda b, w: f"/tickets/?{quote(XSS)}=1"),
    ("alice", lambda b, w: "/portal/?state=all"),
    ("alice", lambda b, w: f"/portal/?q={quote(XSS)}&state={quote(XSS)}&page={quote(XSS)}"),
    ("alice", lambda b, w: "/portal/new/"),
    ("alice", lambda b, w: "/portal/equipment/"),
    ("engineer", lambda b, w: "/work/"),
    ("manager", lambda b, w: "/sla/queue/"),
    ("manager", lambda b, w: f"/sla/queue/?centre={quote(XSS)}&team=1&page={quote(XSS)}"),
    ("manager", lambda b, w: "/dashboard/"),
    ("alice", lambda b, w: "/notifications/"),
    ("engineer", lambda b, w: "/notifications/"),
    ("supervisor", lambda b, w: "/notifications/"),
    ("agent", lambda b, w: f"/intake/?serial={w.equipment_a.serial_number}&contract="),
    ("agent", lambda b, w: f"/intake/?contact={w.contact_a.pk}"),
    ("agent", lambda b, w: f"/intake/?q={quote(XSS)}&serial={quote(XSS)}&contract={quote(XSS)}"),
    ("alice", lambda b, w: f"/api/tickets/{b['h1']}/"),
    ("agent", lambda b, w: "/api/tickets/"),
]


def _client(world: World, role: str, *, api=False):
    if role == "supervisor":
        client = client_for(world, "anonymous", api=api)
        client.force_login(world.supervisor)
        return client
    return client_for(world, role, api=api)


@pytest.mark.parametrize(("role", "url"), PAGES, ids=[f"{r} {i}" for i, (r, _u) in enumerate(PAGES)])
def test_hostile_text_is_inert_on_the_page(world, bad, role, url):
    path = url(bad, world)
    # The API is asked for its browsable HTML: the JSON shown there must be escaped too.
    response = _client(world, role).get(path, headers={"Accept": "text/html"})
    assert response.status_code in (200, 400), f"{path}: {response.status_code}"
    assert_inert(response.content.decode(), f"{path} as {role}")


def test_hostile_text_shows_as_text_where_it_is_expected(world, bad):
    """The escaping keeps the words: the title reads as typed, not swallowed or cut."""
    body = client_for(world, "alice").get(f"/tickets/{bad['h1']}/").content.decode()
    assert hostile("H1") not in body
    assert hostile("H1") in html.unescape(body)


def test_intake_live_search_fragment_is_inert(world, bad):
    for query in (XSS, "组织", "联系人"):
        response = client_for(world, "agent").get(
            "/intake/", {"q": query}, headers={"HX-Request": "true", "HX-Target": "caller-results"}
        )
        assert response.status_code == 200
        assert_inert(response.content.decode(), f"intake search {query!r}")


def test_api_json_carries_the_text_as_data(world, bad):
    response = client_for(world, "alice", api=True).get(f"/api/tickets/{bad['h1']}/")
    assert response["Content-Type"].startswith("application/json")
    assert response["X-Content-Type-Options"] == "nosniff"
    data = json.loads(response.content)
    assert data["title"] == hostile("H1")
    assert [comment["body"] for comment in data["comments"]] == [hostile("客户评论"), hostile("工程师回复")]


def test_refused_forms_show_what_was_typed_inert(world, bad):
    """A refused act (stale version) and a refused call show the typed text again, escaped."""
    client = client_for(world, "engineer")
    stale = client.post(f"/tickets/{bad['h2']}/act/respond/", {"version": 999, "note": XSS})
    assert stale.status_code == 409
    assert_inert(stale.content.decode(), "stale respond")
    refused = client_for(world, "agent").post(
        "/intake/", {"organisation": world.org_a.pk, "title": XSS, "description": XSS, "kind": "fault"}
    )
    assert refused.status_code == 400
    assert_inert(refused.content.decode(), "refused intake")
    comment = client_for(world, "alice").post(f"/tickets/{bad['h2']}/comment/", {"body": XSS, "version": 999})
    assert comment.status_code == 409
    assert_inert(comment.content.decode(), "stale comment")


def _admin_urls(bad) -> list[str]:
    urls = []
    for model in admin.site._registry:
        info = (model._meta.app_label, model._meta.model_name)
        urls.append(reverse("admin:{}_{}_changelist".format(*info)))
    ticket = Ticket.objects.get(number=bad["h1"])
    for obj in (
        ticket,
        ticket.organisation,
        ticket.contact,
        ticket.site,
        ticket.equipment,
        ticket.team,
        ticket.assignee,
        ticket.risk_approvals.get(),
        ticket.fault_report,
    ):
        info = (obj._meta.app_label, obj._meta.model_name)
        if obj.__class__ in admin.site._registry:
            urls.append(reverse("admin:{}_{}_change".format(*info), args=[obj.pk]))
    return urls


def test_hostile_text_is_inert_in_the_admin(world, bad):
    client = client_for(world, "admin")
    for url in _admin_urls(bad):
        response = client.get(url)
        assert response.status_code == 200, url
        assert_inert(response.content.decode(), url)


def test_notification_link_never_leaves_the_site(world, bad):
    notification = Notification.objects.get(kind="test")
    response = client_for(world, "alice").post(f"/notifications/{notification.pk}/read/")
    assert response.status_code == 302
    assert response["Location"] == "/notifications/"


# E-mail.


def test_notification_email_is_plain_text_and_one_line_subject(
    world, bad, django_capture_on_commit_callbacks
):
    # given: a call whose title tries to add a header, and a reply full of markup
    equipment = Equipment.objects.select_related("site__organisation", "contract").get(
        pk=world.equipment_a.pk
    )
    details = services.CallDetails(
        organisation=equipment.site.organisation,
        title="交换机\r\nBcc: evil@example.com\r\n\r\n" + XSS,
        kind=Kind.FAULT,
        level=Level.III,
        site=equipment.site,
        equipment=equipment,
    )
    engineer = User.objects.get(pk=world.user("engineer").pk)
    # when
    with django_capture_on_commit_callbacks(execute=True):
        ticket = services.log_call(details, by=world.user("agent"), team=world.team, assignee=engineer)
    with django_capture_on_commit_callbacks(execute=True):
        services.add_comment(Ticket.objects.get(pk=ticket.pk), by=engineer, body=XSS)
    # then
    assert {tuple(message.to) for message in mail.outbox} == {("eng@example.cn",), ("alice@example.cn",)}
    for message in mail.outbox:
        assert "\n" not in message.subject and "\r" not in message.subject
        assert message.content_subtype == "plain"
        assert not getattr(message, "alternatives", None), "an HTML part must be escaped: add a check"
        assert message.bcc == [] and message.cc == []
        headers = message.message().as_string().split("\n\n", 1)[0]
        assert "\nBcc:" not in headers and "evil@example.com" not in message.recipients()


# Group robots (DingTalk, WeCom): Markdown built from user text.

LINKS = [
    "[点我](javascript:alert(1))",
    "[点我](JaVaScRiPt:alert(1))",
    "[点我](java\tscript:alert(1))",
    "[点我](java\nscript:alert(1))",
    "[点我](&#106;avascript:alert(1))",
    "[点我](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    "[点我](vbscript:msgbox(1))",
    "[点我](http://evil.example.com)",
    "![图](javascript:alert(1))",
    "[点我] (javascript:alert(1))",
    "[点我][1]\n\n[1]: javascript:alert(1)",
    '<a href="javascript:alert(1)">点我</a>',
    "<javascript:alert(1)>",
    "<img src=x onerror=alert(1)>",
    "\\[点我\\](javascript:alert(1))",
    XSS,
]
ENTITY_LINKS = [
    "&#91;点我&#93;&#40;javascript:alert(1)&#41;",
    "&lt;a href=javascript:alert(1)&gt;点我&lt;/a&gt;",
]
MARKDOWN_LINK = re.compile(r"!?\[([^\]\n]*)\]\s*\(([^)]*)\)")
REFERENCE = re.compile(r"^\s*\[[^\]]+\]:", re.M)
TAG = re.compile(r"<\s*[A-Za-z/!?]")


def _markdown(payload: dict) -> list[str]:
    part = payload["markdown"]
    return [part[key] for key in ("title", "text", "content") if key in part]


def assert_markdown_inert(texts: list[str], where: str) -> None:
    site = settings.SITE_URL.rstrip("/") + "/"
    for text in texts:
        links = MARKDOWN_LINK.findall(text)
        foreign = [url for _label, url in links if not url.startswith(site)]
        assert not foreign, f"{where}: a link built from user text: {foreign}"
        assert len(links) <= 1, f"{where}: more links than the message's own: {links}"
        for _label, url in links:
            assert not re.search(r"[\s()<>\[\]\"]", url), f"{where}: the link's address breaks out: {url!r}"
        assert not REFERENCE.search(text), f"{where}: a reference link definition"
        assert not TAG.search(text), f"{where}: a tag or autolink"


def _robot_message(kind: str, text: str, url: str = "/tickets/SD-2026-000001/") -> Notification:
    robot = Robot(name="值班群", kind=kind, url="https://oapi.dingtalk.com/robot/send?access_token=x")
    return Notification(
        robot=robot,
        channel=NotificationChannel.WEBHOOK,
        kind="test",
        subject=f"主题 {text}"[:200],
        body=f"正文 {text}",
        url=url,
    )


@pytest.mark.parametrize("kind", RobotKind.values)
@pytest.mark.parametrize("text", LINKS, ids=[repr(t)[:40] for t in LINKS])
def test_robot_markdown_carries_no_link_from_user_text(kind, text):
    assert_markdown_inert(_markdown(robot_payload(_robot_message(kind, text))), f"{kind} {text!r}")


@pytest.mark.parametrize("kind", RobotKind.values)
@pytest.mark.parametrize("text", ENTITY_LINKS, ids=["entity brackets", "entity tag"])
def test_robot_markdown_carries_no_link_spelt_in_character_references(kind, text):
    texts = [html.unescape(part) for part in _markdown(robot_payload(_robot_message(kind, text)))]
    assert_markdown_inert(texts, f"{kind} {text!r} once entities are decoded")


@pytest.mark.parametrize(
    "url",
    [
        "javascript:alert(1)",
        "/x) [evil](javascript:alert(1)",
        "/x> <a href=javascript:alert(1)>",
        "//evil.example.com/",
    ],
)
@pytest.mark.parametrize("kind", RobotKind.values)
def test_robot_link_address_cannot_be_broken_out_of(kind, url):
    payload = robot_payload(_robot_message(kind, "正常", url=url))
    assert_markdown_inert(_markdown(payload), f"{kind} url {url!r}")


def test_escape_markdown_leaves_no_markdown_or_html_syntax():
    escaped = escape_markdown("[a](javascript:x) ![b](c) <a href=x> <javascript:x>")
    assert not set("[]()<>") & set(escaped)


# Uploads: judged by content; refused ones leave nothing behind.


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png(width: int = 2, height: int = 2, tail: bytes = b"") -> bytes:
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _chunk(b"IHDR", header)
        + _chunk(b"IDAT", zlib.compress(b"\x00" * 7))
        + _chunk(b"IEND", b"")
        + tail
    )


def jpeg(width: int, height: int, *, exif: int = 0) -> bytes:
    """A JPEG declaring width × height, after an APP1 (EXIF) segment of `exif` bytes if given."""
    app1 = b"\xff\xe1" + struct.pack(">H", exif + 2) + b"E" * exif if exif else b""
    jfif = b"\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"
    frame = (
        b"\xff\xc0\x00\x11\x08"
        + struct.pack(">HH", height, width)
        + b"\x03\x01\x22\x00\x02\x11\x01\x03\x11\x01"
    )
    return b"\xff\xd8" + jfif + app1 + frame + b"\xff\xd9"


def gif(width: int, height: int) -> bytes:
    return b"GIF89a" + struct.pack("<HH", width, height) + b"\x80\x00\x00" + b"\x00" * 6 + b";"


def webp(width: int, height: int) -> bytes:
    body = b"WEBP" + b"VP8X" + struct.pack("<I", 10) + b"\x00" * 4
    body += (width - 1).to_bytes(3, "little") + (height - 1).to_bytes(3, "little")
    return b"RIFF" + struct.pack("<I", len(body)) + body


def zip_bomb(*, office: bool = False) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        if office:
            archive.writestr("[Content_Types].xml", "<Types/>")
            archive.writestr("word/document.xml", b"\x00" * (30 * 1024 * 1024))
        else:
            archive.writestr("app.log", b"\x00" * (30 * 1024 * 1024))
    return buffer.getvalue()


SVG = b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"><script>alert(1)</script></svg>'
PDF = b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n"
PHP = b"<?php system($_GET['c']); ?>\n"
NOT_ALLOWED = "is not an allowed file, or its content does not match its name"

# name, content, the words the refusal must contain (English), and a bug if the app accepts it.
BAD_FILES = [
    ("photo.PNG.exe", png(), NOT_ALLOWED, None),
    ("photo.png.EXE", png(), NOT_ALLOWED, None),
    ("invoice.pdf.html", PDF, NOT_ALLOWED, None),
    ("invoice.PDF.HTM", PDF, NOT_ALLOWED, None),
    ("a.php.png", PHP, NOT_ALLOWED, None),
    ("a.php", PHP, NOT_ALLOWED, None),
    ("drawing.svg", SVG, NOT_ALLOWED, None),
    ("drawing.SVG", SVG, NOT_ALLOWED, None),
    ("drawing.png", SVG, NOT_ALLOWED, None),
    ("drawing.txt", SVG, NOT_ALLOWED, None),
    ("drawing.xml", b'<?xml version="1.0"?>\n' + SVG, NOT_ALLOWED, None),
    ("page.txt", b"<!DOCTYPE html><html><body>hi</body></html>", NOT_ALLOWED, None),
    ("page.log", b"<HTML><BODY>hi</BODY></HTML>", NOT_ALLOWED, None),
    ("page.txt", b"<script>alert(1)</script>", NOT_ALLOWED, None),
    ("padded.txt", b"log line\n" * 500 + SVG, NOT_ALLOWED, None),
    ("fragment.txt", b"<img src=x onerror=alert(1)>", NOT_ALLOWED, None),
    ("frame.log", b"<iframe src=javascript:alert(1)></iframe>", NOT_ALLOWED, None),
    ("program.exe", b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff", NOT_ALLOWED, None),
    ("logs.zip", zip_bomb(), "unpacks to far more than its size", None),
    ("report.docx", zip_bomb(office=True), "unpacks to far more than its size", None),
    ("broken.zip", b"PK\x03\x04garbage", "damaged archive", None),
    ("bomb.png", png(100_000, 100_000), "too large", None),
    ("bomb.PNG", png(65_535, 65_535), "too large", None),
    ("bomb.gif", gif(65_535, 65_535), "too large", None),
    ("bomb.jpg", jpeg(65_535, 65_535), "too large", None),
    ("bomb.webp", webp(16_000, 16_000), "too large", None),
    ("exif-bomb.jpg", jpeg(65_535, 65_535, exif=5000), "too large", None),
    ("empty.txt", b"", "is empty", None),
    ("oversized.log", b"x" * 4096, "the limit is", None),
]


def _comment_page(world, upload):
    number = world.number("assigned")
    return client_for(world, "alice").post(
        f"/tickets/{number}/comment/",
        {"body": "附件", "version": world.version("assigned"), "files": [upload]},
    )


def _attach_api(world, upload):
    number = world.number("assigned")
    return client_for(world, "engineer", api=True).post(
        f"/api/tickets/{number}/attach/",
        {"version": world.version("assigned"), "files": [upload]},
        format="multipart",
    )


def _portal_request(world, upload):
    return client_for(world, "alice").post(
        "/portal/new/",
        {
            "site": world.site_a.pk,
            "kind": "consultation",
            "urgency": "general",
            "title": "附件",
            "files": [upload],
        },
    )


ENDPOINTS = {"comment page": _comment_page, "attach API": _attach_api, "portal request": _portal_request}


def _upload_params():
    params = []
    for name, content, message, bug in BAD_FILES:
        for endpoint in ENDPOINTS:
            reason = bug
            marks = [pytest.mark.xfail(strict=True, reason=reason)] if reason else []
            params.append(
                pytest.param(name, content, message, endpoint, id=f"{name} via {endpoint}", marks=marks)
            )
    return params


@pytest.mark.parametrize(("name", "content", "message", "endpoint"), _upload_params())
def test_bad_upload_is_refused_and_nothing_is_stored(
    world, media_root, settings, name, content, message, endpoint
):
    # given
    if name == "oversized.log":
        settings.ATTACHMENT_MAX_BYTES = 2048
    upload = SimpleUploadedFile(name, content, content_type="text/plain")
    before = snapshot(media_root)
    # when
    response = ENDPOINTS[endpoint](world, upload)
    # then
    assert response.status_code == 400, f"{name} was accepted ({response.status_code})"
    assert message in response.content.decode(), response.content.decode()[:2000]
    assert snapshot(media_root) == before


def test_too_many_files_at_once_are_refused(world, media_root):
    before = snapshot(media_root)
    files = [text_upload(f"{index}.log") for index in range(11)]
    response = client_for(world, "alice").post(
        f"/tickets/{world.number('assigned')}/comment/",
        {"body": "附件", "version": world.version("assigned"), "files": files},
    )
    assert response.status_code == 400
    assert "at most 10 files" in response.content.decode()
    assert snapshot(media_root) == before


@pytest.mark.parametrize(
    "name",
    [
        "../../../etc/passwd.txt",
        "..\\..\\boot.ini.txt",
        "/etc/cron.d/x.log",
        "a\x00b.txt",
        'a";filename=x.html;".txt',
        "a\r\nContent-Type: text/html\r\n.txt",
        "<img src=x onerror=alert(1)>.txt",
    ],
)
def test_file_names_cannot_choose_where_or_how_the_file_is_stored(world, media_root, name):
    """Names reach the service as given (the multipart parser would already trim some of them)."""
    ticket = Ticket.objects.get(pk=world.tickets["assigned"].pk)
    (attachment,) = services.attach(ticket, by=world.user("alice"), files=[text_upload(name)])
    stored = (media_root / attachment.file.name).resolve()
    assert stored.is_relative_to((media_root / "attachments").resolve())
    assert not set('/\\"<>\x00\r\n') & set(attachment.original_name) and ".." not in attachment.original_name
    assert attachment.file.name.endswith(name[-4:]) and attachment.content_type == "text/plain"
    download = client_for(world, "alice").get(f"/attachments/{attachment.pk}/")
    disposition = download["Content-Disposition"]
    assert disposition.startswith("attachment;") and "\n" not in disposition and "\r" not in disposition
    header = EmailMessage()
    header["Content-Disposition"] = disposition
    assert header.get_content_disposition() == "attachment"
    assert header.get_filename().endswith(name[-4:]) and "/" not in header.get_filename()
    assert download["Content-Type"] == "text/plain"


def test_polyglot_image_is_stored_and_sent_only_as_an_image(world, media_root):
    """A real PNG with PHP after its end is an image: kept under a random .png name, never run."""
    response = _comment_page(world, SimpleUploadedFile("a.php.png", png(tail=PHP), content_type="image/png"))
    assert response.status_code == 302
    attachment = Attachment.objects.latest("pk")
    assert attachment.file.name.endswith(".png") and ".php" not in attachment.file.name
    download = client_for(world, "alice").get(f"/attachments/{attachment.pk}/")
    assert download["Content-Type"] == "image/png"
    assert download["Content-Disposition"].startswith("attachment;")
    assert download["X-Content-Type-Options"] == "nosniff"


# Filters, search and ordering: outside the allow-list, 400.

BAD_QUERIES = [
    "kind=fault&kind=fault",
    "kind=fault&kind=change",
    "level=1&level=2",
    "q=a&q=b",
    "status[]=new",
    "status%5B%5D=new",
    "kind[]=fault",
    "organisation__name=x",
    "organisation__name__icontains=x",
    "assignee__username=admin",
    "logged_by__password__startswith=md5",
    "organisation__in=1,2",
    "title__regex=.*",
    "ordering=organisation__name",
    "ordering=password",
    "ordering=assignee__password",
    "ordering=-logged_by__password",
    "ordering=created_at,assignee__password",
    "ordering=created_at&ordering=number",
    "status=bogus",
    "organisation=abc",
    "created_after=yesterday",
    "search=x",
    "fields=password",
    "page_size=100000",
    "limit=1",
    "SELECT=1",
]


@pytest.mark.parametrize("path", ["/api/tickets/", "/tickets/"])
@pytest.mark.parametrize("query", BAD_QUERIES)
def test_parameter_outside_the_allow_list_is_refused(world, path, query):
    response = client_for(world, "agent", api=path.startswith("/api/")).get(f"{path}?{query}")
    assert response.status_code == 400, f"{path}?{query}: {response.status_code}"


@pytest.mark.parametrize("path", ["/api/tickets/", "/tickets/"])
@pytest.mark.parametrize(
    "query", ["status=new&status=assigned", "ordering=-created_at", "q=交换机&kind=fault"]
)
def test_parameters_inside_the_allow_list_are_answered(world, path, query):
    response = client_for(world, "agent", api=path.startswith("/api/")).get(f"{path}?{query}")
    assert response.status_code == 200


@pytest.mark.parametrize("suffix", ["", "comments/", "timeline/", "work_logs/", "visits/"])
def test_ticket_reads_refuse_parameters(world, suffix):
    url = f"/api/tickets/{world.number('assigned')}/{suffix}?ordering=organisation__name"
    assert client_for(world, "agent", api=True).get(url).status_code == 400


# Content Security Policy.


def _policy(response) -> dict[str, list[str]]:
    header = response.get("Content-Security-Policy")
    assert header, "no Content-Security-Policy"
    directives = {}
    for part in header.split(";"):
        name, *values = part.split()
        directives[name.lower()] = values
    return directives


def assert_policy(response, where: str) -> None:
    policy = _policy(response)
    scripts = policy.get("script-src", policy.get("default-src"))
    assert scripts is not None, f"{where}: no script-src nor default-src"
    for loose in ("'unsafe-inline'", "'unsafe-eval'", "*", "data:", "http:", "https:"):
        assert loose not in scripts, f"{where}: script-src allows {loose}"
    assert policy.get("object-src", policy.get("default-src")) in (["'none'"], ["'self'"]), where


PAGE_GETS = [(name, case) for name, cases in EXPECTED.items() for case in cases if case.method == "GET"]


@pytest.mark.parametrize("role", ["anonymous", "alice", "engineer", "admin"])
def test_every_page_has_a_content_security_policy(world, role):
    client = client_for(world, role)
    for name, case in PAGE_GETS:
        url = case.url(world)
        response = client.get(url, headers=case.headers)
        assert_policy(response, f"{name} {url} as {role} ({response.status_code})")


def test_refused_and_missing_pages_have_the_policy_too(world):
    client = client_for(world, "alice")
    for url in ("/no-such-page/", "/intake/", f"/tickets/{world.bob_ticket.number}/"):
        assert_policy(client.get(url), url)
    assert_policy(
        client.post(f"/tickets/{world.number('assigned')}/comment/", {"body": "", "version": 1}), "400"
    )


def test_download_is_an_attachment_in_a_sandbox(world):
    response = client_for(world, "alice").get(f"/attachments/{world.attachment.pk}/")
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment;")
    policy = _policy(response)
    assert "sandbox" in policy and policy.get("default-src") == ["'none'"]
    assert response["X-Content-Type-Options"] == "nosniff"
