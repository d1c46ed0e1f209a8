"""Region codes named for people (server/regions): provinces, prefectures, counties; municipalities'
groupings left out; codes the table does not know shown as codes, never an error."""

from __future__ import annotations

import pytest

from server.regions import region_name


@pytest.mark.parametrize(
    ("code", "name"),
    [
        ("310000", "上海市"),
        ("310104", "上海市徐汇区"),  # 市辖区, a grouping, is not named
        ("320000", "江苏省"),
        ("320100", "江苏省南京市"),
        ("320102", "江苏省南京市玄武区"),
        ("440305", "广东省深圳市南山区"),
        ("650000", "新疆维吾尔自治区"),
        ("", ""),
        ("999999", "999999"),  # no such province
        ("329999", "江苏省（329999）"),  # the province is known, the rest is not
        ("31x104", "31x104"),
    ],
)
def test_a_region_code_is_named_as_people_say_it(code, name):
    assert region_name(code) == name
