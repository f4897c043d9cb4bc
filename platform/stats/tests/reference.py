#!/usr/bin/env python3
"""Reference values for flagent-stats, computed with numpy, scipy and statsmodels.

The script reads the fixed data sets in data.json (beside it), computes every statistic the
Rust crate offers independently of the Rust code, and prints one JSON document on stdout. The
Rust test tests/reference.rs runs it and compares. Library functions are used wherever one
exists; the formulas without one (delta-method ratio and relative intervals, CUPED, mSPRT,
Bayesian summaries) are evaluated here from the raw arrays, never from sums, and checked by
numerical integration or root finding where the brief asks for it.
"""

import json
import math
import sys
from pathlib import Path

try:
    import numpy as np
    from scipy import integrate, optimize, special, stats
    from statsmodels.stats.multitest import multipletests
    from statsmodels.stats.proportion import (
        confint_proportions_2indep,
        proportion_confint,
        proportions_ztest,
    )
    from statsmodels.stats.weightstats import CompareMeans, DescrStatsW
except ImportError as error:
    sys.stderr.write(
        f"reference.py needs numpy, scipy and statsmodels ({error}); "
        "install them with: python3 -m pip install -r platform/stats/tests/requirements.txt\n"
    )
    sys.exit(2)

DATA = json.loads((Path(__file__).parent / "data.json").read_text())


def z_crit(alpha):
    return float(stats.norm.isf(alpha / 2.0))


def interval(lo, hi):
    return {"lo": float(lo), "hi": float(hi)}


def mean_estimate(values):
    a = np.asarray(values, dtype=float)
    return {"mean": float(a.mean()), "variance": float(a.var(ddof=1) / a.size)}


def ratio_estimate(xs, ys):
    """The delta-method variance of sum(x)/sum(y), from the raw per-entity arrays."""
    x, y = np.asarray(xs, dtype=float), np.asarray(ys, dtype=float)
    n = x.size
    mx, my = x.mean(), y.mean()
    cov = np.cov(x, y, ddof=1)
    var = (cov[0, 0] / my**2 - 2 * mx * cov[0, 1] / my**3 + mx**2 * cov[1, 1] / my**4) / n
    return {"mean": float(x.sum() / y.sum()), "variance": float(var)}


def proportion_estimate(successes, n):
    p = successes / n
    return {"mean": p, "variance": p * (1 - p) / n}


def z_test(c, t, alpha):
    diff = t["mean"] - c["mean"]
    se = math.sqrt(c["variance"] + t["variance"])
    z = diff / se
    return {
        "statistic": z,
        "p_value": float(2 * stats.norm.sf(abs(z))),
        "diff": diff,
        "ci": interval(*stats.norm.interval(1 - alpha, loc=diff, scale=se)),
    }


def relative(c, t, alpha):
    rel = t["mean"] / c["mean"] - 1
    var = t["variance"] / c["mean"] ** 2 + t["mean"] ** 2 * c["variance"] / c["mean"] ** 4
    lo, hi = stats.norm.interval(1 - alpha, loc=rel, scale=math.sqrt(var))
    return {"rel": rel, "sd": math.sqrt(var), "ci": interval(lo, hi)}


def bayes(c, t, higher_is_better, alpha):
    """Chance to beat and expected loss by numerical integration of the normal posterior."""
    r = relative(c, t, alpha)
    sign = 1.0 if higher_is_better else -1.0
    mu, sd = sign * r["rel"], r["sd"]
    posterior = stats.norm(loc=mu, scale=sd)
    chance, _ = integrate.quad(posterior.pdf, 0, np.inf, epsabs=1e-14, epsrel=1e-12)
    loss, _ = integrate.quad(
        lambda d: -d * posterior.pdf(d), -np.inf, 0, epsabs=1e-14, epsrel=1e-12
    )
    lo, hi = stats.norm.interval(1 - alpha, loc=r["rel"], scale=sd)
    return {
        "higher_is_better": higher_is_better,
        "alpha": alpha,
        "chance_to_beat": chance,
        "expected_loss": loss,
        "rel_mean": r["rel"],
        "rel_sd": sd,
        "credible": interval(lo, hi),
    }


def proportion_section():
    out = []
    for case in DATA["proportions"]:
        (sc, nc), (st, nt), alpha = case["control"], case["treatment"], case["alpha"]
        z, p = proportions_ztest([st, sc], [nt, nc])
        lo, hi = confint_proportions_2indep(st, nt, sc, nc, method="wald", compare="diff", alpha=alpha)
        c, t = proportion_estimate(sc, nc), proportion_estimate(st, nt)
        out.append({
            "name": case["name"],
            "two_proportion": {"statistic": float(z), "p_value": float(p), "diff": st / nt - sc / nc,
                               "ci": interval(lo, hi)},
            "z_test": z_test(c, t, alpha),
            "relative": relative(c, t, alpha),
            "bayes": [bayes(c, t, True, alpha), bayes(c, t, False, alpha)],
        })
    return out


def welch_section():
    out = []
    for case in DATA["welch"]:
        c, t, alpha = np.asarray(case["control"]), np.asarray(case["treatment"]), case["alpha"]
        res = stats.ttest_ind(t, c, equal_var=False)
        from_stats = stats.ttest_ind_from_stats(
            t.mean(), t.std(ddof=1), t.size, c.mean(), c.std(ddof=1), c.size, equal_var=False
        )
        assert math.isclose(res.statistic, from_stats.statistic, rel_tol=1e-12)
        compare = CompareMeans(DescrStatsW(t), DescrStatsW(c))
        lo, hi = compare.tconfint_diff(alpha=alpha, usevar="unequal")
        z, zp = compare.ztest_ind(usevar="unequal")
        zlo, zhi = compare.zconfint_diff(alpha=alpha, usevar="unequal")
        ce, te = mean_estimate(c), mean_estimate(t)
        out.append({
            "name": case["name"],
            "welch": {"statistic": float(res.statistic), "p_value": float(res.pvalue),
                      "df": float(res.df), "diff": float(t.mean() - c.mean()), "ci": interval(lo, hi)},
            "z_test": {"statistic": float(z), "p_value": float(zp), "diff": float(t.mean() - c.mean()),
                       "ci": interval(zlo, zhi)},
            "relative": relative(ce, te, alpha),
            "bayes": [bayes(ce, te, True, alpha), bayes(ce, te, False, alpha)],
        })
    return out


def ratio_section():
    out = []
    for case in DATA["ratio"]:
        c = ratio_estimate(case["control"]["x"], case["control"]["y"])
        t = ratio_estimate(case["treatment"]["x"], case["treatment"]["y"])
        out.append({"name": case["name"], "control": c, "treatment": t,
                    "z_test": z_test(c, t, case["alpha"]), "relative": relative(c, t, case["alpha"])})
    return out


def cuped_section():
    out = []
    for case in DATA["cuped"]:
        xc, yc = np.asarray(case["control"]["x"]), np.asarray(case["control"]["y"])
        xt, yt = np.asarray(case["treatment"]["x"]), np.asarray(case["treatment"]["y"])
        x_all, y_all = np.concatenate([xc, xt]), np.concatenate([yc, yt])
        theta = np.cov(x_all, y_all, ddof=1)[0, 1] / np.var(y_all, ddof=1)
        # The least-squares slope of x on y is the same coefficient, computed another way.
        assert math.isclose(theta, np.polyfit(y_all, x_all, 1)[0], rel_tol=1e-9)
        y_bar = y_all.mean()

        def adjusted(x, y):
            # The variance of the adjusted mean is the variance of x − θy over n.
            return {"mean": float(x.mean() - theta * (y.mean() - y_bar)),
                    "variance": float(np.var(x - theta * y, ddof=1) / x.size)}

        c, t = adjusted(xc, yc), adjusted(xt, yt)
        unadjusted = np.var(xc, ddof=1) / xc.size + np.var(xt, ddof=1) / xt.size
        out.append({"name": case["name"], "theta": float(theta), "control": c, "treatment": t,
                    "variance_reduction": float(1 - (c["variance"] + t["variance"]) / unadjusted),
                    "z_test": z_test(c, t, case["alpha"])})
    return out


def log_lambda(theta_hat, v, tau_sq, theta0):
    return 0.5 * math.log(v / (v + tau_sq)) + tau_sq * (theta_hat - theta0) ** 2 / (2 * v * (v + tau_sq))


def msprt(diff, v, tau_sq, alpha):
    """The mSPRT p-value, and the interval ends found as roots of Λ(θ0) = 1/alpha."""
    p = min(1.0, math.exp(-log_lambda(diff, v, tau_sq, 0.0)))
    target = math.log(1 / alpha)
    half = math.sqrt(v * (v + tau_sq) / tau_sq * (-2 * math.log(alpha) - math.log(v / (v + tau_sq))))
    f = lambda theta0: log_lambda(diff, v, tau_sq, theta0) - target
    reach = 10 * half + 1.0
    lo = optimize.brentq(f, diff - reach, diff, xtol=1e-15, rtol=4 * np.finfo(float).eps)
    hi = optimize.brentq(f, diff, diff + reach, xtol=1e-15, rtol=4 * np.finfo(float).eps)
    assert math.isclose(lo, diff - half, rel_tol=1e-9, abs_tol=1e-12), (lo, diff - half)
    assert math.isclose(hi, diff + half, rel_tol=1e-9, abs_tol=1e-12), (hi, diff + half)
    return {"p_value": p, "ci": interval(lo, hi)}


def sequential_section():
    seq = DATA["sequential"]
    p, lo, hi = 1.0, -math.inf, math.inf
    for diff, v in seq["looks"]:
        look = msprt(diff, v, seq["tau_sq"], seq["alpha"])
        p, lo, hi = min(p, look["p_value"]), max(lo, look["ci"]["lo"]), min(hi, look["ci"]["hi"])
    assert lo <= hi
    return {"p_value": p, "ci": interval(lo, hi)}


def mixing_section():
    out = []
    for case in DATA["mixing_variance"]:
        sigma_sq, n_star, alpha = case["sigma_sq"], case["n_star"], case["alpha"]
        v = 2 * sigma_sq / n_star
        half = lambda tau_sq: math.sqrt(v * (v + tau_sq) / tau_sq * (-2 * math.log(alpha) + math.log((v + tau_sq) / v)))
        found = optimize.minimize_scalar(
            lambda log_tau: half(math.exp(log_tau)),
            bounds=(math.log(v) - 20, math.log(v) + 20), method="bounded",
            options={"xatol": 1e-12},
        )
        a = -2 * math.log(alpha)
        # The first-order condition r − ln(1 + r) = a, solved on the lower Lambert W branch.
        r = -special.lambertw(-math.exp(-(a + 1)), k=-1).real - 1
        tau_sq = v * r
        assert math.isclose(tau_sq, math.exp(found.x), rel_tol=1e-4), (tau_sq, math.exp(found.x))
        assert half(tau_sq) <= found.fun * (1 + 1e-12)
        out.append({"tau_sq": tau_sq, "tau_sq_minimize": math.exp(found.x),
                    "half_width_min": float(found.fun)})
    return out


def sketch_section():
    sk = DATA["sketch"]
    values = np.sort(np.asarray(sk["values"], dtype=float))
    n, alpha = values.size, sk["alpha"]
    z = z_crit(alpha)
    out = []
    for q in sk["quantiles"]:
        centre = n * q
        spread = z * math.sqrt(centre * (1 - q))
        lo_rank = min(max(math.floor(centre - spread), 1), n)
        hi_rank = min(max(math.ceil(centre + spread), 1), n)
        out.append({"q": q, "quantile": float(np.quantile(values, q, method="inverted_cdf")),
                    "lo_rank": lo_rank, "hi_rank": hi_rank,
                    "lo": float(values[lo_rank - 1]), "hi": float(values[hi_rank - 1])})
    return out


def main():
    doc = {
        "versions": {"numpy": np.__version__, "scipy": __import__("scipy").__version__,
                     "statsmodels": __import__("statsmodels").__version__},
        "proportions": proportion_section(),
        "wilson": [interval(*proportion_confint(c["successes"], c["n"], alpha=c["alpha"], method="wilson"))
                   for c in DATA["wilson"]],
        "welch": welch_section(),
        "ratio": ratio_section(),
        "cuped": cuped_section(),
        "msprt": [msprt(c["diff"], c["variance"], c["tau_sq"], c["alpha"]) for c in DATA["msprt"]],
        "sequential": sequential_section(),
        "mixing_variance": mixing_section(),
        "holm": [list(map(float, multipletests(p, method="holm")[1])) for p in DATA["p_values"]],
        "benjamini_hochberg": [list(map(float, multipletests(p, method="fdr_bh")[1])) for p in DATA["p_values"]],
        "sample_ratio": [],
        "sketch": sketch_section(),
    }
    for case in DATA["sample_ratio"]:
        obs, w = np.asarray(case["observed"], dtype=float), np.asarray(case["weights"], dtype=float)
        res = stats.chisquare(obs, f_exp=w / w.sum() * obs.sum())
        doc["sample_ratio"].append({"chi_square": float(res.statistic), "df": int(obs.size - 1),
                                    "p_value": float(res.pvalue)})
    json.dump(doc, sys.stdout, indent=1)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
