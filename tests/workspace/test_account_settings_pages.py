"""账号设置 (seed 001 §3.7.1): the password and the bound phone on one page, each its own form,
calling the services ``POST /auth/password`` and ``POST /auth/phone`` call (issue 23)."""

import pytest

from server.accounts.models import User
from server.audit.models import AuditEntry
from tests.factories import PASSWORD
from tests.workspace.conftest import signed_in
from tests.workspace.helpers import visible_text

pytestmark = pytest.mark.django_db
NEW_PASSWORD = "Suzhou-Creek-2026!"


def test_a_new_password_ends_the_other_browser_sessions_and_keeps_this_one(busy):
    user = busy.world.shanghai.manager
    this, other = signed_in(user), signed_in(user)
    assert other.get("/agency/").status_code == 200
    response = this.post(
        "/account/password/",
        {"old_password": PASSWORD, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
        follow=True,
    )
    assert "密码已修改" in visible_text(response)
    user.refresh_from_db()
    assert user.check_password(NEW_PASSWORD)
    assert this.get("/agency/").status_code == 200
    assert other.get("/agency/").status_code == 302  # to the sign-in page
    assert AuditEntry.objects.filter(action="account.password_changed", subject_id=str(user.pk)).count() == 1


def test_the_same_password_again_is_said_beside_the_field(busy):
    client = signed_in(busy.world.shanghai.manager)
    response = client.post(
        "/account/password/",
        {"old_password": PASSWORD, "new_password1": PASSWORD, "new_password2": PASSWORD},
    )
    assert response.status_code == 200
    assert "新密码不能与当前密码相同" in visible_text(response)


def test_the_phone_number_is_changed_with_the_password(busy):
    user = busy.world.shanghai.reviewer
    client = signed_in(user)
    page = visible_text(client.get("/account/password/"))
    assert "更换绑定手机号" in page
    assert "未绑定" in page
    wrong = client.post("/account/phone/", {"phone": "13912345678", "password": "wrong"})
    assert wrong.status_code == 400
    assert "当前密码不正确" in visible_text(wrong)
    assert 'value="13912345678"' in wrong.content.decode()  # what was typed is kept
    bad = client.post("/account/phone/", {"phone": "0216418", "password": PASSWORD})
    assert bad.status_code == 400
    assert "手机号格式不正确" in visible_text(bad)
    user.refresh_from_db()
    assert user.phone == ""
    done = client.post("/account/phone/", {"phone": "139 1234 5678", "password": PASSWORD}, follow=True)
    assert "绑定手机号已更换" in visible_text(done)
    assert "13912345678" in visible_text(done)
    user.refresh_from_db()
    assert user.phone == "13912345678"


def test_a_phone_number_bound_to_another_account_is_refused(busy):
    User.objects.filter(pk=busy.world.shanghai.manager.pk).update(phone="13900000000")
    user = busy.world.shanghai.reviewer
    response = signed_in(user).post("/account/phone/", {"phone": "13900000000", "password": PASSWORD})
    assert response.status_code == 400
    assert "已绑定其他账号" in visible_text(response)
    user.refresh_from_db()
    assert user.phone == ""
