"""Reading files as people produce them: encodings, Excel's habits, files that are not tables."""

import io
import zipfile
from datetime import datetime

import pytest

from salesloop.dataio.reader import FileRejected, read_table
from salesloop.dataio.tests.conftest import csv_bytes, xlsx_bytes

ROWS = [["name", "城市"], ["上海某某科技有限公司", "上海市"], ["北京甲乙", "北京市"]]


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gbk", "gb18030", "utf-16"])
def test_csv_in_every_encoding_excel_writes_reads_the_same(encoding):
    table = read_table(csv_bytes(ROWS, encoding=encoding))

    assert table.header == ["name", "城市"]
    assert table.rows == [(2, ["上海某某科技有限公司", "上海市"]), (3, ["北京甲乙", "北京市"])]


def test_tab_separated_unicode_text_from_excel_is_read():
    table = read_table(csv_bytes(ROWS, encoding="utf-16", delimiter="\t"))

    assert table.rows[0] == (2, ["上海某某科技有限公司", "上海市"])


def test_row_numbers_are_excels_with_blank_rows_skipped_and_multiline_cells_counted_once():
    content = 'name,notes\n甲,"第一行\n第二行"\n,\n乙,x\n'.encode()

    table = read_table(content)

    assert [number for number, _cells in table.rows] == [2, 4]


def test_xlsx_keeps_cell_types_and_reads_only_the_first_sheet():
    content = xlsx_bytes([["name", "time"], ["甲", datetime(2025, 3, 1, 9, 30)]], extra_sheet=True)

    table = read_table(content)

    assert table.file_format == "xlsx" and table.typed
    assert table.rows == [(2, ["甲", datetime(2025, 3, 1, 9, 30)])]
    assert table.notes  # says that the second sheet was not read


@pytest.mark.parametrize(
    ("content", "fragment"),
    [
        (b"", "empty"),
        (b"   \r\n", "empty"),
        (b"\xef\xbb\xbf", "empty"),
        (b"name\n", "no data rows"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00", "binary"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100, ".xls"),
        (b"name\n\x81\xff\xfe\n", "neither"),
        (b"\xef\xbb\xbfname\n\xff\n", "not valid UTF-8"),
    ],
)
def test_files_that_are_not_tables_are_refused_with_a_reason(content, fragment):
    with pytest.raises(FileRejected) as exc:
        read_table(content)

    assert fragment in exc.value.message
    assert exc.value.status == 422


def test_a_zip_that_is_not_a_workbook_is_refused():
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("hello.txt", "hi")

    with pytest.raises(FileRejected) as exc:
        read_table(buffer.getvalue())

    assert ".xlsx" in exc.value.message


def test_a_file_over_the_size_limit_is_refused_with_413(settings):
    settings.IMPORT_MAX_BYTES = 100

    with pytest.raises(FileRejected) as exc:
        read_table(csv_bytes([["name"]] + [["x" * 20]] * 10))

    assert exc.value.status == 413
    assert "100" in exc.value.message


def test_more_rows_than_the_limit_are_refused(settings):
    settings.IMPORT_MAX_ROWS = 3

    with pytest.raises(FileRejected) as exc:
        read_table(csv_bytes([["name"]] + [["x"]] * 4))

    assert "3" in exc.value.message


def test_forced_encoding_that_does_not_fit_is_reported():
    with pytest.raises(FileRejected) as exc:
        read_table("name\n名称\n".encode("gbk"), encoding="utf-8")

    assert "utf-8" in exc.value.message
