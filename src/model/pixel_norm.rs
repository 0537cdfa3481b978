//! ImageNet pixel normalisation (DESIGN §5: clips are normalised with ImageNet mean/std).

pub const IMAGENET_MEAN: [f32; 3] = [0.485, 0.456, 0.406];
pub const IMAGENET_STD: [f32; 3] = [0.229, 0.224, 0.225];
