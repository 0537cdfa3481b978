//! Where a key sits in a TOML file, so a config error can say `file:line` as well as the
//! dotted key (`run.toml:14: `optim.batch_size`: invalid type: string "eight", expected usize`).

use toml::de::{DeTable, DeValue};

/// 1-based line of byte `offset` in `text`.
pub fn line_of(text: &str, offset: usize) -> usize {
    text.as_bytes()[..offset.min(text.len())]
        .iter()
        .filter(|&&b| b == b'\n')
        .count()
        + 1
}

/// The line where `dotted` (`optim.betas[1]` reads as `optim.betas`) is written in `text`,
/// or `None` when it is not there (a default, or a key set with `--set`).
pub fn key_line(text: &str, dotted: &str) -> Option<usize> {
    let table = DeTable::parse(text).ok()?;
    let parts: Vec<&str> = dotted
        .split('.')
        .map(|p| p.split('[').next().unwrap_or(p))
        .collect();
    let mut current: &DeTable = table.get_ref();
    for (i, part) in parts.iter().enumerate() {
        let (key, value) = current
            .iter()
            .find(|(k, _)| k.get_ref().as_ref() == *part)?;
        if i + 1 == parts.len() {
            return Some(line_of(text, key.span().start));
        }
        current = match value.get_ref() {
            DeValue::Table(t) => t,
            _ => return Some(line_of(text, key.span().start)),
        };
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_found_in_tables_and_dotted_paths() {
        let text = "format = 1\n[optim]\nlr = 1\nbetas = [0.9, 0.95]\n\n[data]\nstride = 4\n";
        assert_eq!(key_line(text, "format"), Some(1));
        assert_eq!(key_line(text, "optim.betas[1]"), Some(4));
        assert_eq!(key_line(text, "data.stride"), Some(7));
        assert_eq!(key_line(text, "data.workers"), None);
        assert_eq!(key_line("not toml [", "x"), None);
    }
}
