"""The filing dossier journey clicked in a real headless Chromium (tests/support/browser.py): a new
agency's main account fills its filing (nature, monitoring categories), uploads its business licence
and quality manual, records its CMA certificate with the scan and submits; the regulator of its
region reads the dossier, downloads the licence and approves; a later change of the agency's name
waits beside the approved name on both pages until the regulator approves it (seed 001 §3.1, §3.3).
What is stored is asserted in the database. Screenshots in ``var/artifacts/workspace-dossier/``."""

from __future__ import annotations

import pytest

from server.registry.models import Agency, AgencyDocument, AgencyFilingEvent, AgencyQualification
from server.registry.services import agency_register
from tests.factories import PASSWORD, credit_code, regulator_user
from tests.support.browser import artefact_dir, foreign_requests, page_wait, requested_urls

pytestmark = [
    pytest.mark.slow,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]
F = Agency.FilingStatus
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\n%%EOF\n"


def test_an_agency_files_its_dossier_and_the_regulator_approves_it_and_a_name_change(
    browser, live_server, settings, tmp_path
):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    settings.SESSION_COOKIE_SECURE = settings.CSRF_COOKIE_SECURE = False  # plain http on loopback
    agency, main = agency_register(
        credit_code=credit_code("91310104MA"),
        name="徐汇清源检测有限公司",
        kind=Agency.Kind.MONITORING,
        legal_representative="李明",
        address="漕溪路 100 号",
        region_code="310104",
        username="qingyuan",
        password=PASSWORD,
    )
    regulator = regulator_user("310000")
    files = {}
    for name in ("营业执照", "质量手册", "资质认定证书"):
        files[name] = tmp_path / f"{name}.pdf"
        files[name].write_bytes(PDF + name.encode())
    wait = page_wait(browser)
    folder = artefact_dir("workspace-dossier")
    seen: list[str] = []

    def shot(name: str) -> None:
        assert browser.save_screenshot(str(folder / f"{name}.png"))
        seen.extend(requested_urls(browser))

    def css(selector: str):
        return browser.find_element(By.CSS_SELECTOR, selector)

    def says(words: str):
        wait.until(lambda d: words in d.find_element(By.TAG_NAME, "body").text)

    def type_into(selector: str, value: str) -> None:
        field = css(selector)
        field.clear()
        field.send_keys(value)

    def sign_in(username: str) -> None:
        browser.get(f"{live_server.url}/sign-in/")
        browser.find_element(By.NAME, "username").send_keys(username)
        browser.find_element(By.NAME, "password").send_keys(PASSWORD)
        css("main button[type=submit]").click()
        wait.until(lambda d: "/sign-in/" not in d.current_url)

    def sign_out() -> None:
        css(".topbar form[action='/sign-out/'] button").click()
        wait.until(lambda d: "/sign-in/" in d.current_url)

    # The agency: what is missing is said; the filing's nature and categories; the documents.
    sign_in(main.username)
    browser.get(f"{live_server.url}/agency/filing/")
    says("提交前还缺")
    assert "营业执照" in css("#dossier-missing").text
    browser.get(f"{live_server.url}/agency/filing/edit/")
    Select(browser.find_element(By.NAME, "nature")).select_by_visible_text("私营")
    css("input[name=monitoring_categories][value=water]").click()
    css("input[name=monitoring_categories][value=air]").click()
    css("main form button.primary").click()
    says("备案信息已保存")
    for kind, name in (("business_licence", "营业执照"), ("quality_manual", "质量手册")):
        Select(css("#document-form select[name=kind]")).select_by_value(kind)
        css("#document-form input[name=file]").send_keys(str(files[name]))
        css("#document-form button").click()
        says("材料已上传")
    Select(css("#qualification-form select[name=kind]")).select_by_value("cma")
    type_into("#qualification-form input[name=number]", "230912340001")
    type_into("#qualification-form textarea[name=scope]", "水和废水、环境空气和废气")
    browser.execute_script(
        "arguments[0].value = '2019-06-01'; arguments[1].value = '2031-05-31';",
        css("#qualification-form input[name=first_granted_on]"),
        css("#qualification-form input[name=valid_until]"),
    )
    css("#qualification-form input[name=file]").send_keys(str(files["资质认定证书"]))
    css("#qualification-form button").click()
    says("资质证书已登记")
    assert not browser.find_elements(By.ID, "dossier-missing")
    shot("agency-dossier")
    css("form.submit-form button").click()
    says("备案已提交")
    assert css("#filing-status").text == "已提交"
    agency.refresh_from_db()
    assert (agency.filing_status, agency.nature, agency.monitoring_categories) == (
        F.SUBMITTED,
        "private",
        ["water", "air"],
    )
    assert sorted(AgencyDocument.objects.filter(agency=agency).values_list("kind", "file_name")) == [
        ("business_licence", "营业执照.pdf"),
        ("quality_manual", "质量手册.pdf"),
    ]
    cma = AgencyQualification.objects.get(agency=agency)
    assert (cma.number, str(cma.first_granted_on), cma.file_name) == (
        "230912340001",
        "2019-06-01",
        "资质认定证书.pdf",
    )
    sign_out()

    # The regulator reads the dossier, downloads the licence (its bytes as uploaded) and approves.
    sign_in(regulator.username)
    browser.get(f"{live_server.url}/regulator/filings/{agency.pk}/")
    says("备案材料")
    assert "营业执照.pdf" in css("#documents").text
    assert "230912340001" in css("#qualifications").text
    assert "水（含大气降水）和废水、环境空气和废气" in css("#filing-data").text
    link = css("#documents tr.business_licence a").get_attribute("href")
    size = browser.execute_async_script(
        "fetch(arguments[0]).then(r => r.arrayBuffer().then(b => arguments[1]([r.status, b.byteLength])))",
        link,
    )
    assert size == [200, len(files["营业执照"].read_bytes())]
    shot("regulator-dossier")
    css("form.decision button[value=approve]").click()
    says("备案已审查通过")
    sign_out()

    # A later name change waits beside the approved name until the regulator approves it.
    sign_in(main.username)
    browser.get(f"{live_server.url}/agency/filing/edit/")
    type_into("input[name=name]", "上海清源环境检测有限公司")
    css("main form button.primary").click()
    says("须经监管方审查通过后生效")
    pending = css("#filing-data tr.pending").text
    assert "徐汇清源检测有限公司" in pending
    assert "上海清源环境检测有限公司" in pending
    assert css("#filing-status").text == "变更待审"
    shot("agency-name-pending")
    agency.refresh_from_db()
    assert (agency.name, agency.pending_changes) == (
        "徐汇清源检测有限公司",
        {"name": "上海清源环境检测有限公司"},
    )
    sign_out()
    sign_in(regulator.username)
    browser.get(f"{live_server.url}/regulator/filings/{agency.pk}/")
    pending = css("#filing-data tr.pending").text
    assert "徐汇清源检测有限公司" in pending
    assert "上海清源环境检测有限公司" in pending
    shot("regulator-name-pending")
    css("form.decision button[value=approve]").click()
    says("备案已审查通过")
    agency.refresh_from_db()
    assert (agency.name, agency.pending_changes, agency.filing_status) == (
        "上海清源环境检测有限公司",
        {},
        F.APPROVED,
    )
    assert list(
        AgencyFilingEvent.objects.filter(agency=agency).order_by("at", "id").values_list("to_status", "actor")
    ) == [
        (F.SUBMITTED, main.pk),
        (F.APPROVED, regulator.pk),
        (F.CHANGED, main.pk),
        (F.APPROVED, regulator.pk),
    ]
    assert foreign_requests(seen, live_server.url) == []
    severe = [entry for entry in browser.get_log("browser") if entry["level"] == "SEVERE"]
    assert severe == [], severe
