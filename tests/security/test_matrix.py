"""
The authorisation matrix: every route of the URL resolver and every operation of the OpenAPI
schema, requested by every role, answers as EXPECTED says, and a refused request changes nothing.

A route the resolver knows but EXPECTED does not fails `test_every_route_is_declared` (and an API
operation missing from EXPECTED_API fails `test_every_api_operation_is_declared`), so a new page
or endpoint is tried by every role before it ships. A response never carries a record the role
may not see: the markers of the other organisation's tickets and records (see conftest) are
looked for in every answer, refusals included.

Outcomes: "ok" (2xx, or a redirect that is not to a sign-in page), "login" (a redirect to a
sign-in page; 401 under /api/), "forbidden" (403: the role may not use the route at all),
"notfound" (404: a record the caller may not see, exactly as if it did not exist), "refused"
(400: a page form shown again with the refusal, the ticket unchanged), "method" (405).
"""

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import unquote

import pytest
from django.conf import settings
from django.urls import URLPattern, URLResolver, get_resolver
from drf_spectacular.generators import SchemaGenerator

from tickets.models import SavedFilter
from tickets.views.detail import ACT_SERVICES

from .conftest import ANONYMOUS, ROLES, World, client_for, snapshot, text_upload

OK, LOGIN, FORBIDDEN, NOTFOUND, REFUSED, METHOD = "ok", "login", "forbidden", "notfound", "refused", "method"

CUSTOMERS = {"alice", "bob"}
STAFF = {"agent", "engineer", "other_engineer", "manager", "other_manager", "admin"}
# Who may see organisation A's tickets, and who may not (they get 404 for each of them).
SEES_A = {"alice", "agent", "engineer", "manager", "admin"}
NOT_A = {"bob", "other_engineer", "other_manager"}
DESK = {"agent", "manager", "admin"}
FIELD = {"engineer", "manager", "admin"}
STAFF_ON_A = {"agent", "engineer", "manager", "admin"}
DESK_AND_CUSTOMER = {"alice", "agent", "manager", "admin"}
MANAGERS = {"manager", "admin"}


def roles(default: str | None = None, **named: str) -> dict[str, str]:
    """An outcome for every role: those named, and `default` for the rest (which must be given)."""
    unknown = set(named) - set(ROLES)
    assert not unknown, f"no such role: {unknown}"
    expected = {role: named.get(role, default) for role in ROLES}
    assert None not in expected.values(), f"no outcome for {[r for r, o in expected.items() if o is None]}"
    return expected


def everyone(outcome: str = OK) -> dict[str, str]:
    return roles(outcome)


def signed_in(outcome: str = OK) -> dict[str, str]:
    return roles(outcome, anonymous=LOGIN)


def only(allowed: set[str], otherwise: str = FORBIDDEN) -> dict[str, str]:
    """A route for some roles only: the others are refused, anonymous users asked to sign in."""
    return roles(otherwise, anonymous=LOGIN, **{role: OK for role in allowed})


def on_a(allowed: set[str], otherwise: str, *, customers: str | None = None) -> dict[str, str]:
    """
    A route about one of A's records: 404 for who may not see it, `allowed` succeed, the other
    roles that see it get `otherwise`; `customers` when the route refuses customers as a role first.
    """
    expected = roles(otherwise, anonymous=LOGIN, **{role: NOTFOUND for role in NOT_A})
    expected.update({role: OK for role in allowed})
    if customers is not None:
        expected.update({role: customers for role in CUSTOMERS})
    return expected


@dataclass(frozen=True)
class Case:
    """One request: method, URL and body built from the world, and the outcome for each role."""

    label: str
    method: str
    url: Callable[[World], str]
    expected: dict[str, str]
    data: Callable[[World], dict] | None = None
    headers: dict = field(default_factory=dict)
    multipart: bool = False
    # Roles for which the app answers wrongly today: role -> "bug: ...". Strict xfail.
    bugs: dict = field(default_factory=dict)


def get(label, url, expected, **kwargs) -> Case:
    return Case(label, "GET", url, expected, **kwargs)


def post(label, url, expected, data=None, **kwargs) -> Case:
    return Case(label, "POST", url, expected, data=data or (lambda w: {}), **kwargs)


def agents_saved_filter(w: World) -> int:
    """The id of a filter the agent saved (made on first use: the world has none)."""
    saved, _created = SavedFilter.objects.get_or_create(
        owner=w.user("agent"), name="坐席的未结工单", defaults={"query": "status=open"}
    )
    return saved.pk


def ticket_url(name: str, suffix: str = "") -> Callable[[World], str]:
    return lambda w: f"/tickets/{w.number(name)}/{suffix}"


def api_url(name: str, suffix: str = "") -> Callable[[World], str]:
    return lambda w: f"/api/tickets/{w.number(name)}/{suffix}"


def versioned(name: str, **fields) -> Callable[[World], dict]:
    """A body naming the version of A's ticket `name` as it is now; callables get the world."""
    return lambda w: (
        {"version": w.version(name)}
        | {key: value(w) if callable(value) else value for key, value in fields.items()}
    )


# The acts of the detail page: the ticket (of A) it is tried on, the form, and who succeeds.
# Everyone else who may see the ticket is refused: 400 on the page, 403 in the API.
ACTS = {
    "answer": ("consultation", {"answer": "已电话解答"}, DESK),
    "assign": (
        "assigned",
        {"team": lambda w: w.team.pk, "assignee": lambda w: w.user("engineer").pk, "note": "派单"},
        DESK,  # the engineer is on the team but not its supervisor
    ),
    "accept": ("assigned", {}, FIELD),
    "respond": ("assigned", {"note": "已电话回复"}, STAFF_ON_A),
    "start_travel": ("working", {}, FIELD),
    "arrive": ("travelling", {}, FIELD),
    "depart": ("on_site", {"signed_off_by": "张工", "note": "已离场"}, FIELD),
    "log_work": ("working", {"minutes": 30, "method": "on_site", "note": "检查板卡"}, FIELD),
    "pause": ("working", {"reason": "等待客户提供日志"}, FIELD),
    "resume": ("waiting", {"note": "日志已收到"}, FIELD),
    "wait_for_parts": ("working", {"note": "电源模块"}, FIELD),
    "give_workaround": ("working", {"workaround": "切换备用链路"}, FIELD),
    "deliver_emergency_plan": ("level_one", {"plan": "切换备用核心交换机"}, FIELD),
    "analyse": ("working", {"problem_type": "technical", "note": "板卡故障"}, FIELD),
    "request_approval": ("working", {"risk": "restart_server", "plan": "重启交换机"}, FIELD),
    "submit_change": ("change", {"effort_days": "2", "impact": "minor"}, STAFF_ON_A),
    "resolve": ("working", {"resolution": "更换电源模块", "root_cause": "老化"}, FIELD),
    "confirm": ("resolved", {"score": "5", "comment": "确认"}, DESK_AND_CUSTOMER),
    "reopen": ("resolved", {"reason": "故障复现"}, DESK_AND_CUSTOMER),
    "cancel": ("assigned", {"reason": "重复报障"}, DESK),
    "escalate": ("assigned", {"reason": "需要专家"}, MANAGERS),
    "set_billing": ("assigned", {"billing": "per_call", "reason": "客户误操作"}, STAFF_ON_A),
    # Only a call of the customer to be confirmed is identified: A's known customer is refused to all.
    "identify_customer": ("assigned", {"organisation": lambda w: w.org_b.pk}, set()),
}


def act_cases() -> list[Case]:
    cases = [
        post(
            f"{name} on A's {ticket} ticket",
            ticket_url(ticket, f"act/{name}/"),
            on_a(allowed, REFUSED),
            versioned(ticket, **form),
        )
        for name, (ticket, form, allowed) in ACTS.items()
    ]
    unknown = on_a(set(), FORBIDDEN)
    cases.append(
        post(
            "an act that does not exist",
            ticket_url("assigned", "act/delete/"),
            unknown,
            versioned("assigned"),
        )
    )
    return cases


def intake_form(w: World) -> dict:
    return {
        "organisation": w.org_a.pk,
        "contract_number": w.contract_a.number,
        "contact": w.contact_a.pk,
        "site": w.site_a.pk,
        "equipment": w.equipment_a.pk,
        "title": "ALPHA-T-intake 打印机卡纸",
        "kind": "fault",
        "level": 3,
        "urgency": "general",
        "channel": "phone",
        "team": w.team.pk,
        "leave_with_team": "on",
    }


# Every page route by name: how to build its URL and body, and what each role gets.
EXPECTED: dict[str, list[Case]] = {
    "home": [get("GET", lambda w: "/", signed_in())],
    "healthz": [get("GET", lambda w: "/healthz", everyone())],
    "login": [get("GET", lambda w: "/login/", everyone())],
    # Signing out ends on the sign-in page, whoever asks.
    "logout": [post("POST", lambda w: "/logout/", everyone(LOGIN))],
    "password_change": [get("GET", lambda w: "/password/", signed_in())],
    "password_change_done": [get("GET", lambda w: "/password/done/", signed_in())],
    # Asking for a reset link answers alike for anyone and any address.
    "password_reset": [
        get("GET", lambda w: "/password/reset/", everyone()),
        post("POST", lambda w: "/password/reset/", everyone(), lambda w: {"email": "someone@example.cn"}),
    ],
    "password_reset_done": [get("GET", lambda w: "/password/reset/sent/", everyone())],
    "password_reset_confirm": [
        get("a forged link", lambda w: "/password/reset/MQ/forged-token/", everyone())
    ],
    "password_reset_complete": [get("GET", lambda w: "/password/reset/done/", everyone())],
    "set_language": [post("POST", lambda w: "/i18n/setlang/", everyone(), lambda w: {"language": "en"})],
    "accounts:dashboard": [get("GET", lambda w: "/dashboard/", only({"manager", "other_manager", "admin"}))],
    "customers:equipment": [get("GET", lambda w: "/portal/equipment/", only(CUSTOMERS))],
    "notifications:list": [get("GET", lambda w: "/notifications/", signed_in())],
    "notifications:read": [
        post(
            "alice's notification",
            lambda w: f"/notifications/{w.alice_notification.pk}/read/",
            roles(NOTFOUND, anonymous=LOGIN, alice=OK),
        ),
        post(
            "bob's notification",
            lambda w: f"/notifications/{w.bob_notification.pk}/read/",
            roles(NOTFOUND, anonymous=LOGIN, bob=OK),
        ),
    ],
    "notifications:read_all": [post("POST", lambda w: "/notifications/read-all/", signed_in())],
    "notifications:count": [get("GET", lambda w: "/notifications/count/", everyone())],
    "tickets:intake": [
        get("GET", lambda w: "/intake/", only(DESK | {"other_manager"})),
        get(
            "live search for A's serial",
            lambda w: f"/intake/?q={w.equipment_a.serial_number}",
            only(DESK | {"other_manager"}),
            headers={"HX-Request": "true", "HX-Target": "caller-results"},
        ),
        get(
            "entitlement of A's serial",
            lambda w: f"/intake/?serial={w.equipment_a.serial_number}&contract=",
            only(DESK | {"other_manager"}),
        ),
        post("log a call for A", lambda w: "/intake/", only(DESK | {"other_manager"}), intake_form),
    ],
    "tickets:intake_add_contact": [
        post(
            "a caller added to A",
            lambda w: "/intake/contact/",
            only(DESK | {"other_manager"}),
            lambda w: {"add-contact-organisation": w.org_a.pk, "add-contact-name": "ALPHA-T-contact 钱新"},
        )
    ],
    "tickets:intake_add_customer": [
        post(
            "a new customer",
            lambda w: "/intake/customer/",
            only(DESK | {"other_manager"}),
            lambda w: {
                "new-customer-organisation_name": "ALPHA-T-customer 丙公司",
                "new-customer-contact_name": "周立",
            },
        )
    ],
    "tickets:intake_engineers": [
        get(
            "the team's engineers",
            lambda w: f"/intake/engineers/?team={w.team.pk}",
            only(DESK | {"other_manager"}),
        )
    ],
    "tickets:list": [
        get("GET", lambda w: "/tickets/", only(STAFF)),
        get("?q=<A's number>", lambda w: f"/tickets/?q={w.number('assigned')}", only(STAFF)),
        get("?organisation=<A>", lambda w: f"/tickets/?organisation={w.org_a.pk}", only(STAFF)),
    ],
    "tickets:save_filter": [
        get("GET", lambda w: "/tickets/filters/save/", only(set()) | {role: METHOD for role in STAFF}),
        post(
            "a filter of A's open tickets",
            lambda w: "/tickets/filters/save/",
            only(STAFF),
            lambda w: {"name": "甲的未结工单", "query": f"organisation={w.org_a.pk}&status=open"},
        ),
    ],
    "tickets:delete_filter": [
        # Another person's saved filter is not found: each sees and deletes only their own.
        post(
            "the agent's saved filter",
            lambda w: f"/tickets/filters/{agents_saved_filter(w)}/delete/",
            only({"agent"}) | {role: NOTFOUND for role in STAFF - {"agent"}},
        ),
    ],
    "tickets:queue": [
        # The engineer of the other team supervises it; the engineer of A's team does not.
        get("GET", lambda w: "/sla/queue/", only({"manager", "other_manager", "admin", "other_engineer"}))
    ],
    "tickets:my_work": [get("GET", lambda w: "/work/", only({"engineer", "other_engineer"}))],
    "tickets:portal": [
        get("GET", lambda w: "/portal/", only(CUSTOMERS)),
        get("?q=<A's number>", lambda w: f"/portal/?q={w.number('assigned')}&state=all", only(CUSTOMERS)),
    ],
    "tickets:new_request": [
        get("GET", lambda w: "/portal/new/", only(CUSTOMERS)),
        post(
            "a request at A's site",
            lambda w: "/portal/new/",
            only({"alice"}) | {"bob": REFUSED},
            lambda w: {
                "site": w.site_a.pk,
                "equipment": w.equipment_a.pk,
                "kind": "fault",
                "level": 3,
                "urgency": "general",
                "title": "ALPHA-T-portal 打印机卡纸",
            },
        ),
    ],
    "tickets:detail": [
        get("A's ticket", ticket_url("assigned"), on_a(SEES_A, OK)),
        get(
            "B's ticket",
            lambda w: f"/tickets/{w.bob_ticket.number}/",
            roles(
                NOTFOUND,
                anonymous=LOGIN,
                **{r: OK for r in ("bob", "agent", "other_engineer", "other_manager", "admin")},
            ),
        ),
        get("a number that does not exist", lambda w: "/tickets/SD-1999-999999/", signed_in(NOTFOUND)),
    ],
    "tickets:act": act_cases(),
    "tickets:comment": [
        post(
            "on A's ticket",
            ticket_url("assigned", "comment/"),
            on_a(SEES_A, OK),
            versioned("assigned", body="请尽快处理"),
        ),
    ],
    "tickets:fault_report": [
        get(
            "A's resolved fault", ticket_url("resolved", "report/"), on_a(STAFF_ON_A, OK, customers=FORBIDDEN)
        ),
        post(
            "write it",
            ticket_url("resolved", "report/"),
            on_a(FIELD, FORBIDDEN, customers=FORBIDDEN),
            lambda w: {"fault_class": "硬件", "cause": "电源老化", "method": "更换", "loss": "中断 40 分钟"},
        ),
    ],
    "tickets:decide_change": [
        post(
            "A's change request",
            ticket_url("change_submitted", "change/decide/"),
            on_a(MANAGERS, REFUSED, customers=FORBIDDEN),
            lambda w: {"approve": "1", "reason": "同意"},
        ),
    ],
    "tickets:decide_risk": [
        post(
            "A's approval",
            lambda w: f"/tickets/{w.number('working')}/approvals/{w.approval.pk}/decide/",
            on_a(MANAGERS, REFUSED, customers=FORBIDDEN),
            lambda w: {"approve": "1", "reason": ""},
        ),
        post(
            "B's approval under A's ticket",
            lambda w: f"/tickets/{w.number('working')}/approvals/{w.bob_approval.pk}/decide/",
            on_a(set(), NOTFOUND, customers=FORBIDDEN),
            lambda w: {"approve": "1", "reason": ""},
        ),
    ],
    "tickets:record_consent": [
        post(
            "A's approval",
            lambda w: f"/tickets/{w.number('working')}/approvals/{w.approved_approval.pk}/consent/",
            on_a(FIELD, REFUSED, customers=FORBIDDEN),
            lambda w: {"given_by": "张经理", "note": ""},
        ),
        post(
            "B's approval under A's ticket",
            lambda w: f"/tickets/{w.number('working')}/approvals/{w.bob_approval.pk}/consent/",
            on_a(set(), NOTFOUND, customers=FORBIDDEN),
            lambda w: {"given_by": "张经理", "note": ""},
        ),
    ],
    "tickets:attachment": [
        get("A's file", lambda w: f"/attachments/{w.attachment.pk}/", on_a(SEES_A, OK)),
        get(
            "A's internal file",
            lambda w: f"/attachments/{w.internal_attachment.pk}/",
            on_a(STAFF_ON_A, NOTFOUND),
        ),
        get(
            "B's file",
            lambda w: f"/attachments/{w.bob_attachment.pk}/",
            roles(
                NOTFOUND,
                anonymous=LOGIN,
                **{r: OK for r in ("bob", "agent", "other_engineer", "other_manager", "admin")},
            ),
        ),
    ],
    # A file that is not an image or a PDF is sent to `tickets:attachment` (a redirect: "ok").
    "tickets:attachment_preview": [
        get("A's file", lambda w: f"/attachments/{w.attachment.pk}/preview/", on_a(SEES_A, OK)),
        get(
            "A's internal file",
            lambda w: f"/attachments/{w.internal_attachment.pk}/preview/",
            on_a(STAFF_ON_A, NOTFOUND),
        ),
        get(
            "B's file",
            lambda w: f"/attachments/{w.bob_attachment.pk}/preview/",
            roles(
                NOTFOUND,
                anonymous=LOGIN,
                **{r: OK for r in ("bob", "agent", "other_engineer", "other_manager", "admin")},
            ),
        ),
    ],
    # The visit under way has no signature yet, so nobody gets one (signed: tests/tickets/test_field_work.py).
    "tickets:visit_signature": [
        get(
            "A's visit without a signature",
            lambda w: f"/visits/{w.tickets['on_site'].visits.get().pk}/signature/",
            roles(NOTFOUND, anonymous=LOGIN),
        ),
    ],
    "api-schema": [get("GET", lambda w: "/api/schema/?format=json", signed_in())],
    "api-docs": [get("GET", lambda w: "/api/docs/", signed_in())],
    # Django's admin sends everyone who is not staff to its own sign-in page.
    "admin:index": [get("GET", lambda w: "/admin/", roles(LOGIN, admin=OK))],
}


def customer_request(w: World) -> dict:
    return {
        "site": w.site_a.pk,
        "equipment": w.equipment_a.pk,
        "kind": "fault",
        "level": 3,
        "title": "ALPHA-T-api 打印机卡纸",
    }


def staff_call(w: World) -> dict:
    return {
        "organisation": w.org_a.pk,
        "site": w.site_a.pk,
        "equipment": w.equipment_a.pk,
        "contract": w.contract_a.pk,
        "contact": w.contact_a.pk,
        "kind": "fault",
        "level": 3,
        "title": "ALPHA-T-api 打印机卡纸",
        "team": w.team.pk,
    }


# The API's acts: the endpoint, the act of the table above (or the ticket, body and roles).
API_ACTS = {
    "accept": "accept",
    "analyse": "analyse",
    "answer": "answer",
    "arrive": "arrive",
    "assign": "assign",
    "cancel": "cancel",
    "confirm": "confirm",
    "deliver_emergency_plan": "deliver_emergency_plan",
    "depart": "depart",
    "escalate": "escalate",
    "give_workaround": "give_workaround",
    "log_work": "log_work",
    "pause": "pause",
    "reopen": "reopen",
    "request_approval": "request_approval",
    "resolve": "resolve",
    "respond": "respond",
    "resume": "resume",
    "set_billing": "set_billing",
    "identify_customer": "identify_customer",
    "start_travel": "start_travel",
    "wait_for_parts": "wait_for_parts",
    "fault_report": (
        "resolved",
        {"fault_class": "硬件", "cause": "电源老化", "method": "更换", "loss": "中断 40 分钟"},
        FIELD,
    ),
    "comment": ("assigned", {"body": "请尽快处理"}, SEES_A),
}


def api_act(endpoint: str) -> Case:
    spec = API_ACTS[endpoint]
    ticket, body, allowed = ACTS[spec] if isinstance(spec, str) else spec
    return post(
        f"on A's {ticket} ticket",
        api_url(ticket, f"{endpoint}/"),
        on_a(allowed, FORBIDDEN),
        versioned(ticket, **body),
    )


def sub_list(suffix: str) -> list[Case]:
    return [get("A's ticket", api_url("assigned", suffix), on_a(SEES_A, OK))]


# Every operation of the OpenAPI schema: (path, method) -> cases.
EXPECTED_API: dict[tuple[str, str], list[Case]] = {
    ("/api/tickets/", "GET"): [
        get("GET", lambda w: "/api/tickets/", signed_in()),
        get("?q=<A's number>", lambda w: f"/api/tickets/?q={w.number('assigned')}", signed_in()),
        get("?organisation=<A>", lambda w: f"/api/tickets/?organisation={w.org_a.pk}", signed_in()),
    ],
    ("/api/tickets/", "POST"): [
        post(
            "a customer's request at A's site",
            lambda w: "/api/tickets/",
            roles(REFUSED, anonymous=LOGIN, alice=OK, engineer=FORBIDDEN, other_engineer=FORBIDDEN),
            customer_request,
        ),
        post(
            "a call for A",
            lambda w: "/api/tickets/",
            roles(
                REFUSED,
                anonymous=LOGIN,
                engineer=FORBIDDEN,
                other_engineer=FORBIDDEN,
                **{role: OK for role in DESK | {"other_manager"}},
            ),
            staff_call,
        ),
    ],
    ("/api/tickets/{number}/", "GET"): [
        get("A's ticket", api_url("assigned"), on_a(SEES_A, OK)),
        get("a number that does not exist", lambda w: "/api/tickets/SD-1999-999999/", signed_in(NOTFOUND)),
    ],
    ("/api/tickets/{number}/comments/", "GET"): sub_list("comments/"),
    ("/api/tickets/{number}/timeline/", "GET"): sub_list("timeline/"),
    ("/api/tickets/{number}/work_logs/", "GET"): sub_list("work_logs/"),
    ("/api/tickets/{number}/visits/", "GET"): sub_list("visits/"),
    ("/api/tickets/{number}/attach/", "POST"): [
        post(
            "A's ticket",
            api_url("assigned", "attach/"),
            on_a(SEES_A, OK),
            lambda w: {"version": w.version("assigned"), "files": [text_upload("ALPHA-T-现场.log")]},
            multipart=True,
        ),
    ],
    **{(f"/api/tickets/{{number}}/{endpoint}/", "POST"): [api_act(endpoint)] for endpoint in API_ACTS},
    # Roles other than the desk are refused first (403); the desk is refused for A's known customer.
    ("/api/tickets/{number}/identify_customer/", "POST"): [
        post(
            "on A's assigned ticket",
            api_url("assigned", "identify_customer/"),
            on_a(set(), FORBIDDEN) | {role: REFUSED for role in DESK},
            versioned("assigned", organisation=lambda w: w.org_b.pk),
        )
    ],
}


# Walking the resolver and the schema.


def _api_path(route: str) -> str:
    """A DRF router's regex route as the schema writes it: api/^tickets/(?P<number>[^/.]+)/$ ..."""
    route = re.sub(r"\(\?P<(\w+)>[^)]*\)", r"{\1}", route)
    return "/" + route.replace("^", "").replace("$", "")


def resolver_routes() -> tuple[set[str], set[tuple[str, str]]]:
    """Page routes by name (admin: its index only; no static or media), and API operations."""
    pages, operations = set(), set()
    served = (settings.STATIC_URL, settings.MEDIA_URL)
    skipped_prefixes = tuple(prefix for prefix in (url.lstrip("/") for url in served if url) if prefix)

    def walk(patterns, prefix: str, namespace: str) -> None:
        for pattern in patterns:
            route = prefix + str(pattern.pattern)
            if skipped_prefixes and route.startswith(skipped_prefixes):
                continue
            if isinstance(pattern, URLResolver):
                walk(pattern.url_patterns, route, ":".join(filter(None, [namespace, pattern.namespace])))
                continue
            assert isinstance(pattern, URLPattern)
            name = ":".join(filter(None, [namespace, pattern.name])) if pattern.name else f"<unnamed {route}>"
            if namespace == "admin" and name != "admin:index":
                continue  # the admin's inner pages are Django's, behind its own staff check
            actions = getattr(pattern.callback, "actions", None)
            if actions:
                # DRF adds HEAD beside GET to a viewset's actions once it has answered a request.
                methods = {method.upper() for method in actions} - {"HEAD", "OPTIONS"}
                operations.update((_api_path(route), method) for method in methods)
            else:
                pages.add(name)

    walk(get_resolver().url_patterns, "", "")
    return pages, operations


def schema_operations() -> set[tuple[str, str]]:
    schema = SchemaGenerator().get_schema(request=None, public=True)
    return {(path, method.upper()) for path, methods in schema["paths"].items() for method in methods}


def test_every_route_is_declared():
    pages, _operations = resolver_routes()
    missing = sorted(pages - set(EXPECTED))
    stale = sorted(set(EXPECTED) - pages)
    assert not missing, "\n".join(f"declare route {name} in EXPECTED" for name in missing)
    assert not stale, "\n".join(f"route {name} is in EXPECTED but no longer exists" for name in stale)


def test_every_api_operation_is_declared():
    _pages, from_resolver = resolver_routes()
    documented = schema_operations()
    assert from_resolver == documented, (
        f"routed but not in the schema: {sorted(from_resolver - documented)}; "
        f"in the schema but not routed: {sorted(documented - from_resolver)}"
    )
    missing = sorted(documented - set(EXPECTED_API))
    stale = sorted(set(EXPECTED_API) - documented)
    assert not missing, "\n".join(f"declare {method} {path} in EXPECTED_API" for path, method in missing)
    assert not stale, "\n".join(
        f"{method} {path} is in EXPECTED_API but no longer exists" for path, method in stale
    )


def test_every_act_of_the_page_is_declared():
    assert set(ACTS) == set(ACT_SERVICES), "declare each act of tickets.views.detail.ACT_SERVICES in ACTS"


def test_undocumented_methods_are_not_allowed(world):
    """No write hides behind a method the schema does not list: PUT, PATCH, DELETE answer 405."""
    client = client_for(world, "admin", api=True)
    before = snapshot()
    for path, _method in EXPECTED_API:
        url = path.replace("{number}", world.number("assigned"))
        listed = {method for p, method in EXPECTED_API if p == path}
        for method in {"PUT", "PATCH", "DELETE"} - listed:
            response = getattr(client, method.lower())(url, {"status": "closed"}, format="json")
            assert response.status_code == 405, f"{method} {url}: {response.status_code}"
    assert snapshot() == before


# The matrix itself.


def _params():
    tables = [(name, cases) for name, cases in EXPECTED.items()]
    tables += [(f"{method} {path}", cases) for (path, method), cases in EXPECTED_API.items()]
    params = []
    for name, cases in tables:
        for case in cases:
            for role in ROLES:
                marks = [pytest.mark.xfail(strict=True, reason=case.bugs[role])] if role in case.bugs else []
                params.append(pytest.param(case, role, id=f"{name} {case.label} [{role}]", marks=marks))
    return params


def _is_sign_in(location: str) -> bool:
    return location.startswith(("/login/", "/admin/login/"))


def assert_outcome(response, outcome: str, *, api: bool, where: str) -> None:
    status = response.status_code
    location = response.get("Location", "")
    seen = f"{where}: got {status} {location}"
    if outcome == OK:
        assert 200 <= status < 400 and not _is_sign_in(location), seen
    elif outcome == LOGIN and api:
        assert status == 401, seen
    elif outcome == LOGIN:
        assert status == 302 and _is_sign_in(location), seen
    else:
        assert status == {FORBIDDEN: 403, NOTFOUND: 404, REFUSED: 400, METHOD: 405}[outcome], seen


def assert_nothing_leaks(response, markers: set[str], *, sent: str, where: str) -> None:
    """No record the role may not see, except what the caller sent themselves (URL and body)."""
    if getattr(response, "streaming", False):
        body = b"".join(response.streaming_content).decode(errors="replace")
    else:
        body = response.content.decode(errors="replace")
    leaked = sorted(marker for marker in markers if marker not in sent and marker in body)
    assert not leaked, f"{where}: the answer shows {leaked}"


def send(client, case: Case, url: str, data: dict | None):
    headers = case.headers
    if case.method == "GET":
        return client.get(url, headers=headers)
    if url.startswith("/api/"):
        return client.post(url, data, format="multipart" if case.multipart else "json", headers=headers)
    return client.post(url, data, headers=headers)


@pytest.mark.parametrize(("case", "role"), _params())
def test_matrix(world, media_root, case, role):
    # given
    url = case.url(world)
    api = url.startswith("/api/")
    client = client_for(world, role, api=api)
    data = case.data(world) if case.data else None
    outcome = case.expected[role]
    before = snapshot(media_root) if outcome != OK else None
    where = f"{case.method} {url} as {role}"
    # when
    response = send(client, case, url, data)
    # then
    assert_outcome(response, outcome, api=api, where=where)
    if before is not None:
        assert snapshot(media_root) == before, f"{where} was refused but changed the data"
    sent = unquote(url) + " " + " ".join(str(value) for value in (data or {}).values())
    assert_nothing_leaks(response, world.foreign_markers(role), sent=sent, where=where)


def test_anonymous_role_is_tried_everywhere():
    """Every case names an outcome for every role, anonymous included (a guard on the table)."""
    for cases in [*EXPECTED.values(), *EXPECTED_API.values()]:
        for case in cases:
            assert set(case.expected) == set(ROLES) and ANONYMOUS in case.expected
