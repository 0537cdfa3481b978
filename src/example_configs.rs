//! The example run configs shipped inside the binary (`assets/*.toml`), so that the demo
//! and the launch dialog work from any folder and after `cargo install`. The workbench adds
//! the user's own from `~/.config/svfap-tui/configs/` and `<session>/configs/`.

/// (name, TOML text) of every built-in run config, in the order the launch dialog lists them.
pub const BUILT_IN: [(&str, &str); 8] = [
    (
        "demo-pretrain",
        include_str!("../assets/demo-pretrain.toml"),
    ),
    (
        "demo-finetune",
        include_str!("../assets/demo-finetune.toml"),
    ),
    (
        "voxceleb2-pretrain",
        include_str!("../assets/voxceleb2-pretrain.toml"),
    ),
    (
        "dfew-finetune",
        include_str!("../assets/dfew-finetune.toml"),
    ),
    (
        "ferv39k-finetune",
        include_str!("../assets/ferv39k-finetune.toml"),
    ),
    (
        "mafw-finetune",
        include_str!("../assets/mafw-finetune.toml"),
    ),
    (
        "werewolf-xl-finetune",
        include_str!("../assets/werewolf-xl-finetune.toml"),
    ),
    (
        "chalearn-fi-finetune",
        include_str!("../assets/chalearn-fi-finetune.toml"),
    ),
];

/// The text of a built-in config by name.
pub fn built_in(name: &str) -> Option<&'static str> {
    BUILT_IN.iter().find(|(n, _)| *n == name).map(|(_, t)| *t)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_config_in_assets_is_built_in() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/assets");
        let mut on_disk: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|e| e == "toml"))
            .filter(|p| {
                std::fs::read_to_string(p)
                    .unwrap()
                    .parse::<toml::Table>()
                    .is_ok_and(|t| t.contains_key("kind"))
            })
            .map(|p| p.file_stem().unwrap().to_string_lossy().into_owned())
            .collect();
        on_disk.sort();
        let mut built: Vec<String> = BUILT_IN.iter().map(|(n, _)| n.to_string()).collect();
        built.sort();
        assert_eq!(on_disk, built);
        assert!(built_in("demo-finetune").unwrap().contains("kind"));
    }
}
