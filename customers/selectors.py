"""Reads about customers that depend on who is asking."""

from dataclasses import dataclass

from django.db.models import Q, QuerySet
from django.http import Http404

from accounts.models import User

from .models import Contact, Contract, Equipment, Organisation, Site


def organisation_of(user: User) -> Organisation | None:
    """The organisation a customer user belongs to through their contact record, else None."""
    contact = getattr(user, "contact", None)
    return contact.organisation if contact else None


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

    def __bool__(self):
        return bool(self.contacts or self.contracts or self.equipment)


def find_caller(query: str, *, limit: int = 8) -> CallerHits:
    """For the hotline: contacts by phone or name, contracts by number, equipment by serial."""
    contacts = (
        Contact.objects.filter(Q(phone__icontains=query) | Q(name__icontains=query))
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
    return CallerHits(list(contacts), list(contracts), list(equipment))
