"""A field day on three phones in the real app (seed 002: 采样 → 送样 → 实验室分析), against a
server in its own process (its own SpatiaLite file), killed in the middle of a sync. The server is
``manage.py runserver`` (threaded): gunicorn's sync workers sit behind a buffering proxy in
production, and three browsers talking to them directly hold every worker with idle preconnected
sockets.

Online first, the sampler creates the task and the courier's and the lab analyst's phones receive it.
Then all three work offline, each in its own Chromium (its own storage and service worker): the
sampler starts the task and photographs the sampling, saves (暂存); the courier, whose phone still
shows the task as created, starts it, photographs the hand-over, saves; the analyst starts it,
photographs the analysis and ends it. Photos are chosen from ``../shared/data/photos`` through the
file input. They come online in the worst order (the analyst first: its photo and its end wait on
the server for the earlier stages; then the courier), and while the sampler's phone syncs, gunicorn
is killed (SIGKILL) and started again on the same address. Each phone keeps its queue, tells its
user it will retry, and sends again by itself: the task ends, every operation is stored once and
applied, each photo once with its file byte for byte."""

from __future__ import annotations

import contextlib
import hashlib
import json
import sqlite3
import time

import pytest

from server.env import parse_database_url
from tests.e2e.live import Server, django_env, fresh_database, manage
from tests.field_app.test_field_app_browser import OFFLINE, ONLINE, Phone
from tests.shared_data import PHOTOS

pytestmark = pytest.mark.slow

# build_world hashes passwords with MD5 (fast); the production server knows only the real hashers.
WORLD = """
import django, json
django.setup()
from django.conf import settings
settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
from django.contrib.auth.hashers import PBKDF2PasswordHasher
from server.fieldwork.services import project_assign
from tests.factories import PASSWORD, build_world, hire, staff_account
side = build_world().shanghai
courier = hire(side.agency, ["courier"])
project_assign(project=side.project, employment=courier, post_code="courier")
lab = side.project.assignments.get(post__code="lab_analyst").employment
users = {"sampler": side.field_user, "courier": staff_account(side.main, courier),
         "analyst": staff_account(side.main, lab)}
hasher = PBKDF2PasswordHasher()
for user in users.values():
    user.password = hasher.encode(PASSWORD, hasher.salt())
    user.save(update_fields=["password"])
outlet = side.wastewater
print(json.dumps({"users": {k: [u.pk, u.username] for k, u in users.items()}, "project": side.project.pk,
                  "lon": outlet.location.x, "lat": outlet.location.y}))
"""

SHOTS = {
    "sampler": [("sampling_operation", "HMD_Nokia_8.3_5G.jpg"), ("sampling_site", "jolla.jpg")],
    "courier": [("sample_delivery", "DSCN0021.jpg")],
    "analyst": [("lab_analysis", "DSCN0010.jpg")],
}


def rows(database_url: str, sql: str, *params) -> list[tuple]:
    with contextlib.closing(sqlite3.connect(parse_database_url(database_url)["NAME"], timeout=30)) as conn:
        return conn.execute(sql, params).fetchall()


def status_of(phone: Phone) -> str:
    from selenium.webdriver.common.by import By

    return phone.browser.find_element(By.ID, "task-status").text


def shoot(phone: Phone, photo_type: str, name: str) -> None:
    from selenium.webdriver.common.by import By

    before = len(phone.browser.find_elements(By.CSS_SELECTOR, "figure.thumb"))
    shutter = phone.browser.find_element(By.CSS_SELECTOR, f"input[type=file][data-photo-type={photo_type}]")
    shutter.send_keys(str(PHOTOS / name))
    phone.until(lambda d: len(d.find_elements(By.CSS_SELECTOR, "figure.thumb")) == before + 1)


def synced(phone: Phone) -> None:
    """Home, 同步, and wait until nothing is left to send or upload."""
    phone.browser.get(phone.app)
    phone.click("同步")
    phone.all_sent()


def test_three_phones_offline_in_the_worst_order_with_the_server_killed_mid_sync(
    browsers,
    tmp_path,
):
    # The browsers fixture runs this on SpatiaLite only; the server gets a fresh SpatiaLite file.
    with fresh_database(tmp_path) as database_url:
        env = django_env(database_url, tmp_path)
        env["DEBUG"] = "0"
        manage(env, "migrate", "--noinput")
        world = json.loads(manage(env, code=WORLD).strip().splitlines()[-1])
        server = Server(env, tmp_path / "server.log").start()
        try:
            run_the_day(browsers, server, env, tmp_path, database_url, world)
        finally:
            server.stop()


def run_the_day(browsers, server, env, tmp_path, database_url, world):
    from selenium.webdriver.common.by import By

    phones = {}
    for name in ("sampler", "courier", "analyst"):
        phone = Phone(browsers(), server.url, world["lon"], world["lat"])
        phone.browser.get(phone.app)
        phone.sign_in(world["users"][name][1])
        phones[name] = phone
    sampler, courier, analyst = phones["sampler"], phones["courier"], phones["analyst"]

    # Online, the sampler creates the task; the other phones receive it at their next sync.
    task_id = sampler.create_task(world["project"], "三机协同采样", "S-01")
    sampler.until(lambda d: rows(database_url, "SELECT count(*) FROM fieldwork_monitoringtask")[0][0] == 1)
    for phone in (courier, analyst):
        synced(phone)
        phone.browser.get(f"{phone.app}tasks/{task_id}")
        phone.until(lambda d, p=phone: "已创建" in status_of(p))

    # The morning offline, on each phone what it shows.
    for phone in phones.values():
        phone.network(OFFLINE)
    moves = {
        "sampler": ["开始", None, "暂存"],
        "courier": ["开始", None, "暂存"],
        "analyst": ["开始", None, "结束"],
    }
    for name, phone in phones.items():
        phone.browser.get(f"{phone.app}tasks/{task_id}")
        phone.until(lambda d, p=phone: "三机协同采样" in p.text())
        for move in moves[name]:
            if move is None:
                for photo_type, file in SHOTS[name]:
                    shoot(phone, photo_type, file)
                continue
            phone.click(move)
            expected = {"开始": "进行中", "暂存": "已暂存", "结束": "已结束"}[move]
            phone.until(lambda d, p=phone, s=expected: s in status_of(p))
        phone.shot(f"three-{name}-offline")
    assert rows(database_url, "SELECT count(*) FROM media_rules_photo") == [(0,)]

    # The analyst comes online first, then the courier: what needs the earlier stages waits.
    for phone in (analyst, courier):
        phone.network(ONLINE)
        synced(phone)
    waiting = rows(database_url, "SELECT op_type FROM sync_operation WHERE status = 'held' ORDER BY seq")
    assert waiting, "nothing waited for the sampler's photos"
    analyst.browser.get(analyst.app)
    analyst.until(lambda d: "等待中" in analyst.text())
    analyst.shot("three-analyst-waiting")

    # The sampler comes online; while its phone syncs, the server is killed.
    sampler_id = world["users"]["sampler"][0]
    before = rows(database_url, "SELECT count(*) FROM sync_operation WHERE user_id = ?", sampler_id)[0][0]
    sampler.browser.get(sampler.app)
    sampler.network(ONLINE)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if (
            rows(database_url, "SELECT count(*) FROM sync_operation WHERE user_id = ?", sampler_id)[0][0]
            > before
        ):
            break
        time.sleep(0.005)
    server.kill()
    stored_at_kill = rows(database_url, "SELECT count(*) FROM media_rules_blob")[0][0]
    assert stored_at_kill < 4, "every file was in before the kill: the kill was not mid-sync"
    sampler.until(lambda d: "稍后重试" in d.find_element(By.ID, "sync-phase").text)
    sampler.browser.execute_script("document.getElementById('sync').scrollIntoView()")
    sampler.shot("three-sampler-server-down")

    # The same server again, on the same address: the phone sends again by itself.
    restarted = Server(env, tmp_path / "server2.log")
    restarted.port, restarted.url = server.port, server.url
    restarted.start()
    try:
        sampler.all_sent()
        sampler.shot("three-sampler-synced")
        # The held photos' files go once their records are applied, at each phone's next sync.
        for phone in (courier, analyst):
            synced(phone)

        assert rows(database_url, "SELECT status FROM fieldwork_monitoringtask") == [("ended",)]
        ops = rows(database_url, "SELECT op_id, status FROM sync_operation")
        assert len({op_id for op_id, _ in ops}) == len(ops)  # each stored once
        assert {status for _, status in ops} == {"applied"}, ops
        moves_made = rows(
            database_url,
            "SELECT from_status, to_status FROM fieldwork_taskevent ORDER BY at, id",
        )
        assert moves_made[-1] == ("running", "ended")
        photos = rows(
            database_url,
            "SELECT photo_type_id, blob_id FROM media_rules_photo",
        )
        expected = {
            (photo_type, hashlib.sha256((PHOTOS / file).read_bytes()).hexdigest())
            for shots in SHOTS.values()
            for photo_type, file in shots
        }
        assert sorted(photos) == sorted(expected)  # each photo once, its file byte for byte
        assert rows(database_url, "SELECT count(*) FROM media_rules_blob") == [(4,)]
        analyst.browser.get(f"{analyst.app}tasks/{task_id}")
        analyst.until(lambda d: "已结束" in status_of(analyst) and "待同步" not in status_of(analyst))
        analyst.shot("three-analyst-ended")
        for phone in phones.values():
            assert phone.foreign() == []
    finally:
        restarted.stop()
