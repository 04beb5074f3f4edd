"""Import reports speak the importer's language (zh-Hans by default, English on request)."""

import re
from io import StringIO

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import translation

from salesloop.dataio.tests.conftest import csv_bytes, upload

CJK = re.compile(r"[\u4e00-\u9fff]")


@pytest.fixture
def chinese(settings):
    settings.LANGUAGE_CODE = "zh-hans"
    with translation.override("zh-hans"):
        yield


def test_api_errors_are_in_chinese_for_a_chinese_client(org, api_as, chinese):
    client = api_as(org.rep_a1)

    response = upload(client, "accounts", csv_bytes([["name", "owner"], ["", "rep_b1"]]))
    empty = client.post(
        "/api/import/accounts",
        {"file": SimpleUploadedFile("a.csv", b"")},
        HTTP_ACCEPT_LANGUAGE="zh-hans",
    )

    assert response.status_code == 422
    assert CJK.search(response.json()["message"])
    assert all(CJK.search(e["message"]) for e in response.json()["errors"])
    assert CJK.search(empty.json()["message"])


def test_api_errors_are_in_english_when_asked(org, api_as, chinese):
    response = api_as(org.rep_a1).post(
        "/api/import/accounts",
        {"file": SimpleUploadedFile("a.csv", b"")},
        HTTP_ACCEPT_LANGUAGE="en",
    )

    assert response.json()["message"] == "The file is empty."


def test_cli_speaks_the_language_of_the_user_it_acts_as(org, tmp_path):
    org.rep_a1.language = "zh-hans"
    org.rep_a1.save(update_fields=["language"])
    path = tmp_path / "a.csv"
    path.write_bytes(csv_bytes([["name"], [""]]))

    with pytest.raises(CommandError) as exc:
        call_command("import_data", "accounts", str(path), "--as", "rep_a1", stdout=StringIO())

    assert CJK.search(str(exc.value))
