//! The views fed from the real model (the model's synthetic fleet through `tui::feed`),
//! including the detail request/answer round trip the event loop performs.

mod tui_support;

use fleetid::model::synthetic::fleet_updates;
use fleetid::model::{FleetState, UnixTime};
use fleetid::tui::app::App;
use fleetid::tui::data::{TuiRequest, TuiUpdate};
use fleetid::tui::feed::{device_detail, snapshot};
use fleetid::tui::settings;
use ratatui::crossterm::event::KeyCode;
use tui_support::{NOW, options, press, render, text};

fn model_app() -> (App, FleetState) {
    let mut state = FleetState::new();
    for update in fleet_updates(400, UnixTime(NOW), 100) {
        state.apply(update);
    }
    let settings = settings(&options(false, true)).unwrap_or_else(|e| panic!("{e}"));
    let app = App::new(settings, snapshot(&state, UnixTime(NOW)), NOW);
    (app, state)
}

#[test]
fn model_views_at_80x24() {
    let (mut app, _) = model_app();
    for (name, key) in [
        ("dashboard", '1'),
        ("heatmap", '2'),
        ("cas", '3'),
        ("anomalies", '4'),
        ("devices", '5'),
    ] {
        press(&mut app, KeyCode::Char(key));
        insta::assert_snapshot!(format!("model_{name}_80x24"), text(&render(&app, 80, 24)));
    }
}

#[test]
fn the_detail_is_asked_for_and_shown_when_it_arrives() {
    let (mut app, state) = model_app();
    press(&mut app, KeyCode::Char('5'));
    press(&mut app, KeyCode::Char('j'));
    press(&mut app, KeyCode::Enter);
    assert!(text(&render(&app, 80, 24)).contains("looking up this device"));
    let requests = app.take_requests();
    let [TuiRequest::Detail(thing)] = requests.as_slice() else {
        panic!("expected one detail request, got {requests:?}");
    };
    assert_eq!(&**thing, "dev-0000001");
    let detail = device_detail(&state, thing, UnixTime(NOW)).unwrap_or_else(|| panic!("known"));
    app.on_update(TuiUpdate::Detail(Box::new(detail)));
    insta::assert_snapshot!("model_detail_80x24", text(&render(&app, 80, 24)));
}
