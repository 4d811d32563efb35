"""The bulk client import (fincrm.customers.importer) and its management command."""

from __future__ import annotations

import csv
import io
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest
from django.core.exceptions import PermissionDenied
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import IntegrityError
from stdnum.cn import ric, uscc

from fincrm.customers import importer
from fincrm.customers.importer import checks, customer_import
from fincrm.customers.models import Customer

pytestmark = pytest.mark.django_db

HEADERS = ["客户名称", "统一社会信用代码", "身份证号", "客户类型", "行业", "省份", "城市"]
HEADERS += ["注册资本", "年营业收入", "客户经理", "电话", "成立日期"]


def make_uscc(n: int, region: str = "320505") -> str:
    body = f"91{region}{n:09d}"
    return body + uscc.calc_check_digit(body)


def make_ric(n: int, birthday: date = date(1985, 6, 15), county: str = "110105") -> str:
    body = f"{county}{birthday:%Y%m%d}{n:03d}"
    # stdnum's cn.ric.calc_check_digit takes the whole number and ignores its last character.
    return body + ric.calc_check_digit(body + "0")


def write_csv(path: Path, rows: list[list], headers=HEADERS, encoding="utf-8") -> Path:
    with open(path, "w", encoding=encoding, newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(headers)
        writer.writerows(rows)
    return path


def company(n: int, **changes) -> list:
    row = {
        "name": f"苏州恒瑞精密{n}有限公司",
        "code": make_uscc(n),
        "ric": "",
        "type": "中小企业",
        "industry": "制造业",
        "province": "江苏",
        "city": "苏州",
        "capital": "10,000,000",
        "revenue": "52000000.5",
        "owner": "manager_a",
        "phone": f"138{n:08d}",
        "founded": "2010-05-01",
    } | changes
    return list(row.values())


def person(n: int, **changes) -> list:
    row = {
        "name": f"王{n}",
        "code": "",
        "ric": make_ric(n),
        "type": "sme_owner",
        "industry": "F",
        "province": "北京",
        "city": "北京",
        "capital": "",
        "revenue": "800000",
        "owner": "manager_a",
        "phone": f"139{n:08d}",
        "founded": "",
    } | changes
    return list(row.values())


def wrong_check_digit(code: str) -> str:
    return code[:-1] + ("1" if code[-1] != "1" else "2")


def pairs(result) -> set[tuple[int, str]]:
    return {(e.row, e.field) for e in result.errors}


def test_it_reads_chinese_headers_labels_and_units(users, tmp_path):
    rows = [
        company(1, industry="Manufacturing", province="江苏省", city="苏州市"),
        company(2, industry="C", type="sme", province=""),
        person(3, type="个体工商户"),
    ]
    result = customer_import(write_csv(tmp_path / "c.csv", rows), user=users["admin"])
    assert result.errors == []
    assert (result.created, result.updated, result.bad_rows) == (3, 0, 0)
    first = Customer.objects.get(credit_code=make_uscc(1))
    assert first.kind == "company"
    assert (first.industry, first.client_type) == ("C", "sme")
    assert (first.province, first.city, first.city_tier) == ("江苏", "苏州", "new1")
    assert first.registered_capital == Decimal("10000000.00")
    assert first.annual_revenue == Decimal("52000000.50")
    assert first.founded_on == date(2010, 5, 1)
    assert first.owner == users["manager_a"]
    assert first.team == users["manager_a"].team
    assert Customer.objects.get(credit_code=make_uscc(2)).province == "江苏"  # from the city
    individual = Customer.objects.get(id_number=make_ric(3))
    assert (individual.kind, individual.client_type, individual.city_tier) == (
        "person",
        "sme_owner",
        "1",
    )
    assert individual.credit_code is None


def test_it_reports_every_bad_row_and_imports_the_good_ones(users, tmp_path):
    rows = [
        company(1),  # row 2, good
        company(2, code=wrong_check_digit(make_uscc(2))),  # 3: bad check digit
        person(3, ric="110105198013450011"),  # 4: bad ID number
        company(4, industry="养殖业"),  # 5: unknown industry
        company(5, type="superstar"),  # 6: unknown client type
        company(6, code=make_uscc(1)),  # 7: same code as row 2
        company(7, name=""),  # 8: missing name
        company(8, capital="lots"),  # 9: bad number
        company(9, founded="2020-13-45"),  # 10: bad date
        company(10, owner="nobody"),  # 11: unknown owner
        company(11, province="广东"),  # 12: 苏州 is in 江苏
        [""] * len(HEADERS),  # 13: blank, skipped but counted in the numbering
        person(12),  # 14: good
    ]
    result = customer_import(write_csv(tmp_path / "bad.csv", rows), user=users["admin"])
    assert pairs(result) == {
        (3, "credit_code"),
        (4, "id_number"),
        (5, "industry"),
        (6, "client_type"),
        (7, "credit_code"),
        (8, "name"),
        (9, "registered_capital"),
        (10, "founded_on"),
        (11, "owner"),
        (12, "city"),
    }
    assert result.bad_rows == 10
    assert (result.created, result.total_rows, result.good_rows) == (2, 12, 2)
    assert set(Customer.objects.values_list("name", flat=True)) == {"苏州恒瑞精密1有限公司", "王12"}
    messages = {(e.row, e.field): e.message for e in result.errors}
    assert messages[(3, "credit_code")] == str(importer.MSG_BAD_USCC)
    assert messages[(7, "credit_code")] == str(importer.MSG_DUPLICATE_IN_FILE % {"row": 2})
    assert messages[(8, "name")] == str(importer.MSG_REQUIRED)
    assert messages[(11, "owner")] == str(importer.MSG_UNKNOWN_OWNER)
    assert {e.value for e in result.errors if e.row == 9} == {"lots"}


def test_kind_comes_from_the_identifier_or_an_explicit_column(users, tmp_path):
    headers = ["名称", "主体类型", "统一社会信用代码", "身份证号", "客户类型", "行业", "城市"]
    rows = [
        ["甲公司", "", make_uscc(1), "", "sme", "C", "上海"],
        ["乙", "个人", "", make_ric(2), "hnw", "J", "上海"],
        ["丙", "", make_uscc(3), make_ric(3), "sme", "C", "上海"],  # both: which one?
        ["丁", "企业", "", make_ric(4), "sme", "C", "上海"],  # company without a credit code
        ["戊", "", "", "", "sme", "C", "上海"],  # neither
    ]
    path = write_csv(tmp_path / "kinds.csv", rows, headers=headers)
    result = customer_import(path, user=users["admin"])
    assert pairs(result) == {(4, "kind"), (5, "credit_code"), (6, "credit_code")}
    assert dict(Customer.objects.values_list("name", "kind")) == {
        "甲公司": "company",
        "乙": "person",
    }


def test_a_rerun_creates_no_duplicates_and_updates_what_changed(users, tmp_path):
    path = tmp_path / "book.csv"
    write_csv(path, [company(1), company(2), person(3)])
    first = customer_import(path, user=users["manager_a"])
    assert (first.created, first.updated, first.unchanged) == (3, 0, 0)

    again = customer_import(path, user=users["manager_a"])
    assert (again.created, again.updated, again.unchanged, again.bad_rows) == (0, 0, 3, 0)
    assert Customer.objects.count() == 3

    write_csv(path, [company(1, revenue="61000000", phone=""), company(2), person(3)])
    changed = customer_import(path, user=users["manager_a"])
    assert (changed.created, changed.updated, changed.unchanged) == (0, 1, 2)
    customer = Customer.objects.get(credit_code=make_uscc(1))
    assert customer.annual_revenue == Decimal("61000000.00")
    assert customer.phone == "13800000001"  # an empty cell does not clear a value

    history = list(customer.history.order_by("history_date"))
    assert [h.history_type for h in history] == ["+", "~"]
    assert all(h.history_user == users["manager_a"] for h in history)
    delta = history[1].diff_against(history[0])
    assert delta.changed_fields == ["annual_revenue"]


def test_all_or_nothing_writes_nothing_when_one_row_is_bad(users, tmp_path):
    rows = [company(1), company(2), person(3), company(4, industry="??")]
    path = write_csv(tmp_path / "strict.csv", rows)
    result = customer_import(path, user=users["admin"], all_or_nothing=True, batch_size=2)
    assert result.aborted
    assert pairs(result) == {(5, "industry")}
    assert (result.created, result.updated) == (0, 0)
    assert not Customer.objects.exists()
    assert not Customer.history.exists()

    write_csv(path, rows[:3])
    result = customer_import(path, user=users["admin"], all_or_nothing=True, batch_size=2)
    assert not result.aborted
    assert result.created == 3


def test_a_dry_run_checks_without_writing(users, tmp_path):
    path = write_csv(tmp_path / "dry.csv", [company(1), company(2, industry="?")])
    result = customer_import(path, user=users["admin"], dry_run=True)
    assert (result.created, result.bad_rows) == (1, 1)
    assert not Customer.objects.exists()


def test_it_reads_xlsx_with_typed_cells(users, tmp_path):
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(
        ["name", "credit_code", "client_type", "industry", "city", "员工人数", "founded_on"]
    )
    sheet.append(["Acme Ltd", make_uscc(1), "SME", "Wholesale and retail", "深圳", 250, None])
    sheet.append([None] * 7)
    sheet.append(["Beta", make_uscc(2), "large", "K", "广州", 12.0, datetime(2001, 2, 3)])
    path = tmp_path / "book.xlsx"
    workbook.save(path)
    result = customer_import(path, user=users["manager_b"])
    assert result.errors == []
    assert result.created == 2
    acme = Customer.objects.get(credit_code=make_uscc(1))
    assert (acme.industry, acme.client_type, acme.employee_count) == ("F", "sme", 250)
    assert (acme.province, acme.city_tier, acme.owner) == ("广东", "1", users["manager_b"])
    assert Customer.objects.get(name="Beta").founded_on == date(2001, 2, 3)


@pytest.mark.parametrize("encoding", ["gb18030", "utf-8-sig", "utf-8"])
def test_it_reads_csv_in_the_encodings_excel_writes(users, tmp_path, encoding):
    path = write_csv(tmp_path / "zh.csv", [company(1), person(2)], encoding=encoding)
    result = customer_import(path, user=users["admin"])
    assert result.errors == []
    assert set(Customer.objects.values_list("name", flat=True)) == {"苏州恒瑞精密1有限公司", "王2"}


def test_an_explicit_mapping_overrides_the_guess(users, tmp_path):
    headers = ["A", "B", "C", "行业", "城市", "备注"]
    rows = [["甲公司", make_uscc(1), "sme", "C", "上海", "ignore me"]]
    path = write_csv(tmp_path / "plain.csv", rows, headers=headers)
    with pytest.raises(importer.BadMapping):
        customer_import(path, user=users["admin"])  # no column holds a code
    mapping = {"A": "name", "B": "credit_code", 2: "client_type", "城市": None}
    result = customer_import(path, user=users["admin"], mapping=mapping)
    assert pairs(result) == {(2, "city"), (2, "province")}  # a new client needs both
    result = customer_import(path, user=users["admin"], mapping=mapping | {"城市": "city"})
    assert result.created == 1
    with pytest.raises(importer.BadMapping):
        customer_import(path, user=users["admin"], mapping={"A": "credit_code", "B": "credit_code"})
    with pytest.raises(importer.BadMapping):
        customer_import(path, user=users["admin"], mapping={"A": "salary"})


def test_a_manager_imports_only_their_own_clients(users, book, tmp_path):
    b_company = book["b_company"]
    rows = [
        company(1, owner=""),  # 2: becomes manager_a's
        company(2, owner="manager_b"),  # 3: someone else's
        company(3, code=b_company.credit_code, name="改名"),  # 4: manager_b's client
    ]
    result = customer_import(write_csv(tmp_path / "a.csv", rows), user=users["manager_a"])
    assert pairs(result) == {(3, "owner"), (4, "credit_code")}
    assert [e.message for e in result.errors if e.row == 4] == [str(importer.MSG_NOT_YOURS)]
    mine = Customer.objects.get(credit_code=make_uscc(1))
    assert (mine.owner, mine.team) == (users["manager_a"], users["manager_a"].team)
    b_company.refresh_from_db()
    assert b_company.name == "深圳华信供应链管理有限公司"
    assert b_company.owner == users["manager_b"]


def test_a_team_lead_assigns_owners_within_their_teams(users, book, tmp_path):
    rows = [
        company(1, owner="manager_a"),
        company(2, owner="manager_b"),
        company(3, owner=""),
        company(4, code=book["a_company"].credit_code, owner="lead"),
    ]
    result = customer_import(write_csv(tmp_path / "lead.csv", rows), user=users["lead"])
    assert pairs(result) == {(3, "owner")}
    assert Customer.objects.get(credit_code=make_uscc(1)).owner == users["manager_a"]
    assert Customer.objects.get(credit_code=make_uscc(3)).owner == users["lead"]
    moved = Customer.objects.get(pk=book["a_company"].pk)
    assert (moved.owner, moved.team) == (users["lead"], users["lead"].team)


def test_an_admin_assigns_anyone_and_updates_any_client(users, book, tmp_path):
    rows = [company(1, owner="manager_b"), company(2, code=book["a_company"].credit_code)]
    result = customer_import(write_csv(tmp_path / "admin.csv", rows), user=users["admin"])
    assert result.errors == []
    assert (result.created, result.updated) == (1, 1)
    assert Customer.objects.get(pk=book["a_company"].pk).name == "苏州恒瑞精密2有限公司"


@pytest.mark.parametrize("who", ["agent", "risk", "exec", "outsider"])
def test_other_roles_may_not_import(users, tmp_path, who):
    path = write_csv(tmp_path / "x.csv", [company(1)])
    with pytest.raises(PermissionDenied):
        customer_import(path, user=users[who])
    assert not Customer.objects.exists()


def test_files_that_are_not_tables_are_refused(users, tmp_path):
    admin = users["admin"]
    (tmp_path / "notes.txt").write_text("名称\n甲")
    (tmp_path / "fake.xlsx").write_text("not a zip")
    (tmp_path / "empty.csv").write_bytes(b"")
    (tmp_path / "image.csv").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00")
    for name, message in [
        ("notes.txt", importer.MSG_BAD_EXTENSION),
        ("fake.xlsx", importer.MSG_NOT_XLSX),
        ("empty.csv", importer.MSG_EMPTY_FILE),
        ("image.csv", importer.MSG_NOT_CSV),
    ]:
        with pytest.raises(importer.BadFile) as caught:
            customer_import(tmp_path / name, user=admin)
        assert str(caught.value) == str(message), name


def test_the_command_prints_a_summary_and_exits_1_on_bad_rows(users, tmp_path):
    path = write_csv(tmp_path / "cli.csv", [company(1), company(2, industry="?"), person(3)])
    errors_csv = tmp_path / "errors.csv"
    out = io.StringIO()
    with pytest.raises(CommandError) as caught:
        call_command(
            "import-customers",
            str(path),
            "--user",
            "manager_a",
            "--errors-csv",
            str(errors_csv),
            stdout=out,
        )
    assert caught.value.returncode == 1
    assert Customer.objects.count() == 2
    text = out.getvalue()
    assert "cli.csv" in text
    assert "manager_a" in text
    with open(errors_csv, encoding="utf-8-sig", newline="") as fh:
        lines = list(csv.reader(fh))
    assert len(lines) == 2
    assert lines[1][:2] == ["3", "行业"]  # the row and the file's own column header


def test_the_command_exits_0_on_success_and_all_or_nothing_writes_nothing(users, tmp_path):
    good = write_csv(tmp_path / "good.csv", [company(1), person(2)])
    call_command("import-customers", str(good), "--user", "admin", stdout=io.StringIO())
    assert Customer.objects.count() == 2
    bad = write_csv(tmp_path / "bad.csv", [company(3), company(4, city="火星", province="")])
    with pytest.raises(CommandError):
        call_command(
            "import-customers",
            str(bad),
            "--user",
            "admin",
            "--all-or-nothing",
            stdout=io.StringIO(),
        )
    assert Customer.objects.count() == 2


def test_the_command_refuses_unknown_and_unauthorised_users(users, tmp_path):
    path = write_csv(tmp_path / "x.csv", [company(1)])
    for username in ("ghost", "agent"):
        with pytest.raises(CommandError):
            call_command("import-customers", str(path), "--user", username, stdout=io.StringIO())
    assert not Customer.objects.exists()


def test_the_command_takes_a_column_mapping(users, tmp_path):
    headers = ["Firm", "Code", "Type", "Sector", "Town"]
    path = write_csv(tmp_path / "m.csv", [["甲", make_uscc(1), "sme", "C", "上海"]], headers)
    args = ["--map", "Firm=name", "--map", "Code=credit_code", "--map", "Type=client_type"]
    args += ["--map", "Sector=industry", "--map", "Town=city"]
    call_command("import-customers", str(path), "--user", "admin", *args, stdout=io.StringIO())
    assert Customer.objects.get().name == "甲"


def test_a_batch_the_database_refuses_is_not_half_written(users, tmp_path, monkeypatch):
    real = importer.bulk_insert_customers
    calls = []

    def create_then_fail(frame, **kwargs):
        calls.append(frame.height)
        real(frame, **kwargs)
        if len(calls) == 2:
            raise IntegrityError("UNIQUE constraint failed")

    monkeypatch.setattr(importer.writer, "bulk_insert_customers", create_then_fail)
    rows = [company(1), company(2), company(3), company(4, industry="?"), company(5)]
    path = write_csv(tmp_path / "race.csv", rows)
    result = customer_import(path, user=users["admin"], batch_size=2)
    assert calls == [2, 1, 1]
    # Batch 2 (rows 4 and 5) failed after writing row 4: row 4 is rolled back and reported.
    assert pairs(result) == {(4, ""), (5, "industry")}
    assert result.created == 3
    assert set(Customer.objects.values_list("credit_code", flat=True)) == {
        make_uscc(1),
        make_uscc(2),
        make_uscc(5),
    }


# --- the column-by-column checks give the row-by-row verdicts --------------------------------

_ALL_FIELDS = list(importer.FIELDS)
_AWKWARD: dict[str, list[str]] = {
    "kind": ["", "企业", "个人", "company", "PERSON", "对公", "法人?", "robot"],
    "name": ["", "  苏州恒瑞  ", "王五", "名" * 200, "名" * 201, "A\u3000B"],
    "credit_code": [
        "",
        make_uscc(1),
        make_uscc(2).lower(),
        f" {make_uscc(3)} ",
        make_uscc(4)[:9] + "-" + make_uscc(4)[9:],
        make_uscc(5)[:-1] + ("0" if make_uscc(5)[-1] != "0" else "1"),
        make_uscc(6)[:17],
        "9132050500000000IO",
        "ＡＢＣ",
        make_uscc(1),  # a duplicate of the first
    ],
    "id_number": [
        "",
        make_ric(1),
        make_ric(2).lower(),
        make_ric(3, date(2000, 2, 29)),
        "11010519990229" + "0011",  # no 29 February in 1999
        make_ric(4, county="999999"),  # no such county
        make_ric(5)[:-1] + ("0" if make_ric(5)[-1] != "0" else "1"),
        make_ric(6)[:16],
        " " + make_ric(7) + " ",
        make_ric(1),
    ],
    "client_type": ["", "中小企业", "sme", "large", "大企业", "nobody"],
    "industry": ["", "制造业", "C", "i", "信息传输、软件和信息技术服务业", "不存在的行业"],
    "province": ["", "江苏", "江苏省", "浙江", "北京市", "火星", "省" * 21],
    "city": ["", "苏州", "苏州市", "杭州", "北京", "不存在市"],
    "city_tier": ["", "一线", "new1", "5"],
    "address": ["", "苏州工业园区", "路" * 201],
    "phone": ["", "13800000000", "1" * 21],
    "email": [
        "",
        "a@b.cn",
        "a.b+c@mail.example.com",
        "bad@",
        "“x”@y.cn",
        "x@localhost",
        "a@[127.0.0.1]",
    ],
    "registered_capital": [
        "",
        "10,000,000",
        "¥1,000.555",
        "1000.554",
        "-5",
        "1e3",
        "一千万",
        "0",
        "12345678901234567",
        "9" * 16 + ".999",
        ".5",
        "5.",
        "1_000",
        "NaN",
    ],
    "annual_revenue": ["", "52000000.5", "52 000 000", "元", "+7", "0.005", "0.0049"],
    "employee_count": ["", "80", "80.0", "80.5", "-1", "3000000000", "1,200", "007"],
    "needs_level": ["", "基础", "premium", "x"],
    "risk_appetite": ["", "稳健型", "aggressive", "x"],
    "source_channel": ["", "转介绍", "online", "x"],
    "owner": ["", "manager_a", "manager_b", "nobody", "risk"],
    "birthday": ["", "1985-06-15", "1985/6/15", "19850615", "1985年6月15日", "1985-02-30", "昨天"],
    "founded_on": ["", "2010-05-01", "2010.5.1", "20101301"],
}


def _both_ways(user, batch, *, text_only=False):
    """Each row parsed by the per-row parser and by the column checks: (number, values, raw,
    errors, kind, key) tuples."""
    columns = list(enumerate(_ALL_FIELDS))

    def shape(rows):
        return [(r.number, r.values, r.raw, r.errors, r.kind, r.key) for r in rows]

    by_row = checks.Checker(columns=columns)
    by_column = checks.Checker(columns=columns, text_only=text_only)
    return (
        shape([by_row.parse(n, cells) for n, cells in batch]),
        shape(by_column.rows(by_column.check(batch))),
    )


def test_the_column_checks_give_every_row_the_row_by_row_verdict(users):
    import random

    rng = random.Random(20261126)
    batch = []
    for number in range(2, 1202):
        cells = [rng.choice(_AWKWARD[name]) for name in _ALL_FIELDS]
        batch.append((number, cells))
    by_row, by_column = _both_ways(users["admin"], batch, text_only=True)  # as a CSV's cells
    assert by_column == by_row
    # The sample is awkward enough to exercise every branch: both kinds, errors in every field.
    assert {kind for *_rest, kind, _key in by_row} >= {"company", "person", None}
    failed = {name for *_n, errors, _k, _key in by_row for name, _message in errors}
    assert failed >= set(_ALL_FIELDS) - {"owner", "kind"}  # owners are checked against the DB


def test_the_column_checks_agree_on_excel_values(users):
    cells = [None] * len(_ALL_FIELDS)
    row = dict(zip(_ALL_FIELDS, cells, strict=True)) | {
        "name": "苏州恒瑞",
        "credit_code": make_uscc(9),
        "client_type": "sme",
        "industry": "C",
        "city": "苏州",
        "registered_capital": 10000000.5,
        "annual_revenue": 52000000,
        "employee_count": 80.0,
        "founded_on": datetime(2010, 5, 1),
    }
    by_row, by_column = _both_ways(users["admin"], [(2, list(row.values()))])
    assert by_column == by_row
    assert by_row[0][3] == []


# --- bulk load: indexes rebuilt after the rows (PostgreSQL) ----------------------------------


def _schema():
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_get_indexdef(indexrelid) FROM pg_index "
            "WHERE indrelid::regclass::text = ANY(%s) ORDER BY 1",
            [list(importer.writer.BULK_LOAD_TABLES)],
        )
        indexes = [d for (d,) in cursor.fetchall()]
        cursor.execute(
            "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
            "WHERE conrelid::regclass::text = ANY(%s) ORDER BY 1",
            [list(importer.writer.BULK_LOAD_TABLES)],
        )
        return indexes, cursor.fetchall()


@pytest.fixture
def postgres_only():
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("the bulk load rebuilds PostgreSQL indexes")


def test_a_bulk_load_imports_the_same_and_puts_every_index_back(users, tmp_path, postgres_only):
    before = _schema()
    assert len(before[0]) > 10  # the client table's list, search and history indexes
    rows = [company(n) for n in range(1, 40)] + [person(1), company(40, industry="?")]
    path = write_csv(tmp_path / "load.csv", rows)
    result = customer_import(path, user=users["admin"], bulk_load=True, batch_size=7)
    assert (result.created, result.bad_rows) == (40, 1)
    assert pairs(result) == {(42, "industry")}
    assert _schema() == before
    found = Customer.objects.filter(phone__startswith="1380000001").count()
    assert found == 10  # phones 13800000010-19, through the rebuilt prefix index
    assert Customer.history.filter(history_type="+").count() == 40


def test_a_bulk_load_knows_the_book_and_the_file_by_code(users, tmp_path, postgres_only):
    """Codes already in the book are read once (the table is locked), a duplicate in a later
    batch is still caught, and the new ids are one reserved range after the book's."""
    first = customer_import(
        write_csv(tmp_path / "a.csv", [company(1), person(1)]), user=users["admin"]
    )
    assert first.created == 2
    rows = [company(1, revenue="99"), person(1), company(2), company(3), company(2)]
    path = write_csv(tmp_path / "b.csv", rows)
    result = customer_import(path, user=users["admin"], bulk_load=True, batch_size=2)
    assert (result.created, result.updated, result.unchanged) == (2, 1, 1)
    assert pairs(result) == {(6, "credit_code")}
    assert str(Customer.objects.get(credit_code=make_uscc(1)).annual_revenue) == "99.00"
    old_ids = set(Customer.objects.filter(credit_code=make_uscc(1)).values_list("id", flat=True))
    new_ids = sorted(
        Customer.objects.filter(credit_code__in=[make_uscc(2), make_uscc(3)]).values_list(
            "id", flat=True
        )
    )
    assert new_ids[1] == new_ids[0] + 1 and new_ids[0] > max(old_ids)
    later = customer_import(write_csv(tmp_path / "c.csv", [company(4)]), user=users["admin"])
    assert later.created == 1  # the sequence moved past the reserved range
    assert Customer.objects.get(credit_code=make_uscc(4)).pk > new_ids[1]


def test_a_failed_bulk_load_leaves_no_rows_and_every_index(
    users, tmp_path, monkeypatch, postgres_only
):
    before = _schema()

    def fail(frame, **kwargs):
        raise RuntimeError("the disk is full")

    monkeypatch.setattr(importer.writer, "bulk_insert_customers", fail)
    path = write_csv(tmp_path / "load.csv", [company(1), company(2)])
    with pytest.raises(RuntimeError):
        customer_import(path, user=users["admin"], bulk_load=True)
    assert _schema() == before
    assert not Customer.objects.exists()


def test_a_bulk_load_pays_only_for_a_large_file_against_the_book(
    users, tmp_path, monkeypatch, postgres_only
):
    assert not importer.bulk_load_pays(importer.BULK_LOAD_MIN_ROWS - 1)
    assert importer.bulk_load_pays(importer.BULK_LOAD_MIN_ROWS)
    monkeypatch.setattr(importer.writer, "BULK_LOAD_MIN_ROWS", 20)
    customer_import(write_csv(tmp_path / "two.csv", [company(1), company(2)]), user=users["admin"])
    assert importer.bulk_load_pays(20)  # 2 clients: at most a tenth of 20 rows
    customer_import(write_csv(tmp_path / "one.csv", [company(3)]), user=users["admin"])
    assert not importer.bulk_load_pays(20)  # 3 clients: more than a tenth


def test_reading_ahead_in_a_thread_changes_nothing_and_keeps_the_language(
    users, tmp_path, monkeypatch
):
    from django.utils import translation

    rows = [company(n) for n in range(1, 12)] + [company(12, industry="?"), person(1)]
    rows += [company(3)]  # a duplicate of row 4, two batches later
    path = write_csv(tmp_path / "ahead.csv", rows)

    def run(ahead: bool, **options):
        monkeypatch.setattr(importer.run, "READ_AHEAD_MIN_ROWS", 0 if ahead else 10**9)
        with translation.override("en"):
            return customer_import(path, user=users["admin"], batch_size=3, **options)

    checked = run(True, dry_run=True)
    assert checked.errors == run(False, dry_run=True).errors
    assert pairs(checked) == {(13, "industry"), (15, "credit_code")}
    assert any(e.message.startswith("Unknown value") for e in checked.errors)  # English
    written = run(True)
    assert (written.created, written.bad_rows, written.errors) == (12, 2, checked.errors)
    assert Customer.objects.count() == 12


def test_a_failure_while_reading_ahead_reaches_the_caller(users, tmp_path, monkeypatch):
    monkeypatch.setattr(importer.run, "READ_AHEAD_MIN_ROWS", 0)
    real = checks.Checker.check

    def check(self, batch):
        if batch[0][0] > 5:
            raise importer.BadFile("unreadable from row 6")
        return real(self, batch)

    monkeypatch.setattr(checks.Checker, "check", check)
    path = write_csv(tmp_path / "ahead.csv", [company(n) for n in range(1, 10)])
    with pytest.raises(importer.BadFile, match="row 6"):
        customer_import(path, user=users["admin"], batch_size=2)
