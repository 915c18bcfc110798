"""Tests against the real PostgreSQL and Redis that CI provides (skipped on a bare laptop)."""

import os
import uuid
from datetime import date

import pytest
from django.core.cache.backends.redis import RedisCache
from django.db import IntegrityError, connection, transaction
from kombu import Connection, Exchange, Queue

from tests.factories import ContractFactory


@pytest.mark.postgres
@pytest.mark.django_db
def test_postgres_enforces_the_contract_date_constraint():
    assert connection.vendor == "postgresql"
    with pytest.raises(IntegrityError), transaction.atomic():
        ContractFactory(starts_on=date(2026, 5, 1), ends_on=date(2026, 4, 1))


@pytest.mark.postgres
@pytest.mark.django_db
def test_postgres_session_stores_times_in_utc():
    with connection.cursor() as cursor:
        cursor.execute("SHOW TIME ZONE")
        assert cursor.fetchone()[0] == "UTC"


@pytest.mark.redis
def test_cache_round_trips_through_redis():
    # The production cache backend, as settings.py builds it from REDIS_URL.
    cache = RedisCache(os.environ["REDIS_URL"], {})
    key = f"test-{uuid.uuid4()}"
    cache.set(key, {"ticket": 1}, timeout=10)
    assert cache.get(key) == {"ticket": 1}
    cache.delete(key)


@pytest.mark.redis
def test_celery_broker_carries_a_message():
    queue = Queue(
        f"test-{uuid.uuid4()}",
        Exchange("test", type="direct"),
        routing_key="probe",
        auto_delete=True,
    )
    with Connection(os.environ.get("CELERY_BROKER_URL") or os.environ["REDIS_URL"]) as conn:
        producer = conn.Producer(serializer="json")
        producer.publish({"hello": "desk"}, exchange=queue.exchange, routing_key="probe", declare=[queue])
        message = conn.SimpleQueue(queue).get(timeout=5)
        assert message.payload == {"hello": "desk"}
        message.ack()
