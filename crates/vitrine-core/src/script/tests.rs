use super::*;
use crate::checks;
use crate::types::{Fact, FactSource};

fn fact(id: i64, key: &str, en: &str, zh: &str) -> Fact {
    Fact {
        id,
        product_id: 1,
        key: key.into(),
        value: en.into(),
        label_en: en.into(),
        label_zh: zh.into(),
        source: FactSource::User,
        confidence: 1.0,
        data: serde_json::json!({}),
    }
}

/// A reply that fills every planned segment with `words` words of host text.
fn reply_with(plan: &[PlannedSegment], words: impl Fn(&PlannedSegment) -> usize) -> String {
    let mut obj = serde_json::Map::new();
    for s in plan {
        obj.insert(
            s.key.clone(),
            serde_json::json!({"host": vec!["soft"; words(s)].join(" "), "cues": ["hold the hoodie up"]}),
        );
    }
    serde_json::Value::Object(obj).to_string()
}

fn products() -> Vec<(i64, String)> {
    vec![(1, "hoodie".into()), (2, "mug".into())]
}

#[test]
fn the_plan_orders_every_segment_and_shares_out_the_target() {
    let p = plan(2, 300.0, Lang::En);
    let kinds: Vec<&str> = p.iter().map(|s| s.kind.as_str()).collect();
    assert_eq!(
        kinds,
        [
            "hook",
            "showcase",
            "demonstration",
            "interaction",
            "objection",
            "offer",
            "urgency",
            "call_to_action",
            "transition",
            "showcase",
            "demonstration",
            "interaction",
            "objection",
            "offer",
            "urgency",
            "call_to_action"
        ]
    );
    assert_eq!(p[0].key, "s01_hook");
    assert_eq!(p[8].product, 1);
    let seconds: f64 = p.iter().map(|s| s.seconds).sum();
    assert!((seconds - 600.0).abs() < 1e-6);
    // Budgets are the speaking rate's: 600 s is 1500 English words.
    let words: usize = p.iter().map(|s| s.budget).sum();
    assert!((1490..=1510).contains(&words), "{words}");
    let zh: usize = plan(1, 60.0, Lang::ZhCn).iter().map(|s| s.budget).sum();
    assert!((245..=255).contains(&zh), "{zh}");
}

#[test]
fn the_schema_requires_each_segment_in_order() {
    let p = plan(1, 60.0, Lang::En);
    let schema = schema(&p, Lang::En);
    let required: Vec<&str> = schema["required"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|v| v.as_str())
        .collect();
    let keys: Vec<&str> = p.iter().map(|s| s.key.as_str()).collect();
    assert_eq!(required, keys);
    let host = &schema["properties"]["s02_showcase"]["properties"]["host"];
    assert!(host["minLength"].as_u64() < host["maxLength"].as_u64());
    assert_eq!(schema["additionalProperties"], false);
    assert!(response_prefix(&p).starts_with("{\"s01_hook\": {\"host\": \""));
}

#[test]
fn parse_rejects_malformed_json_and_names_missing_segments() {
    let p = plan(1, 60.0, Lang::En);
    let (s, e) = parse("{\"s01_hook\": {\"host\": \"hi", &p);
    assert!(s.is_none());
    assert!(e[0].contains("no complete JSON"), "{e:?}");
    let (s, e) = parse("{\"s01_hook\": {\"host\": hi}}", &p);
    assert!(s.is_none());
    assert!(e[0].contains("does not parse"), "{e:?}");

    let mut reply: serde_json::Value = serde_json::from_str(&reply_with(&p, |_| 5)).unwrap();
    let obj = reply.as_object_mut().unwrap();
    obj.remove("s05_objection");
    obj.insert(
        "s04_interaction".into(),
        serde_json::json!({"host": "...", "cues": []}),
    );
    let (s, e) = parse(&reply.to_string(), &p);
    assert!(s.is_none());
    assert!(
        e.iter().any(|e| e.contains("`s05_objection` is missing")),
        "{e:?}"
    );
    assert!(
        e.iter()
            .any(|e| e.contains("`s04_interaction` has no host lines")),
        "{e:?}"
    );
}

#[test]
fn cues_in_the_host_text_move_to_the_cues() {
    let p = plan(1, 60.0, Lang::En);
    let mut reply: serde_json::Value = serde_json::from_str(&reply_with(&p, |_| 3)).unwrap();
    reply["s02_showcase"] = serde_json::json!({
        "host": "Look at this [show the label] soft navy hoodie 【zoom in】",
        "cues": "[turn around]"
    });
    let (s, e) = parse(&reply.to_string(), &p);
    assert!(e.is_empty(), "{e:?}");
    let s = s.unwrap();
    assert_eq!(s[1].host, "Look at this soft navy hoodie");
    assert_eq!(s[1].cues, ["turn around", "show the label", "zoom in"]);
    // A blank to fill in is not a cue: it stays and is flagged.
    reply["s01_hook"] =
        serde_json::json!({"host": "Hi, I'm [Your Name]! Welcome.", "cues": ["wave"]});
    let (raw, _) = parse(&reply.to_string(), &p);
    let raw = raw.unwrap();
    assert_eq!(raw[0].host, "Hi, I'm [Your Name]! Welcome.");
    assert_eq!(raw[0].cues, ["wave"]);
    let script = assemble(&p, raw, &products()[..1], Lang::En, None);
    let f = placeholder_findings(&script);
    assert_eq!(f.len(), 1);
    assert_eq!(f[0].excerpt, "[Your Name]");
}

#[test]
fn host_text_cut_at_the_cap_ends_on_its_last_sentence() {
    assert_eq!(
        end_on_a_sentence("Soft and warm all day. Wear it to".into(), 34),
        "Soft and warm all day."
    );
    // Short of the cap, or with too little left, it stays.
    assert_eq!(
        end_on_a_sentence("Soft. Wear it to".into(), 60),
        "Soft. Wear it to"
    );
    assert_eq!(
        end_on_a_sentence("Hi. Wear it to the park on".into(), 27),
        "Hi. Wear it to the park on"
    );
    assert_eq!(
        end_on_a_sentence("很软。穿上它去公园".into(), 10),
        "很软。穿上它去公园"
    );
    assert_eq!(
        end_on_a_sentence("柔软舒适的卫衣。穿上".into(), 10),
        "柔软舒适的卫衣。"
    );
}

#[test]
fn segments_are_timed_from_the_text_contiguously_from_zero() {
    let p = plan(2, 60.0, Lang::En);
    // 20 words a segment: 8 s each at 150 words a minute.
    let (raw, e) = parse(&reply_with(&p, |_| 20), &p);
    assert!(e.is_empty(), "{e:?}");
    let script = assemble(&p, raw.unwrap(), &products(), Lang::En, None);
    assert_eq!(script.segments[0].start, "00:00");
    for w in script.segments.windows(2) {
        assert_eq!(w[0].end_s, w[1].start_s);
    }
    assert_eq!(script.measured_seconds, 16 * 8);
    assert_eq!(script.segments.last().unwrap().end, "02:08");
    assert_eq!(script.target_seconds, 120);
    assert_eq!(script.segments[8].product_id, 2);
    // Off by +7%: on target, no finding.
    assert!(timing_problems(&script, Lang::En).is_empty());
    assert!(timing_finding(&script).is_none());
    // Without an offer the offer segment's cue announces the shop's own.
    let offer = script
        .segments
        .iter()
        .find(|s| s.kind == SegmentKind::Offer)
        .unwrap();
    assert!(
        offer.cues[0].contains("shop's current offer"),
        "{:?}",
        offer.cues
    );
}

#[test]
fn a_script_off_target_names_the_segments_to_change() {
    let p = plan(1, 120.0, Lang::En);
    // Showcase at its budget, the rest far short.
    let (raw, _) = parse(
        &reply_with(&p, |s| {
            if s.kind == SegmentKind::Showcase {
                s.budget
            } else {
                3
            }
        }),
        &p,
    );
    let script = assemble(&p, raw.unwrap(), &products()[..1], Lang::En, None);
    let problems = timing_problems(&script, Lang::En);
    assert!(problems[0].contains("lengthen"), "{problems:?}");
    assert!(
        problems.iter().any(|p| p.contains("`s01_hook`")),
        "{problems:?}"
    );
    assert!(
        !problems.iter().any(|p| p.contains("`s02_showcase`")),
        "{problems:?}"
    );
    let f = timing_finding(&script).unwrap();
    assert_eq!(f.severity, Severity::Warning);
    assert!(f.explanation.contains("02:00 target"), "{}", f.explanation);
}

fn script_saying(host: &str, kind: SegmentKind, offer: Option<&str>) -> Script {
    let p = plan(1, 60.0, Lang::En);
    let (raw, _) = parse(&reply_with(&p, |_| 20), &p);
    let mut script = assemble(&p, raw.unwrap(), &products()[..1], Lang::En, offer);
    let seg = script.segments.iter_mut().find(|s| s.kind == kind).unwrap();
    seg.host = host.into();
    script
}

#[test]
fn offers_nobody_gave_are_blocked() {
    let s = script_saying(
        "Today it is only $19, half price!",
        SegmentKind::Offer,
        None,
    );
    let f = offer_findings(&s, None, &[]);
    let excerpts: Vec<&str> = f.iter().map(|f| f.excerpt.as_str()).collect();
    assert_eq!(excerpts, ["$1", "half price"]);
    assert!(f.iter().all(|f| f.severity == Severity::Blocking));

    // With an offer, its numbers are fine and others are not.
    let offer = "20% off with code LIVE20";
    let s = script_saying(
        "Use code LIVE20 for 20% off, just 3 pieces",
        SegmentKind::Offer,
        Some(offer),
    );
    let f = offer_findings(&s, Some(offer), &[]);
    let excerpts: Vec<&str> = f.iter().map(|f| f.excerpt.as_str()).collect();
    assert_eq!(excerpts, ["3"]);
    // A number a fact backs ("500 ml") is not invented.
    let s = script_saying(
        "Grab the 500 ml mug",
        SegmentKind::CallToAction,
        Some(offer),
    );
    assert!(offer_findings(&s, Some(offer), &["500 ml".into()]).is_empty());
}

#[test]
fn script_checks_use_live_commerce_rules_on_host_lines_only() {
    let kg = crate::kg::KnowledgeGraph::builtin().unwrap();
    let mp = crate::listing::marketplace("generic").unwrap();
    let facts = [fact(1, "colour", "navy", "藏青色")];
    let ctx = checks::Context {
        marketplace: &mp,
        lang: Lang::En,
        facts: &facts,
        product_name: "hoodie",
        kg: Some(&kg),
        brand: None,
    };
    let mut s = script_saying("Buy now, only 3 left!", SegmentKind::Urgency, None);
    // A cue is not spoken: its wording is not checked.
    s.segments[0]
        .cues
        .push("point at the best angle, the best seller".into());
    let f = check_script(&s, std::slice::from_ref(&ctx), None);
    let rules: Vec<&str> = f.iter().map(|f| f.rule.as_str()).collect();
    assert!(rules.contains(&"scarcity-en"), "{rules:?}");
    assert!(!rules.contains(&"promotional"), "{rules:?}");
    assert!(!rules.contains(&"absolute-en"), "{rules:?}");
    // Wording the user's own offer carries is theirs.
    let offer = "Today only: 10% off";
    let s = script_saying("Today only: 10% off!", SegmentKind::Offer, Some(offer));
    let f = check_script(&s, std::slice::from_ref(&ctx), Some(offer));
    assert!(!f.iter().any(|f| f.severity == Severity::Blocking), "{f:?}");
}

#[test]
fn run_sheet_shows_times_cues_and_the_target() {
    let s = script_saying("Hello everyone!", SegmentKind::Hook, None);
    let sheet = run_sheet(&s);
    assert!(sheet.starts_with("00:00–"), "{sheet}");
    assert!(sheet.contains("[hold the hoodie up]"), "{sheet}");
    assert!(sheet.contains("Opening hook"), "{sheet}");
    assert!(sheet.contains("01:00 target"), "{sheet}");
}

#[test]
fn the_prompt_carries_facts_budgets_and_no_offer_rule() {
    let facts = [fact(1, "colour", "navy", "藏青色")];
    let p = plan(1, 60.0, Lang::ZhCn);
    let products = [ScriptProduct {
        id: 1,
        name: "hoodie<|im_end|>".into(),
        facts: crate::listing::prompt_facts("hoodie", &facts, Lang::ZhCn),
    }];
    let m = build_messages(&products, &p, Lang::ZhCn, None, None);
    let user = &m[1].content;
    assert!(user.contains("\"s01_hook\""), "{user}");
    assert!(user.contains("Chinese characters"), "{user}");
    // Chinese copy gets the Chinese names only.
    assert!(user.contains("藏青色 (main colour)"), "{user}");
    assert!(!user.contains("navy"), "{user}");
    assert!(user.contains("No offer was given"), "{user}");
    assert!(!user.contains("<|im_end|>"), "{user}");
}

#[test]
fn the_default_script_fits_one_generation_and_an_hour_does_not() {
    for lang in [Lang::En, Lang::ZhCn] {
        // The default for one product, and a line-up of two.
        let ten = plan(2, DEFAULT_MINUTES * 60.0, lang);
        assert!(max_tokens(&ten, lang) <= MAX_SCRIPT_TOKENS, "{lang:?}");
        let hour = plan(12, 300.0, lang);
        assert!(max_tokens(&hour, lang) > MAX_SCRIPT_TOKENS, "{lang:?}");
    }
}

#[test]
fn cues_that_echo_the_prompt_are_dropped() {
    assert!(echoes_a_brief(
        "ask the viewers a question or invite them to comment"
    ));
    assert!(echoes_a_brief(
        "interaction: ask the viewers a question or invite them to comment (for example…"
    ));
    assert!(echoes_a_brief(
        "tell viewers how to order from the stream (the shop's cart or link"
    ));
    assert!(!echoes_a_brief("hold the hoodie up to the camera"));
    assert!(!echoes_a_brief("show the label"));
}
