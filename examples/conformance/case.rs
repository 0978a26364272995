//! Loading conformance files and comparing a case's lines with its `expect`.

use serde_json::Value as Json;

/// One case of a conformance file.
pub struct Case {
    /// The case's name.
    pub name: String,
    /// Its steps, as JSON.
    pub steps: Vec<Json>,
    /// The lines the reference produced.
    pub expect: Vec<String>,
}

/// Reads `{"cases": [...]}`.
pub fn load(path: &std::path::Path) -> Result<Vec<Case>, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    parse(&text).map_err(|e| format!("{}: {e}", path.display()))
}

/// Parses the text of a conformance file.
pub fn parse(text: &str) -> Result<Vec<Case>, String> {
    let json: Json = serde_json::from_str(text).map_err(|e| e.to_string())?;
    let cases = json.get("cases").and_then(Json::as_array).ok_or("no `cases` array")?;
    cases
        .iter()
        .map(|c| {
            let name = c.get("name").and_then(Json::as_str).ok_or("a case without `name`")?.to_string();
            let steps = c.get("steps").and_then(Json::as_array).ok_or(format!("case {name}: no `steps`"))?.clone();
            let expect = c
                .get("expect")
                .and_then(Json::as_array)
                .map(|lines| lines.iter().map(|l| l.as_str().unwrap_or_default().to_string()).collect())
                .unwrap_or_default();
            Ok(Case { name, steps, expect })
        })
        .collect()
}

/// A line-by-line diff of expected and produced lines (empty if equal).
pub fn diff(expect: &[String], got: &[String]) -> String {
    if expect == got {
        return String::new();
    }
    let mut out = String::new();
    for i in 0..expect.len().max(got.len()) {
        let (e, g) = (expect.get(i), got.get(i));
        let mark = if e == g { " " } else { "!" };
        out.push_str(&format!(
            "  {mark} {i:>3}  expected {:<40} got {}\n",
            e.map_or("<none>".to_string(), |s| format!("{s:?}")),
            g.map_or("<none>".to_string(), |s| format!("{s:?}"))
        ));
    }
    out
}

/// The JSON type a step field must have.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Kind {
    /// A string.
    Str,
    /// `null`.
    Null,
    /// `true` or `false`.
    Bool,
    /// A list.
    List,
    /// An object.
    Object,
}

fn kind_of(j: &Json) -> Option<Kind> {
    match j {
        Json::String(_) => Some(Kind::Str),
        Json::Null => Some(Kind::Null),
        Json::Bool(_) => Some(Kind::Bool),
        Json::Array(_) => Some(Kind::List),
        Json::Object(_) => Some(Kind::Object),
        Json::Number(_) => None,
    }
}

/// Refuses a step that is not an object, has a field not in `fields`, or a
/// field of another JSON type than listed, instead of reading it as absent.
pub fn check_fields(step: &Json, fields: &[(&str, &[Kind])]) -> Result<(), String> {
    let Some(object) = step.as_object() else { return Err(format!("step {step}: a step must be an object")) };
    for (key, value) in object {
        let Some((_, kinds)) = fields.iter().find(|(k, _)| k == key) else {
            return Err(format!("step {step}: unknown field `{key}`"));
        };
        if !kind_of(value).is_some_and(|k| kinds.contains(&k)) {
            return Err(format!("step {step}: field `{key}` must be one of {kinds:?}"));
        }
    }
    Ok(())
}
