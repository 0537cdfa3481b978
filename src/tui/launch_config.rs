//! Example run configs for the launch dialog, and its editable fields: the scalar leaves
//! of a config, parsed and checked as TOML values and written back at their dotted path.

use std::path::{Path, PathBuf};

use super::state::{ExampleConfig, Field};
use crate::session::listing::files_with_extension;

/// Where the launch dialog's configs come from: built into the binary, then each folder in
/// increasing priority (`~/.config/svfap-tui/configs/`, `<session>/configs/`). A config in
/// a later place replaces one of the same name from an earlier place, where it stood.
pub fn list_examples(dirs: &[PathBuf]) -> Vec<ExampleConfig> {
    let mut out: Vec<ExampleConfig> = crate::example_configs::BUILT_IN
        .iter()
        .filter_map(|(name, text)| example(name, text, None))
        .collect();
    for dir in dirs {
        for path in files_with_extension(dir, "toml") {
            let (Ok(text), Some(name)) = (std::fs::read_to_string(&path), path.file_stem()) else {
                continue;
            };
            let name = name.to_string_lossy().into_owned();
            let Some(ex) = example(&name, &text, Some(&path)) else {
                continue;
            };
            match out.iter_mut().find(|e| e.name == ex.name) {
                Some(old) => *old = ex,
                None => out.push(ex),
            }
        }
    }
    out
}

/// A run config (a `kind` of pretrain / finetune / eval) or a broken file that looks like
/// one (says why); `None` for any other TOML.
fn example(name: &str, text: &str, path: Option<&Path>) -> Option<ExampleConfig> {
    let origin = path.map_or("built-in".to_string(), |p| p.display().to_string());
    match text.parse::<toml::Table>() {
        Ok(t) => {
            let kind = t.get("kind")?.as_str()?.to_string();
            ["pretrain", "finetune", "eval"]
                .contains(&kind.as_str())
                .then(|| ExampleConfig {
                    path: path.map(Path::to_path_buf),
                    name: name.to_string(),
                    kind,
                    text: text.to_string(),
                    value: Some(t),
                    problem: None,
                })
        }
        Err(e) => text.contains("kind").then(|| ExampleConfig {
            path: path.map(Path::to_path_buf),
            name: name.to_string(),
            kind: "?".into(),
            text: text.to_string(),
            value: None,
            problem: Some(format!("{origin}: {}", e.message())),
        }),
    }
}

/// Scalar leaves of a config as editable fields (`format` is not editable).
pub fn flatten_fields(table: &toml::Table) -> Vec<Field> {
    fn walk(prefix: &str, t: &toml::Table, out: &mut Vec<Field>) {
        for (k, v) in t {
            let path = if prefix.is_empty() {
                k.clone()
            } else {
                format!("{prefix}.{k}")
            };
            match v {
                toml::Value::Table(sub) => walk(&path, sub, out),
                toml::Value::Array(_) | toml::Value::Datetime(_) => {}
                _ if path == "format" => {}
                other => {
                    let value = match other {
                        toml::Value::String(s) => s.clone(),
                        x => x.to_string(),
                    };
                    out.push(Field {
                        path,
                        value,
                        original: other.clone(),
                        error: None,
                    });
                }
            }
        }
    }
    let mut out = Vec::new();
    walk("", table, &mut out);
    // Top-level identity first.
    out.sort_by_key(|f| {
        (
            !matches!(f.path.as_str(), "kind" | "name"),
            f.path.contains('.'),
        )
    });
    out
}

/// Parses a field by the type of its original value, with a few known constraints.
pub fn parse_field(f: &Field) -> Result<toml::Value, String> {
    let v = f.value.trim();
    let leaf = f.path.rsplit('.').next().unwrap_or(&f.path);
    let parsed = match &f.original {
        toml::Value::Integer(_) => v
            .parse::<i64>()
            .map(toml::Value::Integer)
            .map_err(|_| format!("{v:?} is not a whole number"))?,
        toml::Value::Float(_) => match v.parse::<f64>() {
            Ok(x) if x.is_finite() => toml::Value::Float(x),
            _ => return Err(format!("{v:?} is not a number")),
        },
        toml::Value::Boolean(_) => match v {
            "true" => toml::Value::Boolean(true),
            "false" => toml::Value::Boolean(false),
            _ => return Err("true or false".into()),
        },
        _ => {
            if v.is_empty() {
                return Err("must not be empty".into());
            }
            toml::Value::String(v.to_string())
        }
    };
    match (leaf, &parsed) {
        ("kind", toml::Value::String(s))
            if !["pretrain", "finetune", "eval"].contains(&s.as_str()) =>
        {
            Err("pretrain, finetune or eval".into())
        }
        ("backend", toml::Value::String(s)) if !["cpu", "cuda", "wgpu"].contains(&s.as_str()) => {
            Err("cpu, cuda or wgpu".into())
        }
        ("name", toml::Value::String(s))
            if s.len() > 32
                || !s
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_') =>
        {
            Err("letters, digits, - or _, at most 32".into())
        }
        (_, toml::Value::Integer(i)) if *i < 0 => Err("must not be negative".into()),
        (_, toml::Value::Float(x)) if *x < 0.0 => Err("must not be negative".into()),
        _ => Ok(parsed),
    }
}

pub fn validate_field(f: &Field) -> Result<(), String> {
    parse_field(f).map(|_| ())
}

pub fn set_path(table: &mut toml::Table, path: &str, value: toml::Value) {
    let mut parts: Vec<&str> = path.split('.').collect();
    let last = parts.pop().unwrap_or(path);
    let mut cur = table;
    for p in parts {
        let Some(next) = cur.get_mut(p).and_then(|v| v.as_table_mut()) else {
            return;
        };
        cur = next;
    }
    cur.insert(last.to_string(), value);
}

/// The config `ex` with the dialog's `fields` written over it: what `launch` will write.
pub fn edited_table(ex: &ExampleConfig, fields: &[Field]) -> Result<toml::Table, String> {
    let mut table = ex.value.clone().ok_or("config does not parse")?;
    for f in fields {
        set_path(&mut table, &f.path, parse_field(f)?);
    }
    Ok(table)
}
