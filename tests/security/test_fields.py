"""
Field-level rights: each write endpoint and form changes only the fields its caller may set.

The API refuses, by name and with nothing written, every field it does not declare (400); the
fields each endpoint declares are listed in WRITABLE, so a new writable field fails
`test_documented_write_fields_are_declared` until someone decides who may set it. Page forms
ignore fields they do not have: the same request with every field of the Ticket model added
writes exactly what it writes without them. Every record a payload names is checked against the
caller's organisation.
"""

import pytest
from django.core.exceptions import FieldDoesNotExist
from django.db import models, transaction
from django.utils import timezone
from drf_spectacular.generators import SchemaGenerator

from accounts.models import SupportCentre, Team, User
from customers.models import Contact, Contract, Equipment, Organisation, Site
from notifications.models import Notification
from sla.models import Deadline
from tickets.choices import Channel, Kind, Status
from tickets.forms import (
    ACT_FORMS,
    CommentForm,
    ConsentForm,
    DecisionForm,
    FaultReportForm,
    IntakeForm,
    PortalRequestForm,
)
from tickets.models import (
    Attachment,
    ChangeRequest,
    Comment,
    EmergencyPlan,
    FaultReport,
    RiskApproval,
    Ticket,
    TimelineEvent,
    Visit,
    WorkLog,
)

from .conftest import BRAVO_RECORD, World, client_for, snapshot, text_upload
from .test_matrix import ACTS, intake_form

# Every field of the Ticket model by name and by column, and names a client might try.
TICKET_FIELDS = sorted(
    {f.name for f in Ticket._meta.concrete_fields} | {f.attname for f in Ticket._meta.concrete_fields}
)
UNKNOWN = ["pk", "is_internal", "is_staff", "is_superuser", "role", "approved", "ticket", "author"]
EVERY_NAME = sorted({*TICKET_FIELDS, *UNKNOWN})

# What each API write accepts: (path, request component) -> fields. Any other name is refused.
ACT = {"version"}
WRITABLE = {
    ("/api/tickets/", "CustomerTicketCreate"): {
        "site",
        "equipment",
        "kind",
        "level",
        "urgency",
        "title",
        "description",
        "fault_area",
        "about_ticket",
    },
    ("/api/tickets/", "StaffTicketCreate"): {
        "organisation",
        "site",
        "contact",
        "contract",
        "equipment",
        "channel",
        "kind",
        "level",
        "urgency",
        "title",
        "description",
        "on_site_required",
        "fault_area",
        "about_ticket",
        "about_engineer",
        "team",
        "assignee",
    },
    ("/api/tickets/{number}/accept/", "Accept"): ACT,
    ("/api/tickets/{number}/analyse/", "Analyse"): ACT | {"problem_type", "note"},
    ("/api/tickets/{number}/answer/", "Answer"): ACT | {"answer"},
    ("/api/tickets/{number}/arrive/", "Arrive"): ACT,
    ("/api/tickets/{number}/assign/", "Assign"): ACT | {"team", "assignee", "note"},
    ("/api/tickets/{number}/attach/", "Attach"): ACT | {"files", "is_internal"},
    ("/api/tickets/{number}/cancel/", "Cancel"): ACT | {"reason"},
    ("/api/tickets/{number}/comment/", "CommentCreate"): ACT | {"body", "is_internal", "files"},
    ("/api/tickets/{number}/confirm/", "Confirm"): ACT | {"note", "score", "comment"},
    ("/api/tickets/{number}/deliver_emergency_plan/", "DeliverEmergencyPlan"): ACT | {"plan", "files"},
    ("/api/tickets/{number}/depart/", "Depart"): ACT | {"signed_off_by", "signature", "note"},
    ("/api/tickets/{number}/escalate/", "Escalate"): ACT | {"reason"},
    ("/api/tickets/{number}/fault_report/", "FaultReport"): ACT | {"fault_class", "cause", "method", "loss"},
    ("/api/tickets/{number}/give_workaround/", "GiveWorkaround"): ACT | {"workaround"},
    ("/api/tickets/{number}/log_work/", "LogWork"): ACT | {"minutes", "method", "note"},
    ("/api/tickets/{number}/pause/", "Pause"): ACT | {"reason"},
    ("/api/tickets/{number}/reopen/", "Reopen"): ACT | {"reason"},
    ("/api/tickets/{number}/request_approval/", "RequestApproval"): ACT | {"risk", "plan"},
    ("/api/tickets/{number}/resolve/", "Resolve"): ACT | {"resolution", "root_cause"},
    ("/api/tickets/{number}/respond/", "Respond"): ACT | {"note"},
    ("/api/tickets/{number}/resume/", "Resume"): ACT | {"note"},
    ("/api/tickets/{number}/set_billing/", "SetBilling"): ACT | {"billing", "reason"},
    ("/api/tickets/{number}/identify_customer/", "IdentifyCustomer"): ACT
    | {"organisation", "contact", "serial_number"},
    ("/api/tickets/{number}/start_travel/", "StartTravel"): ACT,
    ("/api/tickets/{number}/wait_for_parts/", "WaitForParts"): ACT | {"note"},
}


def _documented_writes() -> dict[tuple[str, str], set[str]]:
    schema = SchemaGenerator().get_schema(request=None, public=True)
    components = schema["components"]["schemas"]

    def names(ref: dict) -> list[str]:
        name = ref["$ref"].rsplit("/", 1)[-1]
        component = components[name]
        if "oneOf" in component:
            return [n for option in component["oneOf"] for n in names(option)]
        return [name]

    found = {}
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            # Writes go through POST only; the matrix checks that PUT, PATCH and DELETE answer 405.
            assert method in ("get", "post"), f"{method} {path}: declare who may write through it"
            if "requestBody" not in operation:
                continue
            (body, *_rest) = operation["requestBody"]["content"].values()
            for name in names(body["schema"]):
                found[(path, name)] = set(components[name]["properties"])
    return found


def test_documented_write_fields_are_declared():
    documented = _documented_writes()
    for key in sorted(documented.keys() - WRITABLE.keys()):
        pytest.fail(f"declare the writable fields of {key} in WRITABLE")
    for key in sorted(WRITABLE.keys() - documented.keys()):
        pytest.fail(f"{key} is in WRITABLE but the API no longer has it")
    for key, fields in documented.items():
        assert fields == WRITABLE[key], (
            f"{key}: the API accepts {sorted(fields)}, WRITABLE says {sorted(WRITABLE[key])}"
        )


# Values a hostile client sends: the other organisation's records, a closed status, old dates.


def hostile_value(name: str, w: World):
    """A value of the right type for the Ticket field `name` that the caller has no right to."""
    related = {
        Organisation: w.org_b.pk,
        Site: w.site_b.pk,
        Contact: w.contact_b.pk,
        Contract: w.contract_b.pk,
        Equipment: w.equipment_b.pk,
        SupportCentre: w.other_team.centre_id,
        Team: w.other_team.pk,
        User: w.user("admin").pk,
        Ticket: w.bob_ticket.pk,
    }
    try:
        field = Ticket._meta.get_field(name.removesuffix("_id") if name.endswith("_id") else name)
    except FieldDoesNotExist:  # not a field of the model: any value will do
        return "1"
    if field.is_relation:
        return related[field.related_model]
    if field.choices:
        return field.choices[-1][0]
    if isinstance(field, models.DateTimeField):
        return "2020-01-01T08:00:00+08:00"
    if isinstance(field, models.BooleanField):
        return True
    if isinstance(field, models.IntegerField | models.AutoField):
        return {"version": 99, "tier": 3}.get(name, 987654)
    if name == "number":
        return "SD-1999-000001"
    return "HOSTILE"


def extras(w: World, *, besides=(), form: bool = False) -> dict:
    """Every Ticket field and unknown name but `besides`, with hostile values (strings for forms)."""
    values = {name: hostile_value(name, w) for name in EVERY_NAME if name not in besides}
    if form:
        values = {name: ("on" if value is True else str(value)) for name, value in values.items()}
    return values


def customer_request(w: World) -> dict:
    return {
        "site": w.site_a.pk,
        "equipment": w.equipment_a.pk,
        "kind": "fault",
        "level": 3,
        "urgency": "urgent",
        "title": "打印机卡纸",
        "description": "纸盒二",
    }


def staff_call(w: World) -> dict:
    return {
        "organisation": w.org_a.pk,
        "site": w.site_a.pk,
        "equipment": w.equipment_a.pk,
        "contract": w.contract_a.pk,
        "contact": w.contact_a.pk,
        "channel": "email",
        "kind": "fault",
        "level": 3,
        "urgency": "urgent",
        "title": "打印机卡纸",
        "description": "纸盒二",
        "on_site_required": True,
        "team": w.team.pk,
        "assignee": w.user("engineer").pk,
    }


def refused_by_name(response, names) -> None:
    assert response.status_code == 400, response.content
    missing = sorted(set(names) - set(response.json().get("errors", {})))
    assert not missing, f"accepted without a word: {missing}"


# The API: a customer's request and a logged call.

CUSTOMER_FORBIDDEN = [n for n in EVERY_NAME if n not in WRITABLE[("/api/tickets/", "CustomerTicketCreate")]]
STAFF_FORBIDDEN = [n for n in EVERY_NAME if n not in WRITABLE[("/api/tickets/", "StaffTicketCreate")]]


@pytest.mark.parametrize("name", CUSTOMER_FORBIDDEN)
def test_customer_request_refuses_a_field_the_customer_may_not_set(world, name):
    before = snapshot()
    response = client_for(world, "alice", api=True).post(
        "/api/tickets/", customer_request(world) | {name: hostile_value(name, world)}, format="json"
    )
    refused_by_name(response, [name])
    assert snapshot() == before


@pytest.mark.parametrize("name", STAFF_FORBIDDEN)
def test_logged_call_refuses_a_field_the_hotline_may_not_set(world, name):
    before = snapshot()
    response = client_for(world, "agent", api=True).post(
        "/api/tickets/", staff_call(world) | {name: hostile_value(name, world)}, format="json"
    )
    refused_by_name(response, [name])
    assert snapshot() == before


def test_customer_request_sets_only_what_a_customer_may(world):
    # when
    response = client_for(world, "alice", api=True).post(
        "/api/tickets/", customer_request(world), format="json"
    )
    # then
    assert response.status_code == 201, response.content
    ticket = Ticket.objects.get(number=response.json()["number"])
    assert (ticket.organisation, ticket.site, ticket.equipment, ticket.contact, ticket.contract) == (
        world.org_a,
        world.site_a,
        world.equipment_a,
        world.contact_a,
        world.contract_a,
    )
    assert (ticket.kind, ticket.level, ticket.urgency, ticket.title, ticket.description) == (
        Kind.FAULT,
        3,
        "urgent",
        "打印机卡纸",
        "纸盒二",
    )
    assert (ticket.channel, ticket.status, ticket.team, ticket.assignee, ticket.tier, ticket.version) == (
        Channel.PORTAL,
        Status.NEW,
        None,
        None,
        1,
        1,
    )
    assert ticket.logged_by == world.user("alice")
    assert (ticket.resolved_at, ticket.confirmed_by_customer, ticket.on_site_required) == (None, None, False)


def test_logged_call_sets_what_the_hotline_gives_and_nothing_else(world):
    # when
    response = client_for(world, "agent", api=True).post("/api/tickets/", staff_call(world), format="json")
    # then
    assert response.status_code == 201, response.content
    ticket = Ticket.objects.get(number=response.json()["number"])
    assert (ticket.organisation, ticket.site, ticket.equipment, ticket.contact, ticket.contract) == (
        world.org_a,
        world.site_a,
        world.equipment_a,
        world.contact_a,
        world.contract_a,
    )
    assert (ticket.channel, ticket.urgency, ticket.on_site_required, ticket.team, ticket.assignee) == (
        Channel.EMAIL,
        "urgent",
        True,
        world.team,
        world.user("engineer"),
    )
    assert (ticket.status, ticket.tier, ticket.version, ticket.logged_by) == (
        Status.ASSIGNED,
        1,
        1,
        world.user("agent"),
    )
    assert ticket.number.startswith(f"SD-{timezone.localdate().year}-")


# The API's acts: a valid body plus every field the act does not declare.

API_ACT_ROLE = {
    "comment": "alice",
    "attach": "alice",
    "confirm": "alice",
    "reopen": "alice",
    "identify_customer": "agent",
}


def _api_act_params():
    params = []
    for (path, _component), writable in WRITABLE.items():
        if path == "/api/tickets/":
            continue
        endpoint = path.split("/")[-2]
        params.append(pytest.param(endpoint, writable, id=endpoint))
    return params


def _api_act_body(world: World, endpoint: str) -> tuple[str, str, dict]:
    """The ticket, role and a valid body for one act endpoint (from the matrix's tables)."""
    from .test_matrix import API_ACTS

    if endpoint == "attach":
        ticket, body, allowed = "assigned", {"files": [text_upload("现场.log")]}, {"alice"}
    else:
        spec = API_ACTS[endpoint]
        ticket, body, allowed = ACTS[spec] if isinstance(spec, str) else spec
    role = API_ACT_ROLE.get(endpoint) or next(r for r in ("engineer", "agent", "manager") if r in allowed)
    values = {key: value(world) if callable(value) else value for key, value in body.items()}
    return ticket, role, values | {"version": world.version(ticket)}


@pytest.mark.parametrize(("endpoint", "writable"), _api_act_params())
def test_api_act_refuses_every_field_it_does_not_declare(world, media_root, endpoint, writable):
    # given
    ticket, role, body = _api_act_body(world, endpoint)
    hostile = extras(world, besides=writable, form=endpoint == "attach")
    before = snapshot(media_root)
    # when
    response = client_for(world, role, api=True).post(
        f"/api/tickets/{world.number(ticket)}/{endpoint}/",
        body | hostile,
        format="multipart" if endpoint == "attach" else "json",
    )
    # then
    refused_by_name(response, hostile)
    assert snapshot(media_root) == before


@pytest.mark.parametrize("endpoint", ["comment", "attach"])
def test_customer_cannot_make_a_comment_or_file_internal_through_the_api(world, media_root, endpoint):
    before = snapshot(media_root)
    body = {"version": world.version("assigned"), "is_internal": True}
    body |= {"body": "内部"} if endpoint == "comment" else {"files": [text_upload()]}
    response = client_for(world, "alice", api=True).post(
        f"/api/tickets/{world.number('assigned')}/{endpoint}/", body, format="multipart"
    )
    assert response.status_code == 403, response.content
    assert snapshot(media_root) == before


# Page forms: extra fields are ignored. A request is run twice in savepoints, with and without
# every Ticket field added, at a frozen time: both must write exactly the same rows.

WRITTEN = [
    Ticket,
    TimelineEvent,
    Comment,
    Attachment,
    WorkLog,
    Visit,
    RiskApproval,
    ChangeRequest,
    FaultReport,
    EmergencyPlan,
    Notification,
    Deadline,
]


def written() -> dict:
    """Every row a request may write, without ids (new rows are named by ticket number instead)."""
    numbers = dict(Ticket.objects.values_list("pk", "number"))
    comments = dict(Comment.objects.values_list("pk", "body"))
    state = {}
    for model in WRITTEN:
        rows = []
        for row in model.objects.values():
            row.pop("id")
            row.pop("file", None)  # a random name on disk
            for key, names in (("ticket_id", numbers), ("object_id", numbers), ("comment_id", comments)):
                if key in row:
                    row[key] = names.get(row[key])
            rows.append(repr(sorted(row.items())))
        state[model.__name__] = sorted(rows)
    return state


def effect(send) -> tuple[int, dict]:
    """Run `send` in a savepoint, read what it wrote, and undo it."""
    savepoint = transaction.savepoint()
    try:
        response = send()
        return response.status_code, written()
    finally:
        transaction.savepoint_rollback(savepoint)


@pytest.fixture
def frozen(time_machine):
    time_machine.move_to(timezone.now(), tick=False)


def assert_extras_ignored(client, url, form: dict, extra: dict, *, status: int = 302) -> None:
    plain = effect(lambda: client.post(url, form))
    assert plain[0] == status, f"the plain form was refused: {plain[0]}"
    hostile = effect(lambda: client.post(url, extra | form))
    assert hostile[0] == status
    for table in plain[1]:
        assert hostile[1][table] == plain[1][table], f"{url}: the extra fields changed {table}"


def test_intake_ignores_fields_it_does_not_have(world, frozen):
    form = {key: str(value) for key, value in intake_form(world).items()}
    client = client_for(world, "agent")
    assert_extras_ignored(client, "/intake/", form, extras(world, besides=IntakeForm.base_fields, form=True))


def test_portal_request_ignores_fields_it_does_not_have(world, frozen):
    form = {
        "site": world.site_a.pk,
        "equipment": world.equipment_a.pk,
        "kind": "fault",
        "level": 3,
        "urgency": "general",
        "title": "打印机卡纸",
        "description": "",
    }
    client = client_for(world, "alice")
    hostile = extras(world, besides=PortalRequestForm.base_fields, form=True)
    assert_extras_ignored(client, "/portal/new/", form, hostile)


PAGE_ACT_ROLE = {"confirm": "alice", "reopen": "alice", "identify_customer": "agent"}
# Only a call of the customer to be confirmed is identified: on A's known customer the act is
# refused, and the extra fields must change nothing either.
PAGE_ACT_STATUS = {"identify_customer": 400}


@pytest.mark.parametrize("name", sorted(ACTS))
def test_act_form_ignores_fields_it_does_not_have(world, frozen, name):
    ticket, fields, allowed = ACTS[name]
    role = PAGE_ACT_ROLE.get(name) or next(r for r in ("engineer", "agent", "manager") if r in allowed)
    form = {key: value(world) if callable(value) else value for key, value in fields.items()}
    form["version"] = world.version(ticket)
    client = client_for(world, role)
    url = f"/tickets/{world.number(ticket)}/act/{name}/"
    hostile = extras(world, besides=ACT_FORMS[name].base_fields, form=True)
    assert_extras_ignored(client, url, form, hostile, status=PAGE_ACT_STATUS.get(name, 302))


def test_customer_comment_is_never_internal_whatever_the_form_says(world, frozen):
    form = {"body": "请尽快处理", "version": world.version("assigned")}
    client = client_for(world, "alice")
    url = f"/tickets/{world.number('assigned')}/comment/"
    # is_internal is a field of the form, but not one a customer may set: it is sent too.
    hostile = extras(world, besides=CommentForm.base_fields, form=True) | {"is_internal": "on"}
    assert_extras_ignored(client, url, form, hostile)


def test_fault_report_form_ignores_fields_it_does_not_have(world, frozen):
    form = {"fault_class": "硬件", "cause": "电源老化", "method": "更换", "loss": "中断 40 分钟"}
    hostile = extras(world, besides=FaultReportForm.base_fields, form=True) | {
        "written_by": world.user("admin").pk,
        "written_at": "2020-01-01 08:00",
    }
    client = client_for(world, "engineer")
    assert_extras_ignored(client, f"/tickets/{world.number('resolved')}/report/", form, hostile)


@pytest.mark.parametrize(
    ("role", "path", "form", "form_class"),
    [
        ("manager", "approvals/{approval}/decide/", {"approve": "1", "reason": "同意"}, DecisionForm),
        ("engineer", "approvals/{approval}/consent/", {"given_by": "张经理", "note": ""}, ConsentForm),
    ],
    ids=["decide_risk", "record_consent"],
)
def test_approval_forms_ignore_fields_they_do_not_have(world, frozen, role, path, form, form_class):
    hostile = extras(world, besides=form_class.base_fields, form=True) | {
        "decided_by": world.user("admin").pk,
        "requested_by": world.user("admin").pk,
        "decision": "approved",
        "consent_at": "2020-01-01 08:00",
        "risk": "data_deletion",
    }
    # Consent is recorded on an approved action, decisions on a pending one.
    approval = world.approved_approval if form_class is ConsentForm else world.approval
    url = f"/tickets/{world.number('working')}/" + path.format(approval=approval.pk)
    assert_extras_ignored(client_for(world, role), url, form, hostile)


def test_change_decision_form_ignores_fields_it_does_not_have(world, frozen):
    form = {"approve": "1", "reason": "同意"}
    hostile = extras(world, besides=DecisionForm.base_fields, form=True) | {
        "effort_days": "0.1",
        "decided_by": world.user("admin").pk,
    }
    url = f"/tickets/{world.number('change_submitted')}/change/decide/"
    assert_extras_ignored(client_for(world, "manager"), url, form, hostile)


# Foreign keys: every record a payload names belongs to the caller's organisation.


def assert_refused_and_nothing_written(response, before, *, status=400) -> None:
    assert response.status_code == status, response.content
    assert snapshot() == before
    assert BRAVO_RECORD not in response.content.decode(), "the refusal shows the other organisation's record"


@pytest.mark.parametrize(
    "fields",
    [
        lambda w: {"site": w.site_b.pk, "equipment": None},
        lambda w: {"equipment": w.equipment_b.pk, "site": None},
        lambda w: {"equipment": w.equipment_b.pk},  # with A's own site
    ],
    ids=["B's site", "B's equipment", "A's site with B's equipment"],
)
def test_customer_naming_another_organisations_record_is_refused(world, fields):
    before = snapshot()
    body = {
        key: value for key, value in (customer_request(world) | fields(world)).items() if value is not None
    }
    response = client_for(world, "alice", api=True).post("/api/tickets/", body, format="json")
    assert_refused_and_nothing_written(response, before)


@pytest.mark.parametrize(
    "fields",
    [
        lambda w: {"site": w.site_b.pk},
        lambda w: {"equipment": w.equipment_b.pk},
        lambda w: {"site": w.site_b.pk, "equipment": w.equipment_b.pk},
    ],
    ids=["B's site", "B's equipment", "B's site and equipment"],
)
def test_portal_request_naming_another_organisations_record_is_refused(world, fields):
    form = {
        "site": world.site_a.pk,
        "equipment": world.equipment_a.pk,
        "kind": "fault",
        "level": 3,
        "urgency": "general",
        "title": "打印机卡纸",
    } | fields(world)
    before = snapshot()
    response = client_for(world, "alice").post("/portal/new/", form)
    assert_refused_and_nothing_written(response, before)


@pytest.mark.parametrize(
    "fields",
    [
        lambda w: {"site": w.site_b.pk, "equipment": None},
        lambda w: {"equipment": w.equipment_b.pk, "site": None, "contract": None},
        lambda w: {"contract": w.contract_b.pk},
        lambda w: {"contact": w.contact_b.pk},
        lambda w: {"team": w.team.pk, "assignee": w.user("other_engineer").pk},
        lambda w: {"team": None, "assignee": w.user("alice").pk},
    ],
    ids=[
        "B's site",
        "B's equipment",
        "B's contract",
        "B's contact",
        "an engineer not on the team",
        "a customer as engineer",
    ],
)
def test_call_for_a_naming_another_organisations_record_is_refused(world, fields):
    before = snapshot()
    body = {key: value for key, value in (staff_call(world) | fields(world)).items() if value is not None}
    response = client_for(world, "agent", api=True).post("/api/tickets/", body, format="json")
    assert response.status_code == 400, response.content
    assert snapshot() == before


@pytest.mark.parametrize(
    "fields",
    [
        lambda w: {"site": w.site_b.pk},
        lambda w: {"equipment": w.equipment_b.pk},
        lambda w: {"contact": w.contact_b.pk},
        lambda w: {"contract_number": w.contract_b.number, "equipment": "", "site": ""},
        lambda w: {"team": w.team.pk, "assignee": w.user("alice").pk},
    ],
    ids=["B's site", "B's equipment", "B's contact", "B's contract", "a customer as engineer"],
)
def test_intake_for_a_naming_another_organisations_record_is_refused(world, fields):
    form = intake_form(world) | fields(world)
    before = snapshot()
    response = client_for(world, "agent").post("/intake/", form)
    assert response.status_code == 400
    assert snapshot() == before


def test_intake_with_another_organisations_contract_number_logs_no_contract(world):
    """A's equipment under B's contract number: the call is paid service, never on B's contract."""
    form = intake_form(world) | {"contract_number": world.contract_b.number}
    response = client_for(world, "agent").post("/intake/", form)
    assert response.status_code == 302
    ticket = Ticket.objects.get(title="ALPHA-T-intake 打印机卡纸")
    assert (ticket.organisation, ticket.contract) == (world.org_a, None)


@pytest.mark.parametrize("api", [False, True], ids=["page", "api"])
def test_assigning_a_customer_as_engineer_is_refused(world, api):
    before = snapshot()
    url = f"{'/api' if api else ''}/tickets/{world.number('assigned')}/{'' if api else 'act/'}assign/"
    body = {"version": world.version("assigned"), "team": world.team.pk, "assignee": world.user("alice").pk}
    client = client_for(world, "agent", api=api)
    response = client.post(url, body, format="json") if api else client.post(url, body)
    assert response.status_code == 400
    assert snapshot() == before
