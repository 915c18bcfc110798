"""
The notification outbox: messages are written in the caller's transaction and delivered after it.

In-app messages are visible at once. E-mail and group-robot messages are handed to a Celery task
when the transaction commits; if the broker is down they stay pending and the beat sweep
(`deliver_pending`) sends them later. Nothing here makes the caller's request fail because a
message could not be delivered.
"""

import base64
import hashlib
import hmac
import json
import logging
import smtplib
import time
import urllib.parse
import urllib.request
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta
from functools import partial

from django.conf import settings
from django.core.mail import send_mail
from django.db import connection, transaction
from django.db.models import F, Q
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.text import Truncator
from django.utils.translation import gettext as _

from accounts.models import User
from servicedesk import bulk

from .choices import Channel, RobotKind, Status
from .models import Notification, Robot

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 8
WEBHOOK_TIMEOUT = 10  # seconds
# The sweep leaves rows this young to the task they were just handed to.
SWEEP_GRACE = timedelta(seconds=30)
# A claimed row is left to the worker sending it for this long before anyone may try again.
CLAIM_LEASE = timedelta(minutes=5)
# WeCom refuses markdown over 4,096 bytes; 1,000 Chinese characters stay well below.
ROBOT_BODY_LIMIT = 1000
SUBJECT_LENGTH = Notification._meta.get_field("subject").max_length
DEDUPE_KEY_LENGTH = Notification._meta.get_field("dedupe_key").max_length

# Full-width look-alikes: user text keeps its meaning but can form no link, image or tag.
# "&" too: a renderer that decodes character references (&#91;) before parsing would rebuild a link.
_MARKDOWN_INERT = str.maketrans({"[": "［", "]": "］", "(": "（", ")": "）", "<": "＜", ">": "＞", "&": "＆"})


class DeliveryFailed(Exception):
    """A delivery attempt failed; `final` when the message will not be tried again."""

    def __init__(self, message: str, *, final: bool = False):
        super().__init__(message)
        self.final = final


# Queueing


@transaction.atomic
def queue(
    recipients: User | Iterable[User],
    *,
    kind: str,
    subject: str,
    body: str,
    url: str = "",
    channels: Iterable[str] = (Channel.IN_APP, Channel.EMAIL),
    dedupe_key: str = "",
    addresses: Iterable[str] = (),
) -> list[Notification]:
    """
    Write one message per recipient and channel in the caller's transaction.

    Inactive users, repeated recipients and e-mail to users without an address are skipped. With
    a `dedupe_key`, a message already queued under that key (per recipient and channel) is
    skipped too, so calling twice queues once. `addresses` are people without an account: they
    get the e-mail (when the channels include it) unless a recipient has the same address.
    Returns the rows written.
    """
    message = Message(recipients, kind, subject, body, url, tuple(channels), dedupe_key, tuple(addresses))
    return _write(message.rows(timezone.now()))


@dataclass
class Message:
    """One message for several people, as `queue` takes it; `queue_many` writes many at once."""

    recipients: User | Iterable[User]
    kind: str
    subject: str
    body: str
    url: str = ""
    channels: tuple = (Channel.IN_APP, Channel.EMAIL)
    dedupe_key: str = ""
    addresses: tuple = ()

    def people(self) -> list[User]:
        """The recipients to write to: each active one once."""
        recipients = [self.recipients] if isinstance(self.recipients, User) else self.recipients
        return list(
            {person.pk: person for person in recipients if person is not None and person.is_active}.values()
        )

    def rows(self, now) -> list[Notification]:
        channels = list(dict.fromkeys(self.channels))
        if Channel.WEBHOOK in channels:
            raise ValueError("Group robots are reached through queue_robot().")
        rows = []
        for recipient in self.people():
            for channel in channels:
                if channel == Channel.EMAIL and not recipient.email:
                    continue
                key = _suffixed(self.dedupe_key, recipient.pk, channel)
                row = _message(self.kind, self.subject, self.body, self.url, key)
                row.recipient, row.channel = recipient, channel
                if channel == Channel.IN_APP:
                    row.status, row.sent_at = Status.SENT, now
                rows.append(row)
        if Channel.EMAIL in channels:
            for address in self.mailboxes():
                row = _message(self.kind, self.subject, self.body, self.url, "")
                row.dedupe_key = _suffixed(self.dedupe_key, Channel.EMAIL, address)
                row.address, row.channel = address, Channel.EMAIL
                rows.append(row)
        return rows

    def mailboxes(self) -> list[str]:
        """The addresses to mail besides the recipients: each once, none a recipient's own."""
        taken = {person.email.strip().lower() for person in self.people() if person.email}
        found = {}
        for address in self.addresses:
            address = (address or "").strip()
            if address and address.lower() not in taken:
                found.setdefault(address.lower(), address)
        return list(found.values())


@transaction.atomic
def queue_many(messages: Iterable[Message]) -> int:
    """
    `queue` for many messages at once (the SLA sweep's batches); returns how many rows were
    written. On PostgreSQL the database makes the rows, one per recipient and channel, in one
    statement per set of channels; elsewhere, or for keys too long to suffix as they are,
    `queue`'s way in bulk.
    """
    by_channels: dict[tuple, list[Message]] = {}
    for message in messages:
        by_channels.setdefault(tuple(message.channels), []).append(message)
    return sum(_queue_alike(alike, channels) for channels, alike in by_channels.items())


def _queue_alike(messages: list[Message], channels: tuple) -> int:
    """`queue_many` for messages on the same channels (a digest's e-mail differs from its in-app row)."""
    if (
        connection.vendor == "postgresql"
        and Channel.WEBHOOK not in channels
        and not any(message.addresses for message in messages)
        and all(0 < len(message.dedupe_key) <= DEDUPE_KEY_LENGTH - 40 for message in messages)
    ):
        return _insert_many(messages, list(dict.fromkeys(channels)))
    now = timezone.now()
    return len(_write([row for message in messages for row in message.rows(now)]))


def _insert_many(messages: list[Message], channels: list[str]) -> int:
    """One INSERT … SELECT: messages × recipients × channels, keys suffixed as `_suffixed` does."""
    kinds, subjects, bodies, urls, keys, pair_message, pair_recipient = [], [], [], [], [], [], []
    for index, message in enumerate(messages, start=1):
        kinds.append(message.kind)
        subjects.append(_subject(message.subject))
        bodies.append(str(message.body))
        urls.append(message.url)
        keys.append(message.dedupe_key)
        for recipient in message.people():
            pair_message.append(index)
            pair_recipient.append(recipient.pk)
    sql = f"""
        INSERT INTO {Notification._meta.db_table} (
            recipient_id, robot_id, address, channel, status, kind, subject, body, url, created_at,
            sent_at, read_at, attempts, next_attempt_at, last_error, dedupe_key
        )
        SELECT r.recipient_id, NULL, '', c.channel,
            CASE WHEN c.channel = %(in_app)b THEN %(sent)b ELSE %(pending)b END,
            m.kind, m.subject, m.body, m.url, %(now)b,
            CASE WHEN c.channel = %(in_app)b THEN %(now)b::timestamptz END, NULL, 0, NULL, '',
            m.dedupe_key || ':' || r.recipient_id || ':' || c.channel
        FROM unnest(%(pair_message)b::int[], %(pair_recipient)b::bigint[]) AS r(message, recipient_id)
        JOIN unnest(%(kinds)b::text[], %(subjects)b::text[], %(bodies)b::text[], %(urls)b::text[],
                    %(keys)b::text[]) WITH ORDINALITY AS m(kind, subject, body, url, dedupe_key, message)
            USING (message)
        JOIN {User._meta.db_table} u ON u.id = r.recipient_id
        CROSS JOIN unnest(%(channels)b::text[]) AS c(channel)
        WHERE c.channel <> %(email)b OR u.email <> ''
        ON CONFLICT (dedupe_key) WHERE NOT (dedupe_key = '') DO NOTHING
        RETURNING id, status
    """  # noqa: S608 (the table names are the models', every value is a parameter)
    params = {
        "in_app": Channel.IN_APP,
        "email": Channel.EMAIL,
        "sent": Status.SENT,
        "pending": Status.PENDING,
        "now": timezone.now(),
        "pair_message": pair_message,
        "pair_recipient": pair_recipient,
        "kinds": kinds,
        "subjects": subjects,
        "bodies": bodies,
        "urls": urls,
        "keys": keys,
        "channels": channels,
    }
    written = bulk.execute(sql, params, fetch=True)
    to_send = [pk for pk, status in written if status == Status.PENDING]
    if to_send:
        transaction.on_commit(partial(_hand_over, to_send), robust=True)
    return len(written)


@transaction.atomic
def queue_robot(
    robots: Robot | Iterable[Robot],
    *,
    kind: str,
    subject: str,
    body: str,
    url: str = "",
    dedupe_key: str = "",
) -> list[Notification]:
    """Write one message per active group robot in the caller's transaction; see `queue`."""
    return _write(RobotMessage(robots, kind, subject, body, url, dedupe_key).rows())


@dataclass
class RobotMessage:
    """One message for several group robots, as `queue_robot` takes it (`recipients` are robots)."""

    recipients: Robot | Iterable[Robot]
    kind: str
    subject: str
    body: str
    url: str = ""
    dedupe_key: str = ""

    def rows(self) -> list[Notification]:
        robots = [self.recipients] if isinstance(self.recipients, Robot) else self.recipients
        rows, seen = [], set()
        for robot in robots:
            if robot is None or robot.pk in seen or not robot.is_active:
                continue
            seen.add(robot.pk)
            row = _message(
                self.kind, self.subject, self.body, self.url, _suffixed(self.dedupe_key, "robot", robot.pk)
            )
            row.robot, row.channel = robot, Channel.WEBHOOK
            rows.append(row)
        return rows


@transaction.atomic
def queue_robot_many(messages: Iterable[RobotMessage]) -> int:
    """`queue_robot` for many messages at once (the SLA sweep's batches); returns the rows written."""
    return len(_write([row for message in messages for row in message.rows()]))


class Subscriptions:
    """
    Which active group robots hear an event of a ticket, read once (for a sweep batch, or one
    ticket): a robot hears the events it subscribes to, for tickets of its centres or teams, or
    of every centre when it names neither.
    """

    def __init__(self):
        robots = Robot.objects.filter(is_active=True)
        self.robots = [robot for robot in robots if isinstance(robot.events, list) and robot.events]
        self.centres: dict[int, set[int]] = {robot.pk: set() for robot in self.robots}
        self.teams: dict[int, set[int]] = {robot.pk: set() for robot in self.robots}
        if self.robots:
            for robot_id, centre_id in Robot.centres.through.objects.filter(
                robot__in=self.robots
            ).values_list("robot_id", "supportcentre_id"):
                self.centres[robot_id].add(centre_id)
            for robot_id, team_id in Robot.teams.through.objects.filter(robot__in=self.robots).values_list(
                "robot_id", "team_id"
            ):
                self.teams[robot_id].add(team_id)

    def hearing(
        self, event: str, *, centre_id: int | None, team_ids: Iterable[int | None] = ()
    ) -> list[Robot]:
        """The robots to post `event` of a ticket of this centre and these teams."""
        team_ids = {pk for pk in team_ids if pk is not None}
        return [
            robot
            for robot in self.robots
            if event in robot.events
            and (
                not (self.centres[robot.pk] or self.teams[robot.pk])
                or centre_id in self.centres[robot.pk]
                or self.teams[robot.pk] & team_ids
            )
        ]


def _message(kind, subject, body, url, dedupe_key) -> Notification:
    return Notification(kind=kind, subject=_subject(subject), body=str(body), url=url, dedupe_key=dedupe_key)


def _subject(subject) -> str:
    """A subject is one line (e-mail headers refuse line breaks), and not too long."""
    subject = " ".join(str(subject).split())
    return subject if len(subject) <= SUBJECT_LENGTH else Truncator(subject).chars(SUBJECT_LENGTH)


def _suffixed(key: str, *parts) -> str:
    """The caller's key made unique per recipient and channel, hashed if it grows too long."""
    if not key:
        return ""
    suffixed = ":".join([key, *map(str, parts)])
    if len(suffixed) <= DEDUPE_KEY_LENGTH:
        return suffixed
    digest = hashlib.sha256(suffixed.encode()).hexdigest()
    return f"{suffixed[: DEDUPE_KEY_LENGTH - len(digest) - 1]}:{digest}"


def _write(rows: list[Notification]) -> list[Notification]:
    """Insert the rows, skipping keys already queued; after commit, hand over what to send."""
    plain = [row for row in rows if not row.dedupe_key]
    Notification.objects.bulk_create(plain)
    keyed = [row for row in rows if row.dedupe_key]
    stored = {}
    if keyed:
        keys = [row.dedupe_key for row in keyed]
        known = set(Notification.objects.filter(dedupe_key__in=keys).values_list("dedupe_key", flat=True))
        fresh = [row for row in keyed if row.dedupe_key not in known]
        # Another transaction may queue the same key meanwhile: the unique constraint decides.
        Notification.objects.bulk_create(fresh, ignore_conflicts=True)
        fresh_keys = [row.dedupe_key for row in fresh]
        stored = {row.dedupe_key: row for row in Notification.objects.filter(dedupe_key__in=fresh_keys)}
    written = [
        stored[row.dedupe_key] if row.dedupe_key else row
        for row in rows
        if not row.dedupe_key or row.dedupe_key in stored
    ]
    to_send = [row.pk for row in written if row.status == Status.PENDING]
    if to_send:
        transaction.on_commit(partial(_hand_over, to_send), robust=True)
    return written


HAND_OVER_ONE_BY_ONE = 10  # more messages than this go to workers in chunks of CHUNK
CHUNK = 100
# After the broker could not be reached, hand-overs leave their messages to the outbox sweep for
# this long instead of trying again: one request that queues messages in several transactions
# (the call, its assignment, the customer's notice) waits for the broker once, not each time.
BROKER_RETRY_AFTER = 10.0
_broker_unreachable_until = 0.0


def _hand_over(notification_ids: list[int]) -> None:
    """
    Give the messages to workers; if the broker is down, the beat sweep sends them later. A few
    go one task each (retried by Celery); a sweep's hundreds go in chunks, one task per CHUNK,
    whose failed messages the beat sweep retries when their next attempt is due.
    """
    # Imported here because the tasks module imports this one.
    from .tasks import deliver_notification_task, deliver_notifications_task

    if len(notification_ids) <= HAND_OVER_ONE_BY_ONE:
        task, payloads = deliver_notification_task, notification_ids
    else:
        task = deliver_notifications_task
        payloads = [notification_ids[i : i + CHUNK] for i in range(0, len(notification_ids), CHUNK)]
    if task.app.conf.task_always_eager:
        for payload in payloads:
            _publish(task, payload)
        return
    global _broker_unreachable_until
    if time.monotonic() < _broker_unreachable_until:
        logger.info(
            "Broker unreachable a moment ago: %s notifications left to the sweep.", len(notification_ids)
        )
        return
    try:
        # One connection for all, tried once: with the broker down the request must not wait
        # through kombu's connection retries (seconds per message); the sweep sends them later.
        with task.app.connection_for_write() as connection:
            connection.ensure_connection(max_retries=0)
            for payload in payloads:
                _publish(task, payload, connection=connection)
    except Exception:
        _broker_unreachable_until = time.monotonic() + BROKER_RETRY_AFTER
        logger.warning(
            "Broker unreachable: %s notifications not handed to a worker; the sweep will send them.",
            len(notification_ids),
        )


def _publish(task, payload, **options) -> None:
    if isinstance(payload, list):
        options["argsrepr"] = f"[{len(payload)} notifications: {payload[0]}…{payload[-1]}]"
    try:
        task.apply_async((payload,), retry=False, **options)
    except Exception:
        logger.warning(
            "Notifications %s not handed to a worker; the sweep will send them.", payload, exc_info=True
        )


def deliver_each(notification_ids: list[int]) -> int:
    """Deliver these messages one by one, a failure recorded on its row; returns how many were sent."""
    return _deliver_all(
        Notification.objects.select_related("recipient", "robot").filter(pk__in=notification_ids)
    )


def _deliver_all(notifications) -> int:
    """Deliver each message; a failure is recorded on its row and tried again when it is due."""
    sent = 0
    for notification in notifications:
        try:
            sent += deliver(notification)
        except DeliveryFailed:
            continue
    return sent


# Delivery


def deliver(notification: Notification) -> bool:
    """
    Send one pending e-mail or robot message; True if this call sent it.

    The row is claimed with a conditional UPDATE that commits at once, so two workers never both
    send it and no transaction stays open while a mail server or robot answers. A row that is
    sent, failed, in-app, or waiting for its next attempt is left alone (False). A failed attempt
    is recorded on the row and raises `DeliveryFailed`; after MAX_ATTEMPTS the row is failed.
    """
    now = timezone.now()
    claimed = (
        Notification.objects.pending()
        .filter(pk=notification.pk)
        .filter(Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now))
        .update(attempts=F("attempts") + 1, next_attempt_at=now + CLAIM_LEASE)
    )
    if not claimed:
        return False
    # Only the delivery fields: the recipient or robot loaded with the row stays cached.
    notification.refresh_from_db(fields=["status", "attempts", "next_attempt_at", "sent_at"])
    try:
        _send(notification)
    except DeliveryFailed as exc:
        exc.final = exc.final or notification.attempts >= MAX_ATTEMPTS
        _record_failure(notification, exc)
        raise
    notification.status, notification.sent_at = Status.SENT, timezone.now()
    notification.next_attempt_at = None
    notification.save(update_fields=["status", "sent_at", "next_attempt_at"])
    return True


def retry_delay(failures: int) -> int:
    """Seconds to wait after the n-th failed attempt: 1, 2, 4 … minutes, at most an hour."""
    return min(60 * 2 ** max(failures - 1, 0), 60 * 60)


def _record_failure(notification: Notification, exc: DeliveryFailed) -> None:
    notification.last_error = str(exc)
    if exc.final:
        notification.status, notification.next_attempt_at = Status.FAILED, None
    else:
        delay = timedelta(seconds=retry_delay(notification.attempts))
        notification.next_attempt_at = timezone.now() + delay
    notification.save(update_fields=["status", "last_error", "next_attempt_at"])
    logger.warning(
        "Notification %s, attempt %s: %s%s",
        notification.pk,
        notification.attempts,
        exc,
        " (given up)" if exc.final else "",
    )


def _send(notification: Notification) -> None:
    if notification.channel == Channel.EMAIL:
        _send_email(notification)
    elif notification.channel == Channel.WEBHOOK:
        _post_to_robot(notification.robot, robot_payload(notification))
    else:
        raise DeliveryFailed(f"Nothing to deliver on channel {notification.channel}.", final=True)


def absolute_url(path: str) -> str:
    """A path inside the site as a full address, on the site's base URL (setting SITE_URL)."""
    base = getattr(settings, "SITE_URL", "http://127.0.0.1:8000").rstrip("/")
    return f"{base}/{path.lstrip('/')}"


def _send_email(notification: Notification) -> None:
    recipient = notification.recipient
    if recipient is None:
        # Someone without an account (a customer contact): the address written with the message.
        address = notification.address
    elif recipient.is_active:
        address = recipient.email
    else:
        address = ""
    if not address:
        raise DeliveryFailed("The recipient is inactive or has no e-mail address.", final=True)
    parts = [notification.body, absolute_url(notification.url) if notification.url else ""]
    prefix = f"[{getattr(settings, 'SITE_NAME', 'servicedesk')}] "
    try:
        send_mail(
            subject=prefix + notification.subject,
            message="\n\n".join(part for part in parts if part),
            from_email=None,
            recipient_list=[address],
        )
    except (smtplib.SMTPException, OSError) as exc:
        raise DeliveryFailed(f"E-mail: {exc}") from exc


def escape_markdown(text: str) -> str:
    """Make user text inert in robot markdown: it can form no link, image or HTML tag."""
    return str(text).translate(_MARKDOWN_INERT)


def robot_payload(notification: Notification) -> dict:
    """The JSON a DingTalk or WeCom robot accepts for the message, as markdown."""
    subject = escape_markdown(notification.subject)
    body = escape_markdown(Truncator(notification.body).chars(ROBOT_BODY_LIMIT))
    link = ""
    if notification.url:
        address = urllib.parse.quote(absolute_url(notification.url), safe=":/?#@!$&'*+,;=%~")
        link = f"[{escape_markdown(_('Open'))}]({address})"
    if notification.robot.kind == RobotKind.DINGTALK:
        text = "\n\n".join(part for part in (f"#### {subject}", body, link) if part)
        return {"msgtype": "markdown", "markdown": {"title": subject, "text": text}}
    content = "\n".join(part for part in (f"**{subject}**", body, link) if part)
    return {"msgtype": "markdown", "markdown": {"content": content}}


def dingtalk_signed_url(url: str, secret: str, timestamp_ms: int) -> str:
    """The robot address with DingTalk's signature: base64 HMAC-SHA256 of "timestamp\\nsecret"."""
    string_to_sign = f"{timestamp_ms}\n{secret}".encode()
    digest = hmac.new(secret.encode(), string_to_sign, hashlib.sha256).digest()
    sign = urllib.parse.quote_plus(base64.b64encode(digest))
    separator = "&" if "?" in url else "?"
    return f"{url}{separator}timestamp={timestamp_ms}&sign={sign}"


def _post_to_robot(robot: Robot | None, payload: dict) -> None:
    if robot is None or not robot.is_active:
        raise DeliveryFailed("The group robot is inactive.", final=True)
    url = robot.url
    if urllib.parse.urlsplit(url).scheme not in ("http", "https"):
        raise DeliveryFailed("The group robot's address is not http(s).", final=True)
    if robot.kind == RobotKind.DINGTALK and robot.secret:
        url = dingtalk_signed_url(url, robot.secret, round(time.time() * 1000))
    request = urllib.request.Request(  # noqa: S310 (the scheme is checked above)
        url,
        data=json.dumps(payload, ensure_ascii=False).encode(),
        headers={"Content-Type": "application/json; charset=utf-8"},
        method="POST",
    )
    # Errors name the robot's kind, never its address: the address holds its access token.
    try:
        with urllib.request.urlopen(request, timeout=WEBHOOK_TIMEOUT) as response:  # noqa: S310
            answer = json.loads(response.read(64 * 1024).decode())
    except (OSError, ValueError) as exc:
        raise DeliveryFailed(f"{robot.kind} robot: {exc}") from exc
    if not isinstance(answer, dict) or answer.get("errcode") != 0:
        raise DeliveryFailed(f"{robot.kind} robot answered: {json.dumps(answer)[:500]}")


def deliver_pending(limit: int = 200) -> int:
    """
    The beat sweep: deliver pending messages that are due, oldest first; returns how many
    were sent. Rows younger than SWEEP_GRACE are left to the task they were just handed to.
    """
    now = timezone.now()
    due = (
        Notification.objects.pending()
        .filter(created_at__lte=now - SWEEP_GRACE)
        .filter(Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now))
        .select_related("recipient", "robot")
        .order_by("created_at", "pk")[:limit]
    )
    return _deliver_all(due)


# Reading


def mark_read(user: User, notification_id: int) -> Notification:
    """Mark one of the user's in-app notifications read; anyone else's is a 404."""
    notification = get_object_or_404(Notification, pk=notification_id, recipient=user, channel=Channel.IN_APP)
    if notification.read_at is None:
        notification.read_at = timezone.now()
        notification.save(update_fields=["read_at"])
    return notification


def mark_all_read(user: User) -> int:
    """Mark all the user's in-app notifications read; returns how many were unread."""
    return Notification.objects.filter(recipient=user).unread().update(read_at=timezone.now())
