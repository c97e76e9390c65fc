//! Drawing the rotation view: the campaigns, the selected one's pipeline of stages with a
//! bar each, the picked stage's gate evidence with its failure reasons (or the devices of one),
//! and the keys line with the steps that apply.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Cell, Paragraph, Row};

use super::{Focus, RotationView, allowed, overall_label};
use crate::human::{count, percent, relative, share, timestamp};
use crate::ops::rotation::state::{Execution, Overall};
use crate::tui::data::{CampaignRow, RotationAction, StagePhase, StageRow};
use crate::tui::widgets::table::render_table;
use crate::tui::widgets::{Glyphs, Paint, progress_bar};

impl RotationView {
    /// Draws the view.
    pub fn render(&self, frame: &mut Frame, area: Rect, paint: &Paint, campaigns: &[CampaignRow]) {
        let Some(campaign) = self.selected(campaigns) else {
            let empty = Paragraph::new(vec![
                Line::from("No rotation campaign in this environment."),
                Line::from(""),
                Line::from("  fleetid rotate plan FILE     stages and device counts, no call"),
                Line::from("  fleetid rotate start FILE    create the campaign, start stage 1"),
                Line::from(""),
                Line::styled(
                    "Campaigns started from the CLI show here as they run (docs/rotation.md).",
                    paint.theme.style("ui.text.dim"),
                ),
            ])
            .block(paint.block(" Rotation ", true));
            frame.render_widget(empty, area);
            return;
        };
        let list_height = u16::try_from(campaigns.len().min(5)).unwrap_or(5) + 3;
        let stages_height = u16::try_from(campaign.stages.len()).unwrap_or(3) + 4;
        let [list, stages, evidence, keys] = Layout::vertical([
            Constraint::Length(list_height),
            Constraint::Length(stages_height),
            Constraint::Min(4),
            Constraint::Length(1),
        ])
        .areas(area);
        self.render_campaigns(frame, list, paint, campaigns);
        let at = self.stage_index(campaign);
        render_stages(frame, stages, paint, campaign, at);
        if let Some(stage) = campaign.stages.get(at) {
            self.render_evidence(frame, evidence, paint, campaign, stage);
        }
        render_keys(frame, keys, paint, campaign);
    }

    fn render_campaigns(
        &self,
        frame: &mut Frame,
        area: Rect,
        paint: &Paint,
        campaigns: &[CampaignRow],
    ) {
        let header = Row::new(["campaign", "state", "on new cert", "stage", "why"]);
        let widths = [
            Constraint::Length(16),
            Constraint::Length(18),
            Constraint::Length(18),
            Constraint::Length(5),
            Constraint::Min(10),
        ];
        let block = paint.block(
            format!(" Rotation: {} ", count(campaigns.len() as u64, "campaign")),
            self.focus == Focus::Campaigns,
        );
        render_table(
            frame,
            area,
            paint,
            block,
            header,
            &widths,
            campaigns.len(),
            &self.campaigns,
            |i| {
                let c = &campaigns[i];
                let (all, done) = c.progress();
                let current = c
                    .stages
                    .get(c.current().unwrap_or(0))
                    .map_or(0, |s| s.number);
                Row::new(vec![
                    Cell::from(c.id.safe().into_owned()),
                    Cell::from(Span::styled(
                        overall_label(c.overall),
                        paint.theme.style(overall_scope(c.overall)),
                    )),
                    Cell::from(format!("{done}/{all} ({})", share(done as u64, all as u64))),
                    Cell::from(format!("{current}/{}", c.stages.len())),
                    Cell::from(
                        c.stopped
                            .as_ref()
                            .map(|s| s.safe().into_owned())
                            .unwrap_or_default(),
                    ),
                ])
            },
        );
    }

    fn render_evidence(
        &self,
        frame: &mut Frame,
        area: Rect,
        paint: &Paint,
        campaign: &CampaignRow,
        stage: &StageRow,
    ) {
        let c = &stage.counts;
        let theme = paint.theme;
        let success = c.success_percent();
        let failure = c.failure_percent();
        let success_scope = if success >= campaign.min_success {
            "status.active"
        } else {
            "severity.medium"
        };
        let failure_scope = if failure > campaign.max_failure {
            "severity.critical"
        } else {
            "status.active"
        };
        let no_execution = c
            .devices
            .saturating_sub(c.executions.values().sum::<usize>());
        let mut jobs = Vec::new();
        if no_execution > 0 {
            jobs.push(format!("{no_execution} not yet"));
        }
        jobs.push(format!(
            "{} queued · {} running · {} ok · {} failed · {} timed out · {} rejected",
            c.in_status(Execution::Queued),
            c.in_status(Execution::InProgress),
            c.in_status(Execution::Succeeded),
            c.in_status(Execution::Failed),
            c.in_status(Execution::TimedOut),
            c.in_status(Execution::Rejected),
        ));
        if c.set_aside > 0 {
            jobs.push(format!("{} set aside", c.set_aside));
        }
        let mut lines = vec![
            Line::from(vec![
                Span::raw("new certificate "),
                Span::styled(percent(success), theme.style(success_scope)),
                Span::raw(format!(
                    " (needs {}) · failed ",
                    percent(campaign.min_success)
                )),
                Span::styled(percent(failure), theme.style(failure_scope)),
                Span::raw(format!(" (halts over {})", percent(campaign.max_failure))),
            ]),
            Line::from(format!(
                "agent reported {} · seen connecting {} · registry only {} · both {}",
                c.reported, c.seen_connecting, c.registry_only, c.on_new
            )),
            Line::from(format!("jobs: {}", jobs.join(" · "))),
        ];
        if let StagePhase::Soaking { until } = stage.phase {
            lines.push(Line::from(format!(
                "soaking until {} ({})",
                timestamp(until),
                relative(paint.now, until)
            )));
        }
        let title = format!(
            " Stage {} of {}: {} ",
            stage.number,
            campaign.id.safe(),
            count(c.devices as u64, "device")
        );
        let block = paint.block(title, self.focus != Focus::Campaigns);
        let inner = block.inner(area);
        frame.render_widget(block, area);
        let text_height = u16::try_from(lines.len()).unwrap_or(4);
        let [text, list] =
            Layout::vertical([Constraint::Length(text_height), Constraint::Min(0)]).areas(inner);
        frame.render_widget(Paragraph::new(lines).style(theme.style("ui.text")), text);
        if stage.reasons.is_empty() {
            frame.render_widget(
                Paragraph::new(Line::styled(
                    "no failure reported",
                    theme.style("ui.text.dim"),
                )),
                list,
            );
            return;
        }
        if self.focus == Focus::Devices
            && let Some(reason) = stage.reasons.get(self.reasons.selected())
        {
            let block = Block::new().title(Line::styled(
                format!(
                    "{}: {} (Enter opens one, Esc back)",
                    reason.reason.safe(),
                    count(reason.things.len() as u64, "device")
                ),
                theme.style("ui.title"),
            ));
            render_table(
                frame,
                list,
                paint,
                block,
                Row::new(["thing"]),
                &[Constraint::Min(10)],
                reason.things.len(),
                &self.devices,
                |i| Row::new(vec![Cell::from(reason.things[i].safe().into_owned())]),
            );
            return;
        }
        let block = Block::new().title(Line::styled(
            "failure reasons (Enter lists the devices)",
            theme.style(if self.focus == Focus::Reasons {
                "ui.title"
            } else {
                "ui.text.dim"
            }),
        ));
        render_table(
            frame,
            list,
            paint,
            block,
            Row::new(["devices", "reason"]),
            &[Constraint::Length(8), Constraint::Min(10)],
            stage.reasons.len(),
            &self.reasons,
            |i| {
                let r = &stage.reasons[i];
                Row::new(vec![
                    Cell::from(r.things.len().to_string()),
                    Cell::from(r.reason.safe().into_owned()),
                ])
            },
        );
    }
}

fn overall_scope(overall: Overall) -> &'static str {
    match overall {
        Overall::Running => "status.pending",
        Overall::AwaitingPromotion => "severity.medium",
        Overall::Halted => "severity.critical",
        Overall::Aborted => "status.revoked",
        Overall::Done | Overall::Finalized => "status.active",
    }
}

/// The pipeline line and one row per stage with its bar.
fn render_stages(frame: &mut Frame, area: Rect, paint: &Paint, campaign: &CampaignRow, at: usize) {
    let theme = paint.theme;
    let arrow = match paint.glyphs {
        Glyphs::Unicode => " ▸ ",
        Glyphs::Ascii => " > ",
    };
    let mut pipeline = Vec::new();
    if let Some(next) = &campaign.next_ca {
        // Stage 0 of a campaign onto another CA: the next trust anchor first.
        pipeline.push(Span::styled(
            format!(
                "anchor {}/{} ({}), on the new CA {}",
                next.holding_anchor,
                next.devices,
                share(next.holding_anchor as u64, next.devices as u64),
                share(next.on_new_ca as u64, next.devices as u64)
            ),
            theme.style("ui.text"),
        ));
        pipeline.push(Span::styled(arrow, theme.style("ui.text.dim")));
    }
    for (i, stage) in campaign.stages.iter().enumerate() {
        if i > 0 {
            pipeline.push(Span::styled(arrow, theme.style("ui.text.dim")));
        }
        let mut style = theme.style(stage.phase.scope());
        if i == at {
            style = style.patch(theme.style("ui.cursor"));
        }
        pipeline.push(Span::styled(
            format!("{} {}", stage.number, stage.phase.label()),
            style,
        ));
    }
    let title = format!(
        " Stages: pass at {} new, halt over {} failed, {} ",
        percent(campaign.min_success),
        percent(campaign.max_failure),
        if campaign.auto_promote {
            "auto-promote"
        } else {
            "promoted by hand"
        }
    );
    let block = paint.block(title, false);
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let [line, table] = Layout::vertical([Constraint::Length(1), Constraint::Min(0)]).areas(inner);
    frame.render_widget(Paragraph::new(Line::from(pipeline)), line);
    let wide = inner.width >= 100;
    let bar_width = if wide { 20 } else { 10 };
    let mut header = vec!["stage", "share", "phase", "progress", "new/all", "failed"];
    let mut widths = vec![
        Constraint::Length(5),
        Constraint::Length(5),
        Constraint::Length(21),
        Constraint::Length(bar_width + 2),
        Constraint::Length(11),
        Constraint::Length(6),
    ];
    if wide {
        header.extend([
            "queued",
            "running",
            "timed out",
            "rejected",
            "agent",
            "seen",
        ]);
        widths.extend([7, 7, 9, 8, 7, 7].map(Constraint::Length));
    }
    let rows: Vec<Row> = campaign
        .stages
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let c = &s.counts;
            let finished = c.on_new + c.failed;
            let mut cells = vec![
                Cell::from(s.number.to_string()),
                Cell::from(format!("{} %", s.cumulative_percent)),
                Cell::from(Span::styled(s.phase.label(), theme.style(s.phase.scope()))),
                Cell::from(progress_bar(
                    finished,
                    c.devices,
                    usize::from(bar_width),
                    paint.glyphs,
                )),
                Cell::from(format!("{}/{}", c.on_new, c.devices)),
                Cell::from(c.failed.to_string()),
            ];
            if wide {
                for n in [
                    c.in_status(Execution::Queued),
                    c.in_status(Execution::InProgress),
                    c.in_status(Execution::TimedOut),
                    c.in_status(Execution::Rejected),
                    c.reported,
                    c.seen_connecting + c.registry_only,
                ] {
                    cells.push(Cell::from(n.to_string()));
                }
            }
            let row = Row::new(cells);
            if i == at {
                row.style(theme.style("ui.cursor"))
            } else {
                row
            }
        })
        .collect();
    let widget = ratatui::widgets::Table::new(rows, widths)
        .header(Row::new(header).style(theme.style("ui.header")))
        .style(theme.style("ui.text"))
        .column_spacing(1);
    frame.render_widget(widget, table);
}

/// The steps and whether each applies now.
fn render_keys(frame: &mut Frame, area: Rect, paint: &Paint, campaign: &CampaignRow) {
    let steps = [
        ("P", "promote", RotationAction::Promote(0)),
        (
            "H",
            "halt",
            RotationAction::Halt {
                reason: String::new(),
            },
        ),
        (
            "U",
            "resume",
            RotationAction::Resume {
                reason: String::new(),
            },
        ),
        (
            "X",
            "abort",
            RotationAction::Abort {
                reason: String::new(),
            },
        ),
        (
            "F",
            "finalize",
            RotationAction::Finalize { certificates: 0 },
        ),
    ];
    let mut spans = Vec::new();
    for (key, verb, action) in steps {
        let applies = allowed(campaign, &action, paint.now).is_ok();
        let scope = if applies {
            "ui.help.key"
        } else {
            "ui.text.dim"
        };
        spans.push(Span::styled(key, paint.theme.style(scope)));
        spans.push(Span::styled(
            format!(" {verb}  "),
            paint
                .theme
                .style(if applies { "ui.text" } else { "ui.text.dim" }),
        ));
    }
    spans.push(Span::styled(
        "h/l stage  Enter failures",
        paint.theme.style("ui.text.dim"),
    ));
    frame.render_widget(Paragraph::new(Line::from(spans)), area);
}
