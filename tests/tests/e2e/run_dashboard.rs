//! `bindery run --dashboard` in a real browser: headless Chromium opens the
//! page while schedules fire, one acknowledged and one failing, and the DOM
//! shows each binding's counts and last error and the latest events as the
//! server-sent events bring them; a screenshot of it is taken too.

use bindery_e2e::browser::Browser;
use bindery_e2e::{RecordingApp, Reply, unused_port};

use crate::common::{ComponentsDir, SECOND, bindery_run, cron_component};

#[tokio::test(flavor = "multi_thread")]
async fn the_dashboard_shows_each_binding_and_the_latest_events_live() {
    let app = RecordingApp::start().await;
    app.set_reply(|request| if request.path == "/fails" { Reply::Status(500) } else { Reply::Status(200) });
    let dir = ComponentsDir::new();
    dir.write("ticks.yaml", &cron_component("ticks", "* * * * * *", &[]));
    dir.write("fails.yaml", &cron_component("fails", "* * * * * *", &[]));
    let port = unused_port().to_string();
    let (bindery, _) = bindery_run(&dir, &app.url(), &[("BINDERY_DASHBOARD", &port)], "dashboard on http://").await;
    let url = format!("http://127.0.0.1:{port}/");
    assert!(bindery.logs().contains(&format!("dashboard on {url}")), "{}", bindery.logs());
    let browser = Browser::start().await;
    browser.open(&url).await;
    // What the page shows on opening, then two more of each, which only the
    // stream can have brought.
    let count = r#"const count = (b, c) => Number(document.querySelector(`tr[data-binding="${b}"] td.${c}`)?.textContent || 0);"#;
    let shown = browser.run(&format!("{count} return [count('ticks', 'delivered'), count('fails', 'failed')];")).await;
    let (delivered, failed) = (shown[0].as_u64().unwrap(), shown[1].as_u64().unwrap());
    let ready = format!(
        "{count} return count('ticks', 'delivered') >= {} && count('fails', 'failed') >= {};",
        delivered + 2,
        failed + 2
    );
    let dom = browser.html_when(&ready, 10 * SECOND).await;
    assert_eq!(browser.run(&ready).await, true, "two more of each, live: {dom}");
    assert!(dom.contains(r#"<span id="status">live</span>"#), "the page's stream is open: {dom}");
    let row = |binding: &str| {
        let start =
            dom.find(&format!(r#"<tr data-binding="{binding}">"#)).unwrap_or_else(|| panic!("no row {binding}: {dom}"));
        dom[start..].split("</tr>").next().unwrap().to_owned()
    };
    let (ticks, fails) = (row("ticks"), row("fails"));
    let number = |row: &str, class: &str| -> u64 {
        let cell = row.split(&format!(r#"class="{class}">"#)).nth(1).unwrap_or_else(|| panic!("no {class} in {row}"));
        cell.split('<').next().unwrap().parse().unwrap_or_else(|_| panic!("{class} of {row}"))
    };
    assert!(number(&ticks, "number delivered") >= 2, "{ticks}");
    assert!(ticks.contains(r#"<td class="number">0</td>"#), "no failure: {ticks}");
    assert!(number(&fails, "number failed") >= 2, "{fails}");
    assert!(fails.contains(r#"<td class="failed last-error">500</td>"#), "its last error: {fails}");
    assert!(fails.contains("<td class=\"number\">0 B</td>"), "a schedule's payload is empty: {fails}");
    let events = dom.split(r#"<tbody id="events">"#).nth(1).unwrap().split("</tbody>").next().unwrap();
    assert!(events.contains(r#"<tr data-binding="ticks" class="ok">"#), "{events}");
    assert!(events.contains(r#"<tr data-binding="fails" class="failed">"#), "{events}");
    assert!(events.contains("✗ 500") && events.contains("✓ acked") && events.contains(" ms</td>"), "{events}");

    let png = browser.screenshot().await;
    assert!(png.starts_with(b"\x89PNG\r\n\x1a\n") && png.len() > 5_000, "a screenshot of {} bytes", png.len());
    let shot = std::env::temp_dir().join("bindery-dashboard.png");
    std::fs::write(&shot, &png).unwrap();
    eprintln!("the dashboard's screenshot: {}", shot.display());
}
