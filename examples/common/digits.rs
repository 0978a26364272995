//! The UCI handwritten digits that ship in `data/digits/` (CC BY 4.0), read once for every
//! example that trains on them (siamese, sequence, cifar10) and their tests.

use std::path::Path;

use varscope::ndarray::{Array2, Axis};

/// Pixels per image (8 x 8).
pub const PIXELS: usize = 64;

/// The digits: images scaled to 0..1, labels 0..9.
pub struct Digits {
    /// One row per image.
    pub images: Array2<f32>,
    /// The digit of each row.
    pub labels: Vec<usize>,
}

impl Digits {
    /// Reads `data/digits/digits.csv` (64 pixels 0..16, then the label, per line).
    pub fn load(path: &Path) -> std::result::Result<Digits, Box<dyn std::error::Error>> {
        let text = std::fs::read_to_string(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        let (mut pixels, mut labels) = (Vec::new(), Vec::new());
        for (line_no, line) in text.lines().enumerate().filter(|(_, l)| !l.trim().is_empty()) {
            let fields: Vec<&str> = line.split(',').collect();
            if fields.len() != PIXELS + 1 {
                return Err(format!(
                    "{}:{}: {} fields, expected {}",
                    path.display(),
                    line_no + 1,
                    fields.len(),
                    PIXELS + 1
                )
                .into());
            }
            for f in &fields[..PIXELS] {
                pixels.push(f.trim().parse::<f32>()? / 16.0);
            }
            let label: usize = fields[PIXELS].trim().parse()?;
            if label > 9 {
                return Err(format!("{}:{}: label {label} is not a digit", path.display(), line_no + 1).into());
            }
            labels.push(label);
        }
        let images = Array2::from_shape_vec((labels.len(), PIXELS), pixels)?;
        Ok(Digits { images, labels })
    }

    /// The first `n` images, then the rest (the held-out part).
    pub fn split(&self, n: usize) -> (Digits, Digits) {
        let n = n.min(self.labels.len());
        let part = |from: usize, to: usize| Digits {
            images: self.images.select(Axis(0), &(from..to).collect::<Vec<_>>()),
            labels: self.labels[from..to].to_vec(),
        };
        (part(0, n), part(n, self.labels.len()))
    }
}

/// The shipped digits, `data/digits/digits.csv` of this crate.
pub fn shipped() -> Result<Digits, Box<dyn std::error::Error>> {
    Digits::load(&Path::new(env!("CARGO_MANIFEST_DIR")).join("data/digits/digits.csv"))
}
