//! The harness's own checks can fail: axe-core finds the violations of a page built to have
//! them, and the narrow-screen checks find what sticks out at 390 px and text squeezed into a
//! one-character column.

use crate::harness::{self, Browser, axe, shots};

#[test]
fn the_accessibility_and_narrow_screen_checks_catch_problems() {
    harness::run("harness_checks", || async {
        let b = Browser::open("http://127.0.0.1:9").await;
        b.goto(
            "data:text/html;charset=utf-8,<!doctype html><html lang=\"ja\"><title>t</title>\
             <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
             <main><h1>見本</h1><img src=\"data:,\"><button></button>\
             <div style=\"width:600px\">横に広い</div></main></html>",
        )
        .await;
        let found = axe::violations(&b.client).await.join("\n");
        if !found.is_empty() || harness::driver::required() {
            assert!(
                found.contains("image-alt"),
                "axe reports the image: {found}"
            );
            assert!(
                found.contains("button-name"),
                "axe reports the button: {found}"
            );
        }
        shots::set_width(&b.client, 390).await;
        let wide = shots::overflow(&b.client).await;
        shots::set_width(&b.client, shots::DESKTOP).await;
        let wide = wide.expect("a 600 px box does not fit 390 px");
        assert!(wide.contains("div"), "{wide}");
        // Text in a box one character wide (what a caption left as `table-caption` inside a
        // stacked table became on the receipt), padding and all.
        b.goto(
            "data:text/html;charset=utf-8,<!doctype html><html lang=\"ja\"><title>t</title>\
             <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
             <p style=\"width:1em;padding:0 16px\">届いた自治体（1か所）</p></html>",
        )
        .await;
        shots::set_width(&b.client, 390).await;
        let squeezed = shots::squeezed(&b.client).await;
        shots::set_width(&b.client, shots::DESKTOP).await;
        let squeezed = squeezed.expect("text one character wide is reported");
        assert!(squeezed.contains("届いた自治体"), "{squeezed}");
        b.goto("data:text/html;charset=utf-8,<p>狭い画面にも収まる</p>")
            .await;
        shots::set_width(&b.client, 390).await;
        assert_eq!(shots::overflow(&b.client).await, None);
        assert_eq!(shots::squeezed(&b.client).await, None);
        shots::set_width(&b.client, shots::DESKTOP).await;
    });
}
