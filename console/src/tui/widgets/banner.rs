//! The environment banner (always on the first line, in the environment's colour, with the
//! read-only marker) and the tab bar.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Color, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use super::Paint;
use crate::safe_text::SafeText;
use crate::tui::action::ViewId;

/// Which AWS environment the console is looking at.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Environment {
    /// The environment's name from the config (`prod`, `staging`, `lab`).
    pub name: String,
    /// AWS profile.
    pub profile: Option<String>,
    /// AWS account id.
    pub account: Option<String>,
    /// AWS region.
    pub region: Option<String>,
    /// Configured banner colour (palette name, ANSI name or `#rrggbb`); without it the
    /// theme's `banner.<name>` scope, then `banner`, decides.
    pub colour: Option<String>,
    /// The environment is frozen (`fleetid freeze`): the banner says FROZEN.
    pub frozen: bool,
}

impl Environment {
    /// The banner's style under `paint`'s theme.
    #[must_use]
    pub fn style(&self, paint: &Paint) -> Style {
        let scoped = paint.theme.style(&format!("banner.{}", self.name));
        match self.colour.as_deref().and_then(|c| paint.theme.colour(c)) {
            Some(colour) => scoped.bg(colour).fg(contrasting(colour)),
            None => scoped,
        }
    }
}

/// Black or white, whichever reads better on `bg`.
fn contrasting(bg: Color) -> Color {
    match bg {
        Color::Rgb(r, g, b) => {
            let luma = 299 * u32::from(r) + 587 * u32::from(g) + 114 * u32::from(b);
            if luma > 128_000 {
                Color::Black
            } else {
                Color::White
            }
        }
        Color::Yellow
        | Color::LightYellow
        | Color::LightGreen
        | Color::LightCyan
        | Color::White
        | Color::Gray
        | Color::Cyan
        | Color::Green => Color::Black,
        _ => Color::White,
    }
}

/// Draws the banner on one line: environment first (so it survives the narrowest
/// terminal), then the frozen and read-only markers, account, region, profile and the product
/// name.
pub fn render_banner(
    frame: &mut Frame,
    area: Rect,
    paint: &Paint,
    environment: &Environment,
    read_only: bool,
) {
    let style = environment.style(paint);
    let mut spans = vec![Span::styled(
        format!(" {} ", SafeText::new(&environment.name.to_uppercase())),
        style,
    )];
    if environment.frozen {
        spans.push(Span::styled(" FROZEN ", paint.theme.style("ui.read-only")));
    }
    if read_only {
        spans.push(Span::styled(
            " READ-ONLY ",
            paint.theme.style("ui.read-only"),
        ));
    }
    let mut details = Vec::new();
    if let Some(account) = &environment.account {
        details.push(format!("account {}", SafeText::new(account)));
    }
    if let Some(region) = &environment.region {
        details.push(SafeText::new(region).to_string());
    }
    if let Some(profile) = &environment.profile {
        details.push(format!("profile {}", SafeText::new(profile)));
    }
    spans.push(Span::styled(format!(" {} ", details.join(" | ")), style));
    let used: usize = spans.iter().map(Span::width).sum();
    let title = " fleetid ";
    let fill = usize::from(area.width).saturating_sub(used + title.len());
    spans.push(Span::styled(" ".repeat(fill), style));
    spans.push(Span::styled(title, style));
    frame.render_widget(Paragraph::new(Line::from(spans)), area);
}

/// Draws the tab bar with `active` highlighted; number keys are shown with each tab.
pub fn render_tabs(frame: &mut Frame, area: Rect, paint: &Paint, active: ViewId) {
    let narrow = area.width < 90;
    let mut spans = Vec::new();
    for (i, view) in ViewId::TABS.iter().enumerate() {
        let scope = if *view == active || (active == ViewId::Detail && *view == ViewId::Devices) {
            "ui.tab.active"
        } else {
            "ui.tab"
        };
        // Eight tabs fit 80 columns with the two longest titles shortened.
        let title = match view {
            ViewId::Anomalies if narrow => "Anomaly",
            ViewId::CaChains if narrow => "CAs",
            _ => view.title(),
        };
        spans.push(Span::styled(
            format!(" {} {title} ", i + 1),
            paint.theme.style(scope),
        ));
        spans.push(Span::raw(if narrow { "" } else { " " }));
    }
    if active == ViewId::Detail {
        spans.push(Span::styled(
            " > Detail ",
            paint.theme.style("ui.tab.active"),
        ));
    }
    frame.render_widget(Paragraph::new(Line::from(spans)), area);
}
