"""``POST /api/import/<entity>``: dry run, all-or-nothing, idempotent upsert, formats, bad files."""

import io
from datetime import datetime
from decimal import Decimal

from django.utils import timezone
from openpyxl import load_workbook

from salesloop.audit.models import AuditEntry
from salesloop.customers.models import Account
from salesloop.dataio.models import ImportOutcome, ImportRun
from salesloop.dataio.tests.conftest import csv_bytes, errors_of, upload, xlsx_bytes
from salesloop.testing.factories import AccountFactory

HEADER = ["external_id", "name", "industry", "owner", "size", "tags"]


def _good_rows(n: int, owner: str = "rep_a1") -> list[list[str]]:
    return [[f"EXT-{i}", f"客户{i}", "制造业", owner, "small", "重点,华东"] for i in range(n)]


def test_dry_run_reports_every_bad_row_with_row_and_column_and_writes_nothing(org, api_as):
    rows = [HEADER, *_good_rows(3)]
    rows[2] = ["EXT-1", "", "制造业", "rep_a1", "small", ""]  # row 3: no name
    rows.append(["EXT-9", "客户9", "制造业", "nobody", "huge", ""])  # row 5: two bad cells
    rows.append(["EXT-10", "x" * 201, "", "", "", ""])  # row 6: name too long

    response = upload(api_as(org.rep_a1), "accounts", csv_bytes(rows), dry_run=True)

    assert response.status_code == 422
    body = response.json()
    assert body["dry_run"] is True and body["ok"] is False
    assert errors_of(response) == [(3, "name"), (5, "owner"), (5, "size"), (6, "name")]
    assert all(e["message"] for e in body["errors"])
    assert Account.objects.count() == 0
    run = ImportRun.objects.get(pk=body["run_id"])
    assert (run.dry_run, run.outcome, run.error_count, run.rows) == (
        True,
        ImportOutcome.INVALID,
        4,
        5,
    )


def test_dry_run_of_a_valid_file_reports_the_counts_and_writes_nothing(org, api_as):
    response = upload(
        api_as(org.rep_a1), "accounts", csv_bytes([HEADER, *_good_rows(4)]), dry_run=True
    )

    assert response.status_code == 200, response.content
    assert (response.json()["created"], response.json()["errors"]) == (4, [])
    assert Account.objects.count() == 0
    assert AuditEntry.objects.count() == 0


def test_one_bad_row_at_the_end_writes_nothing_and_gives_the_dry_run_report(org, api_as):
    client = api_as(org.rep_a1)
    rows = [HEADER, *_good_rows(50), ["EXT-LAST", "最后一行", "", "rep_b1", "", ""]]

    dry = upload(client, "accounts", csv_bytes(rows), dry_run=True)
    real = upload(client, "accounts", csv_bytes(rows))

    assert real.status_code == 422
    assert real.json()["errors"] == dry.json()["errors"]
    assert errors_of(real) == [(52, "owner")]
    assert Account.objects.count() == 0
    assert AuditEntry.objects.count() == 0


def test_reimporting_the_same_file_creates_no_duplicates_and_changes_nothing(org, api_as):
    client = api_as(org.rep_a1)
    content = csv_bytes([HEADER, *_good_rows(20), ["", "没有外部编号", "", "", "", ""]])
    first = upload(client, "accounts", content)
    versions = dict(Account.objects.values_list("external_id", "version"))
    audit_count = AuditEntry.objects.count()

    second = upload(client, "accounts", csv_bytes([HEADER, *_good_rows(20)]))

    assert first.status_code == 200 and first.json()["created"] == 21
    assert second.status_code == 200
    assert (second.json()["created"], second.json()["updated"], second.json()["unchanged"]) == (
        0,
        0,
        20,
    )
    assert Account.objects.count() == 21
    assert dict(Account.objects.values_list("external_id", "version")) == versions
    assert AuditEntry.objects.count() == audit_count


def test_update_overwrites_the_files_columns_keeps_the_others_and_is_audited_as_import(org, api_as):
    account = AccountFactory(
        owner=org.rep_a1,
        external_id="CRM-7",
        name="旧名称",
        industry="教育",
        city="杭州市",
        phone="0571-1",
    )
    client = api_as(org.rep_a1)

    response = upload(
        client,
        "accounts",
        csv_bytes(
            [
                ["external_id", "name", "industry", "phone"],
                ["CRM-7", "新名称", "医疗", ""],
            ]
        ),
    )

    assert response.status_code == 200, response.content
    assert response.json()["updated"] == 1
    account.refresh_from_db()
    assert (account.name, account.industry, account.phone, account.city) == (
        "新名称",
        "医疗",
        "",
        "杭州市",
    )
    assert account.version == 2
    entry = AuditEntry.objects.get(object_id=account.pk, action="update")
    assert entry.source == "import" and entry.actor == org.rep_a1
    assert entry.changes["name"] == ["旧名称", "新名称"]
    assert set(entry.changes) == {"name", "industry", "phone"}


def test_a_row_exported_before_someone_elses_change_is_refused(org, api_as):
    account = AccountFactory(owner=org.rep_a1, external_id="CRM-8", name="甲")
    Account.objects.filter(pk=account.pk).update(version=3, name="乙")

    response = upload(
        api_as(org.rep_a1),
        "accounts",
        csv_bytes([["id", "external_id", "name", "version"], [account.pk, "CRM-8", "丙", 2]]),
    )

    assert response.status_code == 422
    assert errors_of(response) == [(2, "version")]
    account.refresh_from_db()
    assert account.name == "乙"


def test_the_same_record_twice_in_one_file_is_an_error_on_the_second_row(org, api_as):
    response = upload(
        api_as(org.rep_a1),
        "accounts",
        csv_bytes([["external_id", "name"], ["D-1", "甲"], ["D-2", "乙"], ["D-1", "丙"]]),
    )

    assert response.status_code == 422
    assert errors_of(response) == [(4, "external_id")]
    assert "2" in response.json()["errors"][0]["message"]


def test_gbk_csv_with_chinese_headers_imports(org, api_as):
    content = csv_bytes(
        [
            ["外部编号", "名称", "行业", "省份", "负责人", "标签"],
            ["G-1", "杭州某某科技有限公司", "软件", "浙江省", "rep_a1", "重点、华东"],
        ],
        encoding="gbk",
    )

    response = upload(api_as(org.rep_a1), "accounts", content, name="客户.csv")

    assert response.status_code == 200, response.content
    account = Account.objects.get(external_id="G-1")
    assert (account.name, account.province, account.tags) == (
        "杭州某某科技有限公司",
        "浙江省",
        ["重点", "华东"],
    )
    assert ImportRun.objects.get(pk=response.json()["run_id"]).file_name == "客户.csv"


def test_xlsx_with_chinese_headers_and_typed_cells_imports(org, api_as):
    from salesloop.customers.models import Lead

    content = xlsx_bytes(
        [
            ["外部编号", "名称", "预算", "币种", "来源", "首次接触时间", "电话"],
            [
                "X-1",
                "展会线索",
                120000.5,
                "cny",
                "Trade show",
                datetime(2025, 3, 1, 9, 30),
                13800000000,
            ],
            ["X-2", "官网线索", "¥1,200.00", None, "website", "2025/3/2 14:00", None],
        ]
    )

    response = upload(api_as(org.rep_a1), "leads", content, name="leads.xlsx")

    assert response.status_code == 200, response.content
    first, second = Lead.objects.get(external_id="X-1"), Lead.objects.get(external_id="X-2")
    assert (first.budget, first.currency, first.source, first.phone) == (
        Decimal("120000.50"),
        "CNY",
        "expo",
        "13800000000",
    )
    assert first.first_touch_at == timezone.make_aware(datetime(2025, 3, 1, 9, 30))
    assert (second.budget, second.source, second.owner) == (
        Decimal("1200.00"),
        "website",
        org.rep_a1,
    )


def test_ambiguous_account_name_asks_for_the_external_id(org, api_as):
    AccountFactory(owner=org.rep_a1, name="同名公司")
    AccountFactory(owner=org.rep_a1, name="同名公司")

    response = upload(
        api_as(org.rep_a1), "contacts", csv_bytes([["account", "name"], ["同名公司", "张三"]])
    )

    assert response.status_code == 422
    assert errors_of(response) == [(2, "account")]
    assert "external ID" in response.json()["errors"][0]["message"]


# Malformed files ------------------------------------------------------------------------------


def _assert_rejected(response, status: int, fragment: str) -> None:
    assert response.status_code == status, response.content
    body = response.json()
    assert fragment in body["message"] or any(fragment in e["message"] for e in body["errors"])
    assert Account.objects.count() == 0
    assert ImportRun.objects.get(pk=body["run_id"]).outcome == ImportOutcome.REJECTED


def test_oversize_file_gets_413_and_nothing_is_written(org, api_as, settings):
    settings.IMPORT_MAX_BYTES = 1000

    response = upload(api_as(org.rep_a1), "accounts", csv_bytes([HEADER, *_good_rows(100)]))

    _assert_rejected(response, 413, "1000")


def test_picture_uploaded_as_csv_gets_422(org, api_as):
    response = upload(
        api_as(org.rep_a1), "accounts", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", name="a.csv"
    )

    _assert_rejected(response, 422, "binary")


def test_wrong_encoding_gets_422(org, api_as):
    response = upload(api_as(org.rep_a1), "accounts", b"name\n\xff\xfe\xfd\n")

    _assert_rejected(response, 422, "UTF-8")


def test_empty_file_gets_422(org, api_as):
    _assert_rejected(upload(api_as(org.rep_a1), "accounts", b""), 422, "empty")


def test_file_without_a_header_row_gets_422(org, api_as):
    response = upload(
        api_as(org.rep_a1), "accounts", csv_bytes([["ACME", "rep_a1"], ["Beta", "rep_a1"]])
    )

    _assert_rejected(response, 422, "first row must name the columns")


def test_unknown_and_repeated_columns_are_named_and_nothing_is_written(org, api_as):
    response = upload(
        api_as(org.rep_a1),
        "accounts",
        csv_bytes([["name", "名称", "colour", "行业"], ["甲", "甲", "red", "IT"]]),
    )

    _assert_rejected(response, 422, "colour")
    assert errors_of(response) == [(1, "名称"), (1, "colour")]


def test_cell_outside_the_header_is_an_error(org, api_as):
    response = upload(api_as(org.rep_a1), "accounts", csv_bytes([["name"], ["甲", "stray"]]))

    assert response.status_code == 422
    assert response.json()["errors"][0]["row"] == 2
    assert "B2" in response.json()["errors"][0]["message"]


def test_unknown_entity_is_refused(org, api_as):
    response = upload(api_as(org.rep_a1), "payments", csv_bytes([["name"], ["x"]]))

    assert response.status_code == 422
    assert ImportRun.objects.count() == 0


def test_upload_without_a_file_gets_422(org, api_as):
    response = api_as(org.rep_a1).post("/api/import/accounts")

    assert response.status_code == 422


# Templates, runs, schema ------------------------------------------------------------------------


def test_xlsx_template_has_the_header_and_a_column_guide_and_imports_once_filled(org, api_as):
    client = api_as(org.rep_a1)

    response = client.get("/api/import/templates/contacts?format=xlsx&headers=zh")

    assert response.status_code == 200
    workbook = load_workbook(io.BytesIO(response.content))
    header = [c.value for c in workbook.worksheets[0][1]]
    assert header[:4] == ["系统ID", "外部编号", "客户外部编号", "客户名称"]
    guide = [row[0].value for row in workbook.worksheets[1].iter_rows(min_row=2)]
    assert "account_external_id" in guide and "created_at" not in guide
    AccountFactory(owner=org.rep_a1, external_id="A-1")
    sheet = workbook.worksheets[0]
    sheet.append({3: "A-1", 6: "张三"})
    buffer = io.BytesIO()
    workbook.save(buffer)
    assert upload(client, "contacts", buffer.getvalue(), name="t.xlsx").status_code == 200


def test_csv_template_is_utf8_with_bom_and_english_headers(org, api_as):
    response = api_as(org.rep_a1).get("/api/import/templates/orders?format=csv")

    assert response.status_code == 200
    text = response.content.decode("utf-8")
    assert text.startswith("\ufeffid,external_id,number,")
    assert "product_sku" in text and "total" not in text


def test_entities_endpoint_documents_every_column(org, api_as):
    response = api_as(org.rep_a1).get("/api/import/entities")

    assert response.status_code == 200
    entities = {e["name"]: e for e in response.json()}
    assert set(entities) == {
        "accounts",
        "contacts",
        "leads",
        "opportunities",
        "activities",
        "orders",
    }
    contact_columns = {c["column"]: c for c in entities["contacts"]["columns"]}
    assert contact_columns["name"]["required"] == "required"
    assert contact_columns["account"]["chinese"] == "客户名称"
    assert "account_external_id" in contact_columns["account_id"]["required"]


def test_my_runs_lists_only_my_imports(org, api_as):
    upload(api_as(org.rep_a1), "accounts", csv_bytes([HEADER, *_good_rows(1)]), dry_run=True)
    upload(
        api_as(org.rep_b1), "accounts", csv_bytes([HEADER, *_good_rows(1, "rep_b1")]), dry_run=True
    )

    response = api_as(org.rep_a1).get("/api/import/runs")

    assert response.status_code == 200
    assert [r["entity"] for r in response.json()] == ["accounts"]


def test_openapi_schema_lists_the_import_endpoints(org, api_as):
    schema = api_as(org.rep_a1).get("/api/openapi.json").json()

    upload_op = schema["paths"]["/api/import/{entity}"]["post"]
    assert "multipart/form-data" in upload_op["requestBody"]["content"]
    assert {"200", "422", "413"} <= set(upload_op["responses"])
    assert "/api/import/templates/{entity}" in schema["paths"]


def test_readme_documents_the_columns_as_the_code_declares_them():
    from pathlib import Path

    from django.utils import translation

    from salesloop.dataio.entities import ENTITIES
    from salesloop.dataio.templates import columns_markdown

    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
    with translation.override("en"):
        for spec in ENTITIES.values():
            assert columns_markdown(spec) in readme, f"README columns of {spec.name} are stale"


def test_an_id_too_large_for_the_database_is_a_cell_error_not_a_crash(org, api_as):
    response = upload(api_as(org.rep_a1), "accounts", csv_bytes([["id", "name"], ["9" * 30, "甲"]]))

    assert response.status_code == 422
    assert errors_of(response) == [(2, "id")]


def test_import_runs_are_listed_in_the_admin_read_only(admin_client, admin_user):
    run = ImportRun.objects.create(
        user=admin_user,
        entity="accounts",
        file_name="客户.csv",
        outcome=ImportOutcome.INVALID,
        error_count=2,
    )

    listing = admin_client.get("/admin/dataio/importrun/")
    detail = admin_client.get(f"/admin/dataio/importrun/{run.pk}/change/")

    assert listing.status_code == 200 and "客户.csv" in listing.content.decode()
    assert detail.status_code == 200
    assert admin_client.get("/admin/dataio/importrun/add/").status_code == 403
