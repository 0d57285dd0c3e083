//! The template engine: a string template parsed and rendered against a
//! user, and the same input as a JSON body template.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rand::{rngs::SmallRng, SeedableRng};
use records::template::{Context, JsonTemplate, Template};
use records::User;

const USER: &str = r#"{"user":"u1@example.com","password":"pw","token":"tok","refresh_token":"rt","expires_at":1764000000,"vars":{"task_ids":["17","18"],"empty":[],"name":"x"},"cookies":{"session":"s"}}"#;

fuzz_target!(|text: &str| {
    let user: User = serde_json::from_str(USER).unwrap();
    let mut rng = SmallRng::seed_from_u64(7);
    if let Ok(t) = Template::parse(text) {
        let _ = (t.is_literal(), t.uses_token(), t.vars().count());
        let mut ctx = Context::new(&user, &mut rng);
        ctx.n = 3;
        ctx.i = 2;
        let _ = t.render(&mut ctx);
        let _ = t.render(&mut ctx);
    }
    if let Ok(value) = serde_json::from_str::<serde_json::Value>(text) {
        if let Ok(jt) = JsonTemplate::parse(&value) {
            let mut ctx = Context::new(&user, &mut rng);
            let _ = jt.render(&mut ctx);
        }
    }
});
