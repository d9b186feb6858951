//! The form set as an .xlsx: one sheet 「様式」 laid out like the print view (form number,
//! title, date, addressee, 届出者, then the answers as a bordered two-column table in the
//! form's order, then the attached documents), A4 portrait, one page wide. Every answer is a
//! text cell (`write_string`), so nothing typed by a user becomes a formula and codes keep
//! their leading zeros.

use rust_xlsxwriter::{Color, Format, FormatAlign, FormatBorder, Workbook, XlsxError};

use super::form_set::FormSheet;
use crate::error::AppError;

pub const CONTENT_TYPE: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

fn failed(e: XlsxError) -> AppError {
    AppError::Internal(format!("xlsx: {e}"))
}

/// The workbook's bytes.
pub fn write(sheet: &FormSheet) -> Result<Vec<u8>, AppError> {
    let mut workbook = Workbook::new();
    let ws = workbook.add_worksheet();
    ws.set_name("様式").map_err(failed)?;
    ws.set_paper_size(9); // A4
    ws.set_portrait();
    ws.set_print_fit_to_pages(1, 0);
    ws.set_print_center_horizontally(true);
    ws.set_column_width(0, 34).map_err(failed)?;
    ws.set_column_width(1, 62).map_err(failed)?;

    let font = "游ゴシック";
    let plain = Format::new().set_font_name(font).set_text_wrap();
    let right = plain.clone().set_align(FormatAlign::Right);
    let title = Format::new()
        .set_font_name(font)
        .set_bold()
        .set_font_size(16)
        .set_align(FormatAlign::Center);
    let cell = plain
        .clone()
        .set_border(FormatBorder::Thin)
        .set_align(FormatAlign::Top);
    let label = cell.clone().set_background_color(Color::RGB(0xF2F2F2));
    let section = cell
        .clone()
        .set_bold()
        .set_background_color(Color::RGB(0xD9D9D9));
    let item = cell.clone().set_bold();
    let bold = plain.clone().set_bold();

    let mut row: u32 = 0;
    ws.write_string_with_format(row, 1, &sheet.form_number, &right)
        .map_err(failed)?;
    row += 1;
    ws.merge_range(row, 0, row, 1, &sheet.title, &title)
        .map_err(failed)?;
    row += 2;
    ws.write_string_with_format(row, 1, &sheet.date, &right)
        .map_err(failed)?;
    row += 1;
    ws.write_string_with_format(row, 0, format!("{}　殿", sheet.addressee), &plain)
        .map_err(failed)?;
    row += 2;
    ws.write_string_with_format(row, 0, "届出者", &bold)
        .map_err(failed)?;
    row += 1;
    for (l, v) in &sheet.filer {
        ws.write_string_with_format(row, 0, l, &plain)
            .map_err(failed)?;
        ws.write_string_with_format(row, 1, v, &plain)
            .map_err(failed)?;
        row += 1;
    }
    row += 1;
    ws.write_string_with_format(row, 0, &sheet.statement, &plain)
        .map_err(failed)?;
    row += 2;
    for s in &sheet.sections {
        ws.merge_range(row, 0, row, 1, &s.title, &section)
            .map_err(failed)?;
        row += 1;
        for r in &s.rows {
            if r.item {
                ws.merge_range(row, 0, row, 1, &r.label, &item)
                    .map_err(failed)?;
            } else {
                ws.write_string_with_format(row, 0, &r.label, &label)
                    .map_err(failed)?;
                ws.write_string_with_format(row, 1, &r.value, &cell)
                    .map_err(failed)?;
            }
            row += 1;
        }
    }
    row += 1;
    ws.merge_range(row, 0, row, 1, "添付書類", &section)
        .map_err(failed)?;
    row += 1;
    if sheet.attachments.is_empty() {
        ws.merge_range(row, 0, row, 1, "（なし）", &cell)
            .map_err(failed)?;
        row += 1;
    }
    for (l, f) in &sheet.attachments {
        ws.write_string_with_format(row, 0, l, &label)
            .map_err(failed)?;
        ws.write_string_with_format(row, 1, f, &cell)
            .map_err(failed)?;
        row += 1;
    }
    row += 1;
    ws.write_string_with_format(
        row,
        0,
        format!(
            "到達番号 {}（第{}版・{}あて）",
            sheet.reference, sheet.version_no, sheet.authority_name
        ),
        &plain,
    )
    .map_err(failed)?;
    workbook.save_to_buffer().map_err(failed)
}
