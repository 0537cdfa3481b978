//! Errors of the face module.

use super::weights::WeightsError;

#[derive(Debug, Clone, thiserror::Error)]
pub enum FacesError {
    #[error(transparent)]
    Weights(#[from] WeightsError),
    /// A detector, alignment or tracking setting out of range; names the field.
    #[error("face settings: `{field}` {problem}")]
    Config {
        field: &'static str,
        problem: String,
    },
}

pub type FacesResult<T> = Result<T, FacesError>;
