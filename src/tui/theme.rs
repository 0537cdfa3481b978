//! Colour themes from `themes/*.toml`. A theme with a bad colour is reported and the
//! default (dark) theme is used instead.

use std::path::{Path, PathBuf};
use std::str::FromStr;

use ratatui::style::Color;

use crate::session::listing::files_with_extension;

const BUILTIN: &[(&str, &str)] = &[
    ("dark", include_str!("../../themes/dark.toml")),
    ("light", include_str!("../../themes/light.toml")),
    (
        "high-contrast",
        include_str!("../../themes/high-contrast.toml"),
    ),
];

macro_rules! theme_struct {
    ($($field:ident),* $(,)?) => {
        #[derive(Debug, Clone, PartialEq)]
        pub struct Theme {
            pub name: String,
            $(pub $field: Color,)*
        }

        impl Theme {
            /// Parses a theme file; every colour field is required, errors name the field.
            pub fn parse(text: &str, fallback_name: &str) -> Result<Theme, String> {
                let table: toml::Table = text.parse().map_err(|e: toml::de::Error| e.message().trim().to_string())?;
                let name = table.get("name").and_then(|v| v.as_str()).unwrap_or(fallback_name).to_string();
                $(
                    let $field = {
                        let raw = table.get(stringify!($field)).ok_or_else(|| format!("missing colour `{}`", stringify!($field)))?;
                        let s = raw.as_str().map(str::to_string).unwrap_or_else(|| raw.to_string());
                        parse_color(&s).ok_or_else(|| format!("`{}`: bad colour {:?}", stringify!($field), s))?
                    };
                )*
                Ok(Theme { name, $($field,)* })
            }
        }
    };
}

theme_struct!(
    bg,
    fg,
    muted,
    border,
    accent,
    title,
    selected_bg,
    selected_fg,
    ok,
    warn,
    error,
    running,
    series_train,
    series_val,
    series_other,
    heat_low,
    heat_high
);

pub fn parse_color(s: &str) -> Option<Color> {
    let s = s.trim();
    if s.eq_ignore_ascii_case("reset") {
        return Some(Color::Reset);
    }
    if let Some(hex) = s.strip_prefix('#')
        && (hex.len() != 6 || !hex.chars().all(|c| c.is_ascii_hexdigit()))
    {
        return None;
    }
    Color::from_str(s).ok()
}

impl Default for Theme {
    fn default() -> Self {
        Theme::parse(BUILTIN[0].1, "dark").expect("built-in dark theme parses")
    }
}

impl Theme {
    /// RGB of a colour for blending (heat maps); named colours get their usual values.
    pub fn rgb(c: Color) -> (u8, u8, u8) {
        match c {
            Color::Rgb(r, g, b) => (r, g, b),
            Color::Black => (0, 0, 0),
            Color::White => (255, 255, 255),
            Color::Red | Color::LightRed => (255, 80, 80),
            Color::Green | Color::LightGreen => (80, 220, 80),
            Color::Yellow | Color::LightYellow => (255, 255, 80),
            Color::Blue | Color::LightBlue => (80, 80, 255),
            Color::Cyan | Color::LightCyan => (80, 255, 255),
            Color::Magenta | Color::LightMagenta => (255, 80, 255),
            Color::Gray => (170, 170, 170),
            Color::DarkGray => (90, 90, 90),
            _ => (0, 0, 0),
        }
    }

    /// Heat colour for `t` in [0, 1] between `heat_low` and `heat_high`.
    pub fn heat(&self, t: f32) -> Color {
        let t = if t.is_finite() {
            t.clamp(0.0, 1.0)
        } else {
            0.0
        };
        let (a, b) = (Self::rgb(self.heat_low), Self::rgb(self.heat_high));
        let mix = |x: u8, y: u8| (x as f32 + (y as f32 - x as f32) * t).round() as u8;
        Color::Rgb(mix(a.0, b.0), mix(a.1, b.1), mix(a.2, b.2))
    }
}

/// All themes: built-ins, then `*.toml` files of each folder in `dirs` (same name replaces).
/// Returns the good themes and one message per bad file.
pub fn load_themes(dirs: &[PathBuf]) -> (Vec<Theme>, Vec<String>) {
    let mut themes: Vec<Theme> = BUILTIN
        .iter()
        .map(|(n, t)| Theme::parse(t, n).expect("built-in theme parses"))
        .collect();
    let mut problems = Vec::new();
    for dir in dirs {
        for f in files_with_extension(dir, "toml") {
            match load_file(&f) {
                Ok(t) => {
                    if let Some(slot) = themes.iter_mut().find(|x| x.name == t.name) {
                        *slot = t;
                    } else {
                        themes.push(t);
                    }
                }
                Err(e) => problems.push(e),
            }
        }
    }
    (themes, problems)
}

pub fn load_file(path: &Path) -> Result<Theme, String> {
    let stem = path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let text =
        std::fs::read_to_string(path).map_err(|e| format!("theme {}: {e}", path.display()))?;
    Theme::parse(&text, &stem)
        .map_err(|e| format!("theme {}: {e}; using the default theme", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bad_colour_is_reported_by_field() {
        let text = include_str!("../../themes/light.toml").replace("#005faf", "blurple");
        let err = Theme::parse(&text, "light").unwrap_err();
        assert!(err.contains("`accent`") && err.contains("blurple"), "{err}");
        assert_eq!(Theme::default().name, "dark");
        assert!(parse_color("#12345").is_none());
        assert_eq!(parse_color("#102030"), Some(Color::Rgb(16, 32, 48)));
    }
}
