//! The workbench's views, by name and order (the header tabs and `1`–`6`).

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum View {
    #[default]
    Runs,
    Monitor,
    Recon,
    Attention,
    Compare,
    Inspect,
}

impl View {
    pub const ALL: [View; 6] = [
        View::Runs,
        View::Monitor,
        View::Recon,
        View::Attention,
        View::Compare,
        View::Inspect,
    ];
    pub fn name(self) -> &'static str {
        match self {
            View::Runs => "runs",
            View::Monitor => "monitor",
            View::Recon => "recon",
            View::Attention => "attention",
            View::Compare => "compare",
            View::Inspect => "inspect",
        }
    }
    /// The tab title on a narrow terminal.
    pub fn short_title(self) -> &'static str {
        match self {
            View::Recon => "Recon",
            other => other.title(),
        }
    }
    pub fn title(self) -> &'static str {
        match self {
            View::Runs => "Runs",
            View::Monitor => "Monitor",
            View::Recon => "Reconstructions",
            View::Attention => "Attention",
            View::Compare => "Compare",
            View::Inspect => "Inspect",
        }
    }
    pub fn from_name(s: &str) -> Option<View> {
        View::ALL.into_iter().find(|v| v.name() == s)
    }
    pub fn index(self) -> usize {
        View::ALL.iter().position(|v| *v == self).unwrap_or(0)
    }
}
