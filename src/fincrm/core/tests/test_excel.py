"""Excel exports people read: filters on top, a frozen bold header, number formats, widths."""

from io import BytesIO

from openpyxl import load_workbook

from fincrm.core.excel import DECIMAL, WHOLE, workbook


def test_the_sheet_has_the_filters_a_frozen_header_number_formats_and_widths():
    content = workbook(
        title="delinquency",
        header=["客户", "笔数", "余额", "占比"],
        rows=[["苏州恒瑞精密机械有限公司", 3, 1805.5, 0.25], ["=HYPERLINK(1)", 12, 20.0, 0.75]],
        applied=[("团队", "华东一组")],
        percent_columns=[3],
    )
    sheet = load_workbook(BytesIO(content)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:2] == ("团队", "华东一组") and not any(rows[1])
    assert rows[2] == ("客户", "笔数", "余额", "占比") and sheet["A3"].font.bold
    assert sheet.freeze_panes == "A4"
    assert rows[4][0] == "'=HYPERLINK(1)"  # text, never a formula
    assert (sheet["B4"].number_format, sheet["C4"].number_format) == (WHOLE, DECIMAL)
    assert sheet["D5"].number_format == "0.0%"
    assert sheet.column_dimensions["A"].width >= 2 * len("苏州恒瑞精密机械有限公司")


def test_times_keep_their_hour_and_a_sheet_name_excel_refuses_is_cleaned():
    from datetime import date, datetime

    content = workbook(
        title="投诉/诉求: 队列",  # "/" and ":" are refused in a sheet name by Excel
        header=["应回复时间", "到期日"],
        rows=[[datetime(2026, 6, 15, 17, 30), date(2026, 6, 30)]],
    )
    sheet = load_workbook(BytesIO(content)).active
    assert sheet.title == "投诉 诉求  队列"
    assert (sheet["A2"].number_format, sheet["B2"].number_format) == ("yyyy-mm-dd hh:mm",
                                                                      "yyyy-mm-dd")  # fmt: skip
    assert sheet["A2"].value == datetime(2026, 6, 15, 17, 30)
