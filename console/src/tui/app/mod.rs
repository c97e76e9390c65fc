//! The app: owns the views, the overlays and the current snapshot; turns keys into commands
//! and commands into actions; knows nothing of the terminal (the event loop drives it, tests
//! drive it directly).

mod palette;
mod render;
mod updates;

use ratatui::crossterm::event::{KeyEvent, MouseEvent, MouseEventKind};

use super::action::{Action, Outcome, ViewId};
use super::data::{
    Confirmable, FleetSnapshot, MutationRequest, OpProgress, Refusal, TuiRequest, UnixSeconds,
};
use super::filter::{FilterJob, FilterResult};
use super::keymap::{Command, Keymap};
use super::theme::{Theme, ThemeSet};
use super::views::{
    anomalies::AnomalyView, audit::AuditView, cas::CaView, dashboard::DashboardView,
    detail::DetailView, devices::DeviceView, heatmap::HeatmapView, operations::OperationsView,
    rotation::RotationView,
};
use super::widgets::banner::Environment;
use super::widgets::confirm::ConfirmDialog;
use super::widgets::help::HelpOverlay;
use super::widgets::input::{InputEvent, TextInput};
use super::widgets::palette::CommandPalette;
use super::widgets::{Glyphs, Paint};
use crate::safe_text::SafeText;

/// Live anomalies kept in memory; older ones drop off the feed.
const MAX_ANOMALIES: usize = 10_000;

/// Everything the app needs that does not change while it runs (except the theme, which
/// `:theme` may switch).
#[derive(Debug, Clone)]
pub struct AppSettings {
    /// Key bindings.
    pub keymap: Keymap,
    /// Known themes (for `:theme`).
    pub themes: ThemeSet,
    /// The theme in use.
    pub theme: Theme,
    /// Whether `NO_COLOR` is in force (themes switched to stay colourless).
    pub no_colour: bool,
    /// Border and glyph set.
    pub glyphs: Glyphs,
    /// The environment for the banner.
    pub environment: Environment,
    /// Refuse every mutation.
    pub read_only: bool,
}

/// An overlay over the current view.
#[derive(Debug, Clone)]
enum Overlay {
    Help(HelpOverlay),
    Palette(CommandPalette),
    Confirm(ConfirmDialog),
}

/// The whole state of the console's screen.
#[derive(Debug)]
pub struct App {
    settings: AppSettings,
    snapshot: FleetSnapshot,
    view: ViewId,
    history: Vec<ViewId>,
    dashboard: DashboardView,
    heatmap: HeatmapView,
    cas: CaView,
    anomalies: AnomalyView,
    devices: DeviceView,
    detail: DetailView,
    audit: AuditView,
    rotation: RotationView,
    operations: OperationsView,
    overlay: Option<Overlay>,
    filter_input: Option<TextInput>,
    status: Option<(SafeText<'static>, bool)>,
    /// An operation applying now (its bar replaces the status line until it ends).
    operation: Option<OpProgress>,
    now: UnixSeconds,
    quit: bool,
    requests: Vec<TuiRequest>,
    /// Whether older audit entries may exist (until a page answers that none do).
    audit_more: bool,
    /// An older audit page was asked for and has not arrived.
    audit_asked: bool,
}

impl App {
    /// An app showing `snapshot` at time `now`, on the dashboard.
    #[must_use]
    pub fn new(settings: AppSettings, snapshot: FleetSnapshot, now: UnixSeconds) -> Self {
        let mut devices = DeviceView::default();
        devices.set_loading(snapshot.devices_loading);
        devices.set_table(&snapshot.devices);
        let snapshot_audit_empty = snapshot.audit.is_empty();
        Self {
            settings,
            snapshot,
            view: ViewId::Dashboard,
            history: Vec::new(),
            dashboard: DashboardView::default(),
            heatmap: HeatmapView::default(),
            cas: CaView::default(),
            anomalies: AnomalyView::default(),
            devices,
            detail: DetailView::default(),
            audit: AuditView::default(),
            rotation: RotationView::default(),
            operations: OperationsView::default(),
            overlay: None,
            filter_input: None,
            status: None,
            operation: None,
            now,
            quit: false,
            requests: Vec::new(),
            audit_more: !snapshot_audit_empty,
            audit_asked: false,
        }
    }

    /// The view shown.
    #[must_use]
    pub fn view(&self) -> ViewId {
        self.view
    }

    /// Whether the user asked to quit.
    #[must_use]
    pub fn should_quit(&self) -> bool {
        self.quit
    }

    /// The status line's message, if any.
    #[must_use]
    pub fn status(&self) -> Option<&str> {
        self.status.as_ref().map(|(text, _)| text.as_str())
    }

    /// The device view (for tests and benchmarks).
    #[must_use]
    pub fn devices(&self) -> &DeviceView {
        &self.devices
    }

    /// Sets "now" (ages, countdowns, suppression expiry); `true` when the second changed.
    pub fn set_now(&mut self, now: UnixSeconds) -> bool {
        let changed = now != self.now;
        self.now = now;
        changed
    }

    /// Requests for the side that owns the model (detail lookups, confirmed mutations).
    pub fn take_requests(&mut self) -> Vec<TuiRequest> {
        std::mem::take(&mut self.requests)
    }

    /// The confirmed mutations among the pending requests (tests); the rest stay queued.
    pub fn take_mutations(&mut self) -> Vec<MutationRequest> {
        let mut mutations = Vec::new();
        self.requests.retain(|r| match r {
            TuiRequest::Confirmed(Confirmable::Mutation(m)) => {
                mutations.push(m.clone());
                false
            }
            _ => true,
        });
        mutations
    }

    /// The filter run to start, if any (the loop hands it to the filter thread).
    pub fn take_filter_job(&mut self) -> Option<FilterJob> {
        self.devices.take_job()
    }

    /// A finished filter run.
    pub fn on_filter_result(&mut self, result: FilterResult) -> bool {
        self.devices.apply(result)
    }

    /// Mouse events (only delivered with `--mouse`): the wheel scrolls the device table.
    pub fn on_mouse(&mut self, event: MouseEvent) {
        if self.view == ViewId::Devices {
            match event.kind {
                MouseEventKind::ScrollDown => self.devices.scroll_by(3),
                MouseEventKind::ScrollUp => self.devices.scroll_by(-3),
                _ => {}
            }
        }
    }

    fn paint(&self) -> Paint<'_> {
        Paint {
            theme: &self.settings.theme,
            glyphs: self.settings.glyphs,
            now: self.now,
        }
    }

    /// A key press: overlays first, then the `/` input, then the keymap.
    pub fn on_key(&mut self, key: KeyEvent) {
        if let Some(overlay) = &mut self.overlay {
            let outcome = match overlay {
                Overlay::Help(help) => help.handle_key(key),
                Overlay::Palette(palette) => palette.handle_key(key),
                Overlay::Confirm(confirm) => confirm.handle_key(key),
            };
            match outcome {
                Outcome::Close => self.overlay = None,
                Outcome::Action(action) => {
                    self.overlay = None;
                    self.act(action);
                }
                Outcome::Consumed | Outcome::Ignored => {}
            }
            return;
        }
        if let Some(input) = &mut self.filter_input {
            let event = input.handle_key(key);
            let text = input.text().to_owned();
            match event {
                InputEvent::Changed => self.set_filter(&text),
                InputEvent::Submit => self.filter_input = None,
                InputEvent::Cancel => {
                    self.filter_input = None;
                    self.set_filter("");
                }
                InputEvent::Complete | InputEvent::Unchanged => {}
            }
            return;
        }
        if let Some(command) = self.settings.keymap.command_for(key) {
            self.command(command);
        }
    }

    fn filter_text(&self) -> Option<&str> {
        match self.view {
            ViewId::Devices => Some(&self.devices.query().text),
            ViewId::Anomalies => Some(self.anomalies.filter()),
            ViewId::Audit => Some(self.audit.filter()),
            _ => None,
        }
    }

    fn set_filter(&mut self, text: &str) {
        match self.view {
            ViewId::Devices => self.devices.set_text(text),
            ViewId::Anomalies => self.anomalies.set_filter(text),
            ViewId::Audit => self.audit.set_filter(text),
            _ => {}
        }
    }

    /// Runs a keymap command (also reached from the palette).
    pub fn command(&mut self, command: Command) {
        self.status = None;
        match command {
            Command::Quit => self.quit = true,
            Command::Help => {
                self.overlay = Some(Overlay::Help(HelpOverlay::new(
                    &self.settings.keymap,
                    self.settings.read_only,
                    self.settings.environment.frozen,
                )));
            }
            Command::Palette => self.open_palette(""),
            Command::Filter => match self.filter_text() {
                Some(text) => self.filter_input = Some(TextInput::with_text(text)),
                None => {
                    self.notify("this view has no filter; / works in Anomalies, Devices, Audit");
                }
            },
            Command::Back => self.back(),
            Command::NextView | Command::PrevView => {
                let tabs = ViewId::TABS;
                let at = tabs.iter().position(|v| *v == self.view).unwrap_or(4);
                let next = if command == Command::NextView {
                    (at + 1) % tabs.len()
                } else {
                    (at + tabs.len() - 1) % tabs.len()
                };
                self.show(tabs[next]);
            }
            Command::View(ViewId::Detail) => {
                let thing = self.detail.thing().into();
                self.act(Action::OpenDevice(thing));
            }
            Command::View(view) => self.show(view),
            other => {
                let paint = Paint {
                    theme: &self.settings.theme,
                    glyphs: self.settings.glyphs,
                    now: self.now,
                };
                let outcome = match self.view {
                    ViewId::Dashboard => Outcome::Ignored,
                    ViewId::Heatmap => self.heatmap.handle(other, &self.snapshot),
                    ViewId::CaChains => self.cas.handle(other, &self.snapshot, &paint),
                    ViewId::Anomalies => self.anomalies.handle(other, &self.snapshot, self.now),
                    ViewId::Devices => self.devices.handle(other),
                    ViewId::Detail => self.detail.handle(other, &self.snapshot),
                    ViewId::Audit => {
                        let outcome = self.audit.handle(other, &self.snapshot);
                        self.ask_for_older_audit();
                        outcome
                    }
                    ViewId::Rotation => {
                        self.rotation
                            .handle(other, &self.snapshot.campaigns, self.now)
                    }
                    ViewId::Operations => self.operations.handle(other, &self.snapshot.operations),
                };
                if let Outcome::Action(action) = outcome {
                    self.act(action);
                }
            }
        }
    }

    fn back(&mut self) {
        if self.view == ViewId::Rotation && self.rotation.back() {
            return;
        }
        if self.filter_text().is_some_and(|t| !t.is_empty()) {
            self.set_filter("");
        } else if self.view == ViewId::Devices && !self.devices.query().is_empty() {
            self.devices.set_query(Default::default());
        } else if let Some(previous) = self.history.pop() {
            self.view = previous;
        }
    }

    fn show(&mut self, view: ViewId) {
        if view != self.view {
            self.history.push(self.view);
            if self.history.len() > 32 {
                self.history.remove(0);
            }
            self.view = view;
        }
    }

    fn notify(&mut self, text: &str) {
        self.status = Some((SafeText::new(text).into_owned(), false));
    }

    fn error(&mut self, text: String) {
        self.status = Some((SafeText::from_string(text), true));
    }

    fn open_palette(&mut self, text: &str) {
        let candidates = self.palette_candidates();
        let (read_only, frozen) = (self.settings.read_only, self.settings.environment.frozen);
        let palette = CommandPalette::new(candidates, text).with_refusals(|candidate| {
            Command::from_name(candidate).and_then(|c| c.refusal(read_only, frozen))
        });
        self.overlay = Some(Overlay::Palette(palette));
    }

    /// Carries out what a view or overlay asked for.
    pub fn act(&mut self, action: Action) {
        match action {
            Action::Show(view) => self.show(view),
            Action::OpenDevice(thing) => {
                if !self.detail.open(thing.clone(), &self.snapshot) {
                    self.requests.push(TuiRequest::Detail(thing));
                }
                self.show(ViewId::Detail);
            }
            Action::ShowDevices(query) => {
                self.devices.set_query(query);
                self.show(ViewId::Devices);
            }
            Action::Confirm(request) => {
                let dialog = ConfirmDialog::new(request, self.settings.read_only);
                self.overlay = Some(Overlay::Confirm(dialog));
            }
            Action::Request(request) => {
                let what = request.describe();
                if self.settings.read_only {
                    self.error(format!("read-only: refused {what}"));
                    self.requests.push(TuiRequest::Declined {
                        request,
                        refusal: Refusal::ReadOnly,
                    });
                } else {
                    self.notify(&format!("requested {what}"));
                    self.requests.push(TuiRequest::Confirmed(request));
                }
            }
            Action::Cancel(request) => {
                self.notify(&format!(
                    "cancelled {}; nothing was changed",
                    request.describe()
                ));
                self.requests.push(TuiRequest::Declined {
                    request,
                    refusal: Refusal::Cancelled,
                });
            }
            Action::Triage(change) => self.requests.push(TuiRequest::Triage(change)),
            Action::PaletteWith(text) => self.open_palette(&text),
            Action::Run(text) => self.run(&text),
            Action::Notify(text) => self.notify(&text),
        }
    }
}
