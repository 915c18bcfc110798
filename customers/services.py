"""What happens to customers' records: entitlement checks and contract expiry."""

import functools
from dataclasses import dataclass
from datetime import date

from django.db import models, transaction
from django.utils import formats, timezone
from django.utils.translation import gettext_lazy as _

from .choices import Billing, ContractStatus, FaultArea, PaidService, Scope
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
    WARRANTY = "warranty", _("Covered by the warranty")
    WARRANTY_ENDED = "warranty_ended", _("Warranty ended")


@dataclass(frozen=True)
class Entitlement:
    """Whether service is covered on a given day, by which contract or warranty, or exactly why not."""

    reason: Reason
    contract: Contract | None = None
    equipment: Equipment | None = None
    on: date | None = None
    fault_area: str = ""
    # The contract was found for this call and is in force on `on` (whether or not it covers the work).
    in_force: bool = False

    @property
    def is_covered(self) -> bool:
        return self.reason in (Reason.COVERED, Reason.WARRANTY)

    @property
    def warranty_decides(self) -> bool:
        """Whether a fault's warranty decides the billing: no service contract in force covers all work."""
        return not (self.reason == Reason.COVERED and self.contract.scope == Scope.SERVICE)

    @property
    def hardware_warranty_ends_on(self) -> date | None:
        return warranty_ends_on(FaultArea.HARDWARE, self.contract, self.equipment)

    @property
    def system_warranty_ends_on(self) -> date | None:
        return warranty_ends_on(FaultArea.SYSTEM, self.contract, self.equipment)

    @property
    def billing(self) -> Billing:
        """
        How the work is paid for: covered by the contract or by the warranty, else charged per
        year under the annual paid-service agreement of a contract in force, else per call.
        """
        if self.reason == Reason.COVERED:
            return Billing.CONTRACT if self.contract.scope == Scope.SERVICE else Billing.WARRANTY
        if self.reason == Reason.WARRANTY:
            return Billing.WARRANTY
        if self.in_force and self.contract.paid_service == PaidService.PER_YEAR:
            return Billing.PER_YEAR
        return Billing.PER_CALL

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
            Reason.WARRANTY: {
                FaultArea.HARDWARE: _("Hardware fault covered by the hardware warranty until %(warranty)s."),
                FaultArea.SYSTEM: _("System fault covered by the system warranty until %(warranty)s."),
            }.get(self.fault_area, ""),
            Reason.WARRANTY_ENDED: {
                FaultArea.HARDWARE: _(
                    "Not covered: the hardware warranty ended on %(warranty)s, paid service."
                ),
                FaultArea.SYSTEM: _("Not covered: the system warranty ended on %(warranty)s, paid service."),
            }.get(self.fault_area, ""),
        }
        values = {}
        ends_on = warranty_ends_on(self.fault_area, contract, equipment)
        if ends_on:
            values["warranty"] = formats.date_format(ends_on)
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
    *, contract_number: str = "", serial_number: str = "", fault_area: str = "", on: date | None = None
) -> Entitlement:
    """
    Answer whether service is covered on `on` (today by default) for a contract number, a serial
    number, or both as the caller gave them, for a fault of `fault_area` (hardware or system) when
    known. Numbers match without regard to case or spaces around.
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

    return judge(contract, equipment, fault_area=fault_area, on=on)


def judge(
    contract: Contract | None, equipment: Equipment | None, *, fault_area: str = "", on: date
) -> Entitlement:
    """
    Whether work under `contract` (None: none) on `equipment` is covered on `on`. A service
    contract in force covers everything. Otherwise, for a fault of a known area (hardware or
    system), that area's warranty decides: covered up to its last day, paid service after it.
    Otherwise the contract decides as it stands: a warranty-only contract in force covers, anything
    else is paid service.
    """
    state = contract_state(contract, on) if contract else Reason.NO_CONTRACT
    in_force = state == Reason.COVERED
    answer = functools.partial(Entitlement, contract=contract, equipment=equipment, on=on, in_force=in_force)
    if in_force and contract.scope == Scope.SERVICE:
        return answer(Reason.COVERED)
    ends_on = warranty_ends_on(fault_area, contract, equipment)
    if ends_on is not None:
        return answer(Reason.WARRANTY if on <= ends_on else Reason.WARRANTY_ENDED, fault_area=fault_area)
    return answer(state)


def warranty_ends_on(fault_area: str, contract: Contract | None, equipment: Equipment | None) -> date | None:
    """
    The last day of the hardware or system warranty: the equipment's own date, else its
    contract's (a warranty-only contract without dates: its end). None when unknown.
    """
    field = {FaultArea.HARDWARE: "hardware_warranty_ends_on", FaultArea.SYSTEM: "system_warranty_ends_on"}
    if fault_area not in field:
        return None
    contract = contract or (equipment.contract if equipment else None)
    for record in (equipment, contract):
        if record is not None and getattr(record, field[fault_area]):
            return getattr(record, field[fault_area])
    if contract is not None and contract.scope == Scope.WARRANTY:
        return contract.ends_on
    return None


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
