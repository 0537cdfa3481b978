//! `svfap-tui` with no command: the terminal workbench.

use std::path::PathBuf;

use anyhow::Result;
use clap::Args;

#[derive(Args, Debug)]
pub struct TuiArgs {
    /// Session folder to open (created when missing).
    #[arg(long, default_value = "sessions/default")]
    pub session: PathBuf,
    /// Image protocol: auto (detect), halfblocks (works everywhere, also in tmux), sixel,
    /// kitty or iterm2. Also `image_protocol` in ~/.config/svfap-tui/config.toml.
    #[arg(long)]
    pub image_protocol: Option<String>,
    /// Colour theme (dark, light, high-contrast or a themes/*.toml name); default: the session's.
    #[arg(long)]
    pub theme: Option<String>,
    /// Key bindings file (default ~/.config/svfap-tui/keymap.toml when it exists).
    #[arg(long)]
    pub keymap: Option<PathBuf>,
}

/// `~/.config/svfap-tui/config.toml`: `image_protocol = "…"`, `theme = "…"`.
#[derive(serde::Deserialize, Default)]
#[serde(default)]
struct UserConfig {
    image_protocol: Option<String>,
    theme: Option<String>,
}

pub fn run(args: &TuiArgs) -> Result<()> {
    let mut options = svfap_tui::tui::Options::new(&args.session);
    let user: UserConfig = svfap_tui::tui::options::config_dir()
        .and_then(|d| std::fs::read_to_string(d.join("config.toml")).ok())
        .and_then(|t| toml::from_str(&t).ok())
        .unwrap_or_default();
    options.image_protocol = args
        .image_protocol
        .clone()
        .or(user.image_protocol)
        .unwrap_or_else(|| "auto".into());
    let valid = ["auto", "halfblocks", "sixel", "kitty", "iterm2"];
    if !valid.contains(&options.image_protocol.as_str()) {
        anyhow::bail!(
            "--image-protocol {}: expected one of {}",
            options.image_protocol,
            valid.join(", ")
        );
    }
    options.theme = args.theme.clone().or(user.theme);
    if let Some(k) = &args.keymap {
        if !k.exists() {
            anyhow::bail!("{}: keymap file not found", k.display());
        }
        options.keymap_file = Some(k.clone());
    }
    svfap_tui::tui::run(options)
}
