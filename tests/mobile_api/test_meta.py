from datetime import datetime, timedelta

from django.utils import timezone


def test_meta_gives_the_server_clock_without_login(api):
    before = timezone.now()
    response = api.get("/api/v1/meta")
    after = timezone.now()
    assert response.status_code == 200
    body = response.json()
    server_time = datetime.fromisoformat(body["server_time"])
    assert server_time.utcoffset() == timedelta(hours=8)  # displayed in Asia/Shanghai, offset explicit
    assert before <= server_time <= after
    assert body["time_zone"] == "Asia/Shanghai"
    assert body["languages"] == ["zh-hans", "en"]
    assert body["api_version"] == "1"
