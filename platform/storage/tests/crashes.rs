//! Crash storage on the backend `DATABASE_URL` names: groups add up across commits and concurrent
//! writers, app versions and per-variant counts merge, pages follow `last_seen`, and another tenant
//! sees nothing.

use flagent_storage::{CrashGroupQuery, Db, NewCrash};
use flagent_testkit::TwoTenants;
use flagent_types::TenantScope;

/// A crash of group `fingerprint` by `entity` at `at`, in `version`, under `flags`.
fn crash(
    env: i64,
    fingerprint: &str,
    entity: i64,
    at: i64,
    version: &str,
    flags: &[(&str, &str)],
) -> NewCrash {
    NewCrash {
        environment_id: env,
        fingerprint: fingerprint.repeat(64 / fingerprint.len()),
        platform: "web".into(),
        error_type: "TypeError".into(),
        message: format!("crash at {at}"),
        top_frames: r#"[{"function":"pay","file":"js/main.js"}]"#.into(),
        app_version: version.into(),
        frames: r#"[{"function":"pay","file":"main.3f2a9c1b.js","line":12}]"#.into(),
        flags: flags
            .iter()
            .map(|(f, v)| ((*f).to_owned(), (*v).to_owned()))
            .collect(),
        entity,
        occurred_at: at,
        received_at: at,
    }
}

/// Commits `crashes` in one group transaction.
async fn commit(db: &Db, scope: &TenantScope, crashes: Vec<NewCrash>) {
    let mut group = db.begin_group().await.expect("begin");
    group
        .scoped(scope)
        .await
        .expect("enter the tenant")
        .record_crashes(crashes)
        .await
        .expect("record crashes");
    group.commit().await.expect("commit");
}

fn all_of(env: i64) -> CrashGroupQuery<'static> {
    CrashGroupQuery {
        environment_id: env,
        flag: None,
        after: None,
        limit: 100,
    }
}

#[tokio::test]
async fn groups_add_up_across_commits_and_another_tenant_sees_nothing() {
    let t = TwoTenants::new().await;
    let (a, env) = (t.a.owner(), t.a.development.0);
    let flags = [("checkout", "treatment"), ("theme", "dark")];
    commit(
        &t.db,
        &a,
        vec![
            crash(env, "a", 1, 2_000, "1.0", &flags),
            crash(env, "a", 2, 1_000, "1.1", &flags[..1]),
            crash(env, "b", 1, 5_000, "1.0", &[]),
        ],
    )
    .await;
    commit(
        &t.db,
        &a,
        vec![crash(env, "a", 1, 3_000, "1.2", &[("checkout", "control")])],
    )
    .await;
    let db = t.db.scoped(&a);
    let groups = db.crash_groups(all_of(env)).await.unwrap();
    let fingerprints: Vec<&str> = groups.iter().map(|g| &g.fingerprint[..1]).collect();
    assert_eq!(fingerprints, vec!["b", "a"], "newest last_seen first");
    let g = &groups[1];
    assert_eq!(
        (g.occurrences, g.first_seen, g.last_seen),
        (3, 1_000, 3_000)
    );
    assert_eq!(
        g.message, "crash at 2000",
        "the first report's message is kept"
    );
    assert_eq!(g.app_versions, r#"["1.2","1.0","1.1"]"#);
    let variants: Vec<(String, String, i64)> = db
        .crash_group_variants(&[g.id])
        .await
        .unwrap()
        .into_iter()
        .map(|v| (v.flag_key, v.variant_key, v.crashes))
        .collect();
    assert_eq!(
        variants,
        vec![
            ("checkout".into(), "control".into(), 1),
            ("checkout".into(), "treatment".into(), 2),
            ("theme".into(), "dark".into(), 1),
        ]
    );
    let mut entities = db.crash_entities(&[g.id, groups[0].id]).await.unwrap();
    entities.sort();
    assert_eq!(entities, vec![(g.id, 2), (groups[0].id, 1)]);
    let recent = db.recent_crashes(g.id, 2).await.unwrap();
    let times: Vec<i64> = recent.iter().map(|c| c.occurred_at).collect();
    assert_eq!(times, vec![3_000, 2_000]);
    assert_eq!(
        recent[1].flags,
        r#"{"checkout":"treatment","theme":"dark"}"#
    );
    let under = |flag| CrashGroupQuery {
        flag: Some(flag),
        ..all_of(env)
    };
    assert_eq!(db.crash_groups(under("theme")).await.unwrap().len(), 1);
    assert_eq!(db.crash_groups(under("nothing")).await.unwrap().len(), 0);
    let next = CrashGroupQuery {
        after: Some((groups[0].last_seen, groups[0].id)),
        ..all_of(env)
    };
    assert_eq!(db.crash_groups(next).await.unwrap()[0].id, g.id);
    let first_page = CrashGroupQuery {
        limit: 1,
        ..all_of(env)
    };
    assert_eq!(db.crash_groups(first_page).await.unwrap().len(), 1);
    assert!(
        db.crash_group(t.a.production.0, g.id)
            .await
            .unwrap()
            .is_none()
    );
    let b = t.db.scoped(&t.b.owner());
    assert!(b.crash_groups(all_of(env)).await.unwrap().is_empty());
    assert!(b.crash_group(env, g.id).await.unwrap().is_none());
    assert!(b.crash_group_variants(&[g.id]).await.unwrap().is_empty());
    assert!(b.crash_entities(&[g.id]).await.unwrap().is_empty());
    assert!(b.recent_crashes(g.id, 20).await.unwrap().is_empty());
}

#[tokio::test]
async fn concurrent_writers_lose_no_crash() {
    let t = TwoTenants::new().await;
    let (a, env) = (t.a.owner(), t.a.development.0);
    let writers: Vec<_> = (0..4)
        .map(|w| {
            let (db, scope) = (t.db.clone(), a.clone());
            tokio::spawn(async move {
                let crashes = (0..5)
                    .map(|k| {
                        crash(
                            env,
                            "c",
                            w,
                            1_000 * w + k,
                            &format!("2.{w}"),
                            &[("checkout", "on")],
                        )
                    })
                    .collect();
                commit(&db, &scope, crashes).await;
            })
        })
        .collect();
    for writer in writers {
        writer.await.expect("writer");
    }
    let db = t.db.scoped(&a);
    let groups = db.crash_groups(all_of(env)).await.unwrap();
    assert_eq!(groups.len(), 1);
    let g = &groups[0];
    assert_eq!((g.occurrences, g.first_seen, g.last_seen), (20, 0, 3_004));
    let mut versions: Vec<String> = serde_json::from_str(&g.app_versions).unwrap();
    versions.sort();
    assert_eq!(versions, vec!["2.0", "2.1", "2.2", "2.3"]);
    let variants = db.crash_group_variants(&[g.id]).await.unwrap();
    assert_eq!(variants.len(), 1);
    assert_eq!(variants[0].crashes, 20);
    assert_eq!(db.crash_entities(&[g.id]).await.unwrap(), vec![(g.id, 4)]);
}
