//! The backend a run or a command asks for, by name (`backend = "wgpu"`, `--backend cuda`).

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum BackendChoice {
    /// burn-flex plus the fused CPU kernels.
    #[default]
    Cpu,
    /// NVIDIA GPUs (burn-cuda); build with `--features cuda`.
    Cuda,
    /// Vulkan or Metal GPUs (burn-wgpu); build with `--features wgpu`.
    Wgpu,
}

impl BackendChoice {
    pub fn name(self) -> &'static str {
        match self {
            Self::Cpu => "cpu",
            Self::Cuda => "cuda",
            Self::Wgpu => "wgpu",
        }
    }

    /// Whether this binary was built with the backend.
    pub fn is_built(self) -> bool {
        match self {
            Self::Cpu => true,
            Self::Cuda => cfg!(feature = "cuda"),
            Self::Wgpu => cfg!(feature = "wgpu"),
        }
    }

    /// Whether the backend runs burn's CubeCL kernels (a GPU, or Vulkan on the CPU).
    pub fn is_cubecl(self) -> bool {
        matches!(self, Self::Cuda | Self::Wgpu)
    }
}

impl std::fmt::Display for BackendChoice {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// What to say when `choice` is asked of a binary built without it.
pub fn not_built(choice: BackendChoice) -> String {
    let name = choice.name();
    format!(
        "backend \"{name}\" is not in this binary; rebuild with `cargo build --release --features {name}`"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_through_toml() {
        #[derive(Serialize, Deserialize)]
        struct Holder {
            backend: BackendChoice,
        }
        for choice in [BackendChoice::Cpu, BackendChoice::Cuda, BackendChoice::Wgpu] {
            let text = toml::to_string(&Holder { backend: choice }).unwrap();
            assert_eq!(text.trim(), format!("backend = \"{choice}\""));
            let back: Holder = toml::from_str(&text).unwrap();
            assert_eq!(back.backend, choice);
        }
    }

    #[test]
    fn a_missing_backend_is_refused_with_the_feature_to_build() {
        let message = not_built(BackendChoice::Wgpu);
        assert!(message.contains("--features wgpu"), "{message}");
    }
}
