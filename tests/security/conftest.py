"""
The world the security suites attack: two customer organisations in two regions, the staff of
each, and tickets of organisation A in every state an act starts from.

The world is built once per test module inside a transaction that is rolled back when the module
ends; every test runs in a savepoint inside it (pytest-django's `db`), so what one test changes
the next never sees. Tests read numbers and ids from the world, and the rows from the database.
"""

from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection, transaction
from django.test import Client, override_settings
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.choices import Role, Tier
from accounts.models import Team, User
from customers.models import Contact, Contract, Equipment, Organisation, Site
from notifications.choices import Channel as NotificationChannel
from notifications.models import Notification
from sla.choices import State
from sla.models import Deadline
from tests.factories import (
    ContactFactory,
    ContractFactory,
    EquipmentFactory,
    OrganisationFactory,
    SiteFactory,
    SupportCentreFactory,
    TeamFactory,
    UserFactory,
)
from tickets import services
from tickets.choices import Impact, Kind, Level, Risk
from tickets.models import (
    Attachment,
    ChangeRequest,
    Comment,
    EmergencyPlan,
    FaultReport,
    RiskApproval,
    SavedFilter,
    Ticket,
    TimelineEvent,
    Visit,
    WorkLog,
)

ANONYMOUS = "anonymous"
# Every role the matrix tries, in the order the reports list them.
ROLES = (
    ANONYMOUS,
    "alice",  # customer of organisation A
    "bob",  # customer of organisation B
    "agent",  # hotline agent
    "engineer",  # engineer on the team (and the assignee) of A's tickets
    "other_engineer",  # engineer (and supervisor) of a team of the other region
    "manager",  # manager of the centre A's tickets belong to
    "other_manager",  # manager of the other centre
    "admin",  # administrator, is_staff and superuser
)

# Text that marks whose record a string is: a response to someone who may not see the record
# must never contain it. Tickets carry the T markers, customer records the O markers.
ALPHA_TICKET, BRAVO_TICKET = "ALPHA-T", "BRAVO-T"
ALPHA_RECORD, BRAVO_RECORD = "ALPHA-O", "BRAVO-O"
INTERNAL = "INTERNAL-ONLY"


@dataclass
class World:
    users: dict[str, User]
    supervisor: User
    team: Team
    tier2: Team
    other_team: Team
    org_a: Organisation
    org_b: Organisation
    site_a: Site
    site_b: Site
    contract_a: Contract
    contract_b: Contract
    equipment_a: Equipment
    equipment_b: Equipment
    contact_a: Contact
    contact_b: Contact
    # Organisation A's tickets by the state they are in (see build_world).
    tickets: dict[str, Ticket]
    bob_ticket: Ticket
    approval: RiskApproval
    # Approved by the supervisor, waiting for the customer's consent.
    approved_approval: RiskApproval
    bob_approval: RiskApproval
    attachment: Attachment
    internal_attachment: Attachment
    bob_attachment: Attachment
    alice_notification: Notification
    bob_notification: Notification
    # Session keys by role, signed in once for the module: a client needs only the cookie.
    sessions: dict[str, str] = field(default_factory=dict)

    def user(self, role: str) -> User | None:
        return self.users.get(role)

    def number(self, name: str) -> str:
        return self.tickets[name].number

    def version(self, name: str) -> int:
        """The version of one of A's tickets as it is now in the database."""
        return Ticket.objects.values_list("version", flat=True).get(pk=self.tickets[name].pk)

    def foreign_markers(self, role: str) -> set[str]:
        """Strings that must never appear in a response to `role`: records it may not see."""
        alpha = {ALPHA_TICKET, *(ticket.number for ticket in self.tickets.values())}
        bravo = {BRAVO_TICKET, self.bob_ticket.number}
        return {
            ANONYMOUS: alpha | bravo | {ALPHA_RECORD, BRAVO_RECORD, INTERNAL},
            "alice": bravo | {BRAVO_RECORD, INTERNAL},
            "bob": alpha | {ALPHA_RECORD, INTERNAL},
            "agent": set(),
            "engineer": bravo,
            "other_engineer": alpha,
            "manager": bravo,
            "other_manager": alpha,
            "admin": set(),
        }[role]


def text_upload(name: str = "fault.log", content: bytes = b"kernel: link down on eth0\n"):
    return SimpleUploadedFile(name, content, content_type="text/plain")


def _customer(username: str, organisation: Organisation, marker: str, phone: str) -> tuple[User, Contact]:
    user = UserFactory(username=username, role=Role.CUSTOMER, email=f"{username}@example.cn")
    contact = ContactFactory(organisation=organisation, user=user, name=f"{marker} 联系人", phone=phone)
    return user, contact


def _records(organisation: Organisation, centre, marker: str):
    today = timezone.localdate()
    site = SiteFactory(organisation=organisation, centre=centre, name=f"{marker} 机房")
    contract = ContractFactory(
        organisation=organisation,
        number=f"HT-{marker}-0001",
        starts_on=today - timedelta(days=365),
        ends_on=today + timedelta(days=730),
    )
    equipment = EquipmentFactory(site=site, contract=contract, serial_number=f"SN-{marker}-0001")
    return site, contract, equipment


def build_world() -> World:
    """Two regions, two customers, the staff of each and A's tickets in every acting state."""
    manager = UserFactory(username="manager", role=Role.MANAGER, email="manager@example.cn")
    centre = SupportCentreFactory(code="nanjing", name="南京技术支持中心", manager=manager)
    other_manager = UserFactory(username="other_manager", role=Role.MANAGER)
    other_centre = SupportCentreFactory(code="chengdu", name="成都技术支持中心", manager=other_manager)
    User.objects.filter(pk=manager.pk).update(centre=centre)
    User.objects.filter(pk=other_manager.pk).update(centre=other_centre)
    agent = UserFactory(username="agent", role=Role.AGENT, centre=centre)
    admin = UserFactory(username="admin", role=Role.ADMIN, centre=centre, is_staff=True, is_superuser=True)
    engineer = UserFactory(username="engineer", role=Role.ENGINEER, centre=centre, email="eng@example.cn")
    supervisor = UserFactory(username="supervisor", role=Role.ENGINEER, centre=centre)
    team = TeamFactory(name="南京本地服务组", centre=centre, tier=Tier.LOCAL, supervisor=supervisor)
    team.members.add(engineer, supervisor)
    tier2 = TeamFactory(name="南京专职维护组", centre=centre, tier=Tier.DEDICATED, supervisor=supervisor)
    tier2.members.add(supervisor)
    other_engineer = UserFactory(username="stranger", role=Role.ENGINEER, centre=other_centre)
    other_team = TeamFactory(
        name="成都本地服务组", centre=other_centre, tier=Tier.LOCAL, supervisor=other_engineer
    )
    other_team.members.add(other_engineer)

    org_a = OrganisationFactory(name=f"甲单位 {ALPHA_RECORD}")
    org_b = OrganisationFactory(name=f"乙单位 {BRAVO_RECORD}")
    alice, contact_a = _customer("alice", org_a, ALPHA_RECORD, "13900000001")
    bob, contact_b = _customer("bob", org_b, BRAVO_RECORD, "13900000002")
    site_a, contract_a, equipment_a = _records(org_a, centre, ALPHA_RECORD)
    site_b, contract_b, equipment_b = _records(org_b, other_centre, BRAVO_RECORD)

    def log(
        label,
        *,
        kind=Kind.FAULT,
        level=Level.II,
        equipment=equipment_a,
        contact=contact_a,
        team=team,
        assignee=engineer,
        marker=ALPHA_TICKET,
    ):
        details = services.CallDetails(
            organisation=equipment.site.organisation,
            title=f"{marker}-{label} 核心交换机宕机",
            description=f"{marker}-{label} 全部业务中断",
            kind=kind,
            level=level if kind == Kind.FAULT else None,
            site=equipment.site,
            equipment=equipment,
            contract=equipment.contract,
            contact=contact,
        )
        return services.log_call(details, by=agent, team=team, assignee=assignee)

    tickets = {
        "assigned": log("assigned"),
        "working": services.accept(log("working"), by=engineer),
        "travelling": services.accept(log("travelling"), by=engineer),
        "on_site": services.accept(log("on-site"), by=engineer),
        "waiting": services.accept(log("waiting"), by=engineer),
        "resolved": services.accept(log("resolved"), by=engineer),
        "consultation": log("consultation", kind=Kind.CONSULTATION),
        "change": log("change", kind=Kind.CHANGE),
        "change_submitted": log("change-submitted", kind=Kind.CHANGE),
        "level_one": services.accept(log("level-one", level=Level.I), by=engineer),
    }
    services.start_travel(tickets["travelling"], by=engineer)
    services.start_travel(tickets["on_site"], by=engineer)
    services.record_arrival(tickets["on_site"], by=engineer)
    services.pause(tickets["waiting"], by=engineer, reason="等待客户提供日志")
    services.resolve(tickets["resolved"], by=engineer, resolution="更换电源模块")
    services.submit_change(tickets["change_submitted"], by=agent, effort_days=2, impact=Impact.MINOR)
    approval = services.request_approval(
        tickets["working"], by=engineer, risk=Risk.RESTART_SERVER, plan="重启核心交换机"
    )
    approved_approval = services.request_approval(
        tickets["working"], by=engineer, risk=Risk.REINSTALL, plan="重装交换机系统"
    )
    services.decide_risk(approved_approval, by=supervisor, approve=True)

    assigned = tickets["assigned"]
    services.add_comment(assigned, by=engineer, body="已安排工程师，稍后电话联系")  # alice hears of it
    services.add_comment(assigned, by=engineer, body=f"{INTERNAL} 客户设备超保", is_internal=True)
    (attachment,) = services.attach(assigned, by=alice, files=[text_upload("现场日志.log")])
    (internal_attachment,) = services.attach(
        assigned, by=engineer, files=[text_upload(f"{INTERNAL}.log")], is_internal=True
    )

    bob_ticket = services.accept(
        log(
            "bob",
            equipment=equipment_b,
            contact=contact_b,
            team=other_team,
            assignee=other_engineer,
            marker=BRAVO_TICKET,
        ),
        by=other_engineer,
    )
    bob_approval = services.request_approval(
        bob_ticket, by=other_engineer, risk=Risk.RESTART_DATABASE, plan="重启数据库"
    )
    services.add_comment(bob_ticket, by=other_engineer, body="已到现场")  # bob hears of it
    (bob_attachment,) = services.attach(bob_ticket, by=bob, files=[text_upload("乙单位日志.log")])

    # Deadlines close to lapsing put the tickets on the SLA queues of both regions.
    Deadline.objects.filter(
        content_type=ContentType.objects.get_for_model(Ticket),
        object_id__in=[assigned.pk, bob_ticket.pk],
    ).update(state=State.WARNED)

    def inbox(user):
        return Notification.objects.filter(recipient=user, channel=NotificationChannel.IN_APP).first()

    users = {
        "alice": alice,
        "bob": bob,
        "agent": agent,
        "engineer": engineer,
        "other_engineer": other_engineer,
        "manager": manager,
        "other_manager": other_manager,
        "admin": admin,
    }
    users = {role: User.objects.get(pk=user.pk) for role, user in users.items()}
    return World(
        users=users,
        supervisor=supervisor,
        team=team,
        tier2=tier2,
        other_team=other_team,
        org_a=org_a,
        org_b=org_b,
        site_a=site_a,
        site_b=site_b,
        contract_a=contract_a,
        contract_b=contract_b,
        equipment_a=equipment_a,
        equipment_b=equipment_b,
        contact_a=contact_a,
        contact_b=contact_b,
        tickets={name: Ticket.objects.get(pk=ticket.pk) for name, ticket in tickets.items()},
        bob_ticket=Ticket.objects.get(pk=bob_ticket.pk),
        approval=approval,
        approved_approval=approved_approval,
        bob_approval=bob_approval,
        attachment=attachment,
        internal_attachment=internal_attachment,
        bob_attachment=bob_attachment,
        alice_notification=inbox(alice),
        bob_notification=inbox(bob),
    )


@pytest.fixture(scope="module")
def media_root(tmp_path_factory):
    """Uploaded files of the module go to a folder of their own, never the project's var/."""
    root = tmp_path_factory.mktemp("media")
    with override_settings(MEDIA_ROOT=str(root)):
        yield root


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker, media_root):
    """The world, built once per module in a transaction rolled back at its end."""
    name = str(connection.settings_dict["NAME"])
    assert "test" in name or "memory" in name, f"the world is built in test databases only, not {name}"
    with django_db_blocker.unblock():
        outer = transaction.atomic()
        outer.__enter__()
        try:
            built = build_world()
            for role, user in built.users.items():
                client = Client()
                client.force_login(user)
                built.sessions[role] = client.cookies[settings.SESSION_COOKIE_NAME].value
            yield built
        finally:
            transaction.set_rollback(True)
            outer.__exit__(None, None, None)


@pytest.fixture(autouse=True)
def _in_world(world, db):
    """Every test sees the world, and runs in a savepoint of the module's transaction."""


def client_for(world: World, role: str, *, api: bool = False) -> Client:
    """A client signed in as `role` (by session), or anonymous; English pages."""
    client = APIClient() if api else Client()
    client.cookies["django_language"] = "en"
    if role in world.sessions:
        client.cookies[settings.SESSION_COOKIE_NAME] = world.sessions[role]
    return client


def files_under(root: Path) -> list[str]:
    return sorted(str(path.relative_to(root)) for path in Path(root).rglob("*") if path.is_file())


# What a refused request must leave exactly as it was: these columns of these tables.
SNAPSHOT = [
    (Ticket, ["number", "status", "version", "team", "assignee", "tier", "title", "organisation"]),
    (TimelineEvent, ["id"]),
    (Comment, ["id", "body", "is_internal"]),
    (Attachment, ["id", "is_internal"]),
    (Notification, ["id", "read_at"]),
    (Deadline, ["id", "state", "met_at", "paused_at"]),
    (RiskApproval, ["id", "decision", "consent_at"]),
    (ChangeRequest, ["id", "decision"]),
    (FaultReport, ["id", "cause"]),
    (EmergencyPlan, ["id", "plan"]),
    (WorkLog, ["id"]),
    (Visit, ["id", "arrived_at", "departed_at"]),
    (User, ["id", "password", "is_active"]),
    (SavedFilter, ["id", "owner", "name", "query"]),
]


def _select(model, fields: list[str]) -> str:
    quote = connection.ops.quote_name
    columns = ", ".join(quote(model._meta.get_field(name).column) for name in fields)
    # Plain SQL: a thousand snapshots through the ORM's compiler cost seconds.
    return f"SELECT {columns} FROM {quote(model._meta.db_table)} ORDER BY {quote(model._meta.pk.column)}"  # noqa: S608


def snapshot(media: Path | None = None) -> dict:
    """Every row a request could change, and the files under `media`."""
    state = {}
    with connection.cursor() as cursor:
        for model, fields in SNAPSHOT:
            cursor.execute(_select(model, fields))
            state[model.__name__] = cursor.fetchall()
    if media is not None:
        state["files"] = files_under(media)
    return state
