"""Helpers for the import/export tests: files built in memory, uploads through the API."""

import csv
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import translation
from openpyxl import Workbook


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    """The ``org`` fixture creates 13 users; PBKDF2 makes that take seconds per test."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _english(settings):
    """Assertions read English messages; ``test_i18n.py`` checks the Chinese ones."""
    settings.LANGUAGE_CODE = "en"
    with translation.override("en"):
        yield


def csv_bytes(rows: list[list], *, encoding: str = "utf-8-sig", delimiter: str = ",") -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer, delimiter=delimiter).writerows(rows)
    return buffer.getvalue().encode(encoding)


def xlsx_bytes(rows: list[list], *, extra_sheet: bool = False) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "data"
    for row in rows:
        sheet.append(row)
    if extra_sheet:
        workbook.create_sheet("notes").append(["ignored"])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def upload(client, entity: str, content: bytes, *, name: str = "data.csv", dry_run: bool = False):
    return client.post(
        f"/api/import/{entity}?dry_run={'true' if dry_run else 'false'}",
        {"file": SimpleUploadedFile(name, content)},
    )


def errors_of(response) -> list[tuple]:
    return [(e["row"], e["column"]) for e in response.json()["errors"]]
