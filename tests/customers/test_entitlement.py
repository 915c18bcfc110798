from datetime import date

import pytest

from customers.choices import Billing, ContractStatus, Coverage, FaultArea, PaidService, Scope
from customers.services import Reason, check_entitlement, expire_contracts
from tests.factories import ContractFactory, EquipmentFactory, OrganisationFactory, SiteFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]
TODAY = date(2026, 11, 22)


@pytest.fixture
def device():
    contract = ContractFactory(
        number="HT-2026-0010",
        coverage=Coverage.FULL,
        starts_on=date(2026, 1, 1),
        ends_on=date(2027, 12, 31),
    )
    site = SiteFactory(organisation=contract.organisation)
    return EquipmentFactory(serial_number="SN202600001", site=site, contract=contract)


def test_covered_by_contract_and_serial(device):
    answer = check_entitlement(contract_number="HT-2026-0010", serial_number="SN202600001", on=TODAY)
    assert answer.is_covered
    assert answer.contract == device.contract
    assert answer.equipment == device
    assert answer.message == "Covered by contract HT-2026-0010 (7x24 (round the clock)) until Dec. 31, 2027."


def test_serial_alone_finds_its_contract_ignoring_case_and_spaces(device):
    answer = check_entitlement(serial_number="  sn202600001 ", on=TODAY)
    assert answer.reason == Reason.COVERED
    assert answer.contract == device.contract


def test_contract_alone(device):
    assert check_entitlement(contract_number="HT-2026-0010", on=TODAY).reason == Reason.COVERED


def test_nothing_given():
    answer = check_entitlement(contract_number=" ", serial_number="", on=TODAY)
    assert answer.reason == Reason.NOTHING_GIVEN
    assert not answer.is_covered


def test_unknown_contract_number(device):
    answer = check_entitlement(contract_number="HT-1999-0001", on=TODAY)
    assert answer.reason == Reason.UNKNOWN_CONTRACT
    assert answer.contract is None


def test_unknown_serial_number(device):
    answer = check_entitlement(contract_number="HT-2026-0010", serial_number="NOPE", on=TODAY)
    assert answer.reason == Reason.UNKNOWN_SERIAL


def test_expired_says_on_which_date(device):
    answer = check_entitlement(serial_number="SN202600001", on=date(2028, 1, 1))
    assert answer.reason == Reason.EXPIRED
    assert "expired on Dec. 31, 2027" in answer.message


def test_expired_by_status_before_the_end_date(device):
    device.contract.status = ContractStatus.EXPIRED
    device.contract.save()
    assert check_entitlement(serial_number="SN202600001", on=TODAY).reason == Reason.EXPIRED


def test_last_day_of_the_contract_is_covered(device):
    assert check_entitlement(serial_number="SN202600001", on=date(2027, 12, 31)).is_covered


def test_not_yet_in_force(device):
    answer = check_entitlement(contract_number="HT-2026-0010", on=date(2025, 12, 31))
    assert answer.reason == Reason.NOT_STARTED
    assert "comes into force on Jan. 1, 2026" in answer.message


def test_suspended(device):
    device.contract.status = ContractStatus.SUSPENDED
    device.contract.save()
    answer = check_entitlement(contract_number="HT-2026-0010", serial_number="SN202600001", on=TODAY)
    assert answer.reason == Reason.SUSPENDED
    assert not answer.is_covered


def test_serial_of_another_organisation(device):
    stranger = EquipmentFactory(
        serial_number="SN-OTHER", site=SiteFactory(organisation=OrganisationFactory(name="乙单位"))
    )
    answer = check_entitlement(contract_number="HT-2026-0010", serial_number="SN-OTHER", on=TODAY)
    assert answer.reason == Reason.OTHER_ORGANISATION
    assert "belongs to 乙单位" in answer.message
    assert answer.equipment == stranger


def test_contract_and_serial_disagree_within_one_organisation(device):
    other_contract = ContractFactory(number="HT-2026-0020", organisation=device.contract.organisation)
    answer = check_entitlement(contract_number="HT-2026-0020", serial_number="SN202600001", on=TODAY)
    assert answer.reason == Reason.MISMATCH
    assert answer.contract == other_contract
    assert "it is under HT-2026-0010" in answer.message


def test_equipment_under_no_contract_is_paid_service():
    EquipmentFactory(serial_number="SN-BARE", contract=None)
    answer = check_entitlement(serial_number="SN-BARE", on=TODAY)
    assert answer.reason == Reason.NO_CONTRACT
    assert "service is paid" in answer.message


def test_expire_contracts_marks_only_lapsed_ones(device):
    lapsed = ContractFactory(starts_on=date(2024, 1, 1), ends_on=date(2025, 12, 31))
    suspended_lapsed = ContractFactory(
        starts_on=date(2024, 1, 1), ends_on=date(2025, 12, 31), status=ContractStatus.SUSPENDED
    )
    assert expire_contracts(today=TODAY) == 2
    lapsed.refresh_from_db()
    suspended_lapsed.refresh_from_db()
    device.contract.refresh_from_db()
    assert (lapsed.status, suspended_lapsed.status) == (
        ContractStatus.EXPIRED,
        ContractStatus.EXPIRED,
    )
    assert device.contract.status == ContractStatus.ACTIVE
    assert expire_contracts(today=TODAY) == 0


# Warranty: when no service contract in force covers the work, the warranty of the part decides.


def bare_device(**dates):
    """Equipment under no contract, with the warranty dates given."""
    return EquipmentFactory(serial_number="SN-WARRANTY", contract=None, **dates)


def test_hardware_fault_after_hardware_warranty_is_paid_service():
    bare_device(hardware_warranty_ends_on=date(2026, 6, 30), system_warranty_ends_on=date(2028, 6, 30))

    answer = check_entitlement(serial_number="SN-WARRANTY", fault_area=FaultArea.HARDWARE, on=TODAY)

    assert answer.reason == Reason.WARRANTY_ENDED
    assert not answer.is_covered
    assert answer.message == "Not covered: the hardware warranty ended on June 30, 2026, paid service."
    assert answer.billing == Billing.PER_CALL


def test_hardware_fault_within_hardware_warranty_is_covered_by_the_warranty():
    bare_device(hardware_warranty_ends_on=date(2027, 6, 30))

    answer = check_entitlement(serial_number="SN-WARRANTY", fault_area=FaultArea.HARDWARE, on=TODAY)

    assert (answer.reason, answer.is_covered, answer.billing) == (Reason.WARRANTY, True, Billing.WARRANTY)
    assert answer.message == "Hardware fault covered by the hardware warranty until June 30, 2027."


def test_last_day_of_the_warranty_is_covered():
    bare_device(hardware_warranty_ends_on=TODAY)

    assert check_entitlement(serial_number="SN-WARRANTY", fault_area=FaultArea.HARDWARE, on=TODAY).is_covered


def test_system_fault_follows_the_system_warranty():
    bare_device(hardware_warranty_ends_on=date(2028, 6, 30), system_warranty_ends_on=date(2026, 11, 21))

    answer = check_entitlement(serial_number="SN-WARRANTY", fault_area=FaultArea.SYSTEM, on=TODAY)

    assert answer.reason == Reason.WARRANTY_ENDED
    assert answer.message == "Not covered: the system warranty ended on Nov. 21, 2026, paid service."


def test_fault_of_unknown_area_is_judged_by_the_contract_alone():
    bare_device(hardware_warranty_ends_on=date(2028, 6, 30))

    answer = check_entitlement(serial_number="SN-WARRANTY", on=TODAY)

    assert (answer.reason, answer.billing) == (Reason.NO_CONTRACT, Billing.PER_CALL)
    assert answer.hardware_warranty_ends_on == date(2028, 6, 30)


def test_service_contract_in_force_covers_a_fault_after_the_warranty(device):
    device.hardware_warranty_ends_on = date(2026, 6, 30)
    device.save()

    answer = check_entitlement(serial_number="SN202600001", fault_area=FaultArea.HARDWARE, on=TODAY)

    assert (answer.reason, answer.billing) == (Reason.COVERED, Billing.CONTRACT)


def test_expired_contract_leaves_the_warranty_to_decide(device):
    device.hardware_warranty_ends_on = date(2028, 6, 30)
    device.save()

    answer = check_entitlement(
        serial_number="SN202600001", fault_area=FaultArea.HARDWARE, on=date(2028, 3, 1)
    )

    assert (answer.reason, answer.billing, answer.in_force) == (Reason.WARRANTY, Billing.WARRANTY, False)


def test_warranty_only_contract_charges_per_year_after_the_warranty(device):
    contract = device.contract
    contract.scope, contract.paid_service = Scope.WARRANTY, PaidService.PER_YEAR
    contract.hardware_warranty_ends_on = date(2026, 9, 30)
    contract.save()

    # the equipment has no dates of its own: the contract's count
    hardware = check_entitlement(serial_number="SN202600001", fault_area=FaultArea.HARDWARE, on=TODAY)
    system = check_entitlement(serial_number="SN202600001", fault_area=FaultArea.SYSTEM, on=TODAY)

    assert (hardware.reason, hardware.billing) == (Reason.WARRANTY_ENDED, Billing.PER_YEAR)
    assert "the hardware warranty ended on Sept. 30, 2026" in hardware.message
    # no system warranty date: the warranty contract's own term is the warranty
    assert (system.reason, system.billing) == (Reason.WARRANTY, Billing.WARRANTY)
    assert "until Dec. 31, 2027" in system.message


def test_equipment_dates_come_before_the_contracts(device):
    device.contract.hardware_warranty_ends_on = date(2026, 1, 31)
    device.contract.save()
    device.hardware_warranty_ends_on = date(2027, 1, 31)
    device.save()

    answer = check_entitlement(serial_number="SN202600001", on=TODAY)

    assert answer.hardware_warranty_ends_on == date(2027, 1, 31)
