//! What a fine-tuned model was trained to see, beyond what its weights say: the clip's frame
//! stride, the test protocol, the pixel normalisation and the names of its outputs. Stored in
//! our checkpoints' metadata (`svfap.input`) so `infer`, `features` and `data clip` take the
//! geometry from the checkpoint instead of from flags that must be remembered. Frames and
//! image size are the encoder's (`EncoderConfig`), not repeated here.

use serde::{Deserialize, Serialize};

use crate::data::registry::{Task, dataset, dataset_named};
use crate::model::pixel_norm::{IMAGENET_MEAN, IMAGENET_STD};

pub(crate) const META_INPUT: &str = "svfap.input";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InputSpec {
    /// Dataset the model was fine-tuned on (`DFEW`, `demo`, …); empty when unknown.
    #[serde(default)]
    pub dataset: String,
    /// Class names (classification) or target names (regression), in output order; empty
    /// when unknown.
    #[serde(default)]
    pub labels: Vec<String>,
    /// The head predicts values (regression) rather than classes.
    #[serde(default)]
    pub regression: bool,
    /// Frame stride of a clip (paper: 4).
    pub stride: usize,
    /// Clips per video in the test protocol (paper: 2).
    pub test_clips: usize,
    pub mean: [f32; 3],
    pub std: [f32; 3],
}

impl Default for InputSpec {
    /// The paper's protocol (DESIGN §6): stride 4, 2 test clips, ImageNet normalisation.
    fn default() -> Self {
        Self {
            dataset: String::new(),
            labels: Vec::new(),
            regression: false,
            stride: 4,
            test_clips: 2,
            mean: IMAGENET_MEAN,
            std: IMAGENET_STD,
        }
    }
}

impl InputSpec {
    /// The paper's protocol with a registered dataset's label names and task.
    pub fn for_dataset(name: &str) -> Option<Self> {
        let info = dataset(name)?;
        Some(Self {
            dataset: info.name.to_string(),
            labels: info.labels.iter().map(|s| s.to_string()).collect(),
            regression: info.task == Task::Regression,
            ..Self::default()
        })
    }

    /// This spec with the command line's overrides put over it: a dataset's label names and
    /// task, explicit label names, a frame stride. The names must match the head's `outputs`.
    pub fn overridden(
        mut self,
        dataset: Option<&str>,
        labels: Option<&[String]>,
        stride: Option<usize>,
        outputs: usize,
    ) -> Result<Self, String> {
        if let Some(name) = dataset {
            let d = dataset_named(name).map_err(|e| format!("--dataset: {e}"))?;
            self.dataset = d.name.to_string();
            self.labels = d.labels.iter().map(|s| s.to_string()).collect();
            self.regression = d.task == Task::Regression;
        }
        let source = match (labels, dataset) {
            (Some(labels), _) => {
                self.labels = labels.to_vec();
                "--labels has".to_string()
            }
            (None, Some(name)) => format!("--dataset {name} has"),
            (None, None) => "the checkpoint records".to_string(),
        };
        if !self.labels.is_empty() && self.labels.len() != outputs {
            return Err(format!(
                "{source} {} names but the model has {outputs} outputs",
                self.labels.len()
            ));
        }
        if let Some(s) = stride {
            self.stride = s;
        }
        Ok(self)
    }

    /// Name of output `i`: the stored label, else `class i` / `target i`.
    pub fn label(&self, i: usize) -> String {
        self.labels.get(i).cloned().unwrap_or_else(|| {
            if self.regression {
                format!("target {i}")
            } else {
                format!("class {i}")
            }
        })
    }

    pub(crate) fn parse(json: &str) -> Result<Self, String> {
        let spec: Self = serde_json::from_str(json).map_err(|e| format!("{META_INPUT}: {e}"))?;
        if spec.stride == 0 || spec.test_clips == 0 {
            return Err(format!(
                "{META_INPUT}: stride {} and test_clips {} must be at least 1",
                spec.stride, spec.test_clips
            ));
        }
        if spec.std.iter().any(|s| !s.is_finite() || *s <= 0.0)
            || spec.mean.iter().any(|m| !m.is_finite())
        {
            return Err(format!(
                "{META_INPUT}: mean {:?} / std {:?} must be finite with std > 0",
                spec.mean, spec.std
            ));
        }
        Ok(spec)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_refuses_a_zero_stride() {
        let spec = InputSpec::for_dataset("dfew").unwrap();
        assert_eq!(spec.labels[0], "happy");
        let json = serde_json::to_string(&spec).unwrap();
        assert_eq!(InputSpec::parse(&json).unwrap(), spec);
        let bad = json.replace("\"stride\":4", "\"stride\":0");
        assert!(InputSpec::parse(&bad).unwrap_err().contains("stride 0"));
    }

    #[test]
    fn overrides_replace_names_keep_the_protocol_and_check_the_head() {
        let recorded = InputSpec {
            stride: 2,
            ..InputSpec::default()
        };
        let spec = recorded
            .clone()
            .overridden(Some("mafw"), None, None, 11)
            .unwrap();
        assert_eq!((spec.labels.len(), spec.stride), (11, 2));
        let e = recorded
            .clone()
            .overridden(Some("dfew"), None, None, 11)
            .unwrap_err();
        assert_eq!(e, "--dataset dfew has 7 names but the model has 11 outputs");
        let e = recorded
            .clone()
            .overridden(Some("nope"), None, None, 7)
            .unwrap_err();
        assert!(
            e.starts_with("--dataset: unknown dataset `nope` (known: DFEW"),
            "{e}"
        );
        let two = ["a".to_string(), "b".to_string()];
        let e = recorded
            .overridden(None, Some(&two), Some(8), 7)
            .unwrap_err();
        assert_eq!(e, "--labels has 2 names but the model has 7 outputs");
    }

    #[test]
    fn unnamed_outputs_say_what_they_are() {
        let mut spec = InputSpec::default();
        assert_eq!(spec.label(3), "class 3");
        spec.regression = true;
        assert_eq!(spec.label(0), "target 0");
    }
}
