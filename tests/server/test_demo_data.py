import pytest
from django.contrib.auth import authenticate, get_user_model
from django.core.management import call_command


@pytest.mark.django_db
def test_demo_data_loads_once_and_can_run_again():
    call_command("demo_data")
    call_command("demo_data")
    User = get_user_model()  # noqa: N806
    assert User.objects.filter(username="demo").count() == 1
    assert authenticate(username="demo", password="fieldtrace-demo").is_superuser
