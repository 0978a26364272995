//! A checkpoint as JSON, the way the fixtures' `expected.json` (Python's `json`) writes values:
//! `{"variables": {"<full name>": {"dtype": "float32", "shape": [..], "value": <nested lists>}}}`.

use std::fmt::Write;

use super::reader::CheckpointReader;
use super::stored::StoredTensor;

/// A float as Python's `repr` writes it (`1.0`, `0.0001`, `1e-05`, `1e+16`, `NaN`), the
/// shortest text that reads back to the same `f64`.
pub fn python_float(x: f64) -> String {
    if x.is_nan() {
        return "NaN".into();
    }
    if x.is_infinite() {
        return if x > 0.0 { "Infinity".into() } else { "-Infinity".into() };
    }
    let sci = format!("{:e}", x.abs()); // shortest round-trip digits: "1.2345e-7"
    let (mantissa, exp) = sci.split_once('e').expect("`{:e}` has an exponent");
    let exp: i32 = exp.parse().expect("an integer exponent");
    let digits: String = mantissa.chars().filter(|c| *c != '.').collect();
    let sign = if x.is_sign_negative() { "-" } else { "" };
    let decpt = exp + 1; // x = 0.DIGITS * 10^decpt
    if x == 0.0 {
        return format!("{sign}0.0");
    }
    if !(-4 < decpt && decpt <= 16) {
        let (first, rest) = digits.split_at(1);
        let frac = if rest.is_empty() { String::new() } else { format!(".{rest}") };
        let esign = if exp < 0 { '-' } else { '+' };
        return format!("{sign}{first}{frac}e{esign}{:02}", exp.abs());
    }
    let n = digits.len() as i32;
    if decpt <= 0 {
        format!("{sign}0.{}{digits}", "0".repeat((-decpt) as usize))
    } else if decpt >= n {
        format!("{sign}{digits}{}.0", "0".repeat((decpt - n) as usize))
    } else {
        let (int, frac) = digits.split_at(decpt as usize);
        format!("{sign}{int}.{frac}")
    }
}

fn json_string(s: &str, out: &mut String) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            c if (c as u32) < 0x20 || (c as u32) > 0x7e => {
                let mut buf = [0u16; 2];
                for u in c.encode_utf16(&mut buf) {
                    let _ = write!(out, "\\u{u:04x}");
                }
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

impl StoredTensor {
    /// The value as nested JSON lists (a scalar as a bare number), numbers as Python writes
    /// them.
    ///
    /// ```
    /// use varscope::checkpoint::StoredTensor;
    /// use varscope::ndarray::{ArcArray, IxDyn};
    /// let t = StoredTensor::F32(ArcArray::from_shape_vec(IxDyn(&[2, 2]), vec![1.0, 0.1, -2.5, 1e-7]).unwrap());
    /// assert_eq!(t.value_json(), "[[1.0, 0.10000000149011612], [-2.5, 1.0000000116860974e-07]]");
    /// ```
    pub fn value_json(&self) -> String {
        let flat: Vec<String> = match self {
            StoredTensor::F32(a) => a.iter().map(|&x| python_float(f64::from(x))).collect(),
            StoredTensor::F64(a) => a.iter().map(|&x| python_float(x)).collect(),
            StoredTensor::I32(a) => a.iter().map(i32::to_string).collect(),
            StoredTensor::I64(a) => a.iter().map(i64::to_string).collect(),
            StoredTensor::Bool(a) => a.iter().map(bool::to_string).collect(),
        };
        let mut out = String::new();
        nest(&flat, self.shape(), &mut out);
        out
    }
}

fn nest(flat: &[String], shape: &[usize], out: &mut String) {
    match shape {
        [] => out.push_str(flat.first().map_or("null", String::as_str)),
        [d, rest @ ..] => {
            out.push('[');
            let step = rest.iter().product::<usize>();
            for i in 0..*d {
                if i > 0 {
                    out.push_str(", ");
                }
                nest(&flat[i * step..(i + 1) * step], rest, out);
            }
            out.push(']');
        }
    }
}

/// Every tensor of `reader` as `{"variables": {name: {"dtype", "shape", "value"}}}`, one
/// variable per line, partitioned ones assembled under their full name.
pub fn to_json(reader: &CheckpointReader) -> Result<String, crate::Error> {
    let mut out = String::from("{\"variables\": {");
    for (i, key) in reader.keys().enumerate() {
        let t = reader.read(key)?;
        out.push_str(if i == 0 { "\n  " } else { ",\n  " });
        json_string(key, &mut out);
        let shape: Vec<String> = t.shape().iter().map(usize::to_string).collect();
        let _ = write!(
            out,
            ": {{\"dtype\": \"{}\", \"shape\": [{}], \"value\": {}}}",
            t.dtype().name(),
            shape.join(", "),
            t.value_json()
        );
    }
    out.push_str("\n}}\n");
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::python_float;

    #[test]
    fn floats_print_as_python_repr() {
        for (x, want) in [
            (1.0, "1.0"),
            (-0.5, "-0.5"),
            (0.0, "0.0"),
            (-0.0, "-0.0"),
            (0.0001, "0.0001"),
            (0.00001, "1e-05"),
            (1e16, "1e+16"),
            (1234567890123456.0, "1234567890123456.0"),
            (123.456, "123.456"),
            (1.5e-300, "1.5e-300"),
            (f64::from(0.1f32), "0.10000000149011612"),
            (f64::MAX, "1.7976931348623157e+308"),
            (f64::NAN, "NaN"),
            (f64::NEG_INFINITY, "-Infinity"),
        ] {
            assert_eq!(python_float(x), want, "{x:e}");
        }
    }
}
