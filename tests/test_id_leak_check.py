"""The check that guards every response must itself be able to fail."""

from tests.conftest import full_resident_ids


def test_finds_whole_valid_numbers_only():
    assert full_resident_ids('{"id": "11010519491231002X"}') == ["11010519491231002X"]
    assert full_resident_ids("id 11010519491231002x here") == ["11010519491231002x"]
    assert full_resident_ids("1101**********002X") == []
    assert full_resident_ids("110105194912310021") == []  # wrong check digit: not an ID number
    assert full_resident_ids("911101051949123100216") == []  # part of a longer number
