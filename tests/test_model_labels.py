"""Every field of every Fieldtrace model has a Chinese label (F11, issue 21): the admin, a generated form,
a serializer's label and an error naming the field show 机构, not ``agency`` or ``ID``."""

from __future__ import annotations

import re

import pytest
from django.apps import apps
from django.db import models
from django.utils import translation

# The project's own code: the server's apps, the sync journal, photo intake, the workspace.
PROJECT_MODULES = ("server.", "sync.", "media_rules.", "workspace.")
CJK = re.compile(r"[\u4e00-\u9fff]")


def project_models() -> list[type[models.Model]]:
    found = [m for m in apps.get_models() if m.__module__.startswith(PROJECT_MODULES)]
    return sorted(found, key=lambda model: model._meta.label)


def labelled_fields(model: type[models.Model]) -> list[models.Field]:
    """The columns (the primary key too) and the many-to-many relations declared on the model."""
    return [f for f in model._meta.get_fields() if f.concrete or (f.many_to_many and not f.auto_created)]


def test_the_project_has_models():
    assert len(project_models()) > 50  # a filter that matches nothing would pass everything below


@pytest.mark.parametrize("model", project_models(), ids=lambda m: m._meta.label)
def test_every_model_is_named_in_chinese(model):
    with translation.override("zh-hans"):
        names = {"verbose_name": str(model._meta.verbose_name)}
        names["verbose_name_plural"] = str(model._meta.verbose_name_plural)
    assert {key: name for key, name in names.items() if not CJK.search(name)} == {}


@pytest.mark.parametrize("model", project_models(), ids=lambda m: m._meta.label)
def test_every_field_is_labelled_in_chinese(model):
    with translation.override("zh-hans"):
        labels = {field.name: str(field.verbose_name) for field in labelled_fields(model)}
    assert {name: label for name, label in labels.items() if not CJK.search(label)} == {}


@pytest.mark.parametrize("model", project_models(), ids=lambda m: m._meta.label)
def test_every_choice_is_labelled_in_chinese(model):
    with translation.override("zh-hans"):
        english = {
            (field.name, value): str(label)
            for field in labelled_fields(model)
            for value, label in (field.flatchoices if field.choices else ())
        }
    # pH is a unit the Chinese standards write so too (HJ 1147-2020).
    assert {key: label for key, label in english.items() if not CJK.search(label) and label != "pH"} == {}
