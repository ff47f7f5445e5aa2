//! Records and fields of CSV text, found in place: no allocation per row or per cell (a
//! field is copied only when it holds an escaped quote, `""`).
//!
//! A record ends at a newline outside quotes; a field at the delimiter outside quotes. Fields
//! are trimmed of whitespace (other than the delimiter) and unquoted. A quote inside a field
//! that did not start with one is part of the text.

use std::borrow::Cow;

use memchr::{memchr, memchr2_iter};

/// Where the records of `text` end, given that `text` starts at a record's start: each entry
/// is the index just past a newline outside quotes.
///
/// Text without quotes (almost every file of numbers) is searched for newlines only; text
/// with quotes is scanned in order, since a quoted newline belongs to its field.
pub(super) struct Ends<'a> {
    text: &'a [u8],
    pos: usize,
    quoted: bool,
}

impl<'a> Ends<'a> {
    pub(super) fn new(text: &'a [u8]) -> Self {
        Self {
            text,
            pos: 0,
            quoted: memchr(b'"', text).is_some(),
        }
    }

    /// The end of the first record that ends at or after `from` (`from` must be a record's
    /// start or lie inside the record that [`Ends::next`] returns), or `None` when the text
    /// holds no further newline outside quotes.
    pub(super) fn next_after(&mut self, from: usize) -> Option<usize> {
        if !self.quoted {
            return memchr(b'\n', &self.text[from..]).map(|k| from + k + 1);
        }
        loop {
            let end = self.next()?;
            if end > from {
                return Some(end);
            }
        }
    }
}

impl Iterator for Ends<'_> {
    type Item = usize;

    fn next(&mut self) -> Option<usize> {
        let rest = &self.text[self.pos..];
        if !self.quoted {
            let k = memchr(b'\n', rest)?;
            self.pos += k + 1;
            return Some(self.pos);
        }
        let mut inside = false;
        for k in memchr2_iter(b'"', b'\n', rest) {
            match rest[k] {
                b'"' => inside = !inside,
                _ if !inside => {
                    self.pos += k + 1;
                    return Some(self.pos);
                }
                _ => {}
            }
        }
        None
    }
}

/// Whether `b` is whitespace that trimming removes (never the delimiter itself, so that a
/// tab-separated file keeps its empty fields).
fn is_space(b: u8, delimiter: u8) -> bool {
    b != delimiter && matches!(b, b' ' | b'\t' | b'\r' | b'\n' | 0x0b | 0x0c)
}

fn trim(mut field: &[u8], delimiter: u8) -> &[u8] {
    while let [first, rest @ ..] = field {
        if !is_space(*first, delimiter) {
            break;
        }
        field = rest;
    }
    while let [rest @ .., last] = field {
        if !is_space(*last, delimiter) {
            break;
        }
        field = rest;
    }
    field
}

/// Splits one record (its line ending included or not) into `fields`, trimmed and unquoted.
/// An empty record gives one empty field.
pub(super) fn split<'a>(record: &'a [u8], delimiter: u8, fields: &mut Vec<Cow<'a, [u8]>>) {
    fields.clear();
    let mut i = 0;
    loop {
        while i < record.len() && is_space(record[i], delimiter) {
            i += 1;
        }
        if record.get(i) == Some(&b'"') {
            let (field, after) = quoted(record, i + 1);
            let end = memchr(delimiter, &record[after..]).map_or(record.len(), |k| after + k);
            // Text between the closing quote and the delimiter (`"1"5`) is kept, as most CSV
            // readers do.
            let tail = trim(&record[after..end], delimiter);
            fields.push(match tail.is_empty() {
                true => field,
                false => Cow::Owned([&field[..], tail].concat()),
            });
            if end == record.len() {
                return;
            }
            i = end + 1;
        } else {
            let end = memchr(delimiter, &record[i..]).map_or(record.len(), |k| i + k);
            fields.push(Cow::Borrowed(trim(&record[i..end], delimiter)));
            if end == record.len() {
                return;
            }
            i = end + 1;
        }
    }
}

/// The content of a quoted field whose text starts at `start` (just past the opening quote),
/// and the index just past its closing quote (or the record's end when it has none).
fn quoted(record: &[u8], start: usize) -> (Cow<'_, [u8]>, usize) {
    let mut owned: Option<Vec<u8>> = None;
    let (mut from, mut at) = (start, start);
    loop {
        let Some(k) = memchr(b'"', &record[at..]) else {
            let rest = &record[from..];
            let rest = match rest.strip_suffix(b"\n") {
                Some(r) => r.strip_suffix(b"\r").unwrap_or(r),
                None => rest,
            };
            return match owned {
                Some(mut text) => {
                    text.extend_from_slice(rest);
                    (Cow::Owned(text), record.len())
                }
                None => (Cow::Borrowed(rest), record.len()),
            };
        };
        let q = at + k;
        if record.get(q + 1) == Some(&b'"') {
            owned
                .get_or_insert_with(Vec::new)
                .extend_from_slice(&record[from..=q]);
            at = q + 2;
            from = at;
            continue;
        }
        let field = match owned {
            Some(mut text) => {
                text.extend_from_slice(&record[from..q]);
                Cow::Owned(text)
            }
            None => Cow::Borrowed(&record[from..q]),
        };
        return (field, q + 1);
    }
}

/// Splits a record that holds no quote into `fields`, trimmed: the common case, a byte loop
/// over short fields with no copy at all.
pub(super) fn split_plain<'a>(record: &'a [u8], delimiter: u8, fields: &mut Vec<&'a [u8]>) {
    fields.clear();
    let mut start = 0;
    for (i, &b) in record.iter().enumerate() {
        if b == delimiter {
            fields.push(trim(&record[start..i], delimiter));
            start = i + 1;
        }
    }
    fields.push(trim(&record[start..], delimiter));
}

/// How a missing value is written: an empty cell, `NA`, `N/A`, `#N/A`, `<NA>`, `NaN`, `null`,
/// `None` or `?`, in any case (pandas' defaults, less its exotic ones).
pub(super) fn is_missing(cell: &[u8]) -> bool {
    const SPELLINGS: [&[u8]; 11] = [
        b"", b"na", b"n/a", b"#n/a", b"<na>", b"nan", b"-nan", b"+nan", b"null", b"none", b"?",
    ];
    cell.len() <= 5 && SPELLINGS.iter().any(|s| cell.eq_ignore_ascii_case(s))
}

/// Why a cell is not a value.
#[derive(Debug, PartialEq)]
pub(super) enum BadCell {
    /// Not a number at all.
    NotANumber,
    /// NaN or an infinity, spelled out (or an infinity written as a number too large for
    /// f64, which is [`BadCell::TooLarge`]).
    NonFinite(f64),
    /// A finite number beyond f32's range.
    TooLarge,
}

/// The number in `cell`, as f32 (read as f64 and rounded once, so that `1e39` is told apart
/// from `inf`).
pub(super) fn number(cell: &[u8]) -> Result<f32, BadCell> {
    let value = match decimal(cell) {
        Some(value) => value,
        None => {
            let text = std::str::from_utf8(cell).map_err(|_| BadCell::NotANumber)?;
            text.parse().map_err(|_| BadCell::NotANumber)?
        }
    };
    let stored = value as f32;
    if stored.is_finite() {
        return Ok(stored);
    }
    let spelled = |word: &[u8]| {
        cell.windows(word.len())
            .any(|w| w.eq_ignore_ascii_case(word))
    };
    if value.is_nan() || spelled(b"inf") {
        return Err(BadCell::NonFinite(value));
    }
    Err(BadCell::TooLarge)
}

/// Powers of ten that f64 holds exactly.
const EXACT_POWERS: [f64; 23] = [
    1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16,
    1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
];

/// The value of a plain decimal (`-12.5`, `0.731`, `3e-4`) whose digits and exponent are
/// small enough to be exact in f64, by one correctly rounded multiplication or division
/// (Clinger's fast path: both operands exact, so the result is the correctly rounded value,
/// as the standard library's parser gives). `None` for anything else, which that parser
/// then reads (or refuses).
fn decimal(cell: &[u8]) -> Option<f64> {
    match decimal_prefix(cell) {
        Some((value, used)) if used == cell.len() => Some(value),
        _ => None,
    }
}

/// [`decimal`] of the longest prefix of `text` that looks like a number, and its length.
fn decimal_prefix(text: &[u8]) -> Option<(f64, usize)> {
    let (negative, mut i) = match text.first() {
        Some(b'-') => (true, 1),
        Some(b'+') => (false, 1),
        _ => (false, 0),
    };
    let mut mantissa: u64 = 0;
    let before = i;
    i = digits(text, i, &mut mantissa);
    let mut count = i - before;
    let mut scale: i32 = 0;
    if text.get(i) == Some(&b'.') {
        let point = i + 1;
        i = digits(text, point, &mut mantissa);
        scale = -((i - point) as i32);
        count += i - point;
    }
    // More than 19 digits (leading zeros too) may have wrapped the mantissa: such numbers are
    // the full parser's.
    if count == 0 || count > 19 {
        return None;
    }
    if let Some(b'e' | b'E') = text.get(i) {
        i += 1;
        let minus = match text.get(i) {
            Some(b'-') => {
                i += 1;
                true
            }
            Some(b'+') => {
                i += 1;
                false
            }
            _ => false,
        };
        let start = i;
        let mut e: i32 = 0;
        while let Some(&b) = text.get(i) {
            let d = b.wrapping_sub(b'0');
            if d > 9 || i - start >= 4 {
                break;
            }
            e = e * 10 + i32::from(d);
            i += 1;
        }
        if i == start || text.get(i).is_some_and(u8::is_ascii_digit) {
            return None;
        }
        scale += if minus { -e } else { e };
    }
    if mantissa > 1 << 53 || scale.unsigned_abs() > 22 {
        return None;
    }
    let power = EXACT_POWERS[scale.unsigned_abs() as usize];
    let magnitude = match scale < 0 {
        true => mantissa as f64 / power,
        false => mantissa as f64 * power,
    };
    Some((if negative { -magnitude } else { magnitude }, i))
}

/// Reads the decimal digits of `text` from `i` into `mantissa` (wrapping: the caller counts
/// them), eight at a time while it can; the index after the last digit.
#[inline]
fn digits(text: &[u8], mut i: usize, mantissa: &mut u64) -> usize {
    while let Some(eight) = text.get(i..i + 8).and_then(eight_digits) {
        *mantissa = mantissa.wrapping_mul(100_000_000).wrapping_add(eight);
        i += 8;
    }
    while let Some(&b) = text.get(i) {
        let d = b.wrapping_sub(b'0');
        if d > 9 {
            break;
        }
        *mantissa = mantissa.wrapping_mul(10).wrapping_add(u64::from(d));
        i += 1;
    }
    i
}

/// The value of eight ASCII digits, when all eight are digits (SWAR: one 64-bit word).
#[inline]
fn eight_digits(text: &[u8]) -> Option<u64> {
    let word = u64::from_le_bytes(text.try_into().ok()?);
    let above = word.wrapping_add(0x4646_4646_4646_4646);
    let values = word.wrapping_sub(0x3030_3030_3030_3030);
    if (above | values) & 0x8080_8080_8080_8080 != 0 {
        return None;
    }
    const MASK: u64 = 0x0000_00ff_0000_00ff;
    const MUL1: u64 = 0x000f_4240_0000_0064;
    const MUL2: u64 = 0x0000_2710_0000_0001;
    let pairs = values.wrapping_mul(10).wrapping_add(values >> 8);
    Some(
        (pairs & MASK)
            .wrapping_mul(MUL1)
            .wrapping_add(((pairs >> 16) & MASK).wrapping_mul(MUL2))
            >> 32,
    )
}

/// What a record's field is for.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(super) enum Role {
    /// Not read.
    Skip,
    /// A number, at this index of the row's values (inputs, then targets).
    Value(usize),
    /// The class label.
    Label,
}

/// Reads the record at the start of `text` (which holds no quote) straight into `values` (by
/// [`Role`]) and `label`, in one pass and with no copy, finding the record's end on the way:
/// the common case of a file of plain numbers. Returns the bytes the record takes (its line
/// ending included) and whether it ended with a newline. `None` when anything is unusual
/// (spaces, text in a number's column, a wrong field count, an empty line, a number beyond
/// f32 or the fast path): the record must then be read the general way, which gives the same
/// values or the error.
pub(super) fn plain_values<'a>(
    text: &'a [u8],
    delimiter: u8,
    roles: &[Role],
    values: &mut [f32],
    label: &mut &'a [u8],
) -> Option<(usize, bool)> {
    let mut i = 0;
    for (k, role) in roles.iter().enumerate() {
        let rest = &text[i..];
        let used = match role {
            Role::Value(slot) => {
                let (value, used) = decimal_prefix(rest)?;
                let value = value as f32;
                if !value.is_finite() {
                    return None;
                }
                values[*slot] = value;
                used
            }
            Role::Skip | Role::Label => {
                let used = rest
                    .iter()
                    .position(|&b| b == delimiter || b == b'\n' || b == b'\r')
                    .unwrap_or(rest.len());
                if *role == Role::Label {
                    *label = &rest[..used];
                    if label.first().is_some_and(|&b| is_space(b, delimiter))
                        || label.last().is_some_and(|&b| is_space(b, delimiter))
                    {
                        return None;
                    }
                }
                used
            }
        };
        i += used;
        if k + 1 < roles.len() {
            match text.get(i) {
                Some(&b) if b == delimiter => i += 1,
                _ => return None,
            }
        }
    }
    match &text[i..] {
        [] => Some((i, false)),
        [b'\n', ..] => Some((i + 1, true)),
        [b'\r', b'\n', ..] => Some((i + 2, true)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(record: &str, delimiter: u8) -> Vec<String> {
        let mut out = Vec::new();
        split(record.as_bytes(), delimiter, &mut out);
        out.iter()
            .map(|f| String::from_utf8(f.to_vec()).unwrap())
            .collect()
    }

    #[test]
    fn fields_are_trimmed_and_unquoted_in_place() {
        assert_eq!(fields("1, 2 ,3\r\n", b','), ["1", "2", "3"]);
        assert_eq!(fields("a,,b,", b','), ["a", "", "b", ""]);
        assert_eq!(fields("", b','), [""]);
        assert_eq!(
            fields(r#""a,b" , "say ""hi""",x"#, b','),
            ["a,b", r#"say "hi""#, "x"]
        );
        assert_eq!(fields("\"multi\nline\",2\n", b','), ["multi\nline", "2"]);
        assert_eq!(fields(r#""1"5,"open"#, b','), ["15", "open"]);
        assert_eq!(fields("1\t\t 2 \t3", b'\t'), ["1", "", "2", "3"]);
        assert_eq!(fields("1;2", b';'), ["1", "2"]);
        assert_eq!(fields(r#"ab"c,d"#, b','), [r#"ab"c"#, "d"]);
        let mut out = Vec::new();
        split(b"1,\"2\",3", b',', &mut out);
        assert!(out.iter().all(|f| matches!(f, Cow::Borrowed(_))));
    }

    #[test]
    fn records_end_at_newlines_outside_quotes() {
        let text = b"a,b\n\"x\ny\",1\n2,3";
        let ends: Vec<usize> = Ends::new(text).collect();
        assert_eq!(ends, [4, 12]);
        assert_eq!(Ends::new(text).next_after(5), Some(12));
        assert_eq!(Ends::new(b"1,2\n3,4\n").next_after(4), Some(8));
        assert_eq!(Ends::new(b"1,2").next(), None);
    }

    #[test]
    fn the_fast_path_reads_every_decimal_as_the_standard_parser_does() {
        let mut state = 0x9e37_79b9_7f4a_7c15_u64;
        let mut next = || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        let mut cells: Vec<String> = [
            "0",
            "-0",
            "+0.0",
            "1",
            "0.5",
            ".5",
            "5.",
            "-.25e1",
            "1e22",
            "1e23",
            "9007199254740993",
            "12345678901234567890",
            "0.1",
            "3.4028235e38",
            "1.17549435e-38",
            "1e-45",
            "00012.50",
            "1E+2",
            "1e",
            "e5",
            ".",
            "-",
            "1.2.3",
            "0x10",
            "1_000",
            "١",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        for _ in 0..20_000 {
            let bits = next();
            cells.push(format!("{}", f64::from_bits(bits)));
            cells.push(format!("{}", f32::from_bits(bits as u32)));
            cells.push(format!("{:e}", (bits % 1_000_000_007) as f64 / 1e7));
            cells.push(format!("{:.5}", (bits as i64 % 100_000) as f64 / 997.0));
        }
        for cell in &cells {
            let expected = cell.parse::<f64>().ok();
            if let Some(fast) = decimal(cell.as_bytes()) {
                assert_eq!(Some(fast.to_bits()), expected.map(f64::to_bits), "{cell}");
            }
            let read = number(cell.as_bytes()).ok().map(f32::to_bits);
            let wanted = expected
                .map(|v| v as f32)
                .filter(|v| v.is_finite())
                .map(f32::to_bits);
            assert_eq!(read, wanted, "{cell}");
        }
    }

    #[test]
    fn plain_values_are_read_in_one_pass_or_left_to_the_general_way() {
        use Role::{Label, Skip, Value};
        let roles = [Value(1), Skip, Label, Value(0)];
        let read = |record: &str| {
            let (mut values, mut label) = ([0.0f32; 2], &b""[..]);
            plain_values(record.as_bytes(), b',', &roles, &mut values, &mut label)
                .map(|used| (values, String::from_utf8(label.to_vec()).unwrap(), used))
        };
        assert_eq!(
            read("1.5,id,cat,-2e3\nnext"),
            Some(([-2000.0, 1.5], "cat".into(), (16, true)))
        );
        assert_eq!(
            read("1.5,,c d,7\r\n"),
            Some(([7.0, 1.5], "c d".into(), (12, true)))
        );
        assert_eq!(
            read("1.5,x,c,7"),
            Some(([7.0, 1.5], "c".into(), (9, false)))
        );
        // A skipped field is never read: spaces there change nothing.
        assert_eq!(
            read("1.5, x ,c,7"),
            Some(([7.0, 1.5], "c".into(), (11, false)))
        );
        for unusual in [
            "1.5,x,c ,7",
            " 1.5,x,c,7",
            "1.5,x,c,7 ",
            "1.5,x,c",
            "1.5,x,c,7,8",
            "1.5,x,c,",
            "a,x,c,7",
            "1.5.2,x,c,7",
            "1e39,x,c,7",
            "1,x,c,12345678901234567890",
            "1,x,c,0x1",
            "1,x,c,7e",
            "1,x,c,inf",
            "1,x,c,-",
            "\n",
            "1.5,x\n,c,7",
            "1,x,c,7\r",
        ] {
            assert_eq!(read(unusual), None, "{unusual:?}");
        }
    }

    #[test]
    fn plain_records_split_as_quoted_ones_do() {
        for record in ["1, 2 ,3\r\n", "a,,b,", "", "x\t y", " ,"] {
            let (mut plain, mut general) = (Vec::new(), Vec::new());
            split_plain(record.as_bytes(), b',', &mut plain);
            split(record.as_bytes(), b',', &mut general);
            let general: Vec<&[u8]> = general.iter().map(|f| &f[..]).collect();
            assert_eq!(plain, general, "{record:?}");
        }
    }

    #[test]
    fn numbers_are_finite_f32() {
        assert_eq!(number(b"-1.5e3"), Ok(-1500.0));
        assert_eq!(number(b"+.5"), Ok(0.5));
        assert_eq!(number(b""), Err(BadCell::NotANumber));
        assert_eq!(number(b"1,5"), Err(BadCell::NotANumber));
        assert_eq!(number(b"\xff"), Err(BadCell::NotANumber));
        assert!(matches!(number(b"NaN"), Err(BadCell::NonFinite(v)) if v.is_nan()));
        assert_eq!(
            number(b"-Infinity"),
            Err(BadCell::NonFinite(f64::NEG_INFINITY))
        );
        assert_eq!(number(b"1e39"), Err(BadCell::TooLarge));
        assert_eq!(number(b"1e400"), Err(BadCell::TooLarge));
    }
}
