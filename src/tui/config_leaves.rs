//! A run's config as dotted path → value, worked out once per scan (not per drawn frame)
//! for Compare's config diff. Paths inside the run's own session are written `<session>/…`,
//! so that a moved or copied session is no difference.

use std::collections::BTreeMap;

/// Dotted path → value for every leaf of a config.
pub type ConfigLeaves = BTreeMap<String, String>;

/// The leaves of `config`, values under `session_root` (a canonical path) written
/// `<session>…`.
pub fn config_leaves(config: &toml::Value, session_root: Option<&str>) -> ConfigLeaves {
    let mut leaves = ConfigLeaves::new();
    walk("", config, &mut leaves);
    if let Some(root) = session_root {
        for v in leaves.values_mut() {
            if let Some(rest) = v.strip_prefix(root)
                && (rest.is_empty() || rest.starts_with('/'))
            {
                *v = format!("<session>{rest}");
            }
        }
    }
    leaves
}

fn walk(prefix: &str, v: &toml::Value, out: &mut ConfigLeaves) {
    match v {
        toml::Value::Table(t) => {
            for (k, x) in t {
                let key = if prefix.is_empty() {
                    k.clone()
                } else {
                    format!("{prefix}.{k}")
                };
                walk(&key, x, out);
            }
        }
        toml::Value::String(s) => {
            out.insert(prefix.to_string(), s.clone());
        }
        other => {
            out.insert(prefix.to_string(), other.to_string());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn leaves_are_dotted_and_session_paths_relative() {
        let config: toml::Value = toml::from_str(
            "[data]\nroot = \"/home/a/s1/data\"\nother = \"/home/a/s10/x\"\nfold = 1\n[optim]\nlr = 0.5",
        )
        .unwrap();
        let leaves = config_leaves(&config, Some("/home/a/s1"));
        assert_eq!(leaves["data.root"], "<session>/data");
        // A sibling folder that only starts with the same characters is not inside.
        assert_eq!(leaves["data.other"], "/home/a/s10/x");
        assert_eq!(leaves["data.fold"], "1");
        assert_eq!(leaves["optim.lr"], "0.5");
        assert_eq!(config_leaves(&config, None)["data.root"], "/home/a/s1/data");
    }
}
