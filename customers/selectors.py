"""Reads about customers that depend on who is asking."""

from dataclasses import dataclass, field

from django.db.models import Q, QuerySet
from django.http import Http404
from django.utils import timezone

from accounts.models import User

from .choices import Scope
from .models import Contact, Contract, Equipment, Organisation, Site
from .services import Entitlement, Reason, contract_state, judge


def organisation_of(user: User) -> Organisation | None:
    """
    The organisation a customer user belongs to through their contact record, else None. Never
    the customer to be confirmed: a portal user there would see every unidentified caller's call.
    """
    contact = getattr(user, "contact", None)
    if contact is None or contact.organisation.is_placeholder:
        return None
    return contact.organisation


def access_organisation(user: User) -> Organisation:
    """The customer's own organisation; a customer without one sees nothing (404)."""
    organisation = organisation_of(user) if user.is_customer else None
    if organisation is None:
        raise Http404
    return organisation


def sites_for(organisation: Organisation) -> QuerySet[Site]:
    return organisation.sites.select_related("centre").order_by("name")


def contracts_for(organisation: Organisation) -> QuerySet[Contract]:
    return organisation.contracts.order_by("-ends_on")


def equipment_for(organisation: Organisation) -> QuerySet[Equipment]:
    return Equipment.objects.filter(site__organisation=organisation).select_related("site", "contract")


@dataclass(frozen=True)
class CallerHits:
    contacts: list[Contact]
    contracts: list[Contract]
    equipment: list[Equipment]
    organisations: list[Organisation] = field(default_factory=list)

    def __bool__(self):
        return bool(self.contacts or self.contracts or self.equipment or self.organisations)

    @property
    def found_organisations(self) -> list[Organisation]:
        """Every organisation the hits name, once, in order: the ones a caller may be added to."""
        found = [
            *self.organisations,
            *(contact.organisation for contact in self.contacts),
            *(contract.organisation for contract in self.contracts),
            *(item.site.organisation for item in self.equipment),
        ]
        return list(dict.fromkeys(found))


def find_caller(query: str, *, limit: int = 8) -> CallerHits:
    """
    For the hotline: contacts by phone or name, contracts by number, equipment by serial, and
    organisations by name. The customer to be confirmed is never a hit.
    """
    contacts = (
        Contact.objects.filter(Q(phone__icontains=query) | Q(name__icontains=query))
        .exclude(organisation__is_placeholder=True)
        .select_related("organisation")
        .order_by("name")[:limit]
    )
    contracts = (
        Contract.objects.filter(number__icontains=query)
        .select_related("organisation")
        .order_by("number")[:limit]
    )
    equipment = (
        Equipment.objects.filter(serial_number__icontains=query)
        .select_related("site__organisation", "contract")
        .order_by("serial_number")[:limit]
    )
    organisations = (
        Organisation.objects.filter(Q(name__icontains=query) | Q(short_name__icontains=query))
        .exclude(is_placeholder=True)
        .order_by("name")[:limit]
    )
    return CallerHits(list(contacts), list(contracts), list(equipment), list(organisations))


def organisation_entitlement(organisation: Organisation) -> Entitlement | None:
    """
    Whether the organisation is covered today, when the caller gave no serial: its contract in
    force (a service contract before a warranty-only one), else its latest contract and why it
    does not cover. None when it has no contract at all.
    """
    today = timezone.localdate()
    contracts = list(organisation.contracts.select_related("organisation").order_by("-ends_on", "number"))
    if not contracts:
        return None
    in_force = [contract for contract in contracts if contract_state(contract, today) == Reason.COVERED]
    best = min(in_force, key=lambda contract: contract.scope != Scope.SERVICE) if in_force else contracts[0]
    return judge(best, None, on=today)


def caller_contact(organisation: Organisation, contact: Contact | None) -> Contact | None:
    """The contact a call of `organisation` is from: the one chosen, else its only contact."""
    if contact is not None:
        return contact
    contacts = list(organisation.contacts.all()[:2])
    return contacts[0] if len(contacts) == 1 else None


@dataclass(frozen=True)
class Hotline:
    """A centre's hotline number and the organisation's sites it serves."""

    number: str
    sites: tuple[str, ...]


def hotlines_for(organisation: Organisation) -> list[Hotline]:
    """
    The hotline the customer calls: of the support centre of each of the organisation's sites,
    one entry per number (usually one; several when their sites are served by centres apart).
    """
    by_number: dict[str, list[str]] = {}
    for site in organisation.sites.select_related("centre").order_by("name"):
        number = site.centre.hotline.strip()
        if number:
            by_number.setdefault(number, []).append(site.name)
    return [Hotline(number, tuple(sites)) for number, sites in by_number.items()]
