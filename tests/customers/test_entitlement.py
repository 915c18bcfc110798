from datetime import date

import pytest

from customers.choices import ContractStatus, Coverage
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
