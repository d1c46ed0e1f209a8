"""The staff journey clicked in a real headless Chromium (tests/support/browser.py): the agency's
main account opens 监测人员, filters the list by post (htmx, no reload), opens a person (the ID
number masked, never whole in the page), is refused a post without its certificate in the add form
(said beside the posts, what was typed kept), downloads the import template, fills it with one bad row
and uploads it: the progress is shown (the upload's, then "importing"), then the report names the
row, the column and the reason, and nothing is stored; the row fixed, the file is imported and the
database holds both people. Screenshots in ``var/artifacts/workspace-staff/``."""

from __future__ import annotations

import time

import pytest
from openpyxl import load_workbook

from server.registry.identifiers import mask_resident_id
from server.registry.models import Employment, Person
from tests.factories import PASSWORD, build_world, resident_id
from tests.support.browser import WAIT_S, artefact_dir, foreign_requests, page_wait, requested_urls

pytestmark = [
    pytest.mark.slow,
    # The live server's thread reads committed data; serialized_rollback gives the seeded rows
    # (photo types, posts, forms) back to the tests after this one's flush.
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

# Records what the import's progress line said, before the answer replaces the panel.
WATCH_PROGRESS = """
window.progressSaid = [];
const box = document.getElementById('import-progress');
const note = () => {
  const words = document.getElementById('import-progress-text').textContent;
  const bar = box.querySelector('progress');
  window.progressSaid.push({words, hidden: box.hidden, determinate: bar.hasAttribute('value')});
};
const what = {attributes: true, childList: true, subtree: true, characterData: true};
new MutationObserver(note).observe(box, what);
window.oldPanel = document.getElementById('import-panel');
"""


def wrong_check_digit(number: str) -> str:
    return number[:17] + ("0" if number[17] != "0" else "1")


def test_the_main_account_reads_its_staff_and_imports_a_workbook(browser, live_server, settings, tmp_path):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    settings.SESSION_COOKIE_SECURE = settings.CSRF_COOKIE_SECURE = False  # plain http on loopback
    world = build_world()
    side = world.shanghai
    wait = page_wait(browser)
    folder = artefact_dir("workspace-staff")
    downloads = tmp_path / "downloads"
    downloads.mkdir()
    browser.execute_cdp_cmd(
        "Browser.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(downloads)}
    )
    seen: list[str] = []

    def shot(name: str) -> None:
        path = folder / f"{name}.png"
        assert browser.save_screenshot(str(path))
        assert path.stat().st_size > 5_000
        seen.extend(requested_urls(browser))

    def css(selector: str):
        return browser.find_element(By.CSS_SELECTOR, selector)

    def text() -> str:
        return browser.find_element(By.TAG_NAME, "body").text

    # Signed in, the main account opens 监测人员.
    browser.get(f"{live_server.url}/")
    wait.until(lambda d: "/sign-in/" in d.current_url)
    browser.find_element(By.NAME, "username").send_keys(side.main.username)
    browser.find_element(By.NAME, "password").send_keys(PASSWORD)
    css("main button[type=submit]").click()
    wait.until(lambda d: d.current_url.endswith("/agency/"))
    browser.find_element(By.LINK_TEXT, "监测人员").click()
    wait.until(lambda d: d.current_url.endswith("/staff/"))
    technician, sampler = side.technician.person, side.sampler.person
    assert technician.name in css("#staff-results").text
    assert sampler.name in css("#staff-results").text

    # Filtered by post with htmx: no page load, the filter in the address.
    browser.execute_script("window.notReloaded = true;")
    Select(browser.find_element(By.NAME, "post")).select_by_visible_text("现场运维人员")
    css("form.filter button[type=submit]").click()
    wait.until(lambda d: sampler.name not in d.find_element(By.ID, "staff-results").text)
    assert technician.name in css("#staff-results").text
    assert browser.execute_script("return window.notReloaded === true;")
    assert "post=om_technician" in browser.current_url
    shot("staff-filtered")

    # The person's page: the ID number masked, the certificate with its validity.
    browser.find_element(By.LINK_TEXT, technician.name).click()
    wait.until(lambda d: d.current_url.endswith(f"/staff/{side.technician.pk}/"))
    assert css("#masked-id").text == mask_resident_id(technician.id_number)
    assert technician.id_number not in browser.page_source
    assert "现场运维人员" in css("#certificates").text
    assert "有效" in css("#certificates").text
    shot("staff-person")

    # 添加人员: a post that needs a certificate, chosen without one, is refused beside the posts;
    # what was typed stays.
    browser.find_element(By.LINK_TEXT, "监测人员").click()
    wait.until(lambda d: d.current_url.endswith("/staff/"))
    browser.find_element(By.LINK_TEXT, "添加人员").click()
    wait.until(lambda d: d.current_url.endswith("/staff/new/"))
    browser.find_element(By.NAME, "name").send_keys("林一")
    browser.find_element(By.NAME, "id_number").send_keys(resident_id("310104", "19930303"))
    Select(browser.find_element(By.NAME, "education")).select_by_visible_text("本科")
    browser.execute_script("document.querySelector('[name=hired_on]').value = '2025-05-06';")
    css("input[name=posts][value=sampler]").click()
    css("main form button.primary").click()
    wait.until(lambda d: "须持有效能力证书" in d.find_element(By.TAG_NAME, "body").text)
    assert browser.find_element(By.NAME, "name").get_attribute("value") == "林一"
    assert css("input[name=posts][value=sampler]").is_selected()
    assert not Person.objects.filter(name="林一").exists()
    browser.execute_script("document.querySelector('.field.invalid').scrollIntoView({block: 'center'});")
    shot("staff-new-refused")

    # 批量导入: the template downloaded as the browser saves it.
    browser.find_element(By.LINK_TEXT, "监测人员").click()
    wait.until(lambda d: d.current_url.endswith("/staff/"))
    browser.find_element(By.LINK_TEXT, "批量导入").click()
    wait.until(lambda d: d.current_url.endswith("/staff/import/"))
    css("#staff-template").click()
    deadline = time.monotonic() + WAIT_S
    while not list(downloads.glob("*.xlsx")) or list(downloads.glob("*.crdownload")):
        assert time.monotonic() < deadline, "the template was not downloaded"
        time.sleep(0.2)
    (template,) = downloads.glob("*.xlsx")
    assert template.name == "技术人员导入模板.xlsx"

    # Filled with two people, the second's ID number mistyped (its check digit).
    book = load_workbook(template)
    sheet = book["技术人员"]
    headers = [cell.value for cell in sheet[1]]
    sheet.delete_rows(2)  # the example row
    good, typo = resident_id("310104", "19880808"), resident_id("310104", "19910909")
    rows = {"陈一": good, "陈二": wrong_check_digit(typo)}
    for name, number in rows.items():
        values = {
            "姓名": name,
            "身份证号": number,
            "手机号": "13800138000",
            "学历": "本科",
            "职称": "初级",
            "劳动关系": "正式员工",
            "岗位（多个用、分隔）": "送样人员",
            "入职时间": "2025-06-01",
        }
        sheet.append([values.get(header) for header in headers])
    filled = tmp_path / "人员导入.xlsx"
    book.save(filled)

    def upload(path) -> None:
        browser.execute_script("window.notReloaded = true;")
        browser.execute_script(WATCH_PROGRESS)
        browser.find_element(By.NAME, "file").send_keys(str(path))
        css("#import-form button[type=submit]").click()
        # The answer replaced the panel (the first report stays until then).
        wait.until(
            lambda d: d.execute_script(
                "return document.getElementById('import-panel') !== window.oldPanel"
                " && !!document.getElementById('import-report');"
            )
        )
        assert browser.execute_script("return window.notReloaded === true;")  # the script sent it
        said = browser.execute_script("return window.progressSaid;")
        assert any(entry["words"].startswith("正在上传") and not entry["hidden"] for entry in said), said
        assert any("正在导入" in entry["words"] and not entry["determinate"] for entry in said), said

    upload(filled)
    report = css("#import-report").text
    assert "未导入任何人员" in report
    assert "第 3 行" in report
    assert "身份证号" in report
    assert "居民身份证号码无效" in report
    assert wrong_check_digit(typo) not in browser.page_source
    assert not Person.objects.filter(name__in=rows).exists()  # nothing half-imported
    css("#import-report").location_once_scrolled_into_view  # noqa: B018 (scrolls it into view)
    shot("staff-import-refused")

    # The row fixed, imported.
    sheet.cell(row=3, column=headers.index("身份证号") + 1, value=typo)
    book.save(filled)
    upload(filled)
    assert "已导入 2 名人员" in css("#import-report").text
    shot("staff-imported")
    stored = Employment.objects.filter(agency=side.agency, person__name__in=rows).select_related("person")
    assert {(e.person.name, e.person.id_number) for e in stored} == {("陈一", good), ("陈二", typo)}
    for employment in stored:
        assert employment.status == Employment.Status.ACTIVE
        assert (employment.education, employment.title) == ("bachelor", "junior")
        assert list(employment.posts.values_list("code", flat=True)) == ["courier"]
        assert employment.hired_on.isoformat() == "2025-06-01"
    browser.find_element(By.LINK_TEXT, "查看人员列表").click()
    wait.until(lambda d: d.current_url.endswith("/staff/"))
    assert "陈二" in text()
    assert mask_resident_id(typo) in text()

    seen.extend(requested_urls(browser))
    assert any(url.startswith(live_server.url) for url in seen)
    assert foreign_requests(seen, live_server.url) == []
    severe = [entry for entry in browser.get_log("browser") if entry["level"] == "SEVERE"]
    assert severe == [], severe
