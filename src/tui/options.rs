//! Where the app finds its files (session, keymap, themes, example configs) and how it
//! starts commands.

use std::path::PathBuf;

use crate::session::launcher::Launcher;

/// Where the app finds its files and how it starts commands.
#[derive(Debug, Clone)]
pub struct Options {
    pub session: PathBuf,
    pub launcher: Launcher,
    /// User keymap file (added to the embedded default) when it exists.
    pub keymap_file: Option<PathBuf>,
    /// Folders with theme files (`*.toml`), in increasing priority.
    pub theme_dirs: Vec<PathBuf>,
    /// Folders with the user's run configs (`*.toml`), in increasing priority, offered by
    /// the launch dialog after the built-in ones; `<session>/configs/` comes last.
    pub config_dirs: Vec<PathBuf>,
    /// `auto`, `halfblocks`, `sixel`, `kitty` or `iterm2`.
    pub image_protocol: String,
    /// Theme to use regardless of the session's saved one.
    pub theme: Option<String>,
}

impl Options {
    pub fn new(session: impl Into<PathBuf>) -> Self {
        let config = config_dir();
        let config_dirs = config.iter().map(|c| c.join("configs")).collect();
        Self {
            session: session.into(),
            launcher: Launcher::default(),
            keymap_file: config.as_ref().map(|c| c.join("keymap.toml")),
            theme_dirs: [
                Some(PathBuf::from("themes")),
                config.map(|c| c.join("themes")),
            ]
            .into_iter()
            .flatten()
            .collect(),
            config_dirs,
            image_protocol: "auto".into(),
            theme: None,
        }
    }
}

/// `$XDG_CONFIG_HOME/svfap-tui` or `~/.config/svfap-tui`.
pub fn config_dir() -> Option<PathBuf> {
    if let Some(x) = std::env::var_os("XDG_CONFIG_HOME").filter(|x| !x.is_empty()) {
        return Some(PathBuf::from(x).join("svfap-tui"));
    }
    std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".config/svfap-tui"))
}
