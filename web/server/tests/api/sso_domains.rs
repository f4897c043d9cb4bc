//! Claimed email domains proven by DNS (through a real DNS server, dnsmasq, answering the TXT record),
//! the sign-in page's discovery, linking an existing account on a verified domain, and enforced SSO.

use crate::accounts::mail_count;
use crate::helpers::{TEST_PASSWORD, TestApp, expect_error, read, spawn_app_with};
use crate::sso::{Browser, audit_events, connected, me, sso_error};
use reqwest::Method;
use serde_json::{Value, json};
use std::io::{BufRead, BufReader};
use std::net::{SocketAddr, TcpListener, UdpSocket};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};

/// dnsmasq on 127.0.0.1 answering the given TXT records (and nothing else), stopped when dropped.
struct Dns {
    child: Child,
}

impl Dns {
    fn serve(address: SocketAddr, records: &[(&str, &str)]) -> Dns {
        let mut command = Command::new("dnsmasq");
        command.args([
            "--keep-in-foreground",
            "--no-resolv",
            "--no-hosts",
            "--conf-file=/dev/null",
            "--bind-interfaces",
            "--listen-address=127.0.0.1",
            "--user=root",
            "--pid-file=",
            "--log-facility=-",
            &format!("--port={}", address.port()),
        ]);
        for (name, value) in records {
            command.arg(format!("--txt-record={name},{value}"));
        }
        let mut child = command
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("dnsmasq (Debian's dnsmasq-base) runs");
        // dnsmasq binds its sockets before it logs that it started; it exits when it cannot bind.
        let mut log = BufReader::new(child.stderr.take().expect("stderr is piped"));
        let mut seen = String::new();
        loop {
            let mut line = String::new();
            if log.read_line(&mut line).unwrap_or(0) == 0 {
                let status = child.wait();
                panic!("dnsmasq on {address} exited ({status:?}): {seen}");
            }
            seen.push_str(&line);
            if line.contains(": started,") {
                break;
            }
        }
        // Whatever it logs later is read and dropped, so a full pipe never stalls it.
        std::thread::spawn(move || std::io::copy(&mut log, &mut std::io::sink()));
        Dns { child }
    }
}

impl Drop for Dns {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// An address on 127.0.0.1 for dnsmasq, free for both UDP and TCP (it binds both) and below the
/// kernel's ephemeral range, so that no connection a parallel test opens takes the port before
/// dnsmasq binds it (the server under test is configured with it first).
fn free_address() -> SocketAddr {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    const LOWEST: u32 = 20_000;
    let ephemeral = std::fs::read_to_string("/proc/sys/net/ipv4/ip_local_port_range")
        .ok()
        .and_then(|r| r.split_whitespace().next()?.parse::<u32>().ok())
        .filter(|&low| low > LOWEST + 1_000)
        .unwrap_or(32_768);
    let span = ephemeral - LOWEST;
    let seed = std::process::id();
    for _ in 0..span {
        let port = LOWEST + (seed.wrapping_add(NEXT.fetch_add(7, Ordering::Relaxed)) % span);
        let address = SocketAddr::from(([127, 0, 0, 1], u16::try_from(port).unwrap()));
        if UdpSocket::bind(address).is_ok() && TcpListener::bind(address).is_ok() {
            return address;
        }
    }
    panic!("no free port below {ephemeral} for dnsmasq");
}

async fn discover(app: &TestApp, email: &str) -> Value {
    let (status, body) = read(
        app.client
            .post(format!("{}/api/v1/sso/discover", app.address))
            .json(&json!({"email": email}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    body
}

#[tokio::test]
async fn a_domain_counts_once_its_txt_record_is_read_and_routes_sign_ins_to_its_providers() {
    let dns_at = free_address();
    let app = spawn_app_with(|s| s.auth.dns_server = Some(dns_at)).await;
    let (_idp, provider) = connected(&app).await;
    let (status, claimed) = app
        .admin_post("/api/v1/sso/domains", json!({"domain": "ACME.test."}))
        .await;
    assert_eq!(status, 201, "{claimed}");
    assert_eq!(claimed["domain"], "acme.test");
    assert_eq!(claimed["verified"], false);
    assert_eq!(claimed["txtName"], "_flagent-challenge.acme.test");
    let value = claimed["txtValue"].as_str().unwrap().to_owned();
    assert!(value.starts_with("flagent-verification="), "{value}");
    let id = claimed["id"].as_i64().unwrap();
    let verify = format!("/api/v1/sso/domains/{id}/verify");

    // Unverified: discovery offers nothing, and a wrong record does not verify it.
    assert_eq!(
        discover(&app, "ada@acme.test").await,
        json!({"providers": []})
    );
    let wrong = Dns::serve(
        dns_at,
        &[("_flagent-challenge.acme.test", "flagent-verification=guess")],
    );
    expect_error(
        &app.admin_post(&verify, json!({})).await,
        400,
        "sso_domain_unverified",
    );
    drop(wrong);

    let dns = Dns::serve(
        dns_at,
        &[
            ("_flagent-challenge.acme.test", value.as_str()),
            ("_flagent-challenge.other.test", "flagent-verification=x"),
        ],
    );
    let (status, verified) = app.admin_post(&verify, json!({})).await;
    assert_eq!(status, 200, "{verified}");
    assert_eq!(verified["verified"], true);
    assert_eq!(audit_events(&app, "sso.domain.verified").await.len(), 1);

    let found = discover(&app, "Ada@ACME.test").await;
    assert_eq!(found["providers"][0]["id"], provider["id"], "{found}");
    assert_eq!(found["providers"][0]["startURL"], provider["startURL"]);
    assert_eq!(
        discover(&app, "ada@other.test").await,
        json!({"providers": []})
    );
    assert_eq!(
        discover(&app, "not an email").await,
        json!({"providers": []})
    );

    // Another tenant cannot take a verified domain, even with the record.
    let rival = app.tenant_on_plan("rival", "enterprise").await;
    let (status, theirs) = read(
        app.request(Method::POST, "/api/v1/sso/domains", &rival.admin)
            .json(&json!({"domain": "acme.test"}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 201, "claiming is allowed: {theirs}");
    let reply = read(
        app.request(
            Method::POST,
            &format!("/api/v1/sso/domains/{}/verify", theirs["id"]),
            &rival.admin,
        )
        .send()
        .await
        .unwrap(),
    )
    .await;
    assert_eq!(reply.0, 400, "their token is not in DNS: {:?}", reply.1);
    drop(dns);
    let _dns = Dns::serve(
        dns_at,
        &[(
            "_flagent-challenge.acme.test",
            theirs["txtValue"].as_str().unwrap(),
        )],
    );
    let reply = read(
        app.request(
            Method::POST,
            &format!("/api/v1/sso/domains/{}/verify", theirs["id"]),
            &rival.admin,
        )
        .send()
        .await
        .unwrap(),
    )
    .await;
    expect_error(&reply, 409, "sso_domain_taken");

    // Removing the domain stops the routing.
    let (status, _) = app.admin_delete(&format!("/api/v1/sso/domains/{id}")).await;
    assert_eq!(status, 204);
    assert_eq!(
        discover(&app, "ada@acme.test").await,
        json!({"providers": []})
    );
}

#[tokio::test]
async fn a_first_sign_in_links_an_existing_account_only_on_a_verified_domain() {
    let dns_at = free_address();
    let app = spawn_app_with(|s| s.auth.dns_server = Some(dns_at)).await;
    let (_idp, provider) = connected(&app).await;
    let ada = app.member("ada@acme.test", "editor").await;

    let refused = Browser::new().sign_in(&app, &provider, "u-ada").await;
    assert_eq!(sso_error(&refused), "sso_account_refused");

    let (_, claimed) = app
        .admin_post("/api/v1/sso/domains", json!({"domain": "acme.test"}))
        .await;
    let _dns = Dns::serve(
        dns_at,
        &[(
            "_flagent-challenge.acme.test",
            claimed["txtValue"].as_str().unwrap(),
        )],
    );
    let (status, _) = app
        .admin_post(
            &format!("/api/v1/sso/domains/{}/verify", claimed["id"]),
            json!({}),
        )
        .await;
    assert_eq!(status, 200);

    let linked = Browser::new().sign_in(&app, &provider, "u-ada").await;
    let (_, me_sso) = me(&app, &linked.session.expect("a session")).await;
    assert_eq!(
        me_sso["user"]["id"], ada.user_id,
        "the same account: {me_sso}"
    );
    assert_eq!(
        me_sso["tenants"][0]["role"], "editor",
        "an existing member keeps their role without re-sync"
    );
}

#[tokio::test]
async fn enforced_sso_refuses_passwords_except_the_named_exceptions() {
    let app = spawn_app_with(|_| {}).await;
    let owner = app.owner_session().await;
    let editor = app.member("ed@acme.test", "editor").await;
    let put = |body: Value| {
        app.as_user(
            &owner,
            Method::PUT,
            "/api/v1/sso/enforcement",
            Some(app.a.id),
        )
        .json(&body)
        .send()
    };

    // Not without a provider to sign in through; not by an admin.
    let reply = read(put(json!({"enforced": true})).await.unwrap()).await;
    assert_eq!(reply.1["error"]["field"], "enforced", "{:?}", reply.1);
    let (_idp, provider) = connected(&app).await;
    let admin = app.member("adm@acme.test", "admin").await;
    let reply = read(
        app.as_user(
            &admin,
            Method::PUT,
            "/api/v1/sso/enforcement",
            Some(app.a.id),
        )
        .json(&json!({"enforced": true}))
        .send()
        .await
        .unwrap(),
    )
    .await;
    expect_error(&reply, 403, "forbidden");
    let reply = read(
        put(json!({"enforced": true, "breakGlass": [editor.user_id + 1000]}))
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(reply.1["error"]["field"], "breakGlass", "{:?}", reply.1);

    let sso = Browser::new().sign_in(&app, &provider, "u-bob").await;
    let sso_token = sso.session.expect("a session");
    // A reset link mailed before the enforcement.
    let forgot = || async {
        let (status, _) = read(
            app.client
                .post(format!("{}/api/v1/auth/password/forgot", app.address))
                .json(&json!({"email": "ed@acme.test"}))
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(status, 202);
    };
    forgot().await;
    let early_reset = app
        .mailed_token("ed@acme.test", "Reset your password")
        .await;
    let (status, set) = read(
        put(json!({"enforced": true, "breakGlass": [owner.user_id]}))
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 200, "{set}");
    assert_eq!(
        set,
        json!({"enforced": true, "breakGlass": [owner.user_id]})
    );

    // The editor's password session is refused in the tenant at once, and a new password sign-in too.
    let reply = read(
        app.as_user(&editor, Method::GET, "/api/v1/flags", Some(app.a.id))
            .send()
            .await
            .unwrap(),
    )
    .await;
    expect_error(&reply, 403, "sso_enforced");
    let refused = app.try_login("ed@acme.test", TEST_PASSWORD).await;
    expect_error(&refused, 403, "sso_enforced");
    let message = refused.1["error"]["message"].as_str().unwrap_or_default();
    let name = provider["name"].as_str().expect("a provider name");
    assert!(
        message.contains(name),
        "the refusal names the provider: {message}"
    );

    // No password is reset meanwhile: a new request mails where to sign in instead, and the link
    // mailed before sets nothing.
    forgot().await;
    assert_eq!(
        mail_count(&app, "ed@acme.test", "Reset your password").await,
        1
    );
    #[allow(clippy::disallowed_methods)]
    let system = flagent_types::SystemScope::assume_system("test fixtures");
    let mails = app
        .db
        .system(&system)
        .mail_to("ed@acme.test")
        .await
        .unwrap();
    let mailed = mails
        .iter()
        .find(|m| m.subject == "Sign in with single sign-on")
        .expect("a mail saying where to sign in");
    assert!(mailed.body.contains(name), "{}", mailed.body);
    let reset = read(
        app.client
            .post(format!("{}/api/v1/auth/password/reset", app.address))
            .json(&json!({"token": early_reset, "password": "a passphrase set too late"}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    expect_error(&reset, 403, "sso_enforced");

    // The exception still signs in with a password; the SSO session works.
    let owner_again = app.owner_session().await;
    let reply = read(
        app.as_user(&owner_again, Method::GET, "/api/v1/flags", Some(app.a.id))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(reply.0, 200, "{:?}", reply.1);
    let reply = read(
        app.client
            .get(format!("{}/api/v1/flags", app.address))
            .bearer_auth(&sso_token)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(reply.0, 200, "{:?}", reply.1);
    assert_eq!(audit_events(&app, "sso.enforcement.changed").await.len(), 1);

    // Switched off: passwords work again.
    let (status, _) = read(put(json!({"enforced": false})).await.unwrap()).await;
    assert_eq!(status, 200);
    assert_eq!(app.try_login("ed@acme.test", TEST_PASSWORD).await.0, 200);
}

#[tokio::test]
async fn the_sign_in_page_says_why_a_single_sign_on_was_refused() {
    let app = spawn_app_with(|_| {}).await;
    let page = |query: &'static str| {
        let url = format!("{}/ui/login?{query}", app.address);
        let client = app.client.clone();
        async move { client.get(url).send().await.unwrap().text().await.unwrap() }
    };
    let html = page("sso_error=sso_state_mismatch&support=Ab12cd34").await;
    assert!(html.contains("started in another browser"), "{html}");
    assert!(
        html.contains("Support code: <code>Ab12cd34</code>"),
        "{html}"
    );
    let html = page("sso_error=%3Cscript%3E&support=%3Cscript%3Ex").await;
    assert!(html.contains("Single sign-on did not succeed"), "{html}");
    assert!(
        !html.contains("<script>x"),
        "only letters and digits are echoed: {html}"
    );
    assert!(!page("").await.contains("Support code"));
}
