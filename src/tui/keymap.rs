//! Key bindings from TOML (`assets/keymap.toml` embedded; a user file adds and overrides).

use std::collections::BTreeMap;
use std::path::Path;

use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use super::action::Action;
use super::view::View;

pub const DEFAULT_KEYMAP: &str = include_str!("../../assets/keymap.toml");

/// A key with its modifiers (shift is folded into the character).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Key {
    pub code: KeyCodeOrd,
    pub ctrl: bool,
    pub alt: bool,
}

/// `KeyCode` subset with an order, so bindings list deterministically.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum KeyCodeOrd {
    Char(char),
    F(u8),
    Named(&'static str),
}

const NAMED: &[(&str, KeyCode)] = &[
    ("enter", KeyCode::Enter),
    ("esc", KeyCode::Esc),
    ("tab", KeyCode::Tab),
    ("backtab", KeyCode::BackTab),
    ("up", KeyCode::Up),
    ("down", KeyCode::Down),
    ("left", KeyCode::Left),
    ("right", KeyCode::Right),
    ("pageup", KeyCode::PageUp),
    ("pagedown", KeyCode::PageDown),
    ("home", KeyCode::Home),
    ("end", KeyCode::End),
    ("backspace", KeyCode::Backspace),
    ("delete", KeyCode::Delete),
];

impl Key {
    pub fn parse(s: &str) -> Result<Key, String> {
        let mut ctrl = false;
        let mut alt = false;
        let mut rest = s;
        loop {
            if let Some(r) = rest.strip_prefix("ctrl-") {
                ctrl = true;
                rest = r;
            } else if let Some(r) = rest.strip_prefix("alt-") {
                alt = true;
                rest = r;
            } else {
                break;
            }
        }
        let code = if rest.chars().count() == 1 {
            KeyCodeOrd::Char(rest.chars().next().unwrap())
        } else if rest == "space" {
            KeyCodeOrd::Char(' ')
        } else if let Some(n) = rest
            .strip_prefix('f')
            .and_then(|n| n.parse::<u8>().ok())
            .filter(|n| (1..=12).contains(n))
        {
            KeyCodeOrd::F(n)
        } else if let Some((name, _)) = NAMED.iter().find(|(n, _)| *n == rest) {
            KeyCodeOrd::Named(name)
        } else {
            return Err(format!("unknown key `{s}`"));
        };
        Ok(Key { code, ctrl, alt })
    }

    pub fn from_event(ev: &KeyEvent) -> Option<Key> {
        let code = match ev.code {
            KeyCode::Char(c) => KeyCodeOrd::Char(c),
            KeyCode::F(n) => KeyCodeOrd::F(n),
            other => KeyCodeOrd::Named(NAMED.iter().find(|(_, c)| *c == other)?.0),
        };
        Some(Key {
            code,
            ctrl: ev.modifiers.contains(KeyModifiers::CONTROL),
            alt: ev.modifiers.contains(KeyModifiers::ALT),
        })
    }

    pub fn label(&self) -> String {
        let base = match self.code {
            KeyCodeOrd::Char(' ') => "space".to_string(),
            KeyCodeOrd::Char(c) => c.to_string(),
            KeyCodeOrd::F(n) => format!("F{n}"),
            KeyCodeOrd::Named(n) => match n {
                "up" => "↑".into(),
                "down" => "↓".into(),
                "left" => "←".into(),
                "right" => "→".into(),
                other => other.into(),
            },
        };
        match (self.ctrl, self.alt) {
            (true, _) => format!("^{base}"),
            (_, true) => format!("M-{base}"),
            _ => base,
        }
    }
}

/// Section name of a view in the keymap file.
pub fn section(view: View) -> &'static str {
    match view {
        View::Runs => "runs",
        View::Monitor => "monitor",
        View::Recon => "recon",
        View::Attention => "attention",
        View::Compare => "compare",
        View::Inspect => "inspect",
    }
}

#[derive(Debug, Clone, Default)]
pub struct KeyMap {
    /// section ("global", "runs", …) → key → action.
    sections: BTreeMap<String, BTreeMap<Key, Action>>,
}

impl KeyMap {
    /// The embedded default map.
    pub fn default_map() -> KeyMap {
        let mut map = KeyMap::default();
        map.merge_toml(DEFAULT_KEYMAP)
            .expect("embedded keymap parses");
        map
    }

    /// Adds (and overrides) bindings from TOML text. Errors name the bad entry.
    pub fn merge_toml(&mut self, text: &str) -> Result<(), String> {
        let table: toml::Table = text
            .parse()
            .map_err(|e: toml::de::Error| e.message().to_string())?;
        for (sec, entries) in table {
            if sec != "global" && !View::ALL.iter().any(|v| section(*v) == sec) {
                return Err(format!("unknown section [{sec}]"));
            }
            let Some(entries) = entries.as_table() else {
                return Err(format!("[{sec}] is not a table"));
            };
            for (key, action) in entries {
                let k = Key::parse(key).map_err(|e| format!("[{sec}] {e}"))?;
                let name = action
                    .as_str()
                    .ok_or_else(|| format!("[{sec}] {key}: action must be a string"))?;
                let a = if name == "none" {
                    Action::None
                } else {
                    Action::from_name(name)
                        .ok_or_else(|| format!("[{sec}] {key}: unknown action `{name}`"))?
                };
                self.sections.entry(sec.clone()).or_default().insert(k, a);
            }
        }
        Ok(())
    }

    /// The default map plus the user's file, if it exists.
    pub fn load(user: Option<&Path>) -> (KeyMap, Option<String>) {
        let mut map = Self::default_map();
        let Some(path) = user else { return (map, None) };
        let text = match std::fs::read_to_string(path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return (map, None),
            Err(e) => return (map, Some(format!("{}: {e}", path.display()))),
        };
        let mut user_map = map.clone();
        match user_map.merge_toml(&text) {
            Ok(()) => (user_map, None),
            Err(e) => {
                map = Self::default_map();
                (
                    map,
                    Some(format!("{}: {e}; using the default keys", path.display())),
                )
            }
        }
    }

    pub fn action(&self, view: View, key: &Key) -> Action {
        let get = |sec: &str| self.sections.get(sec).and_then(|m| m.get(key)).cloned();
        get(section(view))
            .or_else(|| get("global"))
            .unwrap_or(Action::None)
    }

    /// Keys bound to `action` in `view` (view section first), for the footer and help.
    pub fn keys_for(&self, view: View, action: &Action) -> Vec<String> {
        let mut out: Vec<(bool, String)> = Vec::new();
        for sec in [section(view), "global"] {
            if let Some(m) = self.sections.get(sec) {
                for (k, a) in m {
                    if a == action && self.action(view, k) == *action {
                        let l = (k.ctrl || k.alt, k.label());
                        if !out.contains(&l) {
                            out.push(l);
                        }
                    }
                }
            }
        }
        // Plain keys before ones with modifiers.
        out.sort_by_key(|(m, _)| *m);
        out.into_iter().map(|(_, l)| l).collect()
    }

    /// (section, key label, action) for every binding, for the help screen.
    pub fn bindings(&self, sec: &str) -> Vec<(Key, Action)> {
        self.sections
            .get(sec)
            .map(|m| {
                m.iter()
                    .filter(|(_, a)| **a != Action::None)
                    .map(|(k, a)| (*k, a.clone()))
                    .collect()
            })
            .unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_keymap_binds_the_basics_and_user_files_override() {
        let map = KeyMap::default_map();
        let q = Key::parse("q").unwrap();
        assert_eq!(map.action(View::Runs, &q), Action::Quit);
        assert_eq!(
            map.action(View::Compare, &Key::parse("s").unwrap()),
            Action::SortNext
        );
        assert_eq!(
            map.action(View::Runs, &Key::parse("s").unwrap()),
            Action::Stop
        );
        let mut m2 = map.clone();
        m2.merge_toml("[global]\nx = \"quit\"\nq = \"none\"")
            .unwrap();
        assert_eq!(
            m2.action(View::Runs, &Key::parse("x").unwrap()),
            Action::Quit
        );
        assert_eq!(m2.action(View::Runs, &q), Action::None);
        assert!(
            m2.merge_toml("[global]\nx = \"fly\"")
                .unwrap_err()
                .contains("unknown action `fly`")
        );
    }
}
