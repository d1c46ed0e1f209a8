"""The O&M form engine: the 15 templates as data, the phone's rendering over HTTP, answers checked
(every template valid with ``valid_answers`` and refused with each kind of bad value) and the
record detail (``present``)."""

from __future__ import annotations

import copy
import json
import uuid
from pathlib import Path

import pytest

from server.errors import DomainError
from server.om import errors, forms
from server.om.forms_load import limit_sets
from server.om.models import FormTemplate
from tests.om.fill import applicable, groups_of, instrument_kit, now_iso, valid_answers

CODES = [
    "gas_calibration",
    "gas_cems_dilution_daily",
    "gas_cems_extractive_daily",
    "gas_cems_in_situ_daily",
    "gas_cems_nmhc_daily",
    "gas_consumables",
    "gas_fault_repair",
    "gas_periodic_verification",
    "gas_standard_gas_replacement",
    "ww_consumables",
    "ww_daily_inspection",
    "ww_maintenance_repair",
    "ww_real_sample_comparison",
    "ww_standard_check_calibration",
    "ww_standard_sample_replacement",
]


@pytest.fixture
def kit(world):
    """Instruments for every analyte: one per water analyte, a SO2/NOx/O2 CEMS and the others."""
    return {**instrument_kit(world.shanghai), "side": world.shanghai}


def template(code: str) -> FormTemplate:
    """The latest version (实际水样比对 is version 2: HJ 355-2019's pairs, issue 23)."""
    return FormTemplate.objects.filter(code=code).order_by("-version").first()


def by_analyte(kit, analyte):
    return next(i for group in ("wastewater", "waste_gas") for i in kit[group] if analyte in i.analytes)


def refused(call) -> list[dict]:
    with pytest.raises(DomainError) as caught:
        call()
    assert caught.value.error is errors.OM_ANSWERS_INVALID
    return caught.value.details["errors"]


# --- The templates as data --------------------------------------------------------------------------
@pytest.mark.django_db
def test_the_15_templates_and_their_limit_sets_are_loaded():
    assert sorted(FormTemplate.objects.values_list("code", flat=True)) == CODES
    for t in FormTemplate.objects.all():
        d = t.definition
        assert (t.version, t.outlet_kind, t.name) == (d["version"], d["outlet_kind"], d["name"])
        sections = {s["key"]: s for s in d["sections"]}
        assert len(sections) == len(d["sections"]), t.code
        for section in d["sections"]:
            keys = [i["key"] for i in section["items"]]
            assert len(keys) == len(set(keys)), (t.code, section["key"])
            assert section["group"] is None or section["group"] in d["groups"], (t.code, section["key"])
        for comp in d["computations"]:
            section = sections[comp["section"]]
            items = {i["key"]: i for i in section["items"]}
            if comp["kind"] == "comparison_pairs":  # inputs are the columns of a table of pairs
                assert items[comp["pairs"]]["kind"] == "table", (t.code, comp["key"])
                items = {c["key"]: c for c in items[comp["pairs"]]["columns"]}
            for role, key in comp["inputs"].items():
                assert items[key]["kind"] == "number", (t.code, comp["key"], role)
    from server.om.judgements import limits_for

    limits_for([t.definition for t in FormTemplate.objects.all()])  # every referenced set is loaded


# --- Rendering over HTTP ----------------------------------------------------------------------------
def test_the_phone_caches_the_latest_version_of_each_template(
    world, client_for, django_assert_max_num_queries
):
    client = client_for(world.shanghai.technician_user)
    with django_assert_max_num_queries(3):
        response = client.get("/api/v1/om/templates")
    assert response.status_code == 200
    body = response.json()
    assert sorted(t["code"] for t in body) == CODES
    comparison = next(t for t in body if t["code"] == "ww_real_sample_comparison")
    assert comparison["definition"]["sections"][1]["key"] == "compare_cod"
    cod = comparison["limit_sets"]["hj355_real_sample_cod"]
    assert (cod["band_on"], cod["confirmed"], cod["provisional"]) == ("lab", True, False)
    assert cod["bands"][-1]["limit"] == {"type": "absolute", "value": 5, "unit": "mg/L"}
    gas = client.get("/api/v1/om/templates", {"outlet_kind": "waste_gas"}).json()
    assert sorted(t["code"] for t in gas) == [c for c in CODES if c.startswith("gas_")]
    assert client.get("/api/v1/om/templates", {"outlet_kind": "air"}).status_code == 400


def test_daily_inspection_repeats_instrument_blocks_for_a_toc_and_an_nh3n_analyzer(kit, client_for):
    side = kit["side"]
    toc, nh3n = by_analyte(kit, "toc"), by_analyte(kit, "nh3n")
    client = client_for(side.technician_user)
    response = client.get(
        "/api/v1/om/templates/ww_daily_inspection",
        {"outlet": side.wastewater.pk, "instruments": f"{toc.pk},{nh3n.pk}", "groups": "weekly,monthly"},
    )
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["chosen_groups"] == ["weekly", "monthly"]
    assert [g["key"] for g in body["groups"]] == ["daily", "weekly", "monthly", "quarterly"]
    shown = [(s["key"], s["instrument"]["id"] if s["instrument"] else None) for s in body["sections"]]
    assert shown == [
        ("basic", None),
        ("sampling_weekly", None),
        ("instrument_weekly", toc.pk),
        ("instrument_weekly", nh3n.pk),
        ("electrode_weekly", toc.pk),
        ("electrode_weekly", nh3n.pk),
        ("instrument_monthly", toc.pk),
        ("instrument_monthly", nh3n.pk),
        ("closing", None),
    ]  # no daily or quarterly sections; the flowmeter block for neither
    block = body["sections"][4]["instrument"]
    assert (block["serial_number"], block["analytes"], block["model"]) == (
        toc.serial_number,
        ["toc"],
        toc.model,
    )
    choices = body["sections"][0]["items"][1]["choices"]
    assert {c["value"] for c in choices} == {i.pk for i in kit["wastewater"]}

    everything = client.get(
        "/api/v1/om/templates/ww_daily_inspection",
        {"outlet": side.wastewater.pk, "instruments": f"{toc.pk},{nh3n.pk}"},
    ).json()
    keys = [s["key"] for s in everything["sections"]]
    assert "flowmeter_monthly" not in keys
    assert keys.count("electrode_weekly") == 2
    assert keys.count("instrument_quarterly") == 2
    flow = by_analyte(kit, "water_flow")
    with_flow = client.get(
        "/api/v1/om/templates/ww_daily_inspection",
        {"outlet": side.wastewater.pk, "instruments": str(flow.pk)},
    ).json()
    keys = [s["key"] for s in with_flow["sections"]]
    assert keys.count("flowmeter_monthly") == 1
    assert "electrode_weekly" not in keys


def test_rendering_without_instruments_gives_the_definition_with_limits(world, client_for):
    client = client_for(world.shanghai.enterprise_user)
    body = client.get("/api/v1/om/templates/ww_real_sample_comparison").json()
    assert [s["key"] for s in body["sections"]] == [
        s["key"] for s in template("ww_real_sample_comparison").definition["sections"]
    ]
    assert all(s["instrument"] is None for s in body["sections"])
    assert body["instruments"] is None
    ph = next(c for c in body["computations"] if c["key"] == "comparison_ph")
    assert ph["instrument"] is None
    assert ph["provisional"] is False  # confirmed by public transcriptions (issue 23)
    assert ph["limit"]["bands"] == [
        {"min": None, "max": None, "limit": {"type": "absolute", "value": 0.5, "unit": "pH"}}
    ]
    assert ph["limit"]["source"]
    assert ph["limit"]["confirmed"] is True


def test_computations_are_rendered_per_chosen_instrument(kit, client_for):
    side = kit["side"]
    cod, ph = side.instrument, by_analyte(kit, "ph")
    body = (
        client_for(side.technician_user)
        .get(
            "/api/v1/om/templates/ww_real_sample_comparison",
            {"outlet": side.wastewater.pk, "instruments": f"{cod.pk},{ph.pk}", "version": 2},
        )
        .json()
    )
    assert [(c["key"], c["instrument"]) for c in body["computations"]] == [
        ("comparison_cod", cod.pk),
        ("comparison_ph", ph.pk),
    ]
    assert [s["key"] for s in body["sections"]] == ["basic", "compare_cod", "compare_ph", "closing"]


def test_rendering_refuses_what_does_not_fit(kit, world, client_for):
    side = kit["side"]
    client = client_for(side.technician_user)
    url = "/api/v1/om/templates/ww_daily_inspection"
    response = client.get(url, {"outlet": side.gas.pk})
    assert (response.status_code, response.json()["code"]) == (400, "om_template_not_for_outlet")
    gas_instrument = kit["waste_gas"][0]
    response = client.get(url, {"outlet": side.wastewater.pk, "instruments": str(gas_instrument.pk)})
    assert (response.status_code, response.json()["code"]) == (400, "om_instrument_not_at_point")
    assert response.json()["details"] == {"instruments": [gas_instrument.pk]}
    response = client.get(url, {"outlet": world.jiangsu.wastewater.pk})
    assert response.status_code == 404
    response = client.get(
        url, {"outlet": side.wastewater.pk, "instruments": str(world.jiangsu.instrument.pk)}
    )
    assert response.status_code == 404
    response = client.get(url, {"groups": "daily,yearly"})
    assert (response.status_code, response.json()["code"]) == (400, "om_group_unknown")
    assert response.json()["details"]["groups"] == ["yearly"]
    response = client.get(url, {"instruments": "1,x"})
    assert (response.status_code, response.json()["code"]) == (400, "validation_failed")
    response = client.get(url, {"instruments": "1"})
    assert response.json()["details"] == {"outlet": ["选择设备时须同时指定排口。"]}
    assert client.get("/api/v1/om/templates/no_such_form").status_code == 404
    assert client.get(url, {"version": 2}).status_code == 404
    daily_only = client.get(url, {"groups": "daily"}).json()
    assert [s["key"] for s in daily_only["sections"]] == ["basic", "station_daily", "closing"]


# --- Validation -------------------------------------------------------------------------------------
def setup_for(kit, code):
    t = template(code)
    pool = kit[t.outlet_kind]
    return t, applicable(t, pool), groups_of(t)


@pytest.mark.parametrize("code", CODES)
def test_valid_answers_pass_and_every_judgement_passes(kit, code):
    t, instruments, groups = setup_for(kit, code)
    assert instruments
    answers = valid_answers(t, instruments, groups)
    checked = forms.validate(t, answers, instruments=instruments, groups=groups, complete=True)
    expected = [
        (c["key"], i.pk if s.get("repeat") else None)
        for s, i in forms.shown_blocks(t.definition, instruments, groups)
        for c in t.definition["computations"]
        if c["section"] == s["key"]
    ]
    assert [(j["key"], j["instrument"]) for j in checked.judgements] == expected
    assert all(j["passed"] is True for j in checked.judgements)
    confirmed = {s["id"] for s in limit_sets() if s["confirmed"]}
    assert all(j["provisional"] is (j["limit_set"] not in confirmed) for j in checked.judgements)
    # normalising is idempotent (a resubmission of the stored answers changes nothing)
    again = forms.validate(t, checked.answers, instruments=instruments, groups=groups, complete=True)
    assert again.answers == checked.answers
    assert again.judgements == checked.judgements
    # without optional items too; and an empty draft
    minimal = valid_answers(t, instruments, groups, optional=False)
    forms.validate(t, minimal, instruments=instruments, groups=groups, complete=True)
    assert forms.validate(t, {}, instruments=[], groups=[], complete=False).answers == {}
    present = forms.present(t, checked.answers, checked.judgements, instruments)
    assert sum(len(s["judgements"]) for s in present) == len(expected)


def _first(definition, predicate):
    """(section, item) of the first answerable item matching predicate, preferring plain sections."""
    pairs = [(s, i) for s in definition["sections"] for i in s["items"] if predicate(i)]
    pairs.sort(key=lambda p: p[0].get("repeat") == "instrument")
    return pairs[0] if pairs else (None, None)


def mutations(t: FormTemplate, answers: dict, instruments) -> list[tuple[str, object, str, str]]:
    """(name, mutate(answers), expected path, expected code) for each kind of bad value the
    template has an item for."""
    d = t.definition
    out = []

    def at(section, item):
        """The path and the answer dict holding ``item`` (the first instrument's block if repeated)."""
        if section.get("repeat") == "instrument":
            iid = next(k for k in answers[section["key"]])
            return f"{section['key']}[{iid}].{item['key']}", (section["key"], iid)
        return f"{section['key']}.{item['key']}", (section["key"],)

    def setter(where, key, value=None, delete=False):
        def mutate(a):
            block = a
            for k in where:
                block = block[k]
            if delete:
                del block[key]
            else:
                block[key] = value

        return mutate

    def add(name, predicate, value, code, delete=False, suffix=""):
        section, item = _first(d, predicate)
        if section is None:
            return
        path, where = at(section, item)
        out.append((name, setter(where, item["key"], value, delete), path + suffix, code))

    answerable = lambda i: i["kind"] != "signature" and not i.get("choices_from")  # noqa: E731
    add("missing required", lambda i: i["key"] == "om_time", None, "required", delete=True)
    add("required item null", lambda i: i["required"] and answerable(i), None, "required")
    add(
        "abnormal without note",
        lambda i: i["kind"] == "normal_abnormal",
        {"status": "abnormal", "note": "  "},
        "note_required",
    )
    add("bad status", lambda i: i["kind"] == "normal_abnormal", {"status": "ok"}, "unknown_choice")
    add("below min", lambda i: i["kind"] == "number" and i.get("min") is not None, -1e6, "out_of_range")
    add("above max", lambda i: i["kind"] == "number" and i.get("max") is not None, 1e9, "out_of_range")
    add(
        "wrong unit",
        lambda i: i["kind"] == "number" and i.get("unit"),
        {"value": 1, "unit": "kg"},
        "unit_mismatch",
    )
    add("text for a number", lambda i: i["kind"] == "number", "12", "not_a_number")
    add("boolean for a number", lambda i: i["kind"] == "number", True, "not_a_number")
    add("bad choice", lambda i: i["kind"] == "choice" and answerable(i), "nope", "unknown_choice")
    add("naive datetime", lambda i: i["kind"] == "datetime", "2025-06-01T09:30:00", "bad_datetime")
    add("not a datetime", lambda i: i["kind"] == "datetime", "yesterday", "bad_datetime")
    add("text too long", lambda i: i["kind"] == "text", "长" * (forms.TEXT_MAX + 1), "too_long")
    add("bad photo", lambda i: i["kind"] == "photo", "IMG_0001.jpg", "bad_photo")
    add("signature answered", lambda i: i["kind"] == "signature", "data:image/png", "not_answerable")
    add("instruments answered", lambda i: i.get("choices_from"), [1], "not_answerable")
    out.append(("unknown item", setter(("basic",), "bogus", 1), "basic.bogus", "unknown_item"))
    table_section, table = _first(d, lambda i: i["kind"] == "table")
    if table is not None:
        first_column = table["columns"][0]["key"]
        path, where = at(table_section, table)
        full_row = valid_answers(t, instruments, groups_of(t))
        for k in where:
            full_row = full_row[k]
        full_row = full_row[table["key"]][0]
        missing = {k: v for k, v in full_row.items() if k != first_column}
        pad = [full_row] * ((table.get("min_rows") or 1) - 1)  # a table of pairs needs its 3 rows
        out.append(
            (
                "row missing a column",
                setter(where, table["key"], [missing, *pad]),
                f"{path}[0].{first_column}",
                "required",
            )
        )
        out.append(
            (
                "unknown column",
                setter(where, table["key"], [{**full_row, "colour": "red"}, *pad]),
                f"{path}[0].colour",
                "unknown_item",
            )
        )
        number_column = next((c for c in table["columns"] if c["kind"] == "number"), None)
        if number_column is not None:
            out.append(
                (
                    "text in a number column",
                    setter(where, table["key"], [{**full_row, number_column["key"]: "two"}, *pad]),
                    f"{path}[0].{number_column['key']}",
                    "not_a_number",
                )
            )
        if table["required"]:
            out.append(("empty required table", setter(where, table["key"], []), path, "required"))
    out.append(("unknown section", setter((), "bogus", {}), "bogus", "unknown_section"))
    repeat = next((s for s in d["sections"] if s.get("repeat") == "instrument" and s["key"] in answers), None)
    if repeat is not None:
        out.append(
            (
                "unchosen instrument",
                setter((repeat["key"],), "999999", {}),
                f"{repeat['key']}[999999]",
                "unknown_instrument",
            )
        )
        iid = next(iter(answers[repeat["key"]]))
        required = next((i for i in repeat["items"] if i["required"] and answerable(i)), None)
        if required is not None:
            expected = [
                (f"{repeat['key']}[{iid}].{i['key']}", "required")
                for i in repeat["items"]
                if i["required"] and answerable(i)
            ]
            out.append(
                ("instrument block missing", setter((repeat["key"],), iid, delete=True), expected, None)
            )
    return out


@pytest.mark.parametrize("code", CODES)
def test_each_kind_of_bad_value_is_refused_with_its_path_and_code(kit, code):
    t, instruments, groups = setup_for(kit, code)
    answers = valid_answers(t, instruments, groups)
    cases = mutations(t, answers, instruments)
    assert len(cases) >= 10
    for name, mutate, path, code_ in cases:
        bad = copy.deepcopy(answers)
        mutate(bad)
        found = refused(
            lambda b=bad: forms.validate(t, b, instruments=instruments, groups=groups, complete=True)
        )
        expected = path if isinstance(path, list) else [(path, code_)]
        assert [(e["path"], e["code"]) for e in found] == expected, name
        assert found[0]["message"], name
        if code_ in ("required", None):  # a draft may leave anything out
            forms.validate(t, bad, instruments=instruments, groups=groups, complete=False)
        else:
            refused(
                lambda b=bad: forms.validate(t, b, instruments=instruments, groups=groups, complete=False)
            )


def test_all_errors_are_reported_at_once(kit):
    t, instruments, groups = setup_for(kit, "gas_cems_extractive_daily")
    answers = valid_answers(t, instruments, groups)
    answers["station"]["station_temperature"] = 99
    answers["station"]["power_supply"] = {"status": "abnormal"}
    del answers["basic"]["om_time"]
    with pytest.raises(DomainError) as caught:
        forms.validate(t, answers, instruments=instruments, groups=groups, complete=True)
    assert caught.value.error.code == "om_answers_invalid"
    assert caught.value.error.status == 400
    assert [(e["path"], e["code"]) for e in caught.value.details["errors"]] == [
        ("basic.om_time", "required"),
        ("station.station_temperature", "out_of_range"),
        ("station.power_supply", "note_required"),
    ]
    assert caught.value.details["errors"][1]["message"] == "「站房温度」须在 -30 至 60 之间。"


def test_units_equal_to_the_items_are_dropped_and_others_refused(kit):
    t, instruments, groups = setup_for(kit, "ww_real_sample_comparison")
    answers = valid_answers(t, instruments, groups)
    cod = str(kit["side"].instrument.pk)
    pair = answers["compare_cod"][cod]["pairs"][0]
    pair.update(lab_value={"value": 100, "unit": "mg/L"}, instrument_value=100)
    checked = forms.validate(t, answers, instruments=instruments, groups=groups, complete=True)
    assert checked.answers["compare_cod"][cod]["pairs"][0]["lab_value"] == 100.0
    pair["lab_value"] = {"value": 100, "unit": "g/L"}
    section = next(s for s in t.definition["sections"] if s["key"] == "compare_cod")
    table = next(i for i in section["items"] if i["key"] == "pairs")
    label = next(c["label"] for c in table["columns"] if c["key"] == "lab_value")
    errors_ = refused(
        lambda: forms.validate(t, answers, instruments=instruments, groups=groups, complete=True)
    )
    assert errors_ == [
        {
            "path": f"compare_cod[{cod}].pairs[0].lab_value",
            "code": "unit_mismatch",
            "message": f"「{label}」的单位须为 mg/L（收到 g/L，不做换算）。",
        }
    ]


def test_gas_calibration_numbers_take_the_sections_unit_choice(kit):
    t, instruments, groups = setup_for(kit, "gas_calibration")
    so2 = by_analyte(kit, "so2")
    answers = valid_answers(t, instruments, groups)
    block = answers["calibrate_so2"][str(so2.pk)]
    block["unit"] = "mg/m3"
    block["span_reference"] = {"value": 80, "unit": "mg/m³"}
    checked = forms.validate(t, answers, instruments=instruments, groups=groups, complete=True)
    assert checked.answers["calibrate_so2"][str(so2.pk)]["span_reference"] == 80.0
    block["span_reference"] = {"value": 80, "unit": "%"}
    found = refused(lambda: forms.validate(t, answers, instruments=instruments, groups=groups, complete=True))
    assert [(e["path"], e["code"]) for e in found] == [
        (f"calibrate_so2[{so2.pk}].span_reference", "unit_mismatch")
    ]
    block["unit"] = "other"  # any unit, kept with the value; the judgement still reads the number
    checked = forms.validate(t, answers, instruments=instruments, groups=groups, complete=True)
    assert checked.answers["calibrate_so2"][str(so2.pk)]["span_reference"] == {"value": 80.0, "unit": "%"}
    assert all(j["passed"] for j in checked.judgements)


def test_groups_are_checked(kit):
    t, instruments, _ = setup_for(kit, "ww_daily_inspection")
    with pytest.raises(DomainError) as caught:
        forms.validate(t, {}, instruments=instruments, groups=[], complete=True)
    assert caught.value.error is errors.OM_GROUPS_REQUIRED
    for complete in (False, True):
        with pytest.raises(DomainError) as caught:
            forms.validate(t, {}, instruments=instruments, groups=["daily", "yearly"], complete=complete)
        assert caught.value.error is errors.OM_GROUP_UNKNOWN
        assert caught.value.details == {
            "groups": ["yearly"],
            "allowed": ["daily", "weekly", "monthly", "quarterly"],
        }
    consumables = template("ww_consumables")
    with pytest.raises(DomainError) as caught:
        forms.validate(consumables, {}, instruments=[], groups=["daily"], complete=False)
    assert caught.value.error is errors.OM_GROUP_UNKNOWN
    # only the chosen groups' sections are required; another group's answers are refused
    answers = valid_answers(t, instruments, ["daily"])
    checked = forms.validate(t, answers, instruments=instruments, groups=["daily"], complete=True)
    assert set(checked.answers) == {"basic", "station_daily", "closing"}
    answers["sampling_weekly"] = {"sampling_unit": {"status": "normal", "note": ""}}
    found = refused(
        lambda: forms.validate(t, answers, instruments=instruments, groups=["daily"], complete=True)
    )
    assert [(e["path"], e["code"]) for e in found] == [("sampling_weekly", "not_applicable")]
    forms.validate(t, answers, instruments=instruments, groups=["daily"], complete=False)  # a draft keeps it


def test_instruments_must_apply_to_the_template(kit):
    t, _, groups = setup_for(kit, "gas_cems_nmhc_daily")
    so2 = by_analyte(kit, "so2")
    nmhc = by_analyte(kit, "nmhc")
    with pytest.raises(DomainError) as caught:
        forms.validate(t, {}, instruments=[nmhc, so2], groups=groups, complete=True)
    assert caught.value.error is errors.OM_INSTRUMENT_NOT_APPLICABLE
    assert caught.value.details["instruments"] == [{"id": so2.pk, "analytes": ["so2", "nox", "o2"]}]
    assert caught.value.details["applicable_analytes"] == ["gas_flow", "nmhc"]
    t = template("ww_standard_check_calibration")
    ph = by_analyte(kit, "ph")
    with pytest.raises(DomainError) as caught:
        forms.validate(t, {}, instruments=[ph], groups=[], complete=True)
    assert caught.value.details["instruments"][0]["id"] == ph.pk
    # consumables have no instrument sections: any of the outlet's instruments may be chosen
    t = template("ww_consumables")
    forms.validate(t, valid_answers(t, [ph], []), instruments=[ph], groups=[], complete=True)
    # the record must choose at least one instrument
    found = refused(
        lambda: forms.validate(t, valid_answers(t, [], []), instruments=[], groups=[], complete=True)
    )
    assert [(e["path"], e["code"]) for e in found] == [("basic.instruments", "required")]


def test_instrument_blocks_exist_exactly_for_the_chosen_matching_instruments(kit):
    t = template("ww_daily_inspection")
    toc, flow = by_analyte(kit, "toc"), by_analyte(kit, "water_flow")
    groups = ["weekly", "monthly"]
    answers = valid_answers(t, [toc, flow], groups)
    assert set(answers["electrode_weekly"]) == {str(toc.pk)}
    assert set(answers["flowmeter_monthly"]) == {str(flow.pk)}
    answers["electrode_weekly"][str(flow.pk)] = {"electrode_passivation": {"status": "normal", "note": ""}}
    found = refused(lambda: forms.validate(t, answers, instruments=[toc, flow], groups=groups, complete=True))
    assert [(e["path"], e["code"]) for e in found] == [(f"electrode_weekly[{flow.pk}]", "not_applicable")]
    del answers["electrode_weekly"][str(flow.pk)]
    del answers["flowmeter_monthly"]
    found = refused(lambda: forms.validate(t, answers, instruments=[toc, flow], groups=groups, complete=True))
    assert [(e["path"], e["code"]) for e in found] == [
        (f"flowmeter_monthly[{flow.pk}].flowmeter_height", "required"),
        (f"flowmeter_monthly[{flow.pk}].channel_condition", "required"),
    ]


def test_normalised_values(kit):
    t, instruments, groups = setup_for(kit, "ww_maintenance_repair")
    iid = str(instruments[0].pk)
    photo = uuid.uuid4()
    answers = valid_answers(t, instruments, groups)
    answers["basic"]["om_time"] = "2025-06-01T01:30:00Z"
    answers["closing"]["site_photos"] = [str(photo).upper(), str(photo)]
    answers["closing"]["remark"] = "  已处理  "
    answers["repair"][iid]["parts"] = [{"name": "泵管", "model": "PT-1", "unit": "根", "quantity": 2}]
    checked = forms.validate(t, answers, instruments=instruments, groups=groups, complete=True)
    # F10 item 7: stored and shown as every answer writes a moment, Beijing time with its offset.
    assert checked.answers["basic"]["om_time"] == "2025-06-01T09:30:00+08:00"
    assert checked.answers["closing"]["site_photos"] == [str(photo)]
    assert checked.answers["closing"]["remark"] == "已处理"
    assert checked.answers["repair"][iid]["parts"][0]["quantity"] == 2.0
    assert checked.judgements == []


def comparison_v1() -> FormTemplate:
    """实际水样比对 as version 1 was (one pair per analyte): records filled with it keep it."""
    spec = json.loads(
        (Path(__file__).parent / "data" / "ww_real_sample_comparison_v1.json").read_text("utf-8")
    )
    return FormTemplate.objects.get_or_create(
        code=spec["code"],
        version=1,
        defaults={"outlet_kind": spec["outlet_kind"], "name": spec["name"], "definition": spec},
    )[0]


def test_present_shows_the_record_as_the_seed_does(kit):
    t = comparison_v1()
    cod, ph = kit["side"].instrument, by_analyte(kit, "ph")
    answers = valid_answers(t, [cod, ph], [])
    answers["compare_cod"][str(cod.pk)].update(instrument_value=26, lab_value=20)  # ±5 mg/L: fails
    answers["compare_ph"][str(ph.pk)].update(instrument_value=7.3, lab_value=7.0)
    answers["basic"]["om_time"] = "2025-06-01T01:30:00+00:00"
    checked = forms.validate(t, answers, instruments=[cod, ph], groups=[], complete=True)
    shown = forms.present(t, checked.answers, checked.judgements, [cod, ph])
    assert [(s["key"], s["instrument"] and s["instrument"]["id"]) for s in shown] == [
        ("basic", None),
        ("compare_cod", cod.pk),
        ("compare_ph", ph.pk),
        ("closing", None),
    ]
    basic = {i["key"]: i["text"] for i in shown[0]["items"]}
    assert basic["om_time"] == "2025-06-01 09:30"  # Asia/Shanghai
    assert cod.serial_number in basic["instruments"]
    assert ph.serial_number in basic["instruments"]
    cod_items = {i["key"]: i["text"] for i in shown[1]["items"]}
    assert cod_items["lab_value"] == "20 mg/L"
    [row] = shown[1]["judgements"]
    assert (row["value_text"], row["limit_text"], row["result"], row["flag"]) == (
        "6 mg/L",
        "±5 mg/L",
        "不合格",
        "",  # hj355_real_sample_cod is confirmed (issue 23): no 待核实
    )
    [row] = shown[2]["judgements"]
    assert (row["value_text"], row["limit_text"], row["result"]) == ("0.3 pH", "±0.5 pH", "合格")
    assert "signature" not in {i["key"] for i in shown[-1]["items"]}

    daily = template("ww_daily_inspection")
    answers = valid_answers(daily, [cod], ["daily", "monthly"])
    answers["station_daily"]["remote_status"] = {"status": "abnormal", "note": "数据中断 2 小时"}
    checked = forms.validate(daily, answers, instruments=[cod], groups=["daily", "monthly"], complete=True)
    shown = forms.present(daily, checked.answers, checked.judgements, [cod])
    station = next(s for s in shown if s["key"] == "station_daily")
    assert station["group_label"] == "日检查维护"
    remote = station["items"][0]
    assert (remote["status"], remote["text"]) == ("abnormal", "不正常（数据中断 2 小时）")
    assert station["items"][1]["text"] == "正常"

    calibration = template("ww_standard_check_calibration")
    answers = valid_answers(calibration, [cod], [], optional=False)
    answers["check_cod"][str(cod.pk)].update(std_reference=100, std_measured=110)
    checked = forms.validate(calibration, answers, instruments=[cod], groups=[], complete=True)
    rows = {
        r["key"]: r
        for r in forms.present(calibration, checked.answers, checked.judgements, [cod])[1]["judgements"]
    }
    assert (
        rows["std_error_cod"]["value_text"],
        rows["std_error_cod"]["limit_text"],
        rows["std_error_cod"]["result"],
    ) == (
        "10%",
        "±10%",
        "合格",
    )
    assert rows["zero_drift_cod"]["limit_text"] == "±5%F.S."

    consumables = template("gas_standard_gas_replacement")
    gas = kit["waste_gas"][0]
    answers = valid_answers(consumables, [gas], [])
    answers["standard_gases"]["items"] = [
        {
            "component": "SO2",
            "concentration": 80,
            "unit": "mg/m3",
            "manufacturer": "大连大特",
            "certificate": "B123",
            "expiry": now_iso(),
            "quantity": 1,
        }
    ]
    checked = forms.validate(consumables, answers, instruments=[gas], groups=[], complete=True)
    table = forms.present(consumables, checked.answers, checked.judgements, [gas])[1]["items"][0]
    assert [c["label"] for c in table["columns"]][:2] == ["标气组分", "浓度"]
    assert table["rows"][0][:3] == ["SO2", "80", "mg/m3"]
    assert table["text"] == "1 行"
