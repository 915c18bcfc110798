"""What happens to customers' records: entitlement checks and contract expiry."""

from dataclasses import dataclass
from datetime import date

from django.db import models, transaction
from django.utils import formats, timezone
from django.utils.translation import gettext_lazy as _

from .choices import ContractStatus
from .models import Contract, Equipment, Organisation


class Reason(models.TextChoices):
    COVERED = "covered", _("Covered")
    NOTHING_GIVEN = "nothing_given", _("No contract or serial number given")
    UNKNOWN_CONTRACT = "unknown_contract", _("Unknown contract number")
    UNKNOWN_SERIAL = "unknown_serial", _("Unknown serial number")
    NO_CONTRACT = "no_contract", _("Equipment under no contract")
    OTHER_ORGANISATION = "other_organisation", _("Serial number belongs to another organisation")
    MISMATCH = "mismatch", _("Contract and serial number disagree")
    NOT_STARTED = "not_started", _("Contract not yet in force")
    EXPIRED = "expired", _("Contract expired")
    SUSPENDED = "suspended", _("Contract suspended")


@dataclass(frozen=True)
class Entitlement:
    """Whether service is covered on a given day, by which contract, or exactly why not."""

    reason: Reason
    contract: Contract | None = None
    equipment: Equipment | None = None
    on: date | None = None

    @property
    def is_covered(self) -> bool:
        return self.reason == Reason.COVERED

    @property
    def organisation(self) -> Organisation | None:
        if self.contract:
            return self.contract.organisation
        return self.equipment.site.organisation if self.equipment else None

    @property
    def message(self) -> str:
        """One sentence for the agent, with the dates and numbers that explain the answer."""
        contract, equipment = self.contract, self.equipment
        texts = {
            Reason.COVERED: _("Covered by contract %(contract)s (%(coverage)s) until %(ends_on)s."),
            Reason.NOTHING_GIVEN: _("Enter a contract number or a serial number."),
            Reason.UNKNOWN_CONTRACT: _("No contract has this number. Check it with the caller."),
            Reason.UNKNOWN_SERIAL: _("No equipment has this serial number. Check it with the caller."),
            Reason.NO_CONTRACT: _(
                "Equipment %(serial)s is under no service contract: service is paid (per call or per year)."
            ),
            Reason.OTHER_ORGANISATION: _(
                "Serial number %(serial)s belongs to %(owner)s, not to %(organisation)s, "
                "the holder of contract %(contract)s."
            ),
            Reason.MISMATCH: _(
                "Equipment %(serial)s is not covered by contract %(contract)s; it is under %(other)s."
            ),
            Reason.NOT_STARTED: _("Contract %(contract)s comes into force on %(starts_on)s."),
            Reason.EXPIRED: _("Contract %(contract)s expired on %(ends_on)s: service is paid."),
            Reason.SUSPENDED: _("Contract %(contract)s is suspended: service is paid until it is resumed."),
        }
        values = {}
        if contract:
            values |= {
                "contract": contract.number,
                "coverage": contract.get_coverage_display(),
                "starts_on": formats.date_format(contract.starts_on),
                "ends_on": formats.date_format(contract.ends_on),
                "organisation": contract.organisation.name,
            }
        if equipment:
            values |= {
                "serial": equipment.serial_number,
                "owner": equipment.site.organisation.name,
                "other": equipment.contract.number if equipment.contract else _("no contract"),
            }
        return texts[self.reason] % values


def check_entitlement(
    *, contract_number: str = "", serial_number: str = "", on: date | None = None
) -> Entitlement:
    """
    Answer whether service is covered on `on` (today by default) for a contract number, a serial
    number, or both as the caller gave them. Numbers match without regard to case or spaces around.
    """
    on = on or timezone.localdate()
    contract_number, serial_number = (contract_number or "").strip(), (serial_number or "").strip()
    if not contract_number and not serial_number:
        return Entitlement(Reason.NOTHING_GIVEN, on=on)

    equipment = None
    if serial_number:
        equipment = (
            Equipment.objects.select_related("site__organisation", "contract__organisation")
            .filter(serial_number__iexact=serial_number)
            .first()
        )
        if equipment is None:
            return Entitlement(Reason.UNKNOWN_SERIAL, on=on)

    if contract_number:
        contract = (
            Contract.objects.select_related("organisation").filter(number__iexact=contract_number).first()
        )
        if contract is None:
            return Entitlement(Reason.UNKNOWN_CONTRACT, equipment=equipment, on=on)
        if equipment and equipment.site.organisation_id != contract.organisation_id:
            return Entitlement(Reason.OTHER_ORGANISATION, contract, equipment, on)
        if equipment and equipment.contract_id != contract.pk:
            return Entitlement(Reason.MISMATCH, contract, equipment, on)
    else:
        contract = equipment.contract
        if contract is None:
            return Entitlement(Reason.NO_CONTRACT, equipment=equipment, on=on)

    return Entitlement(contract_state(contract, on), contract, equipment, on)


def contract_state(contract: Contract, on: date) -> Reason:
    """Whether `contract` covers service on `on`, or the reason it does not."""
    if contract.status == ContractStatus.SUSPENDED:
        return Reason.SUSPENDED
    if contract.status == ContractStatus.EXPIRED or contract.ends_on < on:
        return Reason.EXPIRED
    if contract.starts_on > on:
        return Reason.NOT_STARTED
    return Reason.COVERED


@transaction.atomic
def expire_contracts(*, today: date | None = None) -> int:
    """Mark contracts whose end date has passed as expired; returns how many changed."""
    today = today or timezone.localdate()
    return Contract.objects.lapsed(today).update(status=ContractStatus.EXPIRED)
