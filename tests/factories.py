"""factory_boy factories for every model the tests build."""

from datetime import date, timedelta

import factory
from django.utils import timezone

from accounts.choices import Role, ShiftKind, Tier
from accounts.models import Province, Shift, SupportCentre, Team, User
from customers.choices import ContractStatus, Coverage, Zone
from customers.models import Contact, Contract, Equipment, Organisation, Site


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ["username"]

    username = factory.Sequence(lambda n: f"user{n}")
    display_name = factory.Sequence(lambda n: f"用户{n}")
    role = Role.ENGINEER
    password = factory.django.Password("pass-word-1")


class SupportCentreFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SupportCentre

    code = factory.Sequence(lambda n: f"centre-{n}")
    name = factory.Sequence(lambda n: f"技术支持中心{n}")
    manager = factory.SubFactory(UserFactory, role=Role.MANAGER)


class ProvinceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Province

    name = factory.Sequence(lambda n: f"省{n}")
    centre = factory.SubFactory(SupportCentreFactory)


class TeamFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Team

    name = factory.Sequence(lambda n: f"服务组{n}")
    centre = factory.SubFactory(SupportCentreFactory)
    tier = Tier.LOCAL


class ShiftFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Shift

    user = factory.SubFactory(UserFactory)
    centre = factory.SubFactory(SupportCentreFactory)
    starts_at = factory.LazyFunction(timezone.now)
    ends_at = factory.LazyAttribute(lambda shift: shift.starts_at + timedelta(hours=12))
    kind = ShiftKind.WEEKDAY_NIGHT


class OrganisationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Organisation

    name = factory.Sequence(lambda n: f"客户单位{n}")


class SiteFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Site

    organisation = factory.SubFactory(OrganisationFactory)
    name = factory.Sequence(lambda n: f"机房{n}")
    address = "中山路1号"
    city = "南京"
    centre = factory.SubFactory(SupportCentreFactory)
    zone = Zone.CITY


class ContactFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Contact

    organisation = factory.SubFactory(OrganisationFactory)
    name = factory.Sequence(lambda n: f"联系人{n}")
    phone = factory.Sequence(lambda n: f"1390000{n:04d}")


class ContractFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Contract

    number = factory.Sequence(lambda n: f"HT-TEST-{n:04d}")
    organisation = factory.SubFactory(OrganisationFactory)
    starts_on = date(2026, 1, 1)
    ends_on = date(2028, 12, 31)
    coverage = Coverage.FULL
    status = ContractStatus.ACTIVE


class EquipmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Equipment

    model_name = "PowerEdge R750"
    serial_number = factory.Sequence(lambda n: f"SN-TEST-{n:05d}")
    site = factory.SubFactory(SiteFactory)
    contract = factory.SubFactory(ContractFactory, organisation=factory.SelfAttribute("..site.organisation"))
