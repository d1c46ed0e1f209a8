"""The staff list filters by gender (F10 item 9: ``/staff?gender=`` was ignored)."""

import pytest

from server.registry.models import Employment, Person

pytestmark = pytest.mark.django_db


def test_the_staff_list_filters_by_gender(world, client_for):
    side = world.shanghai
    first = Employment.objects.filter(agency=side.agency).order_by("pk").first()
    Person.objects.filter(pk=first.person_id).update(gender=Person.Gender.FEMALE)
    Person.objects.filter(employments__agency=side.agency).exclude(pk=first.person_id).update(
        gender=Person.Gender.MALE
    )
    main = client_for(side.main)
    everyone = main.get("/api/v1/staff", {"page_size": 100}).json()["count"]
    women = main.get("/api/v1/staff", {"gender": "female", "page_size": 100}).json()
    men = main.get("/api/v1/staff", {"gender": "male", "page_size": 100}).json()
    assert [row["id"] for row in women["results"]] == [first.pk]
    assert women["count"] + men["count"] == everyone > 1
    assert {row["person"]["gender"] for row in men["results"]} == {"male"}

    answer = main.get("/api/v1/staff", {"gender": "unknown"})
    assert answer.status_code == 400
    assert "gender" in answer.json()["details"]
