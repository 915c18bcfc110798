"""
What probing the desk from outside found (issue 10, section 2), each now refused with a message
and changing nothing:

- 2.2 text and bodies of any size: every text field has a length limit, a body too large to read
  is refused with 413, and uploads keep working up to their own limit;
- 2.3 answers of 500: a NUL byte in a ticket number (404) or a query parameter (400), a word
  where a number belongs, a hand-made cursor and JSON nested a thousand deep (400); and a server
  error under /api/ answers JSON;
- 2.9 private pages and API answers kept in caches; customers creating tickets, comments and
  uploads without limit (429 past the hourly quota).
"""

import base64
import inspect
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from django import forms as django_forms
from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework import serializers as drf_serializers
from rest_framework.authtoken.models import Token

from tickets import forms as ticket_forms
from tickets import serializers as ticket_serializers
from tickets.api import TicketCursorPagination, TicketViewSet
from tickets.models import Attachment, Comment, StagedUpload, Ticket

from .conftest import World, client_for, snapshot


def quiet(client):
    """The client gets a server error as a browser would, rather than the test raising it."""
    client.raise_request_exception = False
    return client


def upload(name: str = "fault.log", size: int = 64) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, b"link down on eth0\n" * (size // 18 + 1), content_type="text/plain")


# 2.2: text and bodies of any size.


# Longer by nature and bounded by a limit of their own: the customer's signature is a PNG data URL
# (tickets.uploads.SIGNATURE_FIELD_MAX characters; the PNG itself at most 300 KB).
LONG_BY_NATURE = {"API DepartSerializer.signature": 1_228_800, "form DepartForm.signature": 1_228_800}


def test_every_text_field_of_the_api_and_the_forms_has_a_length_limit():
    unlimited = []
    for name, serializer in inspect.getmembers(ticket_serializers, inspect.isclass):
        if issubclass(serializer, ticket_serializers.StrictSerializer):
            for field_name, field in serializer(context={"organisation": None}).fields.items():
                if isinstance(field, drf_serializers.CharField) and not field.read_only:
                    limit = LONG_BY_NATURE.get(f"API {name}.{field_name}", 20_000)
                    if field.max_length is None or field.max_length > limit:
                        unlimited.append(f"API {name}.{field_name}")
    for name, form in inspect.getmembers(ticket_forms, inspect.isclass):
        if issubclass(form, django_forms.BaseForm):
            for field_name, field in form.base_fields.items():
                if isinstance(field, django_forms.CharField):
                    limit = LONG_BY_NATURE.get(f"form {name}.{field_name}", 20_000)
                    if field.max_length is None or field.max_length > limit:
                        unlimited.append(f"form {name}.{field_name}")
    assert unlimited == []


def test_too_long_text_is_refused_by_the_api_and_nothing_is_stored(world: World, media_root):
    api = client_for(world, "alice", api=True)
    before = snapshot(media_root)
    filed = api.post(
        "/api/tickets/",
        {"site": world.site_a.pk, "kind": "consultation", "title": "很长", "description": "长" * 20_001},
        format="json",
    )
    assert filed.status_code == 400
    assert filed.json()["errors"] == {"description": ["Ensure this field has no more than 20000 characters."]}
    commented = api.post(
        f"/api/tickets/{world.number('assigned')}/comment/",
        {"version": world.version("assigned"), "body": "长" * 10_001},
        format="json",
    )
    assert commented.status_code == 400
    assert commented.json()["errors"] == {"body": ["Ensure this field has no more than 10000 characters."]}
    assert snapshot(media_root) == before
    # at the limit, the comment is taken
    at_the_limit = api.post(
        f"/api/tickets/{world.number('assigned')}/comment/",
        {"version": world.version("assigned"), "body": "长" * 10_000},
        format="json",
    )
    assert at_the_limit.status_code == 200
    assert len(Comment.objects.latest("pk").body) == 10_000


def test_too_long_text_is_refused_on_the_pages_keeping_what_was_typed(world: World, media_root):
    page = client_for(world, "alice")
    before = snapshot(media_root)
    filed = page.post(
        "/portal/new/",
        {
            "site": world.site_a.pk,
            "kind": "consultation",
            "urgency": "general",
            "title": "KEEP-THIS-TITLE",
            "description": "长" * 20_001,
        },
    )
    assert filed.status_code == 400
    assert "The description may have at most 20000 characters; it has 20001." in filed.content.decode()
    assert "KEEP-THIS-TITLE" in filed.content.decode()
    commented = page.post(
        f"/tickets/{world.number('assigned')}/comment/",
        {"version": world.version("assigned"), "body": "KEEP" + "长" * 10_000},
    )
    assert commented.status_code == 400
    assert "Ensure this value has at most 10000 characters (it has 10004)." in commented.content.decode()
    assert snapshot(media_root) == before


def test_a_body_too_large_to_read_is_refused_with_413(world: World, settings, media_root):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 64 * 1024
    before = snapshot(media_root)
    number, version = world.number("assigned"), world.version("assigned")
    api = client_for(world, "alice", api=True)
    # JSON: refused before it is read
    filed = api.post(
        "/api/tickets/",
        {"site": world.site_a.pk, "kind": "consultation", "title": "大", "description": "x" * 100_000},
        format="json",
    )
    assert filed.status_code == 413
    assert filed.json()["detail"].startswith("The request is 97.7"), filed.json()
    # a form on a page, as the browser sends it (multipart: it has a file field) or plain
    page = client_for(world, "alice")
    commented = page.post(f"/tickets/{number}/comment/", {"version": version, "body": "x" * 100_000})
    assert commented.status_code == 413
    assert "The text of the request is larger than 64.0\xa0KB" in commented.content.decode()
    commented = page.post(
        f"/tickets/{number}/comment/",
        urlencode({"version": version, "body": "x" * 100_000}),
        content_type="application/x-www-form-urlencoded",
    )
    assert commented.status_code == 413
    assert "at most 64.0\xa0KB is accepted" in commented.content.decode()
    # the text of a multipart form: the upload may be large, not the text beside it
    multipart = quiet(api).post(
        f"/api/tickets/{number}/comment/", {"version": version, "body": "x" * 100_000}, format="multipart"
    )
    assert multipart.status_code == 413
    assert multipart["Content-Type"] == "application/json"
    assert snapshot(media_root) == before
    # while a file larger than that limit (and within ATTACHMENT_MAX_BYTES) is still taken
    attached = api.post(
        f"/api/tickets/{number}/attach/",
        {"version": version, "files": [upload(size=200_000)]},
        format="multipart",
    )
    assert attached.status_code == 200
    assert Attachment.objects.latest("pk").size > 200_000


# 2.3: answers of 500.

NUL_TICKET_NUMBERS = [
    ("get", "/tickets/SD%00/"),
    ("post", "/tickets/SD%00/act/accept/"),
    ("post", "/tickets/SD%00/comment/"),
    ("get", "/tickets/SD%00/report/"),
    ("get", "/api/tickets/SD%00/"),
    ("get", "/api/tickets/SD%00/timeline/"),
    ("post", "/api/tickets/SD%00/comment/"),
    ("post", "/api/tickets/SD%00/accept/"),
]


@pytest.mark.parametrize(("method", "url"), NUL_TICKET_NUMBERS)
def test_a_nul_byte_in_a_ticket_number_is_not_found(world: World, method, url):
    client = quiet(client_for(world, "agent", api=url.startswith("/api/")))
    response = getattr(client, method)(url)
    assert response.status_code == 404
    if url.startswith("/api/"):
        assert response.json() == {"detail": "Not found."}


@pytest.mark.parametrize(
    ("role", "url"),
    [
        ("alice", "/portal/?q=%00"),
        ("agent", "/intake/?serial=%00"),
        ("agent", "/intake/?contract=HT%00"),
        ("agent", "/intake/?logged=SD%00"),
        ("agent", "/tickets/?q=%00"),
        ("agent", "/tickets/?serial_number=%00"),
        ("manager", "/sla/queue/?centre=%00"),
        ("agent", "/api/tickets/?q=%00"),
        ("agent", "/api/tickets/?serial_number=SN%00"),
    ],
)
def test_a_nul_byte_in_a_query_parameter_is_refused_with_a_message(world: World, role, url):
    response = quiet(client_for(world, role, api=url.startswith("/api/"))).get(url)
    assert response.status_code == 400
    message = "A query parameter contains a NUL character: remove it and ask again."
    if url.startswith("/api/"):
        assert response.json() == {"detail": message}
    else:
        assert message in response.content.decode()


@pytest.mark.parametrize(
    ("role", "url", "name"),
    [
        ("agent", "/intake/?contact=abc", "contact"),
        ("agent", "/intake/?contact=²", "contact"),
        ("agent", "/intake/?organisation=²", "organisation"),
        ("manager", "/sla/queue/?centre=²", "centre"),
        ("manager", "/sla/queue/?team=abc", "team"),
        ("manager", "/sla/queue/?level=1.5", "level"),
        ("manager", "/sla/queue/?team=99999999999999999999999", "team"),
    ],
)
def test_a_word_where_a_number_belongs_is_refused_with_a_message(world: World, role, url, name):
    response = quiet(client_for(world, role)).get(url)
    assert response.status_code == 400
    assert f"“{name}” must be a whole number." in response.content.decode()


def test_the_queue_filters_by_numbers_and_refuses_words(world: World):
    manager = client_for(world, "manager")
    response = manager.get(f"/sla/queue/?team={world.team.pk}&level=2")
    assert response.status_code == 200
    assert world.number("assigned") in response.content.decode()
    # a level that is not a number was ignored: the whole queue answered as if filtered
    response = manager.get(f"/sla/queue/?team={world.team.pk}&level=II")
    assert response.status_code == 400
    assert world.number("assigned") not in response.content.decode()


def test_a_nul_byte_in_any_field_of_a_json_body_is_refused(world: World, media_root):
    """Text fields refuse NUL themselves; a number, a choice or a ticket named by number must too."""
    api = quiet(client_for(world, "alice", api=True))
    before = snapshot(media_root)
    writable = ticket_serializers.CustomerTicketCreateSerializer(context={"organisation": None}).fields
    for name in writable:
        for value in ("SD\x00", ["SD\x00"], {"number": "SD\x00"}):
            body = {"site": world.site_a.pk, "kind": "consultation", "title": "空字符", name: value}
            response = api.post("/api/tickets/", body, format="json")
            assert response.status_code == 400, f"{name}={value!r}: {response.status_code}"
            assert name in response.json()["errors"], name
    assert snapshot(media_root) == before


def cursor(position: str, **tokens) -> str:
    return base64.b64encode(urlencode({"p": position, **tokens}).encode()).decode()


@pytest.mark.parametrize(
    "query",
    [
        {"cursor": "cD0yMDI2"},  # "p=2026", the probe's own
        {"cursor": cursor("yesterday")},
        {"cursor": cursor("2026-13-45T00:00:00+00:00")},
        {"ordering": "-updated_at", "cursor": cursor("2026")},
        {"ordering": "number", "cursor": cursor("SD\x00")},
    ],
)
def test_a_hand_made_cursor_is_refused(world: World, query):
    response = quiet(client_for(world, "agent", api=True)).get(f"/api/tickets/?{urlencode(query)}")
    assert response.status_code == 400
    assert response.json() == {"detail": "This cursor is not a page of this list: start without it."}


def test_a_cursor_the_list_issued_turns_the_page_and_an_altered_one_is_refused(world: World, monkeypatch):
    monkeypatch.setattr(TicketCursorPagination, "page_size", 2)
    api = quiet(client_for(world, "agent", api=True))
    first = api.get("/api/tickets/?ordering=-updated_at")
    issued = parse_qs(urlsplit(first.json()["next"]).query)["cursor"][0]
    following = api.get(f"/api/tickets/?{urlencode({'ordering': '-updated_at', 'cursor': issued})}")
    assert following.status_code == 200
    assert len(following.json()["results"]) == 2
    tokens = parse_qs(base64.b64decode(issued).decode())
    altered = cursor(tokens["p"][0].replace("+00:00", "+99:99"))
    refused = api.get(f"/api/tickets/?{urlencode({'ordering': '-updated_at', 'cursor': altered})}")
    assert refused.status_code == 400


@pytest.mark.parametrize(
    ("url", "body"),
    [
        ("/api/tickets/", '{"title": ' + "[" * 1000 + "]" * 1000 + "}"),
        ("/api/tickets/", "[" * 1000 + "]" * 1000),
        ("/api/tickets/", '{"a":' * 1000 + "1" + "}" * 1000),
        ("comment", '{"body": ' + "[" * 1000 + "]" * 1000 + "}"),
    ],
)
def test_json_nested_a_thousand_deep_is_refused(world: World, media_root, url, body):
    before = snapshot(media_root)
    if url == "comment":
        url = f"/api/tickets/{world.number('assigned')}/comment/"
    response = quiet(client_for(world, "alice", api=True)).post(url, body, content_type="application/json")
    assert response.status_code == 400
    assert response.json()["detail"]
    assert snapshot(media_root) == before


def test_a_server_error_under_the_api_answers_json(world: World, monkeypatch):
    def broken(self):
        raise RuntimeError("a bug nobody has found yet")

    monkeypatch.setattr(TicketViewSet, "get_queryset", broken)
    response = quiet(client_for(world, "agent", api=True)).get("/api/tickets/")
    assert response.status_code == 500
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"detail": "The server failed to answer. The error is logged; try again later."}


# 2.9: caches and rates.


def cache_control(response) -> set[str]:
    return {part.strip() for part in response.get("Cache-Control", "").split(",") if part.strip()}


def test_private_answers_are_never_kept_in_a_cache(world: World):
    number = world.number("assigned")
    answers = {
        "portal": client_for(world, "alice").get("/portal/"),
        "ticket page": client_for(world, "alice").get(f"/tickets/{number}/"),
        "download": client_for(world, "alice").get(f"/attachments/{world.attachment.pk}/"),
        "intake": client_for(world, "agent").get("/intake/"),
        "notifications": client_for(world, "agent").get("/notifications/"),
        "API by session": client_for(world, "alice", api=True).get(f"/api/tickets/{number}/"),
        "API refused": client_for(world, "anonymous", api=True).get("/api/tickets/"),
    }
    token = Token.objects.create(user=world.user("agent"))
    answers["API by token"] = client_for(world, "anonymous", api=True).get(
        "/api/tickets/", HTTP_AUTHORIZATION=f"Token {token.key}"
    )
    for what, response in answers.items():
        assert response.status_code in (200, 401), what
        assert {"private", "no-store"} <= cache_control(response), f"{what}: {response.get('Cache-Control')}"


def request_body(world: World, title: str) -> dict:
    return {"site": world.site_a.pk, "kind": "consultation", "urgency": "general", "title": title}


def test_customers_file_requests_at_a_bounded_rate(world: World, settings, media_root):
    settings.CUSTOMER_TICKETS_PER_HOUR = 2
    api, page = client_for(world, "alice", api=True), client_for(world, "alice")
    # a refused request does not count
    assert (
        api.post("/api/tickets/", {**request_body(world, ""), "title": ""}, format="json").status_code == 400
    )
    assert api.post("/api/tickets/", request_body(world, "第一个"), format="json").status_code == 201
    assert page.post("/portal/new/", request_body(world, "第二个")).status_code == 302
    before = snapshot(media_root)

    refused = api.post("/api/tickets/", request_body(world, "第三个"), format="json")
    assert refused.status_code == 429
    message = "You may file 2 requests an hour and have reached that. Try again later."
    assert refused.json() == {"detail": message}
    refused = page.post("/portal/new/", {**request_body(world, "KEEP-THIS-TITLE"), "files": [upload()]})
    assert refused.status_code == 429
    assert message in refused.content.decode()
    assert 'value="KEEP-THIS-TITLE"' in refused.content.decode()
    # nothing is filed, and the file is not kept either: keeping it would bypass the quota
    assert snapshot(media_root) == before
    assert not StagedUpload.objects.filter(owner=world.user("alice")).exists()
    # bob, another customer, has a quota of his own
    bob = client_for(world, "bob", api=True)
    assert (
        bob.post(
            "/api/tickets/", {**request_body(world, "乙"), "site": world.site_b.pk}, format="json"
        ).status_code
        == 201
    )


def test_customers_comment_at_a_bounded_rate(world: World, settings, media_root):
    settings.CUSTOMER_COMMENTS_PER_HOUR = 2
    number = world.number("assigned")
    api, page = client_for(world, "alice", api=True), client_for(world, "alice")
    url = f"/api/tickets/{number}/comment/"
    # a comment on a version already changed is refused, and does not count
    assert api.post(url, {"version": 1, "body": "过期"}, format="json").status_code == 409
    assert (
        api.post(url, {"version": world.version("assigned"), "body": "一"}, format="json").status_code == 200
    )
    assert (
        page.post(
            f"/tickets/{number}/comment/", {"version": world.version("assigned"), "body": "二"}
        ).status_code
        == 302
    )
    before = snapshot(media_root)

    refused = api.post(url, {"version": world.version("assigned"), "body": "三"}, format="json")
    assert refused.status_code == 429
    message = "You may write 2 comments an hour and have reached that. Try again later."
    assert refused.json() == {"detail": message}
    refused = page.post(
        f"/tickets/{number}/comment/", {"version": world.version("assigned"), "body": "KEEP-THIS-COMMENT"}
    )
    assert refused.status_code == 429
    assert message in refused.content.decode()
    assert "KEEP-THIS-COMMENT</textarea>" in refused.content.decode()
    assert snapshot(media_root) == before
    # staff are not limited
    engineer = client_for(world, "engineer", api=True)
    assert (
        engineer.post(url, {"version": world.version("assigned"), "body": "四"}, format="json").status_code
        == 200
    )


def test_customers_upload_at_a_bounded_rate(world: World, settings, media_root):
    settings.CUSTOMER_UPLOADS_PER_HOUR = 3
    number = world.number("assigned")
    api, page = client_for(world, "alice", api=True), client_for(world, "alice")
    attach = f"/api/tickets/{number}/attach/"
    files = [upload("一.log"), upload("二.log")]
    assert (
        api.post(
            attach, {"version": world.version("assigned"), "files": files}, format="multipart"
        ).status_code
        == 200
    )
    before = snapshot(media_root)

    # two more would make four: refused, comment and all
    refused = page.post(
        f"/tickets/{number}/comment/",
        {
            "version": world.version("assigned"),
            "body": "KEEP-THIS-NOTE",
            "files": [upload("三.log"), upload("四.log")],
        },
    )
    assert refused.status_code == 429
    assert (
        "You may attach 3 files an hour; 2 more would pass that. Try again later." in refused.content.decode()
    )
    assert "KEEP-THIS-NOTE</textarea>" in refused.content.decode()
    assert snapshot(media_root) == before
    # one more is the third
    assert (
        page.post(
            f"/tickets/{number}/comment/",
            {"version": world.version("assigned"), "body": "三", "files": [upload("三.log")]},
        ).status_code
        == 302
    )
    before = snapshot(media_root)
    refused = api.post(
        attach, {"version": world.version("assigned"), "files": [upload("四.log")]}, format="multipart"
    )
    assert refused.status_code == 429
    assert refused.json() == {
        "detail": "You may attach 3 files an hour; 1 more would pass that. Try again later."
    }
    assert snapshot(media_root) == before
    assert Ticket.objects.get(pk=world.tickets["assigned"].pk).attachments.count() == 2 + 3
