//! Numbers, parameter listings and JSON values as squiggle writes them: the CLI's tables and
//! files and the playground's page share one rule for each.

use serde_json::{Map, Value, json};
use squiggle_model::{ParamNames, Precision, TensorKind};

/// A number for a table cell, at most 11 characters, by one rule: six decimals below 1000
/// (the lesson's values), seven significant digits from 1000 to ten million (`2909.434`,
/// `-12519.94`, `3798563`), scientific notation with five below 1e-4 and above that.
pub fn num(x: f64) -> String {
    if !x.is_finite() {
        return format!("{x}");
    }
    let a = x.abs();
    let text = if x == 0.0 {
        // -0.0 too: a derivative of exactly zero has no sign worth showing.
        "0.000000".to_string()
    } else if (1e-4..1000.0).contains(&a) {
        format!("{x:.6}")
    } else if (1000.0..1e7).contains(&a) {
        let decimals = 6 - a.log10().floor() as usize;
        format!("{x:.decimals$}")
    } else {
        format!("{x:.4e}")
    };
    if text.len() <= 11 {
        text
    } else {
        format!("{x:.3e}")
    }
}

/// A right-aligned table cell, 12 characters wide with at least one space before the value.
pub fn cell(text: &str) -> String {
    format!(" {text:>11}")
}

/// `x` as the shortest decimal that reads back to the same value at `precision`, for JSON
/// and CSV: an f32 parameter 3.34 prints as `3.34`, not `3.3399999141693115`.
pub fn exact(x: f64, precision: Precision) -> f64 {
    match precision {
        Precision::F32 if x.is_finite() => (x as f32).to_string().parse().unwrap_or(x),
        _ => x,
    }
}

/// `params` as JSON: name → number where every scalar has a name (the lessons' `1-[H]-1`
/// networks, a line's slope and intercept: the same rule as every other output), tensor path
/// → nested array (weights as rows) for every other shape.
pub fn params_json(names: &ParamNames, params: &[f64], precision: Precision) -> Value {
    let params: Vec<f64> = params.iter().map(|&x| exact(x, precision)).collect();
    let mut map = Map::new();
    if names.names_scalars() {
        for (name, value) in names.names().iter().zip(params) {
            map.insert(name.clone(), json!(value));
        }
    } else {
        for spec in names.tensors() {
            let values = &params[spec.range()];
            let value = match spec.kind {
                TensorKind::Weight => json!(values.chunks(spec.shape[1]).collect::<Vec<_>>()),
                TensorKind::Bias => json!(values),
            };
            map.insert(spec.path.clone(), value);
        }
    }
    Value::Object(map)
}

/// A setting's value as a person writes it: `0.001`, `20000`, and in scientific notation
/// beyond (`1e308`, not its 309 digits; `2.5e-9`).
pub fn short_number(x: f64) -> String {
    scientific_outside(x, x.abs(), 1e-6..1e6)
}

/// A value written to a data file (a prediction, a probability): the shortest digits that
/// read back as the same f32, at most nine significant, in scientific notation when it is
/// tiny or huge (`3.0967117e-23` rather than 33 characters, mostly zeros; `0.99999994`).
pub fn data_value(x: f32) -> String {
    scientific_outside(x, f64::from(x.abs()), 1e-4..1e9)
}

/// `x` in its shortest form: plain when its `magnitude` is 0 or within `plain`, else in
/// scientific notation.
fn scientific_outside<T: std::fmt::Display + std::fmt::LowerExp>(
    x: T,
    magnitude: f64,
    plain: std::ops::Range<f64>,
) -> String {
    if magnitude != 0.0 && magnitude.is_finite() && !plain.contains(&magnitude) {
        format!("{x:e}")
    } else {
        x.to_string()
    }
}

/// `1 step`, `10 steps`.
pub fn plural(n: usize, noun: &str) -> String {
    if n == 1 {
        format!("1 {noun}")
    } else {
        format!("{n} {noun}s")
    }
}

/// `100,000`: digits in groups of three.
pub fn thousands(n: usize) -> String {
    crate::bytes::Thousands(n as u64).to_string()
}

/// `b3`, `w3 and b3`, `w1, w2 and b3`; long lists are counted instead.
pub fn list(names: &[String]) -> String {
    match names {
        [] => String::new(),
        [one] => one.clone(),
        _ if names.len() > 8 => format!("{} parameters", names.len()),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
    }
}

/// Which of `count` rows a long table shows: the first `head` and the last `tail`, with the
/// number left out between them (0 when every row is shown).
pub fn shown_rows(count: usize, head: usize, tail: usize, all: bool) -> (Vec<usize>, usize) {
    if all || count <= head + tail {
        return ((0..count).collect(), 0);
    }
    let rows = (0..head).chain(count - tail..count).collect();
    (rows, count - head - tail)
}

/// The line that stands for rows a table leaves out.
pub fn elision(hidden: usize, noun: &str, flag: &str) -> String {
    format!("  … {hidden} {noun}s not shown ({flag} prints every {noun}) …")
}

/// Human-readable parameter lines: `name = value` per scalar where every scalar has a name,
/// `path = [[…]]` per tensor otherwise. `frozen` marks parameters that did not train.
pub fn param_lines(names: &ParamNames, params: &[f64], frozen: &[bool]) -> Vec<String> {
    if names.names_scalars() {
        let width = names.names().iter().map(String::len).max().unwrap_or(0);
        names
            .names()
            .iter()
            .zip(params)
            .zip(frozen)
            .map(|((name, value), &f)| {
                let mark = if f { "  (frozen)" } else { "" };
                format!("  {name:<width$} = {:>11}{mark}", num(*value))
            })
            .collect()
    } else {
        names
            .tensors()
            .iter()
            .map(|spec| {
                let values: Vec<String> = params[spec.range()].iter().map(|v| num(*v)).collect();
                let body = match spec.kind {
                    TensorKind::Weight => {
                        let rows: Vec<String> = values
                            .chunks(spec.shape[1])
                            .map(|r| format!("[{}]", r.join(", ")))
                            .collect();
                        format!("[{}]", rows.join(", "))
                    }
                    TensorKind::Bias => format!("[{}]", values.join(", ")),
                };
                let mark = if frozen[spec.range()].iter().all(|&f| f) {
                    "  (frozen)"
                } else {
                    ""
                };
                format!("  {} = {body}{mark}", spec.path)
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thousands_are_grouped() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1000), "1,000");
        assert_eq!(thousands(100_000), "100,000");
        assert_eq!(thousands(10_000_000), "10,000,000");
    }

    #[test]
    fn numbers_keep_six_decimals_or_switch_to_scientific() {
        assert_eq!(num(2.6089114), "2.608911");
        assert_eq!(num(-15.655108), "-15.655108");
        assert_eq!(num(0.0), "0.000000");
        assert_eq!(num(-0.0), "0.000000");
        assert_eq!(num(3.2e-6), "3.2000e-6");
        assert_eq!(num(-12519.938477), "-12519.94");
        assert_eq!(num(2909.433594), "2909.434");
        assert_eq!(num(3798563.0), "3798563");
        assert_eq!(num(12345678.0), "1.2346e7");
        assert_eq!(num(-1.2457e15), "-1.2457e15");
        assert_eq!(num(f64::NAN), "NaN");
        for x in [
            -999.9999999,
            -999999.9999,
            -9999999.6,
            -1.23456e-300,
            123.456,
        ] {
            assert!(num(x).len() <= 11, "{x} → {}", num(x));
        }
    }

    #[test]
    fn settings_print_as_written_or_in_scientific_notation() {
        assert_eq!(short_number(0.001), "0.001");
        assert_eq!(short_number(20000.0), "20000");
        assert_eq!(short_number(0.0), "0");
        assert_eq!(short_number(1e308), "1e308");
        assert_eq!(short_number(-2.5e-9), "-2.5e-9");
        assert_eq!(short_number(1e6), "1e6");
        assert_eq!(short_number(999999.5), "999999.5");
    }

    #[test]
    fn long_tables_show_their_head_and_tail() {
        assert_eq!(shown_rows(3, 2, 1, false), (vec![0, 1, 2], 0));
        assert_eq!(shown_rows(10, 2, 1, false), (vec![0, 1, 9], 7));
        assert_eq!(shown_rows(10, 2, 1, true).1, 0);
        assert_eq!(
            elision(7, "row", "--all-rows"),
            "  … 7 rows not shown (--all-rows prints every row) …"
        );
    }

    #[test]
    fn f32_values_print_as_their_shortest_decimal() {
        assert_eq!(exact(3.34f32 as f64, Precision::F32), 3.34);
        assert_eq!(exact(3.34f32 as f64, Precision::F64), 3.34f32 as f64);
    }

    #[test]
    fn lesson_params_are_named_and_others_are_nested_by_path() {
        let arch = squiggle_model::Architecture::statquest();
        let names = ParamNames::new(&arch);
        let params = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0];
        let json = params_json(&names, &params, Precision::F64);
        assert_eq!(
            json.to_string(),
            r#"{"w1":1.0,"w2":2.0,"b1":3.0,"b2":4.0,"w3":5.0,"w4":6.0,"b3":7.0}"#
        );
        let arch =
            squiggle_model::Architecture::new(2, vec![], 1, squiggle_model::Activation::Identity)
                .unwrap();
        let names = ParamNames::new(&arch);
        let json = params_json(&names, &[1.0, 2.0, 3.0], Precision::F32);
        assert_eq!(
            json.to_string(),
            r#"{"output.weight":[[1.0],[2.0]],"output.bias":[3.0]}"#
        );
        // 1-[3]-1 networks use the lesson's names too, as their step tables and traces do.
        let arch =
            squiggle_model::Architecture::new(1, vec![3], 1, squiggle_model::Activation::Relu)
                .unwrap();
        let names = ParamNames::new(&arch);
        let json = params_json(&names, &[0.0; 10], Precision::F64);
        let keys: Vec<&String> = json.as_object().unwrap().keys().collect();
        assert_eq!(
            keys,
            ["w1", "w2", "w3", "b1", "b2", "b3", "w4", "w5", "w6", "b4"]
        );
    }

    #[test]
    fn data_values_are_short_and_read_back_as_the_same_f32() {
        assert_eq!(data_value(3.096_711_7e-23), "3.0967117e-23");
        assert_eq!(data_value(0.999_999_94), "0.99999994");
        assert_eq!(data_value(206.744_72), "206.74472");
        assert_eq!(data_value(0.0), "0");
        assert_eq!(data_value(-0.000_05), "-5e-5");
        assert_eq!(data_value(2.5e9), "2.5e9");
        assert_eq!(data_value(f32::NAN), "NaN");
        let mut x = 1.234_567_8e-30_f32;
        while x < 1e30 {
            for v in [x, -x, 1.0 / x] {
                let text = data_value(v);
                assert!(text.len() <= 15, "{v}: {text}");
                assert_eq!(text.parse::<f32>().unwrap(), v, "{text}");
                let digits = text
                    .split('e')
                    .next()
                    .unwrap()
                    .chars()
                    .filter(char::is_ascii_digit)
                    .collect::<String>();
                let significant = digits.trim_start_matches('0').len();
                assert!(significant <= 9, "{v}: {text}");
            }
            x *= 3.7;
        }
    }
}
