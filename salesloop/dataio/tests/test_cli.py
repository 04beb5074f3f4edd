"""``manage.py import_data``: exit codes, the error table, templates and column docs."""

from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from openpyxl import load_workbook

from salesloop.customers.models import Account
from salesloop.dataio.models import ImportRun
from salesloop.dataio.tests.conftest import csv_bytes


def _run(*args) -> tuple[str, CommandError | None]:
    out = StringIO()
    try:
        call_command("import_data", *args, stdout=out)
    except CommandError as exc:
        return out.getvalue(), exc
    return out.getvalue(), None


def test_valid_file_imports_and_exits_zero(org, tmp_path):
    path = tmp_path / "accounts.csv"
    path.write_bytes(csv_bytes([["external_id", "name"], ["A-1", "甲"], ["A-2", "乙"]]))

    output, error = _run("accounts", str(path), "--as", "rep_a1")

    assert error is None
    assert "2 created" in output
    assert Account.objects.filter(owner=org.rep_a1).count() == 2
    assert ImportRun.objects.get().via == "cli"


def test_bad_rows_print_a_table_with_row_and_column_and_exit_one(org, tmp_path):
    path = tmp_path / "accounts.csv"
    path.write_bytes(
        csv_bytes(
            [["external_id", "名称", "负责人"], ["A-1", "", "rep_a1"], ["A-2", "乙", "rep_b1"]]
        )
    )

    output, error = _run("accounts", str(path), "--as", "rep_a1")

    assert error is not None and error.returncode == 1
    assert "nothing was written" in str(error)
    lines = output.splitlines()
    assert lines[0].split() == ["Row", "Column", "Problem"]
    assert lines[1].split()[:2] == ["2", "名称"]
    assert lines[2].split()[:2] == ["3", "负责人"]
    assert Account.objects.count() == 0


def test_dry_run_writes_nothing_and_exits_zero_when_valid(org, tmp_path):
    path = tmp_path / "accounts.csv"
    path.write_bytes(csv_bytes([["name"], ["甲"]]))

    output, error = _run("accounts", str(path), "--as", "rep_a1", "--dry-run")

    assert error is None and "Dry run" in output
    assert Account.objects.count() == 0


def test_malformed_file_exits_one_with_the_reason(org, tmp_path):
    path = tmp_path / "accounts.csv"
    path.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00")

    _output, error = _run("accounts", str(path), "--as", "rep_a1")

    assert error is not None and error.returncode == 1
    assert "binary" in str(error)


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["accounts", "x.csv"], "--as"),
        (["accounts", "x.csv", "--as", "nobody"], "nobody"),
        (["accounts", "/no/such/file.csv", "--as", "rep_a1"], "No such file"),
        (["accounts", "--as", "rep_a1"], "Give the file"),
    ],
)
def test_usage_mistakes_are_explained(org, args, fragment):
    _output, error = _run(*args)

    assert error is not None and fragment in str(error)


def test_role_that_may_not_import_gets_exit_one(org, tmp_path):
    path = tmp_path / "accounts.csv"
    path.write_bytes(csv_bytes([["name"], ["甲"]]))

    _output, error = _run("accounts", str(path), "--as", "finance")

    assert error is not None and error.returncode == 1


def test_template_flag_writes_a_template(org, tmp_path):
    xlsx, csv_path = tmp_path / "orders.xlsx", tmp_path / "orders.csv"

    _run("orders", "--template", str(xlsx), "--headers", "zh")
    _run("orders", "--template", str(csv_path))

    header = [c.value for c in load_workbook(xlsx).worksheets[0][1]]
    assert "订单号" in header and "产品编码" in header
    assert csv_path.read_text(encoding="utf-8-sig").startswith("id,external_id,number")


def test_columns_flag_documents_the_columns(db):
    output, error = _run("opportunities", "--columns")

    assert error is None
    assert "| stage (also stage_code) | 阶段 |" in output
    assert (
        "| account_external_id | 客户外部编号 | one of account_external_id / account / account_id |"
        in output
    )
