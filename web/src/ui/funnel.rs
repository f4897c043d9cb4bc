//! A flag's funnel page (`/ui/t/{tenant}/flags/{id}/funnel`): `Analytics::funnel` (the same use case
//! as `GET /api/v1/flags/{id}/funnel`, with the same permission, `flags:read`) turned into
//! `flagent-ui`'s view. The form is a GET form naming each step as `step` (in order) and the window
//! as `windowHours`; `steps=a,b` as the API takes it works too. A refusal of the query
//! (`AnalyticsError::Invalid`) is shown at the field it names, never as an error page.

use super::page::{PageQuery, Refusal, Viewer, html};
use crate::state::AppState;
use actix_web::web::{Data, Path, Query};
use actix_web::{HttpRequest, HttpResponse};
use flagent_analytics::funnel::{DEFAULT_WINDOW_HOURS, FunnelVariant, MAX_STEPS};
use flagent_analytics::{AnalyticsError, Funnel, FunnelQuery, MetricKind};
use flagent_types::FlagId;
use flagent_ui::{
    CompletionFigures, FunnelFigures, FunnelForm, FunnelPage, FunnelView, StepFigures,
    VariantFigures,
};

/// What the page is asked for, read from the query string.
struct Asked {
    /// The steps' keys, in order, empty ones left out.
    steps: Vec<String>,
    /// The window as typed.
    window: String,
    /// Whether a funnel was asked for at all (the form was sent, or a link named steps).
    any: bool,
}

impl Asked {
    /// `step=a&step=b` (the form) or `steps=a,b` (the API's way), and `windowHours`.
    fn of(query: &str) -> Asked {
        let mut asked = Asked {
            steps: Vec::new(),
            window: String::new(),
            any: false,
        };
        for (name, value) in form_urlencoded::parse(query.as_bytes()) {
            match name.as_ref() {
                "step" | "steps" => {
                    asked.any = true;
                    let keys = value.split(',').map(str::trim).filter(|k| !k.is_empty());
                    asked.steps.extend(keys.map(str::to_owned));
                }
                "windowHours" => {
                    asked.any = true;
                    value.trim().clone_into(&mut asked.window);
                }
                _ => {}
            }
        }
        asked
    }
}

/// The funnel's figures as the view reads them.
fn figures(funnel: &Funnel) -> FunnelFigures {
    let variant = |v: &FunnelVariant| VariantFigures {
        variant: v.variant.clone(),
        control: v.control,
        exposed: v.exposed,
        steps: v
            .steps
            .iter()
            .map(|s| StepFigures {
                entities: s.entities,
                rate: s.rate,
                rate_ci95: s.rate_ci95,
                overall: s.overall,
                overall_ci95: s.overall_ci95,
            })
            .collect(),
        completion: v.completion.as_ref().map(|c| CompletionFigures {
            abs_diff: c.abs_diff,
            ci95: c.ci95,
            p_value: c.p_value,
        }),
    };
    FunnelFigures {
        steps: funnel.steps.clone(),
        variants: funnel.variants.iter().map(variant).collect(),
    }
}

/// The form for what was `asked`, and the funnel it asks for (none when nothing was asked, or the
/// form showing why it was refused).
async fn answer(
    state: &AppState,
    viewer: &Viewer,
    flag: FlagId,
    asked: &Asked,
) -> Result<(FunnelForm, Option<FunnelView>), Refusal> {
    let names = conversion_metrics(state, viewer).await?;
    let form = FunnelForm::new(
        &names,
        &asked.steps,
        &asked.window,
        MAX_STEPS,
        DEFAULT_WINDOW_HOURS,
    );
    if !asked.any {
        return Ok((form, None));
    }
    let window_hours = match asked.window.as_str() {
        "" => None,
        typed => match typed.parse::<i64>() {
            Ok(hours) => Some(hours),
            Err(_) => {
                let reason = format!("the window is a whole number of hours, not {typed:?}");
                return Ok((form.refused("windowHours", &reason), None));
            }
        },
    };
    let query = FunnelQuery {
        steps: asked.steps.join(","),
        window_hours,
    };
    match state.analytics.funnel(&viewer.scope, flag, &query).await {
        Ok(funnel) => {
            let view = FunnelView::new(&figures(&funnel), funnel.window_hours, &names);
            Ok((form, Some(view)))
        }
        Err(AnalyticsError::Invalid { field, reason }) => Ok((form.refused(field, &reason), None)),
        Err(e) => Err(Refusal::from_api(e.into())),
    }
}

/// The project's conversion metrics (key, name), in the project's order: what a step may be.
async fn conversion_metrics(
    state: &AppState,
    viewer: &Viewer,
) -> Result<Vec<(String, String)>, Refusal> {
    let metrics = state.analytics.metrics(&viewer.scope).await;
    Ok(metrics
        .map_err(|e| Refusal::from_api(e.into()))?
        .into_iter()
        .filter(|m| m.kind == MetricKind::Conversion)
        .map(|m| (m.key, m.name))
        .collect())
}

/// `/ui/t/{tenant}/flags/{id}/funnel`: the form, and the funnel it asks for.
pub(super) async fn funnel(
    req: HttpRequest,
    state: Data<AppState>,
    path: Path<(String, i64)>,
    query: Query<PageQuery>,
) -> Result<HttpResponse, Refusal> {
    let (tenant, id) = path.into_inner();
    let viewer = Viewer::of(&req, &state, &tenant, &query, "flags", "Funnel").await?;
    let flag = state.flags.flag(&viewer.scope, FlagId(id)).await;
    let flag = flag.map_err(|e| Refusal::from_api(e.into()))?;
    let asked = Asked::of(req.query_string());
    let (form, funnel) = answer(&state, &viewer, FlagId(id), &asked).await?;
    let nonce = viewer.shell.nonce.clone();
    let mut shell = viewer.shell;
    shell.title = format!("Funnel: {}", flag.key);
    let page = FunnelPage {
        shell,
        id,
        key: flag.key,
        form,
        funnel,
    };
    Ok(html(&page, Some(&nonce)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_steps_come_from_the_form_or_the_apis_list_in_order() {
        let form = Asked::of("project=p&env=production&step=visit&step=&step=buy&windowHours=+4+");
        assert_eq!(form.steps, ["visit", "buy"]);
        assert_eq!((form.window.as_str(), form.any), ("4", true));
        let link = Asked::of("steps=visit%2Csignup,%20buy");
        assert_eq!(link.steps, ["visit", "signup", "buy"]);
        assert!(link.window.is_empty() && link.any);
        let first = Asked::of("project=p&env=production");
        assert!(first.steps.is_empty() && !first.any);
    }
}
