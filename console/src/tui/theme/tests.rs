//! Tests of theme loading: bundled themes, inheritance, fallback, errors, no colour.

use super::*;

#[test]
fn every_bundled_theme_resolves() {
    let set = ThemeSet::bundled();
    for (name, _) in BUNDLED {
        let theme = set.load(name).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(theme.name(), name);
    }
}

#[test]
fn selection_and_severity_are_readable_in_every_bundled_theme_without_colour() {
    let set = ThemeSet::bundled();
    for (name, _) in BUNDLED {
        let theme = set
            .load(name)
            .unwrap_or_else(|e| panic!("{e}"))
            .without_colour();
        for scope in [
            "ui.selection",
            "severity.critical",
            "severity.high",
            "severity.medium",
            "status.revoked",
            "status.flagged",
            "ui.read-only",
            "banner",
        ] {
            assert!(
                readable_without_colour(theme.style(scope)),
                "{name}: {scope} has no modifier: {:?}",
                theme.style(scope)
            );
        }
    }
}

#[test]
fn mono_has_no_colour_anywhere() {
    let theme = ThemeSet::bundled()
        .load("mono")
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(!theme.has_colour());
    for style in theme.styles.values() {
        assert_eq!(style.fg, None);
        assert_eq!(style.bg, None);
    }
    assert_eq!(theme.colour("red"), None);
}

#[test]
fn ansi16_uses_only_the_sixteen_ansi_colours() {
    let theme = ThemeSet::bundled()
        .load("ansi16")
        .unwrap_or_else(|e| panic!("{e}"));
    for (scope, style) in &theme.styles {
        for colour in [style.fg, style.bg].into_iter().flatten() {
            assert!(
                !matches!(colour, Color::Rgb(..) | Color::Indexed(_)),
                "{scope} uses {colour:?}"
            );
        }
    }
}

#[test]
fn no_colour_selects_mono_whatever_was_asked() {
    let theme = ThemeSet::bundled()
        .select("high-contrast", true)
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(theme.name(), "mono");
    assert!(!theme.has_colour());
}

#[test]
fn scopes_fall_back_to_their_parent() {
    let mut set = ThemeSet::bundled();
    set.add(
        "t",
        "t.toml",
        "inherits = \"none\"\n[scopes]\n\"ui\" = \"red\"\n\"ui.border\" = { fg = \"blue\" }\n",
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let theme = set.load("t").unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(theme.style("ui.border.focused").fg, Some(Color::Blue));
    assert_eq!(theme.style("ui.text").fg, Some(Color::Red));
    assert_eq!(theme.style("severity.high"), Style::new());
}

#[test]
fn a_child_palette_recolours_inherited_scopes() {
    let mut set = ThemeSet::bundled();
    set.add("child", "child.toml", "[palette]\naccent = \"magenta\"\n")
        .unwrap_or_else(|e| panic!("{e}"));
    let theme = set.load("child").unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(theme.style("ui.title").fg, Some(Color::Magenta));
    assert!(
        theme
            .style("ui.title")
            .add_modifier
            .contains(Modifier::BOLD)
    );
}

#[test]
fn an_unknown_colour_names_file_scope_and_colour() {
    let mut set = ThemeSet::bundled();
    set.add(
        "bad",
        "themes/bad.toml",
        "[scopes]\n\"ui.title\" = \"purpel\"\n",
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let err = set.load("bad").expect_err("purpel is no colour");
    assert_eq!(
        err.to_string(),
        "loading theme themes/bad.toml: scope \"ui.title\": unknown colour \"purpel\""
    );
}

#[test]
fn toml_errors_carry_the_line() {
    let mut set = ThemeSet::bundled();
    let err = set
        .add(
            "bad",
            "themes/bad.toml",
            "[palette]\nfg = \"#fff\"\nbg = \n",
        )
        .expect_err("not TOML");
    let text = err.to_string();
    assert!(text.starts_with("loading theme themes/bad.toml:"), "{text}");
    assert!(text.contains("line 3"), "{text}");
}

#[test]
fn unknown_keys_and_modifiers_are_refused() {
    let mut set = ThemeSet::bundled();
    assert!(set.add("x", "x.toml", "colour = true\n").is_err());
    set.add(
        "y",
        "y.toml",
        "[scopes]\n\"ui\" = { modifiers = [\"blink\"] }\n",
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let err = set.load("y").expect_err("blink is unknown");
    assert!(
        err.to_string().contains("unknown modifier \"blink\""),
        "{err}"
    );
}

#[test]
fn inheritance_loops_and_missing_parents_are_reported() {
    let mut set = ThemeSet::bundled();
    set.add("a", "a.toml", "inherits = \"b\"\n")
        .unwrap_or_else(|e| panic!("{e}"));
    set.add("b", "b.toml", "inherits = \"a\"\n")
        .unwrap_or_else(|e| panic!("{e}"));
    set.add("c", "c.toml", "inherits = \"nope\"\n")
        .unwrap_or_else(|e| panic!("{e}"));
    let looped = set.load("a").expect_err("loop").to_string();
    assert!(
        looped.contains("inheritance loops: a -> b -> a"),
        "{looped}"
    );
    let missing = set.load("c").expect_err("missing").to_string();
    assert!(missing.contains("no such theme"), "{missing}");
    let unknown = set.load("zzz").expect_err("unknown").to_string();
    assert!(unknown.contains("known: a, ansi16"), "{unknown}");
}

#[test]
fn every_file_in_the_themes_directory_loads() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../themes");
    let mut set = ThemeSet::bundled();
    set.add_dir(&dir).unwrap_or_else(|e| panic!("{e}"));
    let mut count = 0;
    for entry in std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{e}")) {
        let path = entry.unwrap_or_else(|e| panic!("{e}")).path();
        if path.extension().is_some_and(|ext| ext == "toml") {
            let name = path.file_stem().map(|s| s.to_string_lossy().into_owned());
            let name = name.unwrap_or_default();
            set.load(&name).unwrap_or_else(|e| panic!("{e}"));
            count += 1;
        }
    }
    assert!(
        count >= 4,
        "expected the four bundled themes, found {count}"
    );
}

#[test]
fn banner_colours_come_from_palette_or_literal() {
    let theme = ThemeSet::bundled()
        .load("default")
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(theme.colour("prod"), Some(Color::Rgb(0xd7, 0, 0)));
    assert_eq!(theme.colour("magenta"), Some(Color::Magenta));
    assert_eq!(theme.colour("nope"), None);
}
