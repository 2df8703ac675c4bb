//! The `patients` table from the clinical csv/xlsx: every column under a snake_case name with
//! an inferred type, canonical columns typed as the SPEC fixes them, and `patient_id`
//! normalised to the folder form ('001').

use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::sync::Arc;

use datafusion::arrow::array::{ArrayRef, Date32Array, Float64Array, Int64Array, RecordBatch, StringArray};
use datafusion::arrow::datatypes::{DataType, Field, Schema};

use super::canonical::{CANONICAL_COLUMNS, CanonicalType};
use super::config::ClinicalConfig;
use crate::error::{Error, FileFault, Result};

/// The clinical sheet as text cells: a header and rows (None = missing).
#[derive(Debug, Clone, Default)]
pub struct Sheet {
    pub headers: Vec<String>,
    pub rows: Vec<Vec<Option<String>>>,
    /// Each row's 1-based line (csv) or row (xlsx) number in the file, for messages.
    pub row_numbers: Vec<usize>,
}

/// The `patients` table and the problems met while building it.
#[derive(Debug)]
pub struct PatientsTable {
    pub batch: RecordBatch,
    /// (patient_id, message) for each problem, message naming the file and the row.
    pub problems: Vec<(Option<String>, String)>,
}

/// Reads a csv or xlsx clinical file into text cells. The column names are on `header_row`
/// (1-based), by default the first non-empty row; empty rows are skipped.
pub fn read_sheet(path: &Path, sheet_name: Option<&str>, header_row: Option<usize>) -> Result<Sheet> {
    let ext = path
        .extension()
        .map(|e| e.to_string_lossy().to_ascii_lowercase())
        .unwrap_or_default();
    let numbered_rows = if ext == "csv" {
        read_csv(path)?
    } else {
        read_workbook(path, sheet_name)?
    };
    let mut rows = numbered_rows
        .into_iter()
        .filter(|(_, cells)| cells.iter().any(Option::is_some));
    let header = match header_row {
        Some(n) => rows.find(|(number, _)| *number == n),
        None => rows.next(),
    };
    let Some((_, header)) = header else {
        return match header_row {
            Some(n) => Err(fault(
                path,
                format!("npcql.toml says the column names are on row {n}, but that row is empty or missing"),
            )),
            None => Err(fault(path, "the clinical file is empty (no header row)".into())),
        };
    };
    let (row_numbers, rows) = rows.unzip();
    let headers = header.into_iter().map(Option::unwrap_or_default).collect();
    Ok(Sheet {
        headers,
        rows,
        row_numbers,
    })
}

/// Every record of a csv file with its line number, cells trimmed, missing-value tokens None.
fn read_csv(path: &Path) -> Result<Vec<(usize, Vec<Option<String>>)>> {
    let bytes = std::fs::read(path).map_err(|e| Error::io(path, "cannot open the clinical file", e))?;
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .delimiter(sniff_delimiter(&bytes))
        .from_reader(bytes.as_slice());
    let mut rows = Vec::new();
    let mut record = csv::ByteRecord::new();
    loop {
        match reader.read_byte_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {
                // The reader's own line count misses skipped blank lines: count newlines up to
                // the record's first byte instead.
                let start = record.position().map_or(0, |p| p.byte() as usize).min(bytes.len());
                let blank = bytes[start..].iter().take_while(|b| matches!(b, b'\n' | b'\r')).count();
                let line = 1 + bytes[..start + blank].iter().filter(|b| **b == b'\n').count();
                rows.push((line, record.iter().map(cell_text).collect()));
            }
            Err(e) => return Err(fault(path, format!("malformed csv ({e})"))),
        }
    }
    Ok(rows)
}

/// The field separator of a csv file: whichever of `,`, `;` (what Excel writes where the
/// decimal separator is a comma) and tab occurs most often in its first line, outside quotes.
fn sniff_delimiter(bytes: &[u8]) -> u8 {
    let first_line = bytes
        .split(|b| *b == b'\n')
        .find(|line| !line.trim_ascii().is_empty())
        .unwrap_or(&[]);
    let mut counts = [(b',', 0usize), (b';', 0), (b'\t', 0)];
    let mut quoted = false;
    for &byte in first_line {
        if byte == b'"' {
            quoted = !quoted;
        } else if !quoted && let Some(count) = counts.iter_mut().find(|(d, _)| *d == byte) {
            count.1 += 1;
        }
    }
    // Ties (and a one-column file) keep the comma: the first of the most frequent.
    counts
        .iter()
        .rev()
        .max_by_key(|(_, n)| *n)
        .map_or(b',', |(d, n)| if *n == 0 { b',' } else { *d })
}

fn cell_text(bytes: &[u8]) -> Option<String> {
    let text = String::from_utf8_lossy(bytes);
    let text = text.trim().trim_start_matches('\u{feff}').trim();
    (!is_missing(text)).then(|| text.to_string())
}

/// Every row of a worksheet with its 1-based row number in the sheet.
fn read_workbook(path: &Path, sheet_name: Option<&str>) -> Result<Vec<(usize, Vec<Option<String>>)>> {
    use calamine::{Data, Reader, open_workbook_auto};
    let mut workbook = open_workbook_auto(path).map_err(|e| fault(path, format!("cannot open workbook ({e})")))?;
    let sheets = workbook.sheet_names();
    let name = match sheet_name {
        Some(name) if !sheets.iter().any(|s| s == name) => {
            let message = format!("has no sheet '{name}' (its sheets: {})", sheets.join(", "));
            return Err(fault(path, message));
        }
        Some(name) => name.to_string(),
        None => sheets
            .first()
            .cloned()
            .ok_or_else(|| fault(path, "the workbook has no sheets".into()))?,
    };
    let range = workbook
        .worksheet_range(&name)
        .map_err(|e| fault(path, format!("cannot read sheet '{name}' ({e})")))?;
    // A merged cell holds its value in its first cell only; every cell it covers shows it, as
    // the spreadsheet does (a header merged over two rows names the column on either).
    let merged = match &mut workbook {
        calamine::Sheets::Xlsx(xlsx) => xlsx.merge_cells_by_sheet_name(&name).unwrap_or_default(),
        calamine::Sheets::Xls(xls) => xls.merge_cells_by_sheet_name(&name).unwrap_or_default(),
        _ => Vec::new(),
    };
    let data_text = |cell: &Data| -> Option<String> {
        let text = match cell {
            Data::Empty | Data::Error(_) => return None,
            Data::Int(v) => v.to_string(),
            // xlsx stores every number as a float: show whole numbers without ".0".
            Data::Float(v) if v.fract() == 0.0 && v.abs() < 1e15 => format!("{}", *v as i64),
            Data::Float(v) => v.to_string(),
            Data::Bool(v) => v.to_string(),
            Data::String(s) | Data::DateTimeIso(s) | Data::DurationIso(s) => s.trim().to_string(),
            // A date without a time of day is a date (a DATE column when all of them are).
            Data::DateTime(d) => match d.as_datetime().map(|t| t.to_string()) {
                Some(t) => t.strip_suffix(" 00:00:00").map_or(t.clone(), str::to_string),
                None => d.as_f64().to_string(),
            },
        };
        Some(text).filter(|s| !is_missing(s))
    };
    let (first_row, first_column) = range.start().unwrap_or((0, 0));
    let mut rows: Vec<Vec<Option<String>>> = range.rows().map(|r| r.iter().map(data_text).collect()).collect();
    for region in merged {
        let cell = |(row, column): (u32, u32)| {
            let row = usize::try_from(row.checked_sub(first_row)?).ok()?;
            let column = usize::try_from(column.checked_sub(first_column)?).ok()?;
            Some((row, column))
        };
        let (Some((top, left)), Some((bottom, right))) = (cell(region.start), cell(region.end)) else {
            continue;
        };
        let Some(value) = rows.get(top).and_then(|r| r.get(left)).cloned().flatten() else {
            continue;
        };
        for row in rows.iter_mut().take(bottom + 1).skip(top) {
            for slot in row.iter_mut().take(right + 1).skip(left) {
                slot.get_or_insert_with(|| value.clone());
            }
        }
    }
    Ok(rows
        .into_iter()
        .enumerate()
        .map(|(i, r)| (first_row as usize + i + 1, r))
        .collect())
}

/// Tokens that mean "no value" in clinical spreadsheets.
fn is_missing(s: &str) -> bool {
    matches!(
        s.trim().to_ascii_lowercase().as_str(),
        "" | "na" | "n/a" | "nan" | "null" | "none" | "-" | "." | "?"
    )
}

/// `EBV DNA (copies/mL)` → `ebv_dna_copies_ml`.
pub fn snake_case(name: &str) -> String {
    let chars: Vec<char> = name.trim().chars().collect();
    let mut out = String::new();
    for (i, &c) in chars.iter().enumerate() {
        if !c.is_alphanumeric() {
            if !out.is_empty() && !out.ends_with('_') {
                out.push('_');
            }
            continue;
        }
        // camelCase splits ("patientID" → patient_id), but a lone capital ending a word is a
        // unit ("copies/mL" → copies_ml).
        let after_lower = i > 0 && (chars[i - 1].is_lowercase() || chars[i - 1].is_ascii_digit());
        let lone_final_capital = !chars.get(i + 1).is_some_and(|n| n.is_alphanumeric());
        if c.is_uppercase() && after_lower && !lone_final_capital && !out.ends_with('_') {
            out.push('_');
        }
        out.extend(c.to_lowercase());
    }
    let out = out.trim_end_matches('_').to_string();
    if out.is_empty() { "column".to_string() } else { out }
}

/// `'1'`, `'1.0'`, `'NPC-001'` → `'001'`: the trailing digits, zero-padded to three.
pub fn normalise_patient_id(raw: &str) -> Option<String> {
    let raw = raw.trim();
    // Spreadsheets store ids as numbers: '10.0' and '10.00' are patient 10.
    let raw = match raw.rsplit_once('.') {
        Some((whole, zeros)) if !zeros.is_empty() && zeros.bytes().all(|b| b == b'0') => whole,
        _ => raw,
    };
    let digits: String = raw
        .chars()
        .rev()
        .take_while(|c| c.is_ascii_digit())
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect();
    let n: u64 = digits.parse().ok()?;
    Some(format!("{n:03}"))
}

/// Builds the `patients` table from a clinical sheet and the patient folders found on disk.
pub fn build_patients(
    file: Option<(&Path, &Sheet)>,
    config: &ClinicalConfig,
    folder_ids: &[String],
) -> Result<PatientsTable> {
    let empty = Sheet::default();
    let (file_name, sheet) = match file {
        Some((path, sheet)) => (
            path.file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default(),
            sheet,
        ),
        None => (String::new(), &empty),
    };
    let mut problems = Vec::new();
    let names = column_names(file.map(|(path, _)| path), sheet, config, &mut problems)?;
    let id_col = names.iter().position(|n| n == "patient_id");
    if file.is_some() && id_col.is_none() {
        // Rows without ids cannot be matched to folders: keep the images queryable, say why.
        let mut table = build_patients(None, config, folder_ids)?;
        table.problems.push((
            None,
            format!(
                "{file_name}: no patient id column (looked for 'patient_id' and similar), so patients holds only \
                 the folder ids; map it in npcql.toml: [clinical.columns] patient_id = \"<column name>\""
            ),
        ));
        return Ok(table);
    }

    // Rows of the file, then folder patients the file does not mention (with NULL clinical data).
    let mut ids: Vec<Option<String>> = Vec::new();
    let mut seen: HashMap<String, usize> = HashMap::new();
    for (r, row) in sheet.rows.iter().enumerate() {
        let line = sheet.row_numbers.get(r).copied().unwrap_or(r + 2);
        let raw = id_col.and_then(|c| row.get(c).cloned().flatten());
        let id = raw.as_deref().and_then(normalise_patient_id);
        match (&raw, &id) {
            (None, _) => problems.push((None, format!("{file_name} row {line}: no patient id"))),
            (Some(raw), None) => problems.push((
                None,
                format!("{file_name} row {line}: patient id '{raw}' has no number"),
            )),
            (Some(_), Some(id)) => {
                if let Some(first) = seen.insert(id.clone(), line) {
                    problems.push((
                        Some(id.clone()),
                        format!("{file_name} row {line}: duplicate patient id {id} (first on row {first})"),
                    ));
                }
                if !folder_ids.contains(id) {
                    problems.push((
                        Some(id.clone()),
                        format!("{file_name} row {line}: patient {id} has no folder in MRI-Segments"),
                    ));
                }
            }
        }
        ids.push(id);
    }
    let missing_folders: Vec<&String> = folder_ids.iter().filter(|id| !seen.contains_key(*id)).collect();
    if file.is_some() {
        for id in &missing_folders {
            problems.push((
                Some((*id).clone()),
                format!("patient {id} has a folder but no row in {file_name}"),
            ));
        }
    }

    let total_rows = sheet.rows.len() + missing_folders.len();
    let mut fields = Vec::new();
    let mut arrays: Vec<ArrayRef> = Vec::new();
    fn push(fields: &mut Vec<Field>, arrays: &mut Vec<ArrayRef>, name: &str, array: ArrayRef) {
        fields.push(Field::new(name, array.data_type().clone(), true));
        arrays.push(array);
    }
    let mut id_values: Vec<Option<String>> = ids.clone();
    id_values.extend(missing_folders.iter().map(|id| Some((*id).clone())));
    push(
        &mut fields,
        &mut arrays,
        "patient_id",
        Arc::new(StringArray::from(id_values)),
    );

    let canonical: BTreeMap<&str, CanonicalType> = CANONICAL_COLUMNS.iter().copied().collect();
    let mut present: Vec<&str> = vec!["patient_id"];
    for (c, name) in names.iter().enumerate() {
        if name == "patient_id" {
            continue;
        }
        let cells: Vec<Option<&str>> = sheet
            .rows
            .iter()
            .map(|row| row.get(c).and_then(|v| v.as_deref()))
            .chain(std::iter::repeat_n(None, missing_folders.len()))
            .collect();
        let context = |row: usize| {
            format!(
                "{file_name} row {}",
                sheet.row_numbers.get(row).copied().unwrap_or(row + 2)
            )
        };
        let array = match canonical.get(name.as_str()) {
            Some(kind) => typed_column(name, *kind, &cells, &context, &mut problems),
            None => inferred_column(&cells),
        };
        push(&mut fields, &mut arrays, name, array);
        present.push(name);
    }
    // Canonical columns the file lacks still exist, so saved queries plan; ebv_status may be
    // derived from ebv_dna.
    for (name, kind) in CANONICAL_COLUMNS {
        if present.contains(&name) {
            continue;
        }
        if name == "ebv_status"
            && let Some(threshold) = config.ebv_positive_above
            && let Some(dna) = present.iter().position(|n| *n == "ebv_dna")
        {
            let dna = arrays[dna].as_any().downcast_ref::<Float64Array>().cloned();
            let status: StringArray = dna
                .iter()
                .flat_map(|a| a.iter())
                .map(|v| v.map(|v| if v > threshold { "positive" } else { "negative" }))
                .collect();
            push(&mut fields, &mut arrays, name, Arc::new(status));
            continue;
        }
        if file.is_some() {
            problems.push((
                None,
                format!("{file_name}: no '{name}' column; it is NULL (map one in npcql.toml [clinical.columns])"),
            ));
        }
        push(&mut fields, &mut arrays, name, null_column(kind, total_rows));
    }
    let batch = RecordBatch::try_new(Arc::new(Schema::new(fields)), arrays)?;
    Ok(PatientsTable { batch, problems })
}

/// The SQL name of each source column: mapped through npcql.toml, else snake_case, de-duplicated.
fn column_names(
    file: Option<&Path>,
    sheet: &Sheet,
    config: &ClinicalConfig,
    problems: &mut Vec<(Option<String>, String)>,
) -> Result<Vec<String>> {
    let mut names: Vec<String> = sheet.headers.iter().map(|h| snake_case(h)).collect();
    let file_name = file
        .and_then(Path::file_name)
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    // Without a file there is nothing to map (and its absence is reported elsewhere).
    let mapping = if file.is_some() {
        config.columns.iter().collect()
    } else {
        Vec::new()
    };
    for (canonical, source) in mapping {
        let wanted = snake_case(source);
        let Some(i) = sheet
            .headers
            .iter()
            .position(|h| h.trim() == source.trim() || snake_case(h) == wanted)
        else {
            let message = format!(
                "npcql.toml maps {canonical} to column '{source}', but the file has no such column (its columns: {})",
                sheet.headers.join(", ")
            );
            return Err(fault(file.unwrap_or(Path::new("")), message));
        };
        names[i] = canonical.clone();
    }
    if !names.iter().any(|n| n == "patient_id")
        && let Some(i) = names.iter().position(|n| {
            matches!(
                n.as_str(),
                "id" | "patient" | "patient_no" | "patient_number" | "subject_id" | "case_id"
            )
        })
    {
        names[i] = "patient_id".to_string();
    }
    let mut counts: HashMap<String, usize> = HashMap::new();
    for name in &mut names {
        let n = counts.entry(name.clone()).or_insert(0);
        *n += 1;
        if *n > 1 {
            problems.push((
                None,
                format!("{file_name}: two columns are named '{name}'; the second is '{name}_{n}'"),
            ));
            *name = format!("{name}_{n}");
        }
    }
    Ok(names)
}

fn typed_column(
    name: &str,
    kind: CanonicalType,
    cells: &[Option<&str>],
    context: &dyn Fn(usize) -> String,
    problems: &mut Vec<(Option<String>, String)>,
) -> ArrayRef {
    let mut bad = |row: usize, value: &str, expected: &str| {
        if row < usize::MAX {
            problems.push((
                None,
                format!("{}: {name} '{value}' is not {expected}; it is NULL", context(row)),
            ));
        }
    };
    match kind {
        CanonicalType::Text => Arc::new(cells.iter().map(|c| c.map(str::to_string)).collect::<StringArray>()),
        CanonicalType::Number | CanonicalType::Double => {
            let values: Vec<Option<f64>> = cells
                .iter()
                .enumerate()
                .map(|(row, c)| {
                    let v = (*c)?;
                    let parsed = parse_number(v);
                    if parsed.is_none() {
                        bad(row, v, "a number");
                    }
                    parsed
                })
                .collect();
            let whole = values.iter().flatten().all(|v| v.fract() == 0.0 && v.abs() < 9e15);
            if kind == CanonicalType::Number && whole {
                Arc::new(values.iter().map(|v| v.map(|v| v as i64)).collect::<Int64Array>())
            } else {
                Arc::new(Float64Array::from(values))
            }
        }
        CanonicalType::EbvStatus => Arc::new(
            cells
                .iter()
                .enumerate()
                .map(|(row, c)| {
                    let v = (*c)?;
                    let status = match v.trim().to_ascii_lowercase().as_str() {
                        "positive" | "pos" | "+" | "1" | "yes" | "y" | "true" | "high" | "detectable" | "阳性" => {
                            Some("positive")
                        }
                        "negative" | "neg" | "-" | "0" | "no" | "n" | "false" | "low" | "undetectable" | "阴性" => {
                            Some("negative")
                        }
                        _ => None,
                    };
                    if status.is_none() {
                        bad(row, v, "positive or negative");
                    }
                    status
                })
                .collect::<StringArray>(),
        ),
        CanonicalType::Event => Arc::new(
            cells
                .iter()
                .enumerate()
                .map(|(row, c)| {
                    let v = (*c)?;
                    let event = match v.trim().to_ascii_lowercase().as_str() {
                        "1" | "1.0" | "true" | "yes" | "y" | "progression" | "progressed" | "event" | "relapse"
                        | "death" | "dead" => Some(1),
                        "0" | "0.0" | "false" | "no" | "n" | "censored" | "alive" | "none" | "no progression" => {
                            Some(0)
                        }
                        _ => None,
                    };
                    if event.is_none() {
                        bad(row, v, "an event flag (1 = progression or death, 0 = censored)");
                    }
                    event
                })
                .collect::<Int64Array>(),
        ),
    }
}

/// A non-canonical column: BIGINT if every value is a whole number, DOUBLE if every value is
/// a number, DATE if every value is a date (YYYY-MM-DD, as spreadsheets' dates read), else
/// VARCHAR.
fn inferred_column(cells: &[Option<&str>]) -> ArrayRef {
    let dates: Option<Vec<Option<i32>>> = cells
        .iter()
        .map(|c| c.map_or(Some(None), |v| parse_date(v).map(Some)))
        .collect();
    if let Some(days) = dates.filter(|d| d.iter().any(Option::is_some)) {
        return Arc::new(Date32Array::from(days));
    }
    let numbers: Option<Vec<Option<f64>>> = cells
        .iter()
        .map(|c| c.map_or(Some(None), |v| parse_number(v).map(Some)))
        .collect();
    match numbers {
        Some(values) if values.iter().flatten().all(|v| v.fract() == 0.0 && v.abs() < 9e15) => {
            Arc::new(values.iter().map(|v| v.map(|v| v as i64)).collect::<Int64Array>())
        }
        Some(values) => Arc::new(Float64Array::from(values)),
        None => Arc::new(cells.iter().map(|c| c.map(str::to_string)).collect::<StringArray>()),
    }
}

/// Days since 1970 of an ISO date `YYYY-MM-DD` (exactly that shape: "2019-3-4" or a number
/// stays what it is).
fn parse_date(s: &str) -> Option<i32> {
    use datafusion::arrow::compute::kernels::cast_utils::Parser;
    let shape = s.len() == 10
        && s.char_indices()
            .all(|(i, c)| if i == 4 || i == 7 { c == '-' } else { c.is_ascii_digit() });
    if !shape {
        return None;
    }
    datafusion::arrow::datatypes::Date32Type::parse(s)
}

fn parse_number(s: &str) -> Option<f64> {
    // No thousands separators: "1,5" may be a decimal comma, and guessing would be a silent wrong number.
    s.trim().parse::<f64>().ok().filter(|v| v.is_finite())
}

fn null_column(kind: CanonicalType, rows: usize) -> ArrayRef {
    let data_type = match kind {
        CanonicalType::Text | CanonicalType::EbvStatus => DataType::Utf8,
        CanonicalType::Number | CanonicalType::Double => DataType::Float64,
        CanonicalType::Event => DataType::Int64,
    };
    datafusion::arrow::array::new_null_array(&data_type, rows)
}

/// A fault of the clinical file at `path`.
fn fault(path: &Path, message: String) -> Error {
    Error::file(path, FileFault::Clinical(message))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn title_rows_above_the_header_are_skipped_and_rows_keep_their_numbers() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.csv");
        std::fs::write(&path, "NPC cohort 2016-2019,,\n\nID,Age,Sex\n1,50,M\n\n2,NA,F\n").unwrap();
        let sheet = read_sheet(&path, None, Some(3)).unwrap();
        assert_eq!(sheet.headers, ["ID", "Age", "Sex"]);
        assert_eq!(sheet.row_numbers, [4, 6]);
        assert_eq!(sheet.rows[1], [Some("2".to_string()), None, Some("F".to_string())]);
        let err = read_sheet(&path, None, Some(9)).unwrap_err().to_string();
        assert!(err.contains("row 9"), "{err}");
        // Without header_row the title line is taken for the header.
        assert_eq!(
            read_sheet(&path, None, None).unwrap().headers[0],
            "NPC cohort 2016-2019"
        );
    }

    #[test]
    fn column_names_become_snake_case() {
        assert_eq!(snake_case("EBV DNA (copies/mL)"), "ebv_dna_copies_ml");
        assert_eq!(snake_case("PFS (months)"), "pfs_months");
        assert_eq!(snake_case("patientID"), "patient_id");
        assert_eq!(snake_case("  T stage "), "t_stage");
        assert_eq!(snake_case("()"), "column");
    }

    #[test]
    fn patient_ids_take_the_folder_form() {
        assert_eq!(normalise_patient_id("1").as_deref(), Some("001"));
        assert_eq!(normalise_patient_id("1.0").as_deref(), Some("001"));
        assert_eq!(normalise_patient_id("NPC-012").as_deref(), Some("012"));
        assert_eq!(normalise_patient_id("277").as_deref(), Some("277"));
        assert_eq!(normalise_patient_id("abc"), None);
        for spreadsheet_number in ["10", "10.0", "10.00", " 10.000 "] {
            assert_eq!(
                normalise_patient_id(spreadsheet_number).as_deref(),
                Some("010"),
                "{spreadsheet_number}"
            );
        }
    }

    #[test]
    fn canonical_columns_are_typed_and_bad_cells_reported() {
        let sheet = Sheet {
            headers: vec![
                "ID".into(),
                "Age".into(),
                "EBV status".into(),
                "Progression".into(),
                "Note".into(),
            ],
            rows: vec![
                vec![
                    Some("1".into()),
                    Some("50".into()),
                    Some("Positive".into()),
                    Some("yes".into()),
                    Some("x".into()),
                ],
                vec![
                    Some("2".into()),
                    Some("old".into()),
                    Some("maybe".into()),
                    Some("0".into()),
                    None,
                ],
            ],
            row_numbers: vec![2, 3],
        };
        let table = build_patients(
            Some((Path::new("c.csv"), &sheet)),
            &ClinicalConfig::default(),
            &["001".into(), "002".into()],
        )
        .unwrap();
        let schema = table.batch.schema();
        let age = schema.field_with_name("age").unwrap();
        assert_eq!(age.data_type(), &DataType::Int64);
        assert_eq!(
            schema.field_with_name("pfs_event").unwrap().data_type(),
            &DataType::Int64
        );
        assert_eq!(schema.field_with_name("note").unwrap().data_type(), &DataType::Utf8);
        let messages: Vec<&str> = table.problems.iter().map(|(_, m)| m.as_str()).collect();
        assert!(
            messages.contains(&"c.csv row 3: age 'old' is not a number; it is NULL"),
            "{messages:?}"
        );
        assert!(
            messages.contains(&"c.csv row 3: ebv_status 'maybe' is not positive or negative; it is NULL"),
            "{messages:?}"
        );
    }
}
