//! One device in detail: certificate chain, policies, groups, live agent status, history.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Wrap};

use crate::human::{date, relative, timestamp};
use crate::safe_text::{OutsideText, SafeText};
use crate::tui::action::{Action, Outcome};
use crate::tui::data::{
    BlastRadius, Confirmable, DeviceDetail, FleetSnapshot, MutationRequest, OpKind,
};
use crate::tui::keymap::Command;
use crate::tui::widgets::Paint;

/// The device shown and its detail as looked up when opened.
#[derive(Debug, Clone, Default)]
pub struct DetailView {
    thing: Box<str>,
    detail: Option<DeviceDetail>,
    scroll: u16,
}

impl DetailView {
    /// Shows `thing`, looking its detail up in the snapshot; `false` when it has to be
    /// asked for (it then arrives through [`DetailView::receive`]).
    pub fn open(&mut self, thing: Box<str>, snapshot: &FleetSnapshot) -> bool {
        self.detail = snapshot.details.as_ref().and_then(|d| d.detail(&thing));
        self.thing = thing;
        self.scroll = 0;
        self.detail.is_some()
    }

    /// A detail that was asked for; ignored when another device is shown by now.
    pub fn receive(&mut self, detail: DeviceDetail) {
        if detail.thing == *self.thing {
            self.detail = Some(detail);
        }
    }

    /// The thing shown.
    #[must_use]
    pub fn thing(&self) -> &str {
        &self.thing
    }

    /// Scrolls; `r`/`Q`/`R` open the confirmation for this one device.
    pub fn handle(&mut self, command: Command, snapshot: &FleetSnapshot) -> Outcome {
        match command {
            Command::Up => self.scroll = self.scroll.saturating_sub(1),
            Command::Down => self.scroll = self.scroll.saturating_add(1),
            Command::Top => self.scroll = 0,
            Command::Revoke | Command::Quarantine | Command::Restore => {
                let kind = match command {
                    Command::Revoke => OpKind::Revoke,
                    Command::Quarantine => OpKind::Quarantine,
                    _ => OpKind::Restore,
                };
                let online = self.detail.as_ref().is_some_and(|d| d.live.is_some());
                #[allow(clippy::cast_precision_loss)]
                let fleet_percent = 100.0 / snapshot.devices.len().max(1) as f64;
                return Outcome::Action(Action::Confirm(Confirmable::Mutation(MutationRequest {
                    kind,
                    things: vec![self.thing.clone().into()],
                    radius: BlastRadius {
                        certs: 1,
                        things: 1,
                        groups: self.detail.as_ref().map_or(0, |d| d.groups.len() as u64),
                        fleet_percent,
                        online: u64::from(online),
                    },
                })));
            }
            _ => return Outcome::Ignored,
        }
        Outcome::Consumed
    }

    /// Draws the detail.
    pub fn render(&self, frame: &mut Frame, area: Rect, paint: &Paint) {
        let title = format!(
            " Device {} (Esc: back, r: revoke, Q: quarantine, R: restore) ",
            SafeText::new(&self.thing)
        );
        let block = paint.block(title, true);
        let Some(detail) = &self.detail else {
            frame.render_widget(
                Paragraph::new("looking up this device...").block(block),
                area,
            );
            return;
        };
        let inner = block.inner(area);
        frame.render_widget(block, area);
        let header = paint.theme.style("ui.header");
        let mut lines = vec![Line::styled("Certificate chain", header)];
        for (depth, (name, status, expires)) in detail.chain.iter().enumerate() {
            let indent = "  ".repeat(depth);
            lines.push(Line::from(format!(
                "{indent}{} [{}] expires {}",
                name.safe(),
                status.safe(),
                expires.map_or_else(
                    || "unknown".to_owned(),
                    |at| format!("{} ({})", date(at), relative(paint.now, at))
                )
            )));
        }
        lines.push(Line::styled("Policies", header));
        let policies = SafeText::join(
            detail.policies.iter().map(OutsideText::safe),
            &SafeText::new(", "),
        );
        lines.push(Line::from(format!("  {policies}")));
        lines.push(Line::styled("Groups", header));
        let groups = SafeText::join(
            detail.groups.iter().map(OutsideText::safe),
            &SafeText::new(", "),
        );
        lines.push(Line::from(format!("  {groups}")));
        lines.push(Line::styled("Live agent status", header));
        match &detail.live {
            Some(live) => {
                lines.push(Line::from(vec![
                    Span::styled(
                        format!("  {}", live.state.safe()),
                        paint.theme.style("live.online"),
                    ),
                    Span::raw(format!(
                        "  firmware {}  seen {}",
                        live.firmware.safe(),
                        relative(paint.now, live.seen)
                    )),
                ]));
                lines.push(Line::from(format!(
                    "  cert in use {}  pending {}",
                    live.active_cert.safe(),
                    live.pending_cert
                        .as_ref()
                        .map_or_else(|| SafeText::new("-"), OutsideText::safe)
                )));
                if let Some(error) = &live.last_error {
                    lines.push(Line::styled(
                        format!("  last error: {}", error.safe()),
                        paint.theme.style("severity.high"),
                    ));
                }
            }
            None => lines.push(Line::styled(
                "  no status received",
                paint.theme.style("live.offline"),
            )),
        }
        lines.push(Line::styled("History", header));
        for (at, event) in &detail.history {
            lines.push(Line::from(format!(
                "  {}  {}",
                timestamp(*at),
                event.safe()
            )));
        }
        frame.render_widget(
            Paragraph::new(lines)
                .wrap(Wrap { trim: false })
                .scroll((self.scroll, 0)),
            inner,
        );
    }
}
