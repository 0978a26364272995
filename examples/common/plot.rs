//! A loss curve as a PNG, shared by the training examples. The font is embedded
//! (`examples/assets/DejaVuSans.ttf`), so no system fonts are needed.

use std::path::Path;
use std::sync::Once;

use plotters::prelude::*;
use plotters::style::{FontStyle, register_font};

static FONT: Once = Once::new();

/// Draws `losses` (one per step) and a moving average of `window` steps to `path`.
pub fn loss_curve(path: &Path, title: &str, losses: &[f64], window: usize) -> Result<(), Box<dyn std::error::Error>> {
    FONT.call_once(|| {
        // The embedded font is valid; a failure would only cost the labels.
        let _ = register_font("sans-serif", FontStyle::Normal, include_bytes!("../assets/DejaVuSans.ttf"));
    });
    if losses.is_empty() {
        return Err("no losses to plot".into());
    }
    let root = BitMapBackend::new(path, (900, 520)).into_drawing_area();
    root.fill(&WHITE)?;
    let top = losses.iter().copied().filter(|l| l.is_finite()).fold(0.0f64, f64::max).max(1e-9) * 1.05;
    let mut chart = ChartBuilder::on(&root)
        .caption(title, ("sans-serif", 24))
        .margin(16)
        .x_label_area_size(40)
        .y_label_area_size(60)
        .build_cartesian_2d(0..losses.len(), 0.0..top)?;
    chart.configure_mesh().x_desc("step").y_desc("loss").label_style(("sans-serif", 14)).draw()?;
    let raw = RGBColor(150, 180, 230);
    chart
        .draw_series(LineSeries::new(losses.iter().enumerate().map(|(i, &l)| (i, l)), &raw))?
        .label("loss per step")
        .legend(move |(x, y)| PathElement::new([(x, y), (x + 20, y)], raw));
    let window = window.max(1);
    let smooth = (0..losses.len()).map(|i| {
        let from = (i + 1).saturating_sub(window);
        let part = &losses[from..=i];
        (i, part.iter().sum::<f64>() / part.len() as f64)
    });
    chart
        .draw_series(LineSeries::new(smooth, BLUE.stroke_width(2)))?
        .label(format!("mean of {window} steps"))
        .legend(|(x, y)| PathElement::new([(x, y), (x + 20, y)], BLUE.stroke_width(2)));
    chart
        .configure_series_labels()
        .background_style(WHITE.mix(0.8))
        .border_style(BLACK)
        .label_font(("sans-serif", 14))
        .draw()?;
    root.present()?;
    Ok(())
}
